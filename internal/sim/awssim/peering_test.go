package awssim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

func describePeering(t *testing.T, c *ec2.Client, id string) types.VpcPeeringConnection {
	t.Helper()
	out := must[*ec2.DescribeVpcPeeringConnectionsOutput](t)(c.DescribeVpcPeeringConnections(ctx,
		&ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{id}}))
	if len(out.VpcPeeringConnections) != 1 {
		t.Fatalf("describe %s: %d peerings", id, len(out.VpcPeeringConnections))
	}
	return out.VpcPeeringConnections[0]
}

func TestPeeringLifecycle(t *testing.T) {
	e := newEnv(t, Delays{Provisioning: 30 * time.Second})
	p := setupPeering(t, e, false)
	cust := e.ec2(custKey, "us-east-1")

	pc := describePeering(t, cust, p.pcx)
	if pc.Status.Code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance ||
		aws.ToString(pc.Status.Message) != "Pending Acceptance by "+custAccount {
		t.Fatalf("status = %+v", pc.Status)
	}
	if aws.ToString(pc.RequesterVpcInfo.VpcId) != p.df.VPCID || aws.ToString(pc.RequesterVpcInfo.OwnerId) != dfAccount ||
		aws.ToString(pc.RequesterVpcInfo.CidrBlock) != "192.168.0.0/16" || aws.ToString(pc.RequesterVpcInfo.Region) != "us-east-1" {
		t.Errorf("requester info = %+v", pc.RequesterVpcInfo)
	}
	if aws.ToString(pc.AccepterVpcInfo.VpcId) != p.cust.VPCID || aws.ToString(pc.AccepterVpcInfo.CidrBlock) != "" {
		t.Errorf("accepter info before acceptance = %+v (its CIDR must stay hidden)", pc.AccepterVpcInfo)
	}
	if pc.ExpirationTime == nil || !pc.ExpirationTime.Equal(t0.Add(PendingExpiry)) {
		t.Errorf("expiration = %v, want %v", pc.ExpirationTime, t0.Add(PendingExpiry))
	}
	// Dragonfly's tags are its own; the customer sees none.
	if len(pc.Tags) != 0 {
		t.Errorf("customer sees requester tags %+v", pc.Tags)
	}
	dfView := describePeering(t, e.ec2(dfKey, "us-east-1"), p.pcx)
	if len(dfView.Tags) != 2 {
		t.Errorf("Dragonfly's tags = %+v", dfView.Tags)
	}

	// Accepting is for the accepter account only.
	_, err := e.ec2(dfKey, "us-east-1").AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "OperationNotPermitted")
	_, err = e.ec2(otherKey, "us-east-1").AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	_, err = e.ec2(custKey, "eu-west-1").AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	_, err = cust.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String("pcx-zz")})
	wantCode(t, err, "InvalidVpcPeeringConnectionId.Malformed")
	if st := e.sim.PeeringStatus(p.pcx); st != (simcloud.PeeringStatus{}) {
		t.Errorf("PeeringStatus while pending = %+v", st)
	}

	acc, err := cust.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if acc.VpcPeeringConnection.Status.Code != types.VpcPeeringConnectionStateReasonCodeProvisioning {
		t.Errorf("Accept answered status %+v", acc.VpcPeeringConnection.Status)
	}
	if aws.ToString(acc.VpcPeeringConnection.AccepterVpcInfo.CidrBlock) != "10.0.0.0/16" {
		t.Errorf("accepter CIDR after acceptance = %+v", acc.VpcPeeringConnection.AccepterVpcInfo)
	}
	if st := e.sim.PeeringStatus(p.pcx); st.Established {
		t.Errorf("established while provisioning")
	}
	_, err = cust.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidStateTransition")

	e.clock.Advance(29 * time.Second)
	if code := describePeering(t, cust, p.pcx).Status.Code; code != types.VpcPeeringConnectionStateReasonCodeProvisioning {
		t.Errorf("status 29s after acceptance = %s", code)
	}
	e.clock.Advance(time.Second)
	if code := describePeering(t, cust, p.pcx).Status.Code; code != types.VpcPeeringConnectionStateReasonCodeActive {
		t.Errorf("status 30s after acceptance = %s", code)
	}
	if st := e.sim.PeeringStatus(p.pcx); !st.Established {
		t.Errorf("PeeringStatus when active = %+v", st)
	}
	_, err = cust.RejectVpcPeeringConnection(ctx, &ec2.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidStateTransition")

	// The customer deletes an established peering: Gone.
	if _, err := cust.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if st := e.sim.PeeringStatus(p.pcx); !st.Gone {
		t.Errorf("PeeringStatus after the customer deleted it = %+v", st)
	}
	pc = describePeering(t, cust, p.pcx)
	if pc.Status.Code != types.VpcPeeringConnectionStateReasonCodeDeleted || aws.ToString(pc.Status.Message) != "Deleted by "+custAccount {
		t.Errorf("status after delete = %+v", pc.Status)
	}
	_, err = cust.DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidStateTransition")
	// The deleting party sees it for 2 hours, the other for 2 days.
	e.clock.Advance(3 * time.Hour)
	_, err = cust.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{p.pcx}})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	describePeering(t, e.ec2(dfKey, "us-east-1"), p.pcx)
}

