package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Inputs are the user's choices for one connect run.
type Inputs struct {
	AccountID      string   // --account-id; empty: the credentials' account
	VPCID          string   // --vpc-id
	RouteTables    []string // --route-table; empty: the VPC's main and associated tables
	SecurityGroups []string // --security-group; empty: the VPC's default group
	Port           int      // --port
	ConnectionName string   // --name, for rule descriptions
}

// Provider implements peering.Provider for AWS.
type Provider struct {
	c  *Client
	in Inputs
	// Resolved by Preflight.
	account string
	rts     []string
	sgs     []string
	// toCreate holds the route tables and groups pre-flight found without
	// our route or rule: their steps write at once and let AWS's
	// RouteAlreadyExists / InvalidPermission.Duplicate say if that changed,
	// instead of reading again first.
	toCreate map[string]bool
}

// NewProvider returns the AWS side of a connect run.
func NewProvider(c *Client, in Inputs) *Provider {
	return &Provider{c: c, in: in}
}

func (p *Provider) Name() string { return "aws" }

// Peer is the customer side: the acceptor account (the credentials'; a
// different --account-id is refused), VPC and region.
func (p *Provider) Peer(ctx context.Context) (dfcloud.Peer, error) {
	if p.account == "" {
		account, err := p.c.CallerAccount(ctx)
		if err != nil {
			return dfcloud.Peer{}, err
		}
		if p.in.AccountID != "" && p.in.AccountID != account {
			return dfcloud.Peer{}, cmdutil.InputErrorf("--account-id %s does not match the account of the AWS credentials (%s); use credentials of account %s (--profile) or drop --account-id",
				p.in.AccountID, account, p.in.AccountID)
		}
		p.account = account
	}
	return dfcloud.Peer{AccountID: p.account, VPCID: p.in.VPCID, Region: p.c.Region}, nil
}

// RouteTables and SecurityGroups are the resolved targets (after Preflight).
func (p *Provider) RouteTables() []string    { return p.rts }
func (p *Provider) SecurityGroups() []string { return p.sgs }

// Preflight checks, read-only, everything the run will touch.
func (p *Provider) Preflight(ctx context.Context, net *dfcloud.Network, existing *dfcloud.Connection) ([]peering.Change, error) {
	if net.VPC == nil || net.VPC.ResourceID == "" {
		return nil, fmt.Errorf("network %s has no VPC information yet; wait until it is active", net.NetworkID)
	}
	if _, err := p.Peer(ctx); err != nil {
		return nil, err
	}
	account := p.account

	vpc, err := p.describeVPC(ctx)
	if err != nil {
		return nil, err
	}
	if block, err := peering.FirstOverlap(net.CIDRBlock, vpc.CIDRs); err != nil {
		return nil, err
	} else if block != "" {
		return nil, cmdutil.InputErrorf("--vpc-id %s: its CIDR block %s overlaps the Dragonfly network %s CIDR %s; peered networks need disjoint ranges (pick another VPC, or create the Dragonfly network with a CIDR outside %s)",
			vpc.ID, block, net.Name, net.CIDRBlock, strings.Join(vpc.CIDRs, ", "))
	}

	pcx := ""
	if existing != nil {
		pcx = existing.PeerConnectionID
	}
	changes := []peering.Change{{Action: "accept", Kind: "peering", Target: fmt.Sprintf("account %s, %s", account, p.c.Region),
		Detail: fmt.Sprintf("peering request from Dragonfly VPC %s (account %s) to %s", net.VPC.ResourceID, net.VPC.AccountID, vpc.ID)}}
	if pcx != "" {
		changes[0].Detail += " (" + pcx + ")"
	}

	rtChanges, err := p.preflightRoutes(ctx, net, vpc, pcx)
	if err != nil {
		return nil, err
	}
	changes = append(changes, rtChanges...)
	sgChanges, err := p.preflightSecurityGroups(ctx, net, vpc)
	if err != nil {
		return nil, err
	}
	return append(changes, sgChanges...), nil
}

func (p *Provider) describeVPC(ctx context.Context) (VPC, error) {
	out, err := p.c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{p.in.VPCID}})
	if err != nil {
		switch errorCode(err) {
		case "InvalidVpcID.NotFound", "InvalidVpcID.Malformed":
			return VPC{}, p.vpcNotFound(ctx)
		}
		return VPC{}, classify("reading VPC "+p.in.VPCID+" (ec2:DescribeVpcs)", err)
	}
	if len(out.Vpcs) == 0 {
		return VPC{}, p.vpcNotFound(ctx)
	}
	return toVPC(out.Vpcs[0]), nil
}

