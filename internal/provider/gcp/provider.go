package gcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// peeringsPerNetwork is Compute's limit on peerings of one network.
const peeringsPerNetwork = 25

// Inputs are the user's choices for one connect run.
type Inputs struct {
	Network string // --vpc: the VPC network name in Client.Project
	Port    int    // --port
	Targets Targets
	// ImportCustomRoutes and ExportCustomRoutes are nil when the flags
	// were not given: an existing peering's settings are then kept, and a
	// new one gets false.
	ImportCustomRoutes *bool
	ExportCustomRoutes *bool
	ConnectionName     string // --name, for resource names and descriptions
	// Timeout bounds the waits for Compute operations and for ACTIVE.
	Timeout time.Duration
	// NoWait stops once the peering operation is done, without waiting
	// for ACTIVE.
	NoWait bool
}

// Provider implements peering.Provider for GCP.
type Provider struct {
	c  *Client
	in Inputs

	// Resolved by Preflight.
	vpc         VPC
	dfProject   string // Dragonfly's project and network
	dfNetwork   string
	connName    string
	ruleName    string
	peeringName string
	importRt    bool
	exportRt    bool
	targets     Targets
	warnings    []string

	// op is the addPeering operation this run started, if any.
	op *computepb.Operation
}

// NewProvider returns the GCP side of a connect run.
func NewProvider(c *Client, in Inputs) *Provider {
	if in.Timeout <= 0 {
		in.Timeout = 15 * time.Minute
	}
	return &Provider{c: c, in: in}
}

func (p *Provider) Name() string { return "gcp" }

// Peer is the customer side: the project and the network name. GCP
// networks are global: no region.
func (p *Provider) Peer(context.Context) (dfcloud.Peer, error) {
	return dfcloud.Peer{AccountID: p.c.Project, VPCID: p.in.Network}, nil
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

// PeeringName and RuleName are the resolved names (after Preflight).
func (p *Provider) PeeringName() string { return p.peeringName }
func (p *Provider) RuleName() string    { return p.ruleName }

func (p *Provider) where() string {
	return fmt.Sprintf("project %s, network %s", p.c.Project, p.in.Network)
}

func (p *Provider) dfRef() string {
	return fmt.Sprintf("projects/%s/global/networks/%s", p.dfProject, p.dfNetwork)
}

// Preflight checks, read-only, everything the run will touch.
func (p *Provider) Preflight(ctx context.Context, net *dfcloud.Network, existing *dfcloud.Connection) ([]peering.Change, error) {
	if net.VPC == nil || net.VPC.ResourceID == "" || net.VPC.AccountID == "" {
		return nil, fmt.Errorf("network %s has no VPC information yet; wait until it is active", net.NetworkID)
	}
	p.dfProject, p.dfNetwork = net.VPC.AccountID, net.VPC.ResourceID
	p.connName = p.in.ConnectionName
	if existing != nil {
		p.connName = existing.Config.Name
	}
	p.ruleName = ResourceName(p.connName)
	p.peeringName = p.ruleName

	vpc, found, err := p.c.GetVPC(ctx, p.in.Network)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, p.vpcNotFound(ctx)
	}
	p.vpc = vpc
	if vpc.Mode == "legacy" {
		return nil, cmdutil.InputErrorf("--vpc %s is a legacy network, which cannot be peered; migrate it to a VPC network first (gcloud compute networks update %s --switch-to-custom-subnet-mode)", vpc.Name, vpc.Name)
	}
	for _, r := range vpc.Ranges() {
		ok, err := peering.Overlap(net.CIDRBlock, r.CIDR)
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, cmdutil.InputErrorf("--vpc %s: %s (%s) overlaps the Dragonfly network %s CIDR %s; peered networks need disjoint ranges (pick another network, or create the Dragonfly network with a CIDR outside the VPC's ranges)",
				vpc.Name, r.CIDR, r.Owner, net.Name, net.CIDRBlock)
		}
	}

	change, err := p.preflightPeering(vpc)
	if err != nil {
		return nil, err
	}
	changes := []peering.Change{change}
	fwChanges, err := p.preflightFirewall(ctx, net)
	if err != nil {
		return nil, err
	}
	return append(changes, fwChanges...), nil
}