func TestPeeringExpiry(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, false)
	cust := e.ec2(custKey, "us-east-1")
	e.clock.Advance(PendingExpiry - time.Second)
	if code := describePeering(t, cust, p.pcx).Status.Code; code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance {
		t.Fatalf("status just before expiry = %s", code)
	}
	e.clock.Advance(time.Second)
	if code := describePeering(t, cust, p.pcx).Status.Code; code != types.VpcPeeringConnectionStateReasonCodeExpired {
		t.Fatalf("status after 7 days = %s", code)
	}
	if st := e.sim.PeeringStatus(p.pcx); st.Failed == "" {
		t.Errorf("PeeringStatus of an expired request = %+v", st)
	}
	_, err := cust.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidStateTransition")
	e.clock.Advance(49 * time.Hour)
	_, err = cust.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
}

func TestPeeringRejected(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, false)
	_, err := e.ec2(dfKey, "us-east-1").RejectVpcPeeringConnection(ctx, &ec2.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "OperationNotPermitted")
	// The accepter may not withdraw a request it received; it rejects it.
	_, err = e.ec2(custKey, "us-east-1").DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "OperationNotPermitted")
	out, err := e.ec2(custKey, "us-east-1").RejectVpcPeeringConnection(ctx, &ec2.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	if err != nil || !aws.ToBool(out.Return) {
		t.Fatalf("Reject: %+v, %v", out, err)
	}
	st := e.sim.PeeringStatus(p.pcx)
	if st.Failed != "Rejected by "+custAccount {
		t.Errorf("PeeringStatus after rejection = %+v", st)
	}
	// Dragonfly cleaning up a rejected request is not an error.
	if err := e.sim.DeletePeering(p.pcx); err != nil {
		t.Errorf("DeletePeering of a rejected request: %v", err)
	}
	_, err = e.ec2(dfKey, "us-east-1").DeleteVpcPeeringConnection(ctx, &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidStateTransition")
}

func TestPeeringFails(t *testing.T) {
	e := newEnv(t, Delays{})
	df := e.vpc(dfAccount, "us-east-1", VPCSpec{CIDRs: []string{"192.168.0.0/16"}})
	overlapping := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"192.168.128.0/17"}})
	req := func(conn, vpcID string) simcloud.PeeringRequest {
		return simcloud.PeeringRequest{ConnectionID: conn,
			Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: df.VPCID, VPCAccountID: dfAccount},
			Peer:    simcloud.Peer{AccountID: custAccount, VPCID: vpcID}}
	}
	for _, tc := range []struct{ conn, vpc string }{
		{"conn-missing", "vpc-0123456789abcdef0"},
		{"conn-overlap", overlapping.VPCID},
	} {
		id, err := e.sim.CreatePeering(req(tc.conn, tc.vpc))
		if err != nil {
			t.Fatalf("%s: AWS creates the request anyway, got %v", tc.conn, err)
		}
		if st := e.sim.PeeringStatus(id); st.Failed != failedMessage {
			t.Errorf("%s: PeeringStatus = %+v", tc.conn, st)
		}
		if code := describePeering(t, e.ec2(dfKey, "us-east-1"), id).Status.Code; code != types.VpcPeeringConnectionStateReasonCodeFailed {
			t.Errorf("%s: requester sees %s", tc.conn, code)
		}
		// A failed request is visible to its requester only.
		_, err = e.ec2(custKey, "us-east-1").DescribeVpcPeeringConnections(ctx,
			&ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{id}})
		wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	}

	if _, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-x",
		Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: "vpc-0123456789abcdef0", VPCAccountID: dfAccount},
		Peer:    simcloud.Peer{AccountID: custAccount, VPCID: overlapping.VPCID}}); ErrorCode(err) != "InvalidVpcID.NotFound" {
		t.Errorf("CreatePeering from a missing Dragonfly VPC: %v", err)
	}
}

