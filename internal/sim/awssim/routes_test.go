package awssim

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// peered sets up Dragonfly's VPC and the customer's, with a peering
// requested by Dragonfly; accept makes it active.
type peered struct {
	df, cust VPCInfo
	pcx      string
}

func setupPeering(t *testing.T, e *env, accept bool) peered {
	t.Helper()
	df := e.vpc(dfAccount, "us-east-1", VPCSpec{CIDRs: []string{"192.168.0.0/16"}, Name: "dragonfly"})
	cust := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}, Name: "app"})
	pcx, err := e.sim.CreatePeering(simcloud.PeeringRequest{
		ConnectionID: "conn-1", Name: "my-connection",
		Network: simcloud.Network{ID: "net-1", Provider: "aws", Region: "us-east-1", CIDR: "192.168.0.0/16",
			VPCResourceID: df.VPCID, VPCAccountID: dfAccount},
		Peer: simcloud.Peer{AccountID: custAccount, VPCID: cust.VPCID, CIDRBlock: "10.0.0.0/16"},
	})
	if err != nil {
		t.Fatalf("CreatePeering: %v", err)
	}
	if accept {
		if err := e.sim.AcceptPeering(pcx); err != nil {
			t.Fatalf("AcceptPeering: %v", err)
		}
	}
	return peered{df: df, cust: cust, pcx: pcx}
}

func routeOf(rt types.RouteTable, dest string) (types.Route, bool) {
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest {
			return r, true
		}
	}
	return types.Route{}, false
}

func TestDescribeRouteTables(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16", "10.1.0.0/16"}})
	sub := must[string](t)(e.sim.AddSubnet(custAccount, "us-east-1", v.VPCID, "10.0.1.0/24", "us-east-1a", ""))
	private := must[string](t)(e.sim.AddRouteTable(custAccount, "us-east-1", v.VPCID, "private", sub))
	c := e.ec2(custKey, "us-east-1")

	out := must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: append(byFilter("vpc-id", v.VPCID), byFilter("association.main", "true")...)}))
	if len(out.RouteTables) != 1 || aws.ToString(out.RouteTables[0].RouteTableId) != v.MainRouteTableID {
		t.Fatalf("main route table lookup = %+v, want %s", out.RouteTables, v.MainRouteTableID)
	}
	main := out.RouteTables[0]
	for _, cidr := range []string{"10.0.0.0/16", "10.1.0.0/16"} {
		r, ok := routeOf(main, cidr)
		if !ok || aws.ToString(r.GatewayId) != "local" || r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRouteTable {
			t.Errorf("local route for %s = %+v", cidr, r)
		}
	}
	if len(main.Associations) != 1 || !aws.ToBool(main.Associations[0].Main) {
		t.Errorf("main association = %+v", main.Associations)
	}

	out = must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: byFilter("association.subnet-id", sub)}))
	if len(out.RouteTables) != 1 || aws.ToString(out.RouteTables[0].RouteTableId) != private {
		t.Fatalf("table of subnet = %+v, want %s", out.RouteTables, private)
	}
	if a := out.RouteTables[0].Associations; len(a) != 1 || aws.ToString(a[0].SubnetId) != sub || aws.ToBool(a[0].Main) {
		t.Errorf("subnet association = %+v", a)
	}

	out = must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{private}}))
	if len(out.RouteTables) != 1 {
		t.Errorf("RouteTableId.1 = %d tables", len(out.RouteTables))
	}
	out = must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: byFilter("route-table-id", private)}))
	if len(out.RouteTables) != 1 {
		t.Errorf("route-table-id filter = %d tables", len(out.RouteTables))
	}

	_, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-123"}})
	wantCode(t, err, "InvalidRouteTableId.Malformed")
	_, err = e.ec2(otherKey, "us-east-1").DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{private}})
	wantCode(t, err, "InvalidRouteTableID.NotFound")
	_, err = c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: byFilter("main", "true")})
	wantCode(t, err, "InvalidParameterValue")
}