func (p *Provider) vpcNotFound(ctx context.Context) error {
	valid := "none"
	if names, err := p.c.NetworkNames(ctx); err == nil && len(names) > 0 {
		valid = strings.Join(names, ", ")
	}
	return cmdutil.InputErrorf("--vpc %s: no such network in project %s (networks there: %s; another project needs --project)", p.in.Network, p.c.Project, valid)
}

// peeringToDragonfly finds the VPC's peering towards Dragonfly's network,
// whatever its name: Compute allows one per pair of networks.
func (p *Provider) peeringToDragonfly(peerings []*computepb.NetworkPeering) *computepb.NetworkPeering {
	for _, pe := range peerings {
		if pj, n, ok := NetworkRef(pe.GetNetwork()); ok && pj == p.dfProject && n == p.dfNetwork {
			return pe
		}
	}
	return nil
}

func routeFlag(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// checkRouteFlags compares an existing peering's custom-route exchange with
// the flags the user gave; flags not given adopt the existing settings.
func (p *Provider) checkRouteFlags(pe *computepb.NetworkPeering) error {
	var diff []string
	for _, f := range []struct {
		flag  string
		given *bool
		has   bool
	}{{"--import-custom-routes", p.in.ImportCustomRoutes, pe.GetImportCustomRoutes()}, {"--export-custom-routes", p.in.ExportCustomRoutes, pe.GetExportCustomRoutes()}} {
		if f.given != nil && *f.given != f.has {
			diff = append(diff, fmt.Sprintf("%s=%t but the peering has it %s", f.flag, *f.given, routeFlag(f.has)))
		}
	}
	if len(diff) > 0 {
		return cmdutil.InputErrorf("network %s already has peering %s to %s: %s; change it with 'gcloud compute networks peerings update %s --network %s --project %s --[no-]import-custom-routes --[no-]export-custom-routes', or drop the flags to keep it as it is",
			p.in.Network, pe.GetName(), p.dfRef(), strings.Join(diff, "; "), pe.GetName(), p.in.Network, p.c.Project)
	}
	p.importRt, p.exportRt = pe.GetImportCustomRoutes(), pe.GetExportCustomRoutes()
	return nil
}

func (p *Provider) preflightPeering(vpc VPC) (peering.Change, error) {
	change := peering.Change{Kind: "peering", Target: p.where()}
	if pe := p.peeringToDragonfly(vpc.Peerings); pe != nil {
		if err := p.checkRouteFlags(pe); err != nil {
			return change, err
		}
		p.peeringName = pe.GetName()
		change.Action = "unchanged"
		change.Detail = fmt.Sprintf("peering %s to %s (%s)", pe.GetName(), p.dfRef(), pe.GetState())
		if pe.GetName() != p.ruleName {
			change.Action = "adopt"
			change.Detail = fmt.Sprintf("existing peering %s to Dragonfly's network %s (%s): dfpeer uses it as it is", pe.GetName(), p.dfRef(), pe.GetState())
		}
		return change, nil
	}
	for _, pe := range vpc.Peerings {
		if pe.GetName() == p.peeringName {
			return change, cmdutil.InputErrorf("network %s already has a peering named %s, to %s; choose another --name, or remove it with 'gcloud compute networks peerings delete %s --network %s --project %s'",
				vpc.Name, pe.GetName(), pe.GetNetwork(), pe.GetName(), vpc.Name, p.c.Project)
		}
	}
	if len(vpc.Peerings) >= peeringsPerNetwork {
		return change, cmdutil.InputErrorf("network %s already has %d peerings, Compute's limit per network; remove one first (gcloud compute networks peerings list --network %s --project %s)",
			vpc.Name, len(vpc.Peerings), vpc.Name, p.c.Project)
	}
	p.importRt = p.in.ImportCustomRoutes != nil && *p.in.ImportCustomRoutes
	p.exportRt = p.in.ExportCustomRoutes != nil && *p.in.ExportCustomRoutes
	change.Action = "create"
	change.Detail = fmt.Sprintf("peering %s to Dragonfly's network %s (subnet routes exchanged; custom routes: import %s, export %s)",
		p.peeringName, p.dfRef(), routeFlag(p.importRt), routeFlag(p.exportRt))
	return change, nil
}

func (p *Provider) preflightFirewall(ctx context.Context, net *dfcloud.Network) ([]peering.Change, error) {
	rules, err := p.c.FirewallRules(ctx)
	if err != nil {
		return nil, err
	}
	p.targets = p.in.Targets
	given := len(p.in.Targets.Tags) > 0 || len(p.in.Targets.ServiceAccounts) > 0
	change := peering.Change{Action: "create", Kind: "firewall_rule", Target: p.where()}
	for _, fw := range rules {
		if fw.GetName() != p.ruleName {
			continue
		}
		if d := ruleDiff(fw, p.in.Network, net.CIDRBlock, p.in.Port, p.in.Targets, given); d != "" {
			return nil, cmdutil.InputErrorf("firewall rule %s already exists and differs from the one dfpeer would create (%s): %s; delete it ('gcloud compute firewall-rules delete %s --project %s') or choose another --name",
				p.ruleName, d, DescribeRule(fw), p.ruleName, p.c.Project)
		}
		p.targets = targetsOf(fw)
		change.Action = "unchanged"
	}
	change.Detail = fmt.Sprintf("%s: allow inbound TCP %d from %s to %s of %s", p.ruleName, p.in.Port, net.CIDRBlock, p.targets, p.in.Network)
	changes := []peering.Change{change}
	p.warnings = DenyWarnings(rules, p.in.Network, net.CIDRBlock, p.in.Port, p.ruleName)
	for _, w := range p.warnings {
		changes = append(changes, peering.Change{Action: "check", Kind: "firewall_rule", Target: p.where(), Detail: "warning: " + w})
	}
	return changes, nil
}

// Steps are the GCP side: request the peering, open the firewall while
// the peering operation runs, then wait for the peering to be ACTIVE.
func (p *Provider) Steps(net *dfcloud.Network) []peering.Step {
	wait := "Wait for the VPC peering to be ACTIVE"
	if p.in.NoWait {
		wait = "Wait for the VPC peering operation"
	}
	return []peering.Step{{
		Title: fmt.Sprintf("Add VPC peering %s to %s", p.peeringName, p.dfRef()),
		Phase: peering.AfterInactive,
		Run:   p.ensurePeering,
	}, {
		Title: fmt.Sprintf("Allow TCP %d from %s in %s (%s)", p.in.Port, net.CIDRBlock, p.in.Network, p.ruleName),
		Phase: peering.AfterInactive,
		Run:   p.ensureFirewall,
	}, {
		Title: wait,
		Phase: peering.AfterInactive,
		Run:   p.waitActive,
	}}
}

// ensurePeering adds the peering unless the network already has one to
// Dragonfly's network. It does not wait for the operation: the firewall
// rule is created meanwhile, and waitActive waits for both.
func (p *Provider) ensurePeering(ctx context.Context, s *peering.State) (string, error) {
	reqID := newRequestID()
	deadline := time.Now().Add(peeringBusyBudget)
	bo := p.c.retry.backoff(5 * time.Second)
	rechecked := false
	for {
		n, err := p.c.getNetwork(ctx, p.in.Network)
		if err != nil {
			return "", err
		}
		if n == nil {
			return "", fmt.Errorf("network %s no longer exists in project %s", p.in.Network, p.c.Project)
		}
		if pe := p.peeringToDragonfly(n.GetPeerings()); pe != nil {
			if err := p.checkRouteFlags(pe); err != nil {
				return "", err
			}
			p.peeringName = pe.GetName()
			return fmt.Sprintf("%s already present (%s)", pe.GetName(), pe.GetState()), nil
		}
		op, err := p.addPeering(ctx, reqID)
		if err == nil {
			p.op = op
			if op.GetStatus() == computepb.Operation_DONE {
				if _, err := p.c.waitOperation(ctx, op); err != nil {
					return "", fmt.Errorf("adding peering %s: %w", p.peeringName, err)
				}
				return "added", nil
			}
			return "requested", nil
		}
		switch {
		case peeringBusy(err) && time.Now().Before(deadline):
			// Often Dragonfly's own side of this very peering.
			s.Report.Update("another peering operation is running on one of the two networks; trying again")
			if serr := gax.Sleep(ctx, bo.Pause()); serr != nil {
				return "", serr
			}
			continue
		case statusCode(err) == 400 && !rechecked:
			// A concurrent run, or an earlier one whose answer was
			// lost, may have added it meanwhile: look again once.
			rechecked = true
			continue
		}
		return "", classify(fmt.Sprintf("adding peering %s to %s (compute.networks.addPeering)", p.peeringName, p.in.Network), err)
	}
}

func (p *Provider) addPeering(ctx context.Context, reqID string) (*computepb.Operation, error) {
	var op *computepb.Operation
	err := p.c.do(ctx, func(ctx context.Context) error {
		o, err := p.c.Networks.AddPeering(ctx, &computepb.AddPeeringNetworkRequest{
			Project:   p.c.Project,
			Network:   p.in.Network,
			RequestId: &reqID,
			NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{
				NetworkPeering: &computepb.NetworkPeering{
					Name:                 &p.peeringName,
					Network:              proto(p.dfRef()),
					ExchangeSubnetRoutes: proto(true),
					ImportCustomRoutes:   &p.importRt,
					ExportCustomRoutes:   &p.exportRt,
				},
			},
		})
		if err != nil {
			return err
		}
		op = o.Proto()
		return nil
	})
	return op, err
}

// ensureFirewall creates the ingress rule unless it is there already.
func (p *Provider) ensureFirewall(ctx context.Context, s *peering.State) (string, error) {
	cidr, port := s.Network.CIDRBlock, p.in.Port
	record := func(action string) {
		s.Result.FirewallRules = append(s.Result.FirewallRules, peering.FirewallRule{
			Target: p.in.Network, Name: p.ruleName, Protocol: "tcp", Port: port, Source: cidr, Action: action})
	}
	warn := func() {
		for _, w := range p.warnings {
			s.Report.Info("warning: " + w)
		}
	}
	// check reports whether the rule exists, refusing one that differs.
	check := func() (bool, error) {
		fw, err := p.getRule(ctx)
		if err != nil || fw == nil {
			return false, err
		}
		given := len(p.in.Targets.Tags) > 0 || len(p.in.Targets.ServiceAccounts) > 0
		if d := ruleDiff(fw, p.in.Network, cidr, port, p.targets, given); d != "" {
			return false, fmt.Errorf("firewall rule %s appeared with other content (%s): %s; delete it and run again", p.ruleName, d, DescribeRule(fw))
		}
		return true, nil
	}
	if done, err := check(); err != nil || done {
		if done {
			record("unchanged")
			warn()
			return "already present", nil
		}
		return "", err
	}

	reqID := newRequestID()
	rule := wantRule(p.ruleName, p.vpc.SelfLink, cidr, port, p.targets, peering.RuleDescription(p.connName))
	var op *computepb.Operation
	err := p.c.do(ctx, func(ctx context.Context) error {
		o, err := p.c.Firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: p.c.Project, RequestId: &reqID, FirewallResource: rule})
		if err != nil {
			return err
		}
		op = o.Proto()
		return nil
	})
	step := fmt.Sprintf("creating firewall rule %s (compute.firewalls.create)", p.ruleName)
	if statusCode(err) == 409 {
		// Created by an earlier, interrupted run, perhaps still being
		// created: wait until it shows, then check it.
		if err := p.waitForRule(ctx, check); err != nil {
			return "", err
		}
		record("unchanged")
		warn()
		return "already present", nil
	}
	if err != nil {
		return "", classify(step, err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.in.Timeout)
	defer cancel()
	if _, err := p.c.waitOperation(ctx, op); err != nil {
		var oe *operationError
		if errors.As(err, &oe) && oe.code() == "RESOURCE_ALREADY_EXISTS" {
			if done, cerr := check(); cerr == nil && done {
				record("unchanged")
				warn()
				return "already present", nil
			}
		}
		return "", p.timeoutOr(ctx, fmt.Errorf("%s: %w", step, err))
	}
	record("created")
	warn()
	return "created", nil
}