func TestCreatePeeringIdempotent(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, false)
	again, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-1",
		Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: p.df.VPCID, VPCAccountID: dfAccount},
		Peer:    simcloud.Peer{AccountID: custAccount, VPCID: p.cust.VPCID}})
	if err != nil || again != p.pcx {
		t.Fatalf("second CreatePeering for conn-1 = %q, %v; want %s", again, err, p.pcx)
	}
	info, ok := e.sim.PeeringForConnection("conn-1")
	if !ok || info.ID != p.pcx || info.RequesterTags[ConnectionTag] != "conn-1" || info.RequesterTags["Name"] != "my-connection" {
		t.Errorf("PeeringForConnection = %+v", info)
	}
	// Another connection between the same VPCs is refused while one lives.
	_, err = e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-2",
		Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: p.df.VPCID, VPCAccountID: dfAccount},
		Peer:    simcloud.Peer{AccountID: custAccount, VPCID: p.cust.VPCID}})
	if ErrorCode(err) != "VpcPeeringConnectionAlreadyExists" {
		t.Errorf("duplicate peering: %v", err)
	}
	if err := e.sim.DeletePeering(p.pcx); err != nil {
		t.Fatal(err)
	}
	if st := e.sim.PeeringStatus(p.pcx); st.Gone || st.Failed == "" {
		t.Errorf("a withdrawn request is not Gone (it was never established): %+v", st)
	}
}

func TestCrossRegionPeering(t *testing.T) {
	e := newEnv(t, Delays{})
	df := e.vpc(dfAccount, "us-east-1", VPCSpec{CIDRs: []string{"192.168.0.0/16"}})
	cust := e.vpc(custAccount, "eu-west-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	pcx, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-eu",
		Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: df.VPCID, VPCAccountID: dfAccount},
		Peer:    simcloud.Peer{AccountID: custAccount, VPCID: cust.VPCID, Region: "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	visible := func(key, region string) bool {
		out := must[*ec2.DescribeVpcPeeringConnectionsOutput](t)(e.ec2(key, region).DescribeVpcPeeringConnections(ctx,
			&ec2.DescribeVpcPeeringConnectionsInput{}))
		return len(out.VpcPeeringConnections) == 1 && aws.ToString(out.VpcPeeringConnections[0].VpcPeeringConnectionId) == pcx
	}
	for _, tc := range []struct {
		key, region string
		want        bool
	}{
		{custKey, "eu-west-1", true}, {custKey, "us-east-1", true}, {dfKey, "us-east-1", true}, {dfKey, "eu-west-1", true},
		{custKey, "ap-southeast-1", false}, {otherKey, "eu-west-1", false}, {otherKey, "us-east-1", false},
	} {
		if got := visible(tc.key, tc.region); got != tc.want {
			t.Errorf("visible to %s in %s = %v, want %v", tc.key, tc.region, got, tc.want)
		}
	}
	// The accepter must accept in the accepter VPC's region.
	_, err = e.ec2(custKey, "us-east-1").AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(pcx)})
	wantCode(t, err, "OperationNotPermitted")
	if _, err := e.ec2(custKey, "eu-west-1").AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(pcx)}); err != nil {
		t.Fatalf("Accept in eu-west-1: %v", err)
	}
	if st := e.sim.PeeringStatus(pcx); !st.Established {
		t.Errorf("PeeringStatus = %+v (zero provisioning delay)", st)
	}
}

