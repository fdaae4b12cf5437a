package awssim

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// A VPC comes with a default ACL allowing everything ahead of the
// catch-all deny, and its subnets use it; entries are created, replaced
// and deleted by rule number and direction with EC2's error codes.
func TestNetworkACLs(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	sn, err := e.sim.AddSubnet(custAccount, "us-east-1", v.VPCID, "10.0.1.0/24", "us-east-1a", "a")
	if err != nil {
		t.Fatal(err)
	}
	c := e.ec2(custKey, "us-east-1")
	out := must[*ec2.DescribeNetworkAclsOutput](t)(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
		Filters: byFilter("association.subnet-id", sn)}))
	if len(out.NetworkAcls) != 1 {
		t.Fatalf("ACLs of %s: %+v", sn, out.NetworkAcls)
	}
	acl := out.NetworkAcls[0]
	if !aws.ToBool(acl.IsDefault) || aws.ToString(acl.VpcId) != v.VPCID || len(acl.Entries) != 4 || len(acl.Associations) != 1 {
		t.Fatalf("default ACL %+v", acl)
	}
	for _, en := range acl.Entries {
		n := aws.ToInt32(en.RuleNumber)
		if (n == 100) != (en.RuleAction == types.RuleActionAllow) || aws.ToString(en.Protocol) != "-1" || (n != 100 && n != 32767) {
			t.Errorf("default entry %d %s %s", n, en.RuleAction, aws.ToString(en.Protocol))
		}
	}
	id := acl.NetworkAclId
	deny := &ec2.CreateNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(90), Egress: aws.Bool(false),
		Protocol: aws.String("6"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String("192.168.0.0/16"),
		PortRange: &types.PortRange{From: aws.Int32(6379), To: aws.Int32(6379)}}
	must[*ec2.CreateNetworkAclEntryOutput](t)(c.CreateNetworkAclEntry(ctx, deny))
	_, err = c.CreateNetworkAclEntry(ctx, deny)
	wantCode(t, err, "NetworkAclEntryAlreadyExists")
	// The same number the other way is another entry.
	deny.Egress = aws.Bool(true)
	must[*ec2.CreateNetworkAclEntryOutput](t)(c.CreateNetworkAclEntry(ctx, deny))

	out = must[*ec2.DescribeNetworkAclsOutput](t)(c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{aws.ToString(id)}}))
	found := false
	for _, en := range out.NetworkAcls[0].Entries {
		if aws.ToInt32(en.RuleNumber) == 90 && !aws.ToBool(en.Egress) {
			found = en.RuleAction == types.RuleActionDeny && en.PortRange != nil && aws.ToInt32(en.PortRange.From) == 6379 &&
				aws.ToString(en.CidrBlock) == "192.168.0.0/16" && aws.ToString(en.Protocol) == "6"
		}
	}
	if !found {
		t.Fatalf("deny entry not described: %+v", out.NetworkAcls[0].Entries)
	}
	must[*ec2.DeleteNetworkAclEntryOutput](t)(c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(90), Egress: aws.Bool(false)}))
	_, err = c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(90), Egress: aws.Bool(false)})
	wantCode(t, err, "InvalidNetworkAclEntry.NotFound")
	_, err = c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(32767), Egress: aws.Bool(false)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{"acl-00000000000000000"}})
	wantCode(t, err, "InvalidNetworkAclID.NotFound")
	// Another account sees none of it.
	other := must[*ec2.DescribeNetworkAclsOutput](t)(e.ec2(otherKey, "us-east-1").DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{}))
	if len(other.NetworkAcls) != 0 {
		t.Errorf("another account sees %d ACLs", len(other.NetworkAcls))
	}
}

// ReplaceRoute repoints a route (a blackhole to a deleted peering, here)
// and refuses a destination without a route as EC2 does.
func TestReplaceRoute(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, true)
	c := e.ec2(custKey, "us-east-1")
	rtb := aws.String(p.cust.MainRouteTableID)
	must[*ec2.CreateRouteOutput](t)(c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb,
		DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)}))
	if err := e.sim.DeletePeering(p.pcx); err != nil {
		t.Fatal(err)
	}
	pcx2, err := e.sim.CreatePeering(peeringRequest(p, "conn-2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AcceptPeering(pcx2); err != nil {
		t.Fatal(err)
	}
	// A deleted peering is no target, for Replace as for Create.
	_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	must[*ec2.ReplaceRouteOutput](t)(c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtb,
		DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(pcx2)}))
	routes, _ := e.sim.RouteTable(p.cust.MainRouteTableID)
	n := 0
	for _, r := range routes {
		if r.Destination == "192.168.0.0/16" {
			n++
			if r.Target != pcx2 || r.State != "active" {
				t.Errorf("replaced route %+v", r)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d routes for the CIDR after ReplaceRoute", n)
	}
	_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String("192.169.0.0/16"), VpcPeeringConnectionId: aws.String(pcx2)})
	wantCode(t, err, "InvalidParameterValue")
}

func peeringRequest(p peered, connID string) simcloud.PeeringRequest {
	return simcloud.PeeringRequest{
		ConnectionID: connID, Name: "my-connection",
		Network: simcloud.Network{ID: "net-1", Provider: "aws", Region: "us-east-1", CIDR: "192.168.0.0/16",
			VPCResourceID: p.df.VPCID, VPCAccountID: dfAccount},
		Peer: simcloud.Peer{AccountID: custAccount, VPCID: p.cust.VPCID, CIDRBlock: "10.0.0.0/16"},
	}
}