func (p *Provider) getRule(ctx context.Context) (*computepb.Firewall, error) {
	var fw *computepb.Firewall
	err := p.c.do(ctx, func(ctx context.Context) error {
		var err error
		fw, err = p.c.Firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: p.c.Project, Firewall: p.ruleName})
		return err
	})
	if statusCode(err) == 404 {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Sprintf("reading firewall rule %s (compute.firewalls.get)", p.ruleName), err)
	}
	return fw, nil
}

func (p *Provider) waitForRule(ctx context.Context, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, p.in.Timeout)
	defer cancel()
	bo := p.c.retry.backoff(pollMaxBackoff)
	for {
		done, err := check()
		if err != nil || done {
			return p.timeoutOr(ctx, err)
		}
		if err := gax.Sleep(ctx, bo.Pause()); err != nil {
			return p.timeoutOr(ctx, fmt.Errorf("firewall rule %s exists but could not be read back: %w", p.ruleName, err))
		}
	}
}

// waitActive waits for this run's peering operation, then (unless
// --no-wait) for the peering to be ACTIVE: Dragonfly's side exists
// already, so Compute connects them as soon as ours does.
func (p *Provider) waitActive(ctx context.Context, s *peering.State) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.in.Timeout)
	defer cancel()
	if p.op != nil {
		s.Report.Update("operation " + p.op.GetName())
		op, err := p.c.waitOperation(ctx, p.op)
		p.op = op
		if err != nil {
			return "", p.timeoutOr(ctx, fmt.Errorf("adding peering %s: %w", p.peeringName, err))
		}
	}
	if p.in.NoWait {
		return "done", nil
	}
	bo := p.c.retry.backoff(pollMaxBackoff)
	start := time.Now()
	last := ""
	for {
		n, err := p.c.getNetwork(ctx, p.in.Network)
		if err != nil {
			return "", p.timeoutOr(ctx, err)
		}
		if n == nil {
			return "", fmt.Errorf("network %s no longer exists in project %s", p.in.Network, p.c.Project)
		}
		pe := p.peeringToDragonfly(n.GetPeerings())
		if pe == nil {
			return "", fmt.Errorf("network %s has no peering to %s any more: was it removed? Run the command again to add it", p.in.Network, p.dfRef())
		}
		if pe.GetState() == "ACTIVE" {
			return fmt.Sprintf("%s is ACTIVE", pe.GetName()), nil
		}
		if st := pe.GetState() + " " + pe.GetStateDetails(); st != last {
			last = st
			s.Report.Update(fmt.Sprintf("%s after %s", strings.TrimSpace(st), time.Since(start).Round(100*time.Millisecond)))
		}
		if err := gax.Sleep(ctx, bo.Pause()); err != nil {
			return "", p.timeoutOr(ctx, err)
		}
	}
}

