package gcp

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Inputs are the user's choices for one connect run.
type Inputs struct {
	Network string // --vpc: the VPC network name in Client.Project
	Port    int    // --port
	// Ports are every port to open (--port given more than once); empty
	// means Port alone. dfpeer's one rule allows them all.
	Ports   []int
	Targets Targets
	// ImportCustomRoutes and ExportCustomRoutes are nil when the flags
	// were not given: an existing peering's settings are then kept, and a
	// new one gets false.
	ImportCustomRoutes *bool
	ExportCustomRoutes *bool
	// Timeout bounds each wait for a Compute operation and for ACTIVE.
	Timeout time.Duration
	// NoWait stops once the peering operation is done, without waiting
	// for ACTIVE.
	NoWait bool
}

// Provider implements peering.Provider for GCP: the VPC network peering
// towards Dragonfly's network and an ingress firewall rule. It holds only
// the client and the user's inputs; what Observe resolves travels in a
// *Cloud.
type Provider struct {
	c  *Client
	in Inputs
}

var _ peering.Provider = (*Provider)(nil)

// NewProvider returns the GCP side of a connection.
func NewProvider(c *Client, in Inputs) *Provider {
	if in.Timeout <= 0 {
		in.Timeout = 15 * time.Minute
	}
	if len(in.Ports) == 0 && in.Port != 0 {
		in.Ports = []int{in.Port}
	}
	var ports []int
	for _, p := range in.Ports {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	in.Ports = ports
	return &Provider{c: c, in: in}
}

// Name implements peering.Provider.
func (p *Provider) Name() string { return "gcp" }

// Peer is the customer side: the project and the network name. GCP
// networks are global: no region.
func (p *Provider) Peer(context.Context) (dfcloud.Peer, error) {
	return dfcloud.Peer{AccountID: p.c.Project, VPCID: p.in.Network}, nil
}

// Cloud is what Observe resolved for one connection: Ensure and Remove
// read it back from State.Cloud.
type Cloud struct {
	Project string // the customer's project
	VPC     VPC    // the customer's network, as observed
	CIDR    string // the Dragonfly network's CIDR
	// DFProject and DFNetwork are Dragonfly's side of the peering.
	DFProject, DFNetwork string
	// ConnName is the connection's name; RuleName, dfpeer-<ConnName>, is
	// the name dfpeer gives the peering and the firewall rule.
	ConnName, RuleName string

	// op is the addPeering operation this run started, if any: the wait
	// for ACTIVE waits for it first. Filled by Ensure.
	op *computepb.Operation
}

func (cl *Cloud) where() string {
	return fmt.Sprintf("project %s, network %s", cl.Project, cl.VPC.Name)
}

func (cl *Cloud) dfRef() string {
	return fmt.Sprintf("projects/%s/global/networks/%s", cl.DFProject, cl.DFNetwork)
}

// ResourceName is the name dfpeer gives the peering and the firewall rule
// of a connection: "dfpeer-" and the connection name, made RFC 1035
// (lower case, letters, digits and hyphens, at most 63 characters).
func ResourceName(connection string) string {
	var b strings.Builder
	b.WriteString("dfpeer-")
	for _, r := range strings.ToLower(connection) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := b.String()
	if len(name) > 63 {
		name = name[:63]
	}
	return strings.TrimRight(name, "-")
}

// Observe checks the inputs against the project, read-only, and reads the
// connection's resources there, in the order connect ensures them:
//
//  1. the peering from the VPC network to Dragonfly's network (added, or
//     an existing one to that network adopted);
//  2. the ingress firewall rule dfpeer-<name> for the Dragonfly CIDR, and
//     a warning for each deny rule that would defeat it;
//  3. the wait for the peering to be ACTIVE.
//
// All of it comes after Dragonfly has made its half of the peering.
//
// For connect, what would stand in the way (an overlapping range, a
// peering or rule of dfpeer's name that is not what dfpeer would make) is
// refused before anything changes. For status and disconnect it is
// classified instead, with the fix in the Reason: a status that exits 2
// because something broke since connect would hide the very problem it is
// asked about. status also gets the conditions that hold as checks (no
// overlap, no deny rule), so that a healthy report says what was looked at.
func (p *Provider) Observe(ctx context.Context, t peering.Target) (*peering.Observation, error) {
	net := t.Network
	if net.VPC == nil || net.VPC.ResourceID == "" || net.VPC.AccountID == "" {
		return nil, fmt.Errorf("network %s has no VPC information yet; wait until it is active", net.NetworkID)
	}
	cl := &Cloud{Project: p.c.Project, CIDR: net.CIDRBlock, DFProject: net.VPC.AccountID, DFNetwork: net.VPC.ResourceID,
		ConnName: t.Name, RuleName: ResourceName(t.Name)}

	vpc, found, err := p.c.GetVPC(ctx, p.in.Network)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, p.vpcNotFound(ctx)
	}
	cl.VPC = vpc
	if vpc.Mode == "legacy" {
		return nil, problem.Refuse("vpc", vpc.Name, fmt.Sprintf("migrate it to a VPC network first (gcloud compute networks update %s --switch-to-custom-subnet-mode)", vpc.Name),
			"is a legacy network, which cannot be peered")
	}
	overlaps, err := p.observeOverlaps(ctx, cl, net.Name, t.Purpose)
	if err != nil {
		return nil, err
	}

	pc, err := p.observePeering(cl, t.Purpose)
	if err != nil {
		return nil, err
	}
	fw, err := p.observeFirewall(ctx, cl, t.Purpose)
	if err != nil {
		return nil, err
	}
	changes := append([]peering.Change{pc}, fw...)
	changes = append(changes, p.observeActive(cl, pc))
	changes = append(changes, overlaps...)
	return &peering.Observation{Changes: changes, Cloud: cl, PeerCIDRs: rangesOf(cl.VPC)}, nil
}