func (p *Provider) vpcNotFound(ctx context.Context) error {
	valid := "none"
	if vpcs, err := p.c.VPCs(ctx); err == nil && len(vpcs) > 0 {
		ids := make([]string, len(vpcs))
		for i, v := range vpcs {
			ids[i] = v.ID
		}
		valid = strings.Join(ids, ", ")
	}
	return cmdutil.InputErrorf("--vpc-id %s: no such VPC in account %s, region %s (VPCs there: %s; another region needs --region)", p.in.VPCID, p.account, p.c.Region, valid)
}

// choose returns the items the user named in given (or, when none, the
// defaults), refusing any ID that is not one of the VPC's.
func choose[T any](given []string, all []T, id func(T) string, defaults func([]T) []string, flag, what, vpcID string) ([]T, error) {
	byID := map[string]T{}
	ids := make([]string, len(all))
	for i, item := range all {
		byID[id(item)] = item
		ids[i] = id(item)
	}
	if len(given) == 0 {
		given = defaults(all)
	}
	if len(given) == 0 {
		return nil, cmdutil.InputErrorf("--vpc-id %s has no default %s; pass %s", vpcID, what, flag)
	}
	chosen := make([]T, len(given))
	for i, g := range given {
		item, ok := byID[g]
		if !ok {
			return nil, cmdutil.InputErrorf("%s %s: not a %s of %s (its %ss: %s)", flag, g, what, vpcID, what, strings.Join(ids, ", "))
		}
		chosen[i] = item
	}
	return chosen, nil
}

func (p *Provider) preflightRoutes(ctx context.Context, net *dfcloud.Network, vpc VPC, pcx string) ([]peering.Change, error) {
	all, err := p.c.RouteTables(ctx, vpc.ID)
	if err != nil {
		return nil, err
	}
	tables, err := choose(p.in.RouteTables, all, func(t RouteTable) string { return t.ID }, DefaultRouteTables, "--route-table", "route table", vpc.ID)
	if err != nil {
		return nil, err
	}
	target := "the peering"
	if pcx != "" {
		target = pcx
	}
	p.rts = nil
	var changes []peering.Change
	for _, rt := range tables {
		p.rts = append(p.rts, rt.ID)
		p.markToCreate(rt.ID, true)
		action := "create"
		if r, found := routeFor(rt.Routes, net.CIDRBlock); found {
			if pcx == "" || aws.ToString(r.VpcPeeringConnectionId) != pcx {
				return nil, cmdutil.InputErrorf("--route-table %s already routes %s to %s (state %s); that would shadow the peering: remove that route (aws ec2 delete-route --route-table-id %s --destination-cidr-block %s) or leave this table out with --route-table",
					rt.ID, net.CIDRBlock, routeTarget(r), r.State, rt.ID, net.CIDRBlock)
			}
			action = "unchanged"
			p.markToCreate(rt.ID, false)
		}
		changes = append(changes, peering.Change{Action: peering.Action(action), Kind: "route", Target: rt.ID, Detail: fmt.Sprintf("%s → %s", net.CIDRBlock, target)})
	}
	return changes, nil
}

func (p *Provider) preflightSecurityGroups(ctx context.Context, net *dfcloud.Network, vpc VPC) ([]peering.Change, error) {
	all, err := p.c.SecurityGroups(ctx, vpc.ID)
	if err != nil {
		return nil, err
	}
	groups, err := choose(p.in.SecurityGroups, all, func(g SecurityGroup) string { return g.ID }, DefaultSecurityGroups, "--security-group", "security group", vpc.ID)
	if err != nil {
		return nil, err
	}
	p.sgs = nil
	var changes []peering.Change
	for _, g := range groups {
		p.sgs = append(p.sgs, g.ID)
		action := "create"
		if hasIngress(g.Rules, p.in.Port, net.CIDRBlock) {
			action = "unchanged"
		}
		p.markToCreate(g.ID, action == "create")
		changes = append(changes, peering.Change{Action: peering.Action(action), Kind: "firewall_rule", Target: fmt.Sprintf("%s (%s)", g.ID, g.Name),
			Detail: fmt.Sprintf("allow inbound TCP %d from %s", p.in.Port, net.CIDRBlock)})
	}
	return changes, nil
}

