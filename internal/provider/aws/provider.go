package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Inputs are the user's choices for one run.
type Inputs struct {
	AccountID      string   // --account-id; empty: the credentials' account
	VPCID          string   // --vpc-id
	RouteTables    []string // --route-table; empty: the VPC's main and associated tables
	SecurityGroups []string // --security-group; empty: the VPC's default group
	Port           int      // --port
	// Ports are the ports to open when there are several (Redis 6379,
	// Memcached 6371): one rule per port in each group. Empty: Port.
	Ports          []int
	ConnectionName string // --name, for rule descriptions
	// Teardown observes for removal (disconnect): every route table and
	// security group of the VPC is looked at (or only the given ones), and
	// a route or rule in the way is classified NotOurs and kept instead of
	// refused as connect does.
	Teardown bool
}

// ports are the ports the run opens, checks or removes.
func (in Inputs) ports() []int {
	if len(in.Ports) > 0 {
		return in.Ports
	}
	return []int{in.Port}
}

// Provider implements peering.Provider for AWS. It holds only the client
// and the inputs: what Observe resolves travels in Cloud.
type Provider struct {
	c  *Client
	in Inputs
}

// Cloud is what Observe resolved, handed back to Ensure and Remove through
// peering.State.Cloud.
type Cloud struct {
	Account        string // the acceptor account (the credentials')
	VPC            VPC
	RouteTables    []string // the tables observed
	SecurityGroups []string // the groups observed
}

var _ peering.Provider = (*Provider)(nil)

// NewProvider returns the AWS side of a run.
func NewProvider(c *Client, in Inputs) *Provider {
	return &Provider{c: c, in: in}
}

func (p *Provider) Name() string { return "aws" }

// Peer is the customer side: the acceptor account (the credentials'; a
// different --account-id is refused), VPC and region.
func (p *Provider) Peer(ctx context.Context) (dfcloud.Peer, error) {
	account, err := p.c.CallerAccount(ctx)
	if err != nil {
		return dfcloud.Peer{}, err
	}
	if p.in.AccountID != "" && p.in.AccountID != account {
		return dfcloud.Peer{}, problem.Refuse("account-id", p.in.AccountID,
			fmt.Sprintf("use credentials of account %s (--profile) or drop --account-id", p.in.AccountID),
			"does not match the account of the AWS credentials (%s)", account)
	}
	return dfcloud.Peer{AccountID: account, VPCID: p.in.VPCID, Region: p.c.Region}, nil
}

// Observe checks, read-only, everything the run will touch and reads the
// connection's resources, in the order connect ensures them (the guide's
// order): accept the peering Dragonfly requested, route the network's CIDR
// to it in each route table, allow TCP --port from that CIDR in each
// security group.
func (p *Provider) Observe(ctx context.Context, t peering.Target) (*peering.Observation, error) {
	net := t.Network
	if net.VPC == nil || net.VPC.ResourceID == "" {
		return nil, fmt.Errorf("network %s has no VPC information yet; wait until it is active", net.NetworkID)
	}
	account := t.Peer.AccountID
	if account == "" {
		peer, err := p.Peer(ctx)
		if err != nil {
			return nil, err
		}
		account = peer.AccountID
	}
	vpc, err := p.describeVPC(ctx, account)
	if err != nil {
		return nil, err
	}
	want := wanted{net: net, name: t.Name, ports: p.in.ports(), status: t.Purpose == peering.ForStatus,
		teardown: p.in.Teardown || t.Purpose == peering.ForDisconnect}
	if t.Existing != nil {
		want.pcx = t.Existing.PeerConnectionID
	}
	if t.Replaces != nil {
		want.replaces = t.Replaces.PeerConnectionID
	}
	var changes []peering.Change
	block, err := peering.FirstOverlap(net.CIDRBlock, vpc.CIDRs)
	if err != nil {
		return nil, err
	}
	switch {
	case want.status:
		// A block associated since connect is a reason traffic fails, not
		// bad input: status reports it and goes on.
		changes = append(changes, cidrCheck(vpc, net, block))
	case want.teardown:
	case block != "":
		return nil, problem.Refuse("vpc-id", vpc.ID,
			fmt.Sprintf("peered networks need disjoint ranges (pick another VPC, or create the Dragonfly network with a CIDR outside %s)", strings.Join(vpc.CIDRs, ", ")),
			"its CIDR block %s overlaps the Dragonfly network %s CIDR %s", block, net.Name, net.CIDRBlock)
	}
	cloud := &Cloud{Account: account, VPC: vpc}

	pc, err := p.observePeering(ctx, cloud, want)
	if err != nil {
		return nil, err
	}
	changes = append(changes, pc)
	rts, err := p.observeRoutes(ctx, cloud, want)
	if err != nil {
		return nil, err
	}
	changes = append(changes, rts...)
	rules, err := p.observeFirewall(ctx, cloud, want)
	if err != nil {
		return nil, err
	}
	changes = append(changes, rules...)
	if want.status {
		acls, err := p.observeNACLs(ctx, cloud, want)
		if err != nil {
			return nil, err
		}
		changes = append(changes, acls...)
	}
	return &peering.Observation{Changes: changes, Cloud: cloud, PeerCIDRs: cloud.VPC.CIDRs}, nil
}