// kindSubnetRange is the check that no subnet range of the VPC overlaps
// the Dragonfly CIDR (a range added since connect included).
const kindSubnetRange peering.Kind = "subnet_range"

// observeOverlaps refuses, for connect, a VPC range overlapping the
// Dragonfly CIDR; for status it returns one failed check per overlapping
// range (or one passed check), for disconnect nothing.
func (p *Provider) observeOverlaps(ctx context.Context, cl *Cloud, netName string, purpose peering.Purpose) ([]peering.Change, error) {
	var out []peering.Change
	for _, r := range cl.VPC.Ranges() {
		ok, err := peering.Overlap(cl.CIDR, r.CIDR)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if purpose == peering.ForConnect {
			return nil, problem.Refuse("vpc", cl.VPC.Name, "peered networks need disjoint ranges (pick another network, or create the Dragonfly network with a CIDR outside the VPC's ranges)",
				"%s (%s) overlaps the Dragonfly network %s CIDR %s", r.CIDR, r.Owner, netName, cl.CIDR)
		}
		out = append(out, peering.Change{Action: peering.Verify, Kind: kindSubnetRange, Target: cl.where(), ID: r.CIDR, Found: peering.Different,
			Phase: peering.AfterInactive, Title: "Check subnet range " + r.CIDR,
			Detail: fmt.Sprintf("%s (%s) overlaps the Dragonfly CIDR %s", r.CIDR, r.Owner, cl.CIDR),
			Reason: fmt.Sprintf("peered networks need disjoint ranges: remove or move %s (%s) out of %s; traffic to the overlap stays in network %s", r.CIDR, r.Owner, cl.CIDR, cl.VPC.Name)})
	}
	if purpose == peering.ForDisconnect {
		return out, nil
	}
	imported, err := p.observeImported(ctx, cl, netName, purpose)
	if err != nil {
		return nil, err
	}
	if purpose == peering.ForStatus && len(out) == 0 {
		out = append(out, peering.Change{Action: peering.Verify, Kind: kindSubnetRange, Target: cl.where(), Found: peering.AsWanted,
			Phase: peering.AfterInactive, Title: "Check subnet ranges",
			Detail: fmt.Sprintf("no subnet range (primary or secondary) of %s overlaps %s", cl.VPC.Name, cl.CIDR)})
	}
	return append(out, imported...), nil
}

// kindImportedRoute is the check that no route the VPC imports over
// another peering overlaps the Dragonfly CIDR.
const kindImportedRoute peering.Kind = "imported_route"