// timeoutOr turns the step deadline into a TimeoutError (exit 3).
func (p *Provider) timeoutOr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(context.Cause(ctx), context.Canceled) {
		return &cmdutil.TimeoutError{
			Err:  fmt.Errorf("timed out after %s waiting for GCP (peering %s, network %s): %w", p.in.Timeout, p.peeringName, p.in.Network, err),
			Hint: "Every step is safe to repeat: run the same command again (with a longer --timeout) to resume.",
		}
	}
	return err
}

var _ peering.LegacyProvider = (*Provider)(nil)

// Permission is one IAM permission dfpeer uses on GCP and the Compute
// methods that need it.
type Permission struct {
	Name    string   `json:"permission"`
	Methods []string `json:"methods"`
	Why     string   `json:"used_for"`
}

// Permissions are the IAM permissions `dfpeer gcp connect` uses; `dfpeer
// gcp permissions` prints them. Keep in step with the *API interfaces.
var Permissions = []Permission{
	{"compute.firewalls.create", []string{"firewalls.insert"}, "create the ingress rule for the Dragonfly CIDR"},
	{"compute.firewalls.get", []string{"firewalls.get"}, "check whether the rule exists (re-runs)"},
	{"compute.firewalls.list", []string{"firewalls.list"}, "pre-flight: find a rule of the same name, and deny rules that would block the peering"},
	{"compute.globalOperations.get", []string{"globalOperations.wait"}, "wait for the peering and firewall operations"},
	{"compute.networks.addPeering", []string{"networks.addPeering"}, "add the peering towards Dragonfly's network"},
	{"compute.networks.get", []string{"networks.get"}, "read the VPC network and its peerings"},
	{"compute.networks.list", []string{"networks.list"}, "offer the project's networks (--vpc prompt, unknown --vpc)"},
	{"compute.networks.updatePolicy", []string{"firewalls.insert"}, "a new firewall rule changes the network's policy"},
	{"compute.subnetworks.list", []string{"subnetworks.aggregatedList"}, "pre-flight: the subnet ranges that must not overlap the Dragonfly CIDR"},
}

// Roles are predefined roles that together grant Permissions.
var Roles = []struct {
	Name string `json:"role"`
	Why  string `json:"grants"`
}{
	{"roles/compute.networkAdmin", "networks, subnetworks, peerings, operations; firewall rules read-only"},
	{"roles/compute.securityAdmin", "creating firewall rules, which updates the network's policy"},
}
