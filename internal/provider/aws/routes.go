package aws

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// routeWant is a route change's typed resource: the network's CIDR to the
// peering in one table.
type routeWant struct {
	Table string
	CIDR  string
	// Target is the route's target when observed (what Remove may
	// delete); empty when it was absent.
	Target string
}

// observeRoutes looks for the network's CIDR in each route table. For
// connect, a route there to anything but this connection's peering would
// shadow it and is refused, except one to a peering that is gone or that
// --recreate replaces, which is repointed. For a teardown such a route is
// kept, except a blackhole route to a peering that no longer exists, which
// an earlier run left. For status each is classified, with the fix, and a
// more specific route that takes part of the CIDR elsewhere is reported.
func (p *Provider) observeRoutes(ctx context.Context, cloud *Cloud, w wanted) ([]peering.Change, error) {
	vpc, cidr := cloud.VPC.ID, w.net.CIDRBlock
	all, err := p.c.RouteTables(ctx, vpc)
	if err != nil {
		return nil, err
	}
	tables, err := choose(p.in.RouteTables, all, func(t RouteTable) string { return t.ID }, DefaultRouteTables, w.teardown, "route-table", "route table", vpc)
	if err != nil {
		return nil, err
	}
	target := "the peering"
	if w.pcx != "" {
		target = w.pcx
	}
	var changes []peering.Change
	for _, rt := range tables {
		cloud.RouteTables = append(cloud.RouteTables, rt.ID)
		c := peering.Change{Action: peering.Create, Kind: peering.KindRoute, ID: rt.ID, Found: peering.Absent, Phase: peering.AfterInactive,
			Target: rt.ID, Detail: fmt.Sprintf("%s → %s", cidr, target), Title: fmt.Sprintf("Route %s in %s", cidr, rt.ID),
			Want: routeWant{Table: rt.ID, CIDR: cidr}}
		if w.status {
			changes = append(changes, stolen(rt, w)...)
		}
		r, found := routeFor(rt.Routes, cidr)
		if !found {
			if !w.teardown {
				changes = append(changes, c)
			}
			continue
		}
		to := routeTarget(r)
		c.Want = routeWant{Table: rt.ID, CIDR: cidr, Target: to}
		c.Detail = fmt.Sprintf("%s → %s", cidr, to)
		pcx := aws.ToString(r.VpcPeeringConnectionId)
		switch {
		case w.pcx != "" && pcx == w.pcx:
			c.Found, c.Action = peering.AsWanted, peering.Unchanged
			if w.status && r.State == types.RouteStateBlackhole {
				c.Found, c.Action = peering.Different, peering.Verify
				c.Detail = fmt.Sprintf("%s → %s is a blackhole: the peering is not active", cidr, to)
				c.Reason = "see the peering check"
			}
		case pcx != "" && (r.State == types.RouteStateBlackhole || pcx == w.replaces):
			c.Found, c.Action = peering.Different, peering.Update
			c.Reason = fmt.Sprintf("blackhole: its peering %s no longer exists; connect points it at %s", pcx, target)
			if r.State != types.RouteStateBlackhole {
				c.Reason = fmt.Sprintf("routes to %s, the peering of the connection being replaced; connect points it at %s", pcx, target)
			}
			c.Title = fmt.Sprintf("Point %s in %s at %s", cidr, rt.ID, target)
			c.Detail = fmt.Sprintf("%s → %s (now → %s, %s)", cidr, target, to, r.State)
		default:
			c.Found, c.Action, c.Reason = peering.NotOurs, peering.Keep, fmt.Sprintf("routes %s to %s, not to this connection's peering", cidr, to)
			if w.status {
				c.Found, c.Action = peering.Different, peering.Verify
				c.Detail = fmt.Sprintf("%s → %s: traffic to the network goes there, not to %s", cidr, to, target)
				c.Reason = fmt.Sprintf("aws ec2 delete-route --route-table-id %s --destination-cidr-block %s, then run connect again", rt.ID, cidr)
			}
		}
		switch {
		case w.teardown:
			if c.Found != peering.NotOurs {
				c.Action = peering.Remove
			}
		case w.status:
		case c.Found == peering.NotOurs:
			return nil, problem.Refuse("route-table", rt.ID,
				fmt.Sprintf("remove that route (aws ec2 delete-route --route-table-id %s --destination-cidr-block %s) or leave this table out with --route-table", rt.ID, cidr),
				"already routes %s to %s (state %s); that would shadow the peering", cidr, to, r.State)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// stolen are the table's routes more specific than the network's CIDR that
// do not go to this connection's peering: the longest prefix wins, so they
// take that part of the network elsewhere.
func stolen(rt RouteTable, w wanted) []peering.Change {
	net, err := netip.ParsePrefix(w.net.CIDRBlock)
	if err != nil {
		return nil
	}
	var out []peering.Change
	for _, r := range rt.Routes {
		dest, err := netip.ParsePrefix(aws.ToString(r.DestinationCidrBlock))
		if err != nil || dest.Bits() <= net.Bits() || !net.Contains(dest.Addr()) {
			continue
		}
		if w.pcx != "" && aws.ToString(r.VpcPeeringConnectionId) == w.pcx {
			continue
		}
		to := routeTarget(r)
		out = append(out, peering.Change{Action: peering.Verify, Kind: peering.KindRoute, ID: rt.ID + ":" + dest.String(), Found: peering.Different,
			Phase: peering.AfterInactive, Target: rt.ID,
			Detail: fmt.Sprintf("%s → %s (%s) is more specific than %s and takes that part of the network away from the peering", dest, to, r.State, w.net.CIDRBlock),
			Reason: fmt.Sprintf("aws ec2 delete-route --route-table-id %s --destination-cidr-block %s, if that part of the network is meant to reach Dragonfly", rt.ID, dest)})
	}
	return out
}

func routeFor(routes []types.Route, cidr string) (types.Route, bool) {
	for _, r := range routes {
		if aws.ToString(r.DestinationCidrBlock) == cidr {
			return r, true
		}
	}
	return types.Route{}, false
}

func routeTarget(r types.Route) string {
	for _, t := range []*string{r.VpcPeeringConnectionId, r.GatewayId, r.NatGatewayId, r.TransitGatewayId, r.NetworkInterfaceId, r.InstanceId, r.LocalGatewayId, r.CarrierGatewayId, r.EgressOnlyInternetGatewayId} {
		if v := aws.ToString(t); v != "" {
			return v
		}
	}
	return "an unknown target"
}

// routeNow is the table's route for cidr as it is now; found is false when
// the table or the route is gone.
func (p *Provider) routeNow(ctx context.Context, table, cidr string) (r types.Route, found bool, err error) {
	out, err := p.c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{table}})
	if err != nil {
		if errorCode(err) == "InvalidRouteTableID.NotFound" {
			return r, false, nil
		}
		return r, false, classify("reading route table "+table+" (ec2:DescribeRouteTables)", err)
	}
	if len(out.RouteTables) == 0 {
		return r, false, nil
	}
	r, found = routeFor(out.RouteTables[0].Routes, cidr)
	return r, found, nil
}

// ensureRoute routes the network's CIDR to the peering. A route observe
// found absent is created without reading again, and AWS's
// RouteAlreadyExists says if that changed.
func (p *Provider) ensureRoute(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	want := c.Want.(routeWant)
	id, cidr, pcx := want.Table, want.CIDR, s.Connection.PeerConnectionID
	record := func(action string) {
		s.Result.Routes = append(s.Result.Routes, peering.Route{RouteTable: id, Destination: cidr, Target: pcx, Action: action})
	}
	check := func() (bool, error) {
		r, found, err := p.routeNow(ctx, id, cidr)
		if err != nil || !found {
			return false, err
		}
		if aws.ToString(r.VpcPeeringConnectionId) != pcx {
			return false, fmt.Errorf("route table %s already routes %s to %s; remove that route and run again", id, cidr, routeTarget(r))
		}
		return true, nil
	}
	if c.Found == peering.Different {
		return p.repointRoute(ctx, want, pcx, record)
	}
	if c.Found != peering.Absent {
		done, err := check()
		if err != nil {
			return "", err
		}
		if done {
			record("unchanged")
			return "already present", nil
		}
	}
	_, err := p.c.EC2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(id), DestinationCidrBlock: aws.String(cidr), VpcPeeringConnectionId: aws.String(pcx)})
	if err != nil {
		if errorCode(err) == "RouteAlreadyExists" {
			done, cerr := check()
			if cerr != nil {
				return "", cerr // someone else's route: say whose
			}
			if done {
				record("unchanged")
				return "already present", nil
			}
		}
		return "", classify(fmt.Sprintf("adding route %s → %s to %s (ec2:CreateRoute)", cidr, pcx, id), err)
	}
	record("created")
	return "created", nil
}