// observeImported reads the routes the VPC imports over its other ACTIVE
// peerings (an INACTIVE one exchanges nothing): Compute refuses a peering
// whose routes overlap routes a network already imports, so connect
// refuses it first, naming the peering and the ranges; status fails it.
func (p *Provider) observeImported(ctx context.Context, cl *Cloud, netName string, purpose peering.Purpose) ([]peering.Change, error) {
	region := "us-central1"
	if len(cl.VPC.Subnets) > 0 {
		region = cl.VPC.Subnets[0].Region
	}
	var out []peering.Change
	for _, pe := range cl.VPC.Peerings {
		if pe.GetState() != "ACTIVE" {
			continue
		}
		if pj, n, ok := NetworkRef(pe.GetNetwork()); ok && pj == cl.DFProject && n == cl.DFNetwork {
			continue // the peering of this connection
		}
		routes, err := p.c.ImportedRoutes(ctx, cl.VPC.Name, pe.GetName(), region)
		if err != nil {
			return nil, err
		}
		for _, r := range routes {
			ok, err := peering.Overlap(cl.CIDR, r.GetDestRange())
			if err != nil || !ok {
				continue
			}
			what := fmt.Sprintf("route %s imported over peering %s (from %s)", r.GetDestRange(), pe.GetName(), pe.GetNetwork())
			fix := fmt.Sprintf("Compute refuses a peering whose ranges overlap routes the network already imports: remove peering %s ('gcloud compute networks peerings delete %s --network %s --project %s') or use a Dragonfly network with a CIDR outside %s",
				pe.GetName(), pe.GetName(), cl.VPC.Name, cl.Project, r.GetDestRange())
			if purpose == peering.ForConnect {
				return nil, problem.Refuse("vpc", cl.VPC.Name, fix, "%s overlaps the Dragonfly network %s CIDR %s", what, netName, cl.CIDR)
			}
			out = append(out, peering.Change{Action: peering.Verify, Kind: kindImportedRoute, Target: cl.where(), ID: pe.GetName() + "/" + r.GetDestRange(),
				Found: peering.Different, Phase: peering.AfterInactive, Title: "Check " + what,
				Detail: fmt.Sprintf("%s overlaps the Dragonfly CIDR %s", what, cl.CIDR), Reason: fix})
		}
	}
	return out, nil
}

func (p *Provider) vpcNotFound(ctx context.Context) error {
	valid := "none"
	if names, err := p.c.NetworkNames(ctx); err == nil && len(names) > 0 {
		valid = strings.Join(names, ", ")
	}
	return problem.Refuse("vpc", p.in.Network, "", "no such network in project %s (networks there: %s; another project needs --project)", p.c.Project, valid)
}

// Ensure implements peering.Provider: it dispatches on the kind of
// resource, then on what the change wants.
func (p *Provider) Ensure(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	cl, err := cloudOf(s)
	if err != nil {
		return "", err
	}
	switch c.Kind {
	case peering.KindPeering:
		switch w := c.Want.(type) {
		case peeringWant:
			return p.ensurePeering(ctx, s, cl, w)
		case activeWant:
			return p.ensureActive(ctx, s, cl, w)
		}
	case peering.KindFirewallRule:
		switch w := c.Want.(type) {
		case ruleWant:
			return p.ensureFirewall(ctx, s, cl, w)
		case denyWarning:
			s.Report.Info("warning: " + w.Warning())
			return "not dfpeer's: left as it is", nil
		}
	}
	if c.Action == peering.Verify {
		// A pure condition (status only): nothing to make.
		return "checked", nil
	}
	return "", fmt.Errorf("gcp: cannot ensure a %s change wanting %T", c.Kind, c.Want)
}

// Remove implements peering.Provider: looking again first, it deletes
// what is provably dfpeer's — the peering named dfpeer-<name> towards
// Dragonfly's network, the rule of that name with dfpeer's description
// and the Dragonfly CIDR as its only source — and keeps everything else,
// saying why.
func (p *Provider) Remove(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	cl, err := cloudOf(s)
	if err != nil {
		return "", err
	}
	switch c.Kind {
	case peering.KindPeering:
		if _, wait := c.Want.(activeWant); wait {
			return "nothing to remove", nil
		}
		return p.removePeering(ctx, s, cl, c.ID)
	case peering.KindFirewallRule:
		return p.removeFirewall(ctx, s, cl, c.ID)
	}
	return "", fmt.Errorf("gcp: cannot remove a %s", c.Kind)
}

// busyMaxBackoff caps the pause between attempts while another operation
// holds the networks: peering operations take seconds to minutes.
const busyMaxBackoff = 5 * time.Second

// untilNotBusy calls try until Compute stops refusing it as busy (see
// busy: another peering operation on either network, often Dragonfly's
// own side of this very peering), for at most peeringBusyBudget.
func (p *Provider) untilNotBusy(ctx context.Context, s *peering.State, what string, try func(ctx context.Context) (bool, error)) error {
	return p.c.wait(ctx, poll.Options{Timeout: peeringBusyBudget, Max: busyMaxBackoff, What: "other operations to finish before " + what},
		func(ctx context.Context) (bool, error) {
			done, err := try(ctx)
			if busy(err) {
				s.Report.Update("Compute reports another operation in progress; trying again")
				return false, poll.Retry(err)
			}
			return done, err
		})
}

func cloudOf(s *peering.State) (*Cloud, error) {
	cl, ok := s.Cloud.(*Cloud)
	if !ok || cl == nil {
		return nil, fmt.Errorf("gcp: the run's state holds %T, not what Observe returned", s.Cloud)
	}
	return cl, nil
}

// rangesOf is every primary and secondary range of the VPC's subnets.
func rangesOf(v VPC) []string {
	var out []string
	for _, r := range v.Ranges() {
		out = append(out, r.CIDR)
	}
	return out
}