func TestDescribePeeringFilters(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, false)
	second := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.9.0.0/16"}})
	pcx2, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-2",
		Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: p.df.VPCID, VPCAccountID: dfAccount},
		Peer:    simcloud.Peer{AccountID: custAccount, VPCID: second.VPCID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AcceptPeering(pcx2); err != nil {
		t.Fatal(err)
	}
	c := e.ec2(custKey, "us-east-1")
	ids := func(fs []types.Filter) []string {
		out := must[*ec2.DescribeVpcPeeringConnectionsOutput](t)(c.DescribeVpcPeeringConnections(ctx,
			&ec2.DescribeVpcPeeringConnectionsInput{Filters: fs}))
		var got []string
		for _, pc := range out.VpcPeeringConnections {
			got = append(got, aws.ToString(pc.VpcPeeringConnectionId))
		}
		return got
	}
	for _, tc := range []struct {
		name string
		fs   []types.Filter
		want []string
	}{
		{"status-code", byFilter("status-code", "pending-acceptance"), []string{p.pcx}},
		{"status-code OR", byFilter("status-code", "pending-acceptance", "active"), []string{p.pcx, pcx2}},
		{"accepter vpc", byFilter("accepter-vpc-info.vpc-id", second.VPCID), []string{pcx2}},
		{"requester vpc", byFilter("requester-vpc-info.vpc-id", p.df.VPCID), []string{p.pcx, pcx2}},
		{"requester owner", byFilter("requester-vpc-info.owner-id", custAccount), nil},
		{"id", byFilter("vpc-peering-connection-id", pcx2), []string{pcx2}},
		// The accepter's CIDR is only known once accepted.
		{"accepter cidr", byFilter("accepter-vpc-info.cidr-block", "10.*"), []string{pcx2}},
	} {
		if got := ids(tc.fs); !sameSet(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	_, err = c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{Filters: byFilter("status", "active")})
	wantCode(t, err, "InvalidParameterValue")
}

func TestCreateVpcPeeringConnectionAPI(t *testing.T) {
	e := newEnv(t, Delays{})
	a := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	b := e.vpc(otherAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.1.0.0/16"}})
	c := e.ec2(custKey, "us-east-1")
	out, err := c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: aws.String(a.VPCID),
		PeerVpcId: aws.String(b.VPCID), PeerOwnerId: aws.String(otherAccount),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcPeeringConnection,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("a-to-b")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	pc := out.VpcPeeringConnection
	if pc.Status.Code != types.VpcPeeringConnectionStateReasonCodeInitiatingRequest || len(pc.Tags) != 1 {
		t.Errorf("CreateVpcPeeringConnection answered %+v", pc)
	}
	id := aws.ToString(pc.VpcPeeringConnectionId)
	if code := describePeering(t, e.ec2(otherKey, "us-east-1"), id).Status.Code; code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance {
		t.Errorf("accepter sees %s", code)
	}
	_, err = c.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: aws.String(b.VPCID), PeerVpcId: aws.String(a.VPCID)})
	wantCode(t, err, "InvalidVpcID.NotFound")
}