// repointRoute points a route observe found going to an old peering at
// the connection's: only while it still goes where it did (a route
// someone changed since is theirs); one already repointed is left.
func (p *Provider) repointRoute(ctx context.Context, want routeWant, pcx string, record func(string)) (string, error) {
	r, found, err := p.routeNow(ctx, want.Table, want.CIDR)
	if err != nil {
		return "", err
	}
	switch now := routeTarget(r); {
	case !found:
		_, err := p.c.EC2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(want.Table), DestinationCidrBlock: aws.String(want.CIDR), VpcPeeringConnectionId: aws.String(pcx)})
		if err != nil && errorCode(err) != "RouteAlreadyExists" {
			return "", classify(fmt.Sprintf("adding route %s → %s to %s (ec2:CreateRoute)", want.CIDR, pcx, want.Table), err)
		}
		record("created")
		return "created (the old route was gone)", nil
	case now == pcx:
		record("unchanged")
		return "already points at " + pcx, nil
	case now != want.Target:
		return "", fmt.Errorf("route table %s now routes %s to %s; remove that route and run again", want.Table, want.CIDR, now)
	}
	_, err = p.c.EC2.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: aws.String(want.Table), DestinationCidrBlock: aws.String(want.CIDR), VpcPeeringConnectionId: aws.String(pcx)})
	if err != nil {
		return "", classify(fmt.Sprintf("pointing route %s in %s at %s (ec2:ReplaceRoute)", want.CIDR, want.Table, pcx), err)
	}
	record("updated")
	return fmt.Sprintf("repointed from %s", want.Target), nil
}

// removeRoute deletes the route observe found ours, after checking it still
// points where it did: a route someone re-pointed since is theirs now.
func (p *Provider) removeRoute(ctx context.Context, c peering.Change) (string, error) {
	want := c.Want.(routeWant)
	r, found, err := p.routeNow(ctx, want.Table, want.CIDR)
	if err != nil {
		return "", err
	}
	if !found {
		return "already gone", nil
	}
	if now := routeTarget(r); now != want.Target {
		return fmt.Sprintf("kept: it now routes to %s", now), nil
	}
	_, err = p.c.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(want.Table), DestinationCidrBlock: aws.String(want.CIDR)})
	if err != nil {
		switch errorCode(err) {
		case "InvalidRoute.NotFound", "InvalidRouteTableID.NotFound":
			return "already gone", nil
		}
		return "", classify(fmt.Sprintf("deleting route %s in %s (ec2:DeleteRoute)", want.CIDR, want.Table), err)
	}
	return "removed", nil
}