func (p *Provider) markToCreate(id string, create bool) {
	if p.toCreate == nil {
		p.toCreate = map[string]bool{}
	}
	p.toCreate[id] = create
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

func hasIngress(perms []types.IpPermission, port int, cidr string) bool {
	for _, perm := range perms {
		if aws.ToString(perm.IpProtocol) != "tcp" || aws.ToInt32(perm.FromPort) != int32(port) || aws.ToInt32(perm.ToPort) != int32(port) {
			continue
		}
		for _, r := range perm.IpRanges {
			if aws.ToString(r.CidrIp) == cidr {
				return true
			}
		}
	}
	return false
}

// Steps are the AWS side: accept (after checking the peering really is this
// connection's), then one route per table and one rule per group.
func (p *Provider) Steps(net *dfcloud.Network) []peering.Step {
	steps := []peering.Step{{
		Title: "Accept the VPC peering",
		Phase: peering.AfterInactive,
		Run:   func(ctx context.Context, s *peering.State) (string, error) { return p.accept(ctx, s) },
	}}
	for _, id := range p.rts {
		steps = append(steps, peering.Step{
			Title: fmt.Sprintf("Route %s in %s", net.CIDRBlock, id),
			Phase: peering.AfterInactive,
			Run:   func(ctx context.Context, s *peering.State) (string, error) { return p.ensureRoute(ctx, s, id) },
		})
	}
	for _, id := range p.sgs {
		steps = append(steps, peering.Step{
			Title: fmt.Sprintf("Allow TCP %d from %s in %s", p.in.Port, net.CIDRBlock, id),
			Phase: peering.AfterInactive,
			Run:   func(ctx context.Context, s *peering.State) (string, error) { return p.ensureIngress(ctx, s, id) },
		})
	}
	return steps
}

func (p *Provider) describePeering(ctx context.Context, pcx string) (*types.VpcPeeringConnection, error) {
	out, err := p.c.EC2.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{pcx}})
	if err != nil && errorCode(err) != "InvalidVpcPeeringConnectionID.NotFound" {
		return nil, classify("reading peering "+pcx+" (ec2:DescribeVpcPeeringConnections)", err)
	}
	if err != nil || out == nil || len(out.VpcPeeringConnections) == 0 {
		return nil, fmt.Errorf("peering %s is not visible to account %s in %s: Dragonfly created it for another account or region; check the connection's peer with 'dfpeer connections get'", pcx, p.account, p.c.Region)
	}
	return &out.VpcPeeringConnections[0], nil
}

// verifyPeering refuses a peering that is not this connection's: never
// accept someone else's request.
func (p *Provider) verifyPeering(pc *types.VpcPeeringConnection, net *dfcloud.Network) error {
	pcx := aws.ToString(pc.VpcPeeringConnectionId)
	acc, req := pc.AccepterVpcInfo, pc.RequesterVpcInfo
	if acc == nil || req == nil {
		return fmt.Errorf("refusing to accept %s: AWS did not describe both sides", pcx)
	}
	var wrong []string
	check := func(what, got, want string) {
		if want != "" && got != "" && got != want {
			wrong = append(wrong, fmt.Sprintf("%s is %s, expected %s", what, got, want))
		} else if want != "" && got == "" && what != "accepter region" && what != "requester region" {
			wrong = append(wrong, fmt.Sprintf("%s is missing, expected %s", what, want))
		}
	}
	check("accepter VPC", aws.ToString(acc.VpcId), p.in.VPCID)
	check("accepter account", aws.ToString(acc.OwnerId), p.account)
	check("accepter region", aws.ToString(acc.Region), p.c.Region)
	check("requester VPC", aws.ToString(req.VpcId), net.VPC.ResourceID)
	check("requester account", aws.ToString(req.OwnerId), net.VPC.AccountID)
	check("requester region", aws.ToString(req.Region), net.Location.Region)
	if len(wrong) > 0 {
		return fmt.Errorf("refusing to accept %s, it is not this connection's peering: %s", pcx, strings.Join(wrong, "; "))
	}
	return nil
}

func (p *Provider) accept(ctx context.Context, s *peering.State) (string, error) {
	pcx := s.Connection.PeerConnectionID
	pc, err := p.describePeering(ctx, pcx)
	if err != nil {
		return "", err
	}
	if err := p.verifyPeering(pc, s.Network); err != nil {
		return "", err
	}
	s.Result.PeerConnectionID = pcx
	switch code := peeringState(pc); code {
	case types.VpcPeeringConnectionStateReasonCodeActive, types.VpcPeeringConnectionStateReasonCodeProvisioning:
		return fmt.Sprintf("%s already accepted (%s)", pcx, code), nil
	case types.VpcPeeringConnectionStateReasonCodePendingAcceptance:
	default:
		msg := ""
		if pc.Status != nil {
			msg = aws.ToString(pc.Status.Message)
		}
		return "", fmt.Errorf("peering %s is %s (%s); it can no longer be accepted: delete the connection and run again", pcx, code, msg)
	}
	_, err = p.c.EC2.AcceptVpcPeeringConnection(ctx, &ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(pcx)})
	if err != nil {
		// A lost answer or a concurrent run may have accepted it: look
		// again before calling it a failure.
		if again, derr := p.describePeering(ctx, pcx); derr == nil {
			switch peeringState(again) {
			case types.VpcPeeringConnectionStateReasonCodeActive, types.VpcPeeringConnectionStateReasonCodeProvisioning:
				return fmt.Sprintf("%s already accepted", pcx), nil
			}
		}
		return "", classify("accepting "+pcx+" (ec2:AcceptVpcPeeringConnection)", err)
	}
	return fmt.Sprintf("%s accepted", pcx), nil
}