// wanted is what the connection asks of the VPC, and which verb asks.
type wanted struct {
	net   *dfcloud.Network
	pcx   string // the connection's peering, once Dragonfly made it
	name  string // the connection's name, in rule descriptions
	ports []int
	// replaces is the peering of the connection --recreate replaces:
	// routes to it are repointed, not refused.
	replaces string
	// status classifies what connect would refuse, and adds the checks
	// that change nothing (ACLs, CIDR blocks); teardown observes for
	// removal.
	status, teardown bool
}

// cidrCheck is status's check that no CIDR block of the VPC (secondary
// ones associated since included) overlaps the network's.
func cidrCheck(vpc VPC, net *dfcloud.Network, block string) peering.Change {
	c := peering.Change{Action: peering.Verify, Kind: KindVPCCIDR, ID: vpc.ID, Found: peering.AsWanted, Phase: peering.AfterInactive,
		Target: vpc.ID, Detail: fmt.Sprintf("CIDR blocks %s do not overlap the network's %s", strings.Join(vpc.CIDRs, ", "), net.CIDRBlock)}
	if block != "" {
		c.Found = peering.Different
		c.Detail = fmt.Sprintf("CIDR block %s overlaps the network's %s", block, net.CIDRBlock)
		c.Detail += ": traffic to the overlapping addresses stays in the VPC"
		c.Reason = fmt.Sprintf("aws ec2 disassociate-vpc-cidr-block --association-id <the association ID of %s in %s>, or renumber what uses it", block, vpc.ID)
	}
	return c
}

// Kinds of the checks only status makes (they change nothing).
const (
	KindVPCCIDR    peering.Kind = "vpc_cidr"
	KindNetworkACL peering.Kind = "network_acl"
)

// Ensure makes one change of the plan Observe made.
func (p *Provider) Ensure(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	if c.Action == peering.Verify {
		return "checked", nil // a condition: nothing to make
	}
	cloud, err := cloudOf(s)
	if err != nil {
		return "", err
	}
	switch c.Kind {
	case peering.KindPeering:
		return p.ensurePeering(ctx, s, cloud)
	case peering.KindRoute:
		return p.ensureRoute(ctx, s, c)
	case peering.KindFirewallRule:
		return p.ensureFirewall(ctx, s, c)
	}
	return "", fmt.Errorf("aws: no way to ensure a %s", c.Kind)
}

// Remove deletes one resource Observe found to be the connection's;
// anything else it leaves and says why.
func (p *Provider) Remove(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	if c.Found == peering.NotOurs {
		return "kept: " + c.Reason, nil
	}
	if c.Found == peering.Absent {
		return "already gone", nil
	}
	switch c.Kind {
	case peering.KindPeering:
		return removePeering(c)
	case peering.KindRoute:
		return p.removeRoute(ctx, c)
	case peering.KindFirewallRule:
		return p.removeFirewall(ctx, c)
	}
	return "", fmt.Errorf("aws: no way to remove a %s", c.Kind)
}

func cloudOf(s *peering.State) (*Cloud, error) {
	cloud, ok := s.Cloud.(*Cloud)
	if !ok || cloud == nil {
		return nil, fmt.Errorf("aws: the run carries no AWS observation (%T)", s.Cloud)
	}
	return cloud, nil
}

func (p *Provider) describeVPC(ctx context.Context, account string) (VPC, error) {
	out, err := p.c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{p.in.VPCID}})
	if err != nil {
		switch errorCode(err) {
		case "InvalidVpcID.NotFound", "InvalidVpcID.Malformed":
			return VPC{}, p.vpcNotFound(ctx, account)
		}
		return VPC{}, classify("reading VPC "+p.in.VPCID+" (ec2:DescribeVpcs)", err)
	}
	if len(out.Vpcs) == 0 {
		return VPC{}, p.vpcNotFound(ctx, account)
	}
	return toVPC(out.Vpcs[0]), nil
}

func (p *Provider) vpcNotFound(ctx context.Context, account string) error {
	valid := "none"
	if vpcs, err := p.c.VPCs(ctx); err == nil && len(vpcs) > 0 {
		ids := make([]string, len(vpcs))
		for i, v := range vpcs {
			ids[i] = v.ID
		}
		valid = strings.Join(ids, ", ")
	}
	return problem.Refuse("vpc-id", p.in.VPCID, "", "no such VPC in account %s, region %s (VPCs there: %s; another region needs --region)", account, p.c.Region, valid)
}

// choose returns the items the run looks at: those the user named in given
// or, when none, the defaults — for a teardown all of the VPC's. An ID
// that is not one of the VPC's is refused; input is its flag without
// dashes.
func choose[T any](given []string, all []T, id func(T) string, defaults func([]T) []string, teardown bool, input, what, vpcID string) ([]T, error) {
	byID := map[string]T{}
	ids := make([]string, len(all))
	for i, item := range all {
		byID[id(item)] = item
		ids[i] = id(item)
	}
	if len(given) == 0 {
		if teardown {
			return all, nil
		}
		given = defaults(all)
	}
	if len(given) == 0 {
		return nil, problem.Refuse("vpc-id", vpcID, "pass --"+input, "has no default %s", what)
	}
	chosen := make([]T, len(given))
	for i, g := range given {
		item, ok := byID[g]
		if !ok {
			return nil, problem.Refuse(input, g, "", "not a %s of %s (its %ss: %s)", what, vpcID, what, strings.Join(ids, ", "))
		}
		chosen[i] = item
	}
	return chosen, nil
}