func TestCreateRoute(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, true)
	c := e.ec2(custKey, "us-east-1")
	rtb := p.cust.MainRouteTableID
	create := func(in ec2.CreateRouteInput) error {
		_, err := c.CreateRoute(ctx, &in)
		return err
	}
	toDF := ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("192.168.0.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx)}

	if err := create(toDF); err != nil {
		t.Fatalf("CreateRoute: %v", err)
	}
	routes, _ := e.sim.RouteTable(rtb)
	if last := routes[len(routes)-1]; last.Destination != "192.168.0.0/16" || last.Target != p.pcx || last.State != "active" {
		t.Fatalf("route after CreateRoute = %+v", last)
	}
	out := must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rtb}}))
	if r, ok := routeOf(out.RouteTables[0], "192.168.0.0/16"); !ok || aws.ToString(r.VpcPeeringConnectionId) != p.pcx ||
		r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRoute {
		t.Errorf("described route = %+v", r)
	}
	filtered := must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: byFilter("route.vpc-peering-connection-id", p.pcx)}))
	if len(filtered.RouteTables) != 1 {
		t.Errorf("route.vpc-peering-connection-id filter = %d tables", len(filtered.RouteTables))
	}

	other := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.50.0.0/16"}})
	before := e.sim.Snapshot()
	// The same route again, identical target included, is refused.
	wantCode(t, create(toDF), "RouteAlreadyExists")
	// The local route cannot be replaced through CreateRoute.
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("10.0.0.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx)}), "RouteAlreadyExists")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("10.0.5.0/24"),
		VpcPeeringConnectionId: aws.String(p.pcx)}), "InvalidParameterValue")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("192.168.1.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx)}), "InvalidParameterValue")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/16")}),
		"MissingParameter")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx), GatewayId: aws.String("igw-0123456789abcdef0")}), "InvalidParameterCombination")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/16"),
		GatewayId: aws.String("igw-0123456789abcdef0")}), "InvalidGatewayID.NotFound")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String("rtb-0123456789abcdef0"), DestinationCidrBlock: aws.String("172.16.0.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx)}), "InvalidRouteTableID.NotFound")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String("rtb-x"), DestinationCidrBlock: aws.String("172.16.0.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx)}), "InvalidRouteTableId.Malformed")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/16"),
		VpcPeeringConnectionId: aws.String("pcx-0123456789abcdef0")}), "InvalidVpcPeeringConnectionID.NotFound")
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/16"),
		VpcPeeringConnectionId: aws.String("pcx-bad")}), "InvalidVpcPeeringConnectionId.Malformed")
	// Another account's route table does not exist for the caller.
	_, err := e.ec2(otherKey, "us-east-1").CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtb),
		DestinationCidrBlock: aws.String("172.16.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidRouteTableID.NotFound")
	// A peering that does not involve the table's VPC cannot be a target.
	wantCode(t, create(ec2.CreateRouteInput{RouteTableId: aws.String(other.MainRouteTableID), DestinationCidrBlock: aws.String("192.168.0.0/16"),
		VpcPeeringConnectionId: aws.String(p.pcx)}), "InvalidParameterValue")
	dry := toDF
	dry.DestinationCidrBlock, dry.DryRun = aws.String("172.20.0.0/16"), aws.Bool(true)
	wantCode(t, create(dry), "DryRunOperation")

	if after := e.sim.Snapshot(); !bytes.Equal(before, after) {
		t.Errorf("refused CreateRoute calls changed the state:\n%s\n---\n%s", before, after)
	}

	// DeleteRoute.
	wantCode(t, func() error {
		_, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("172.16.0.0/16")})
		return err
	}(), "InvalidRoute.NotFound")
	wantCode(t, func() error {
		_, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("10.0.0.0/16")})
		return err
	}(), "InvalidParameterValue")
	if _, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rtb), DestinationCidrBlock: aws.String("192.168.0.0/16")}); err != nil {
		t.Fatalf("DeleteRoute: %v", err)
	}
	routes, _ = e.sim.RouteTable(rtb)
	if len(routes) != 1 || routes[0].Target != "local" {
		t.Errorf("after DeleteRoute: %+v", routes)
	}
}

func TestRouteStateFollowsPeering(t *testing.T) {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, false)
	c := e.ec2(custKey, "us-east-1")
	// A route to a peering still pending acceptance is allowed, as a
	// blackhole.
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(p.cust.MainRouteTableID),
		DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)}); err != nil {
		t.Fatalf("CreateRoute to a pending peering: %v", err)
	}
	state := func() string {
		routes, _ := e.sim.RouteTable(p.cust.MainRouteTableID)
		return routes[len(routes)-1].State
	}
	if s := state(); s != "blackhole" {
		t.Errorf("route to pending peering is %s, want blackhole", s)
	}
	if err := e.sim.AcceptPeering(p.pcx); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "active" {
		t.Errorf("route to active peering is %s, want active", s)
	}
	if err := e.sim.DeletePeering(p.pcx); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != "blackhole" {
		t.Errorf("route to deleted peering is %s, want blackhole", s)
	}
	out := must[*ec2.DescribeRouteTablesOutput](t)(c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: byFilter("route.state", "blackhole")}))
	if len(out.RouteTables) != 1 {
		t.Errorf("route.state=blackhole matched %d tables", len(out.RouteTables))
	}
	// A deleted peering can no longer be a target.
	_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(p.cust.MainRouteTableID),
		DestinationCidrBlock: aws.String("192.169.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
}