func peeringState(pc *types.VpcPeeringConnection) types.VpcPeeringConnectionStateReasonCode {
	if pc.Status == nil {
		return ""
	}
	return pc.Status.Code
}

func (p *Provider) routeTable(ctx context.Context, id string) (RouteTable, error) {
	out, err := p.c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	if err != nil {
		return RouteTable{}, classify("reading route table "+id+" (ec2:DescribeRouteTables)", err)
	}
	if len(out.RouteTables) == 0 {
		return RouteTable{}, fmt.Errorf("route table %s disappeared", id)
	}
	return toRouteTable(out.RouteTables[0]), nil
}

func (p *Provider) ensureRoute(ctx context.Context, s *peering.State, id string) (string, error) {
	cidr, pcx := s.Network.CIDRBlock, s.Connection.PeerConnectionID
	record := func(action string) {
		s.Result.Routes = append(s.Result.Routes, peering.Route{RouteTable: id, Destination: cidr, Target: pcx, Action: action})
	}
	check := func() (bool, error) {
		rt, err := p.routeTable(ctx, id)
		if err != nil {
			return false, err
		}
		r, found := routeFor(rt.Routes, cidr)
		if !found {
			return false, nil
		}
		if aws.ToString(r.VpcPeeringConnectionId) != pcx {
			return false, fmt.Errorf("route table %s already routes %s to %s; remove that route and run again", id, cidr, routeTarget(r))
		}
		return true, nil
	}
	if !p.toCreate[id] {
		if done, err := check(); err != nil || done {
			if done {
				record("unchanged")
				return "already present", nil
			}
			return "", err
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

func (p *Provider) ensureIngress(ctx context.Context, s *peering.State, id string) (string, error) {
	cidr, port := s.Network.CIDRBlock, p.in.Port
	record := func(action string) {
		s.Result.FirewallRules = append(s.Result.FirewallRules, peering.FirewallRule{Target: id, Protocol: "tcp", Port: port, Source: cidr, Action: action})
	}
	if !p.toCreate[id] {
		out, err := p.c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		if err != nil {
			return "", classify("reading security group "+id+" (ec2:DescribeSecurityGroups)", err)
		}
		if len(out.SecurityGroups) == 1 && hasIngress(out.SecurityGroups[0].IpPermissions, port, cidr) {
			record("unchanged")
			return "already allowed", nil
		}
	}
	_, err := p.c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{{
			IpProtocol: aws.String("tcp"),
			FromPort:   aws.Int32(int32(port)),
			ToPort:     aws.Int32(int32(port)),
			IpRanges:   []types.IpRange{{CidrIp: aws.String(cidr), Description: aws.String(ruleDescription(s.Result.Name))}},
		}},
	})
	if err != nil {
		if errorCode(err) == "InvalidPermission.Duplicate" {
			record("unchanged")
			return "already allowed", nil
		}
		return "", classify(fmt.Sprintf("allowing TCP %d from %s in %s (ec2:AuthorizeSecurityGroupIngress)", port, cidr, id), err)
	}
	record("created")
	return "created", nil
}

// ruleDescription keeps to the characters EC2 accepts in a rule
// description (a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*) and to its 255 limit.
func ruleDescription(name string) string {
	d := []rune(peering.RuleDescription(name))
	for i, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(". _-:/()#,@[]+=&;{}!$*", r)) {
			d[i] = '_'
		}
	}
	return string(d[:min(len(d), 255)])
}

var _ peering.LegacyProvider = (*Provider)(nil)

// Actions are the IAM actions dfpeer calls on AWS; `dfpeer aws permissions`
// prints them as a policy. Keep in step with EC2API and STSAPI.
var Actions = func() []string {
	a := []string{
		"ec2:AcceptVpcPeeringConnection",
		"ec2:AuthorizeSecurityGroupIngress",
		"ec2:CreateRoute",
		"ec2:DescribeRouteTables",
		"ec2:DescribeSecurityGroups",
		"ec2:DescribeVpcPeeringConnections",
		"ec2:DescribeVpcs",
		"sts:GetCallerIdentity",
	}
	slices.Sort(a)
	return a
}()
