package gcp

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// rulePriority is the priority dfpeer's rule gets: Compute's default.
const rulePriority = 1000

// Targets are the instances a firewall rule applies to: tags, service
// accounts, or (both empty) every instance of the network.
type Targets struct {
	Tags            []string
	ServiceAccounts []string
}

func (t Targets) String() string {
	switch {
	case len(t.Tags) > 0:
		return "instances tagged " + strings.Join(t.Tags, ", ")
	case len(t.ServiceAccounts) > 0:
		return "instances running as " + strings.Join(t.ServiceAccounts, ", ")
	}
	return "every instance"
}

func targetsOf(fw *computepb.Firewall) Targets {
	return Targets{Tags: fw.GetTargetTags(), ServiceAccounts: fw.GetTargetServiceAccounts()}
}

// wantRule is the rule dfpeer creates.
func wantRule(name, networkLink, cidr string, ports []int, t Targets, description string) *computepb.Firewall {
	return &computepb.Firewall{
		Name:                  &name,
		Network:               &networkLink,
		Direction:             proto("INGRESS"),
		Priority:              proto(int32(rulePriority)),
		Allowed:               []*computepb.Allowed{{IPProtocol: proto("tcp"), Ports: portStrings(ports)}},
		SourceRanges:          []string{cidr},
		TargetTags:            t.Tags,
		TargetServiceAccounts: t.ServiceAccounts,
		Description:           &description,
	}
}

// ruleDiff says how an existing rule differs from the one dfpeer would
// create, or "" when it does the same job. Priority, logging and the
// description are cosmetic here and ignored; so are the targets when the
// user did not choose any (an earlier run's choice is kept).
func ruleDiff(fw *computepb.Firewall, network, cidr string, ports []int, t Targets, targetsGiven bool) string {
	var d []string
	if _, n, ok := NetworkRef(fw.GetNetwork()); !ok || n != network {
		d = append(d, fmt.Sprintf("it is in network %s, not %s", lastSegment(fw.GetNetwork()), network))
	}
	if dir := fw.GetDirection(); dir != "" && dir != "INGRESS" {
		d = append(d, "it is an "+dir+" rule")
	}
	if fw.GetDisabled() {
		d = append(d, "it is disabled")
	}
	if len(fw.GetDenied()) > 0 {
		d = append(d, "it denies traffic")
	}
	if a := fw.GetAllowed(); len(a) != 1 || !strings.EqualFold(a[0].GetIPProtocol(), "tcp") || !onlyPorts(a[0].GetPorts(), ports) {
		d = append(d, fmt.Sprintf("it allows %s, not tcp:%s", protocols(a), portList(ports)))
	}
	if src := fw.GetSourceRanges(); len(src) != 1 || src[0] != cidr || len(fw.GetSourceTags()) > 0 || len(fw.GetSourceServiceAccounts()) > 0 {
		d = append(d, fmt.Sprintf("its sources are %s, not %s only", sources(fw), cidr))
	}
	if targetsGiven && !sameTargets(targetsOf(fw), t) {
		d = append(d, fmt.Sprintf("it applies to %s, not %s", targetsOf(fw), t))
	}
	return strings.Join(d, "; ")
}

// onlyPorts reports whether a rule's port entries ("6379" or
// "6379-6379") are exactly ports, in any order.
func onlyPorts(entries []string, ports []int) bool {
	got := map[string]bool{}
	for _, e := range entries {
		if lo, hi, isRange := strings.Cut(e, "-"); isRange {
			if lo != hi {
				return false
			}
			e = lo
		}
		got[e] = true
	}
	if len(got) != len(entries) || len(got) != len(ports) {
		return false
	}
	for _, p := range ports {
		if !got[strconv.Itoa(p)] {
			return false
		}
	}
	return true
}

func portStrings(ports []int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = strconv.Itoa(p)
	}
	return out
}

// portList shows ports as Compute and gcloud write them: "6379,6371".
func portList(ports []int) string { return strings.Join(portStrings(ports), ",") }

func sameTargets(a, b Targets) bool {
	norm := func(s []string) []string {
		s = slices.Clone(s)
		sort.Strings(s)
		return slices.Compact(s)
	}
	return slices.Equal(norm(a.Tags), norm(b.Tags)) && slices.Equal(norm(a.ServiceAccounts), norm(b.ServiceAccounts))
}

func protocols(a []*computepb.Allowed) string {
	var out []string
	for _, x := range a {
		p := strings.ToLower(x.GetIPProtocol())
		if len(x.GetPorts()) == 0 {
			out = append(out, p)
			continue
		}
		for _, port := range x.GetPorts() {
			out = append(out, p+":"+port)
		}
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ",")
}

func sources(fw *computepb.Firewall) string {
	var s []string
	s = append(s, fw.GetSourceRanges()...)
	for _, t := range fw.GetSourceTags() {
		s = append(s, "tag "+t)
	}
	for _, sa := range fw.GetSourceServiceAccounts() {
		s = append(s, "service account "+sa)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// DescribeRule shows a rule in one line, for refusals.
func DescribeRule(fw *computepb.Firewall) string {
	verb, what := "allow", protocols(fw.GetAllowed())
	if len(fw.GetDenied()) > 0 {
		verb, what = "deny", protocols(denied(fw.GetDenied()))
	}
	dir, peer := fw.GetDirection(), "from "+sources(fw)
	if dir == "EGRESS" {
		peer = "to " + strings.Join(fw.GetDestinationRanges(), ", ")
	}
	s := fmt.Sprintf("%s (network %s, %s, priority %d, %s %s %s, targets: %s", fw.GetName(), lastSegment(fw.GetNetwork()), dir, fw.GetPriority(), verb, what, peer, targetsOf(fw))
	if fw.GetDisabled() {
		s += ", disabled"
	}
	if fw.GetDescription() != "" {
		s += fmt.Sprintf(", description %q", fw.GetDescription())
	}
	return s + ")"
}

func denied(d []*computepb.Denied) []*computepb.Allowed {
	out := make([]*computepb.Allowed, len(d))
	for i, x := range d {
		out[i] = &computepb.Allowed{IPProtocol: x.IPProtocol, Ports: x.Ports}
	}
	return out
}

// coversTCP reports whether protocol/ports entries match TCP port.
func coversTCP(protocol string, ports []string, port int) bool {
	switch strings.ToLower(protocol) {
	case "tcp", "6", "all":
	default:
		return false
	}
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		lo, hi, isRange := strings.Cut(p, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil && a <= port && port <= b {
			return true
		}
	}
	return false
}

// rangesMatch reports whether any of ranges overlaps cidr (contain: one of
// them holds all of it).
func rangesMatch(ranges []string, cidr string, contain bool) bool {
	c, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	c = c.Masked()
	for _, r := range ranges {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			a, aerr := netip.ParseAddr(r)
			if aerr != nil {
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		if contain && p.Bits() <= c.Bits() && p.Contains(c.Addr()) {
			return true
		}
		if !contain && p.Overlaps(c) {
			return true
		}
	}
	return false
}

func destinations(fw *computepb.Firewall) []string {
	if d := fw.GetDestinationRanges(); len(d) > 0 {
		return d
	}
	return []string{"0.0.0.0/0"}
}

func scope(fw *computepb.Firewall) string {
	t := targetsOf(fw)
	if len(t.Tags) == 0 && len(t.ServiceAccounts) == 0 {
		return "instances"
	}
	return t.String()
}

// denyWarnings finds enabled deny rules of the network that would defeat
// the peering on any of ports: an EGRESS deny towards the Dragonfly CIDR
// that no higher-priority allow overrides (instances could not reach
// Dragonfly), and an INGRESS deny from it that outranks dfpeer's allow
// rule. One warning per rule, naming the ports it blocks.
func denyWarnings(rules []*computepb.Firewall, network, cidr string, ports []int, ourRule string) []denyWarning {
	var onNet []*computepb.Firewall
	for _, fw := range rules {
		if _, n, ok := NetworkRef(fw.GetNetwork()); ok && n == network && !fw.GetDisabled() {
			onNet = append(onNet, fw)
		}
	}
	sort.SliceStable(onNet, func(i, j int) bool { return onNet[i].GetPriority() < onNet[j].GetPriority() })
	deniesTCP := func(fw *computepb.Firewall, port int) bool {
		for _, d := range fw.GetDenied() {
			if coversTCP(d.GetIPProtocol(), d.GetPorts(), port) {
				return true
			}
		}
		return false
	}
	allowsTCP := func(fw *computepb.Firewall, port int) bool {
		for _, a := range fw.GetAllowed() {
			if coversTCP(a.GetIPProtocol(), a.GetPorts(), port) {
				return true
			}
		}
		return false
	}
	var out []denyWarning
	for _, fw := range onNet {
		var blocked []int
		for _, port := range ports {
			if !deniesTCP(fw, port) {
				continue
			}
			switch fw.GetDirection() {
			case "EGRESS":
				if !rangesMatch(destinations(fw), cidr, false) {
					continue
				}
				overridden := false
				for _, a := range onNet {
					// Compute applies the lowest priority number; at equal
					// priority a deny wins.
					if a.GetDirection() == "EGRESS" && a.GetPriority() < fw.GetPriority() && allowsTCP(a, port) &&
						rangesMatch(destinations(a), cidr, true) && len(a.GetTargetTags()) == 0 && len(a.GetTargetServiceAccounts()) == 0 {
						overridden = true
						break
					}
				}
				if !overridden {
					blocked = append(blocked, port)
				}
			case "INGRESS", "":
				if fw.GetName() != ourRule && fw.GetPriority() <= rulePriority && rangesMatch(fw.GetSourceRanges(), cidr, false) {
					blocked = append(blocked, port)
				}
			}
		}
		if len(blocked) == 0 {
			continue
		}
		if fw.GetDirection() == "EGRESS" {
			out = append(out, denyWarning{Rule: fw.GetName(),
				What: fmt.Sprintf("egress rule %s (priority %d) denies TCP %s to %s: %s cannot reach the Dragonfly network", fw.GetName(), fw.GetPriority(), portList(blocked), strings.Join(destinations(fw), ", "), scope(fw)),
				Fix:  fmt.Sprintf("add an egress rule allowing TCP %s to %s with a priority below %d", portList(blocked), cidr, fw.GetPriority())})
			continue
		}
		out = append(out, denyWarning{Rule: fw.GetName(),
			What: fmt.Sprintf("ingress rule %s (priority %d) denies TCP %s from %s and outranks dfpeer's rule (priority %d) for %s", fw.GetName(), fw.GetPriority(), portList(blocked), strings.Join(fw.GetSourceRanges(), ", "), rulePriority, scope(fw)),
			Fix:  "lower its priority or narrow its sources"})
	}
	return out
}

// actionCheck is the plan's word for a deny rule dfpeer only warns about:
// part of the public JSON of a plan since before the typed model.
const actionCheck peering.Action = "check"

// ruleWant is the ingress rule connect creates (or finds).
type ruleWant struct {
	Name  string
	Ports []int
	// Targets are the rule's; TargetsGiven says the user chose them (an
	// existing rule's are otherwise kept).
	Targets      Targets
	TargetsGiven bool
	// Update says the rule exists, is dfpeer's, and differs: connect puts
	// it back as wanted (firewalls.update) instead of refusing it.
	Update bool
}

// denyWarning is a deny rule of the network that would defeat the
// peering: dfpeer warns, and leaves it alone.
type denyWarning struct {
	Rule string
	What string // what it blocks
	Fix  string // the change that unblocks it
}

// Warning is what connect prints about the rule.
func (w denyWarning) Warning() string {
	return w.What + "; " + w.Fix
}

// kindDenyRules is status's check that no deny rule defeats the peering
// (each deny rule that does is a KindFirewallRule change of its own).
const kindDenyRules peering.Kind = "deny_rules"

// observeFirewall classifies the rule dfpeer-<name>: absent (to create),
// there and the same (unchanged; dfpeer's when it has dfpeer's
// description), or different (connect refuses: dfpeer does not overwrite
// it; status reports it with the fix; disconnect removes it only when it
// is dfpeer's). Deny rules that would block the traffic follow: connect
// warns, status fails them.
func (p *Provider) observeFirewall(ctx context.Context, cl *Cloud, purpose peering.Purpose) ([]peering.Change, error) {
	rules, err := p.c.FirewallRules(ctx)
	if err != nil {
		return nil, err
	}
	want := ruleWant{Name: cl.RuleName, Ports: p.in.Ports, Targets: p.in.Targets,
		TargetsGiven: len(p.in.Targets.Tags) > 0 || len(p.in.Targets.ServiceAccounts) > 0}
	c := peering.Change{Action: peering.Create, Kind: peering.KindFirewallRule, Target: cl.where(), ID: want.Name, Found: peering.Absent,
		Phase: peering.AfterInactive, Title: fmt.Sprintf("Allow TCP %s from %s in %s (%s)", portList(want.Ports), cl.CIDR, cl.VPC.Name, want.Name)}
	for _, fw := range rules {
		if fw.GetName() != want.Name {
			continue
		}
		d := ruleDiff(fw, cl.VPC.Name, cl.CIDR, want.Ports, want.Targets, want.TargetsGiven)
		if !want.TargetsGiven {
			want.Targets = targetsOf(fw)
		}
		c.Action, c.Found = peering.Unchanged, peering.AsWanted
		if d != "" && repairable(cl, fw) {
			// dfpeer's own rule, changed since: connect puts it back.
			c.Action, c.Found, c.Reason, want.Update = peering.Update, peering.Different, d, true
		} else if d != "" {
			del := fmt.Sprintf("gcloud compute firewall-rules delete %s --project %s", want.Name, cl.Project)
			if purpose == peering.ForConnect {
				return nil, problem.Refusef("firewall rule %s already exists and differs from the one dfpeer would create (%s): %s; delete it ('%s') or choose another --name",
					want.Name, d, DescribeRule(fw), del)
			}
			// connect would refuse to touch it: for status the fix is by
			// hand (a Verify change shows Reason as the fix); disconnect
			// removes it if it is dfpeer's.
			c.Action, c.Found = peering.Update, peering.Different
			if purpose == peering.ForStatus {
				c.Action = peering.Verify
			}
			c.Reason = fmt.Sprintf("%s differs from the rule dfpeer makes (%s): delete it ('%s') and run connect again", DescribeRule(fw), d, del)
		}
		if why := cl.notOurRule(fw); why != "" && (c.Found == peering.AsWanted || purpose == peering.ForDisconnect) {
			c.Found, c.Reason = peering.NotOurs, why
		}
	}
	c.Want = want
	c.Detail = fmt.Sprintf("%s: allow inbound TCP %s from %s to %s of %s", want.Name, portList(want.Ports), cl.CIDR, want.Targets, cl.VPC.Name)
	changes := []peering.Change{c}
	denies := denyWarnings(rules, cl.VPC.Name, cl.CIDR, want.Ports, want.Name)
	for _, w := range denies {
		ch := peering.Change{Action: actionCheck, Kind: peering.KindFirewallRule, Target: cl.where(),
			Detail: "warning: " + w.Warning(), ID: w.Rule, Found: peering.Different, Reason: w.Fix,
			Phase: peering.AfterInactive, Title: "Check firewall rule " + w.Rule, Want: w}
		if purpose == peering.ForStatus {
			ch.Detail = w.What
		}
		changes = append(changes, ch)
	}
	if purpose == peering.ForStatus && len(denies) == 0 {
		changes = append(changes, peering.Change{Action: peering.Verify, Kind: kindDenyRules, Target: cl.where(), Found: peering.AsWanted,
			Phase: peering.AfterInactive, Title: "Check deny rules",
			Detail: fmt.Sprintf("no enabled deny rule of %s blocks TCP %s from or to %s", cl.VPC.Name, portList(want.Ports), cl.CIDR)})
	}
	return changes, nil
}

// repairable says fw is dfpeer's rule of this connection and can be put
// back in place: Compute cannot change a rule's direction.
func repairable(cl *Cloud, fw *computepb.Firewall) bool {
	dir := fw.GetDirection()
	return cl.notOurRule(fw) == "" && (dir == "" || dir == "INGRESS")
}

// notOurRule says why fw is not dfpeer's rule of this connection, or ""
// when it is: named dfpeer-<name>, in the VPC network, from the Dragonfly
// CIDR only, with the description connect gives.
func (cl *Cloud) notOurRule(fw *computepb.Firewall) string {
	switch _, n, _ := NetworkRef(fw.GetNetwork()); {
	case fw.GetName() != cl.RuleName:
		return fmt.Sprintf("it is named %s, not %s", fw.GetName(), cl.RuleName)
	case n != cl.VPC.Name:
		return fmt.Sprintf("it is in network %s, not %s", lastSegment(fw.GetNetwork()), cl.VPC.Name)
	case !slices.Equal(fw.GetSourceRanges(), []string{cl.CIDR}):
		return fmt.Sprintf("its sources are %s, not %s only", sources(fw), cl.CIDR)
	case fw.GetDescription() != peering.RuleDescription(cl.ConnName):
		return fmt.Sprintf("its description %q is not dfpeer's", fw.GetDescription())
	}
	return ""
}

// ensureFirewall creates the ingress rule unless it is there already.
func (p *Provider) ensureFirewall(ctx context.Context, s *peering.State, cl *Cloud, want ruleWant) (string, error) {
	record := func(action string) {
		for _, port := range want.Ports {
			s.Result.FirewallRules = append(s.Result.FirewallRules, peering.FirewallRule{
				Target: cl.VPC.Name, Name: want.Name, Protocol: "tcp", Port: port, Source: cl.CIDR, AppliesTo: want.Targets.String(), Action: action})
		}
	}
	// present reports whether the rule exists, refusing one that differs.
	present := func(ctx context.Context) (bool, error) {
		fw, err := p.getRule(ctx, want.Name)
		if err != nil || fw == nil {
			return false, err
		}
		if d := ruleDiff(fw, cl.VPC.Name, cl.CIDR, want.Ports, want.Targets, want.TargetsGiven); d != "" {
			return false, fmt.Errorf("firewall rule %s appeared with other content (%s): %s; delete it and run again", want.Name, d, DescribeRule(fw))
		}
		return true, nil
	}
	if want.Update {
		if note, err := p.updateFirewall(ctx, s, cl, want); note != "" || err != nil {
			if err == nil {
				record(strings.Fields(note)[0])
			}
			return note, err
		}
		// Gone meanwhile: create it.
	}
	if done, err := present(ctx); err != nil || done {
		if done {
			record("unchanged")
			return "already present", nil
		}
		return "", err
	}

	reqID := newRequestID()
	rule := wantRule(want.Name, cl.VPC.SelfLink, cl.CIDR, want.Ports, want.Targets, peering.RuleDescription(cl.ConnName))
	var op *computepb.Operation
	// The network may be busy with the peering operation this run started
	// (resourceNotReady): wait that out as the peering does.
	err := p.untilNotBusy(ctx, s, "creating firewall rule "+want.Name, func(ctx context.Context) (bool, error) {
		return true, p.c.do(ctx, func(ctx context.Context) error {
			o, err := p.c.Firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: cl.Project, RequestId: &reqID, FirewallResource: rule})
			if err != nil {
				return err
			}
			op = o.Proto()
			return nil
		})
	})
	step := fmt.Sprintf("creating firewall rule %s (compute.firewalls.create)", want.Name)
	if statusCode(err) == 409 {
		// Created by an earlier, interrupted run, perhaps still being
		// created: wait until it shows, then check it.
		if err := p.c.wait(ctx, poll.Options{Timeout: p.in.Timeout, What: "firewall rule " + want.Name + " to be readable"}, present); err != nil {
			return "", err
		}
		record("unchanged")
		return "already present", nil
	}
	if err != nil {
		return "", classify(step, err)
	}
	if _, err := p.c.waitOperation(ctx, op, p.in.Timeout); err != nil {
		if errorCode(err) == "RESOURCE_ALREADY_EXISTS" {
			if done, cerr := present(ctx); cerr == nil && done {
				record("unchanged")
				return "already present", nil
			}
		}
		return "", fmt.Errorf("%s: %w", step, err)
	}
	record("created")
	return "created", nil
}

// updateFirewall puts dfpeer's rule back as wanted with firewalls.update
// (which replaces every field, clearing what was added since). It looks
// first: a rule already as wanted is left alone (a re-run), a rule gone
// meanwhile returns "" to have it created, and a rule that is no longer
// dfpeer's is refused.
func (p *Provider) updateFirewall(ctx context.Context, s *peering.State, cl *Cloud, want ruleWant) (string, error) {
	fw, err := p.getRule(ctx, want.Name)
	if err != nil || fw == nil {
		return "", err
	}
	d := ruleDiff(fw, cl.VPC.Name, cl.CIDR, want.Ports, want.Targets, want.TargetsGiven)
	if d == "" {
		return "unchanged (already as wanted)", nil
	}
	if !repairable(cl, fw) {
		return "", fmt.Errorf("firewall rule %s changed and is no longer dfpeer's (%s): %s; delete it and run again", want.Name, d, DescribeRule(fw))
	}
	reqID := newRequestID()
	rule := wantRule(want.Name, cl.VPC.SelfLink, cl.CIDR, want.Ports, want.Targets, peering.RuleDescription(cl.ConnName))
	var op *computepb.Operation
	err = p.untilNotBusy(ctx, s, "updating firewall rule "+want.Name, func(ctx context.Context) (bool, error) {
		return true, p.c.do(ctx, func(ctx context.Context) error {
			o, err := p.c.Firewalls.Update(ctx, &computepb.UpdateFirewallRequest{Project: cl.Project, Firewall: want.Name, RequestId: &reqID, FirewallResource: rule})
			if err != nil {
				return err
			}
			op = o.Proto()
			return nil
		})
	})
	step := fmt.Sprintf("updating firewall rule %s (compute.firewalls.update)", want.Name)
	if statusCode(err) == 404 {
		return "", nil
	}
	if err != nil {
		return "", classify(step, err)
	}
	if _, err := p.c.waitOperation(ctx, op, p.in.Timeout); err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	return "updated (" + d + ")", nil
}

func (p *Provider) getRule(ctx context.Context, name string) (*computepb.Firewall, error) {
	var fw *computepb.Firewall
	err := p.c.do(ctx, func(ctx context.Context) error {
		var err error
		fw, err = p.c.Firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: p.c.Project, Firewall: name})
		return err
	})
	if statusCode(err) == 404 {
		return nil, nil
	}
	if err != nil {
		return nil, classify(fmt.Sprintf("reading firewall rule %s (compute.firewalls.get)", name), err)
	}
	return fw, nil
}

// removeFirewall deletes the rule named name if it is still there and
// dfpeer's (notOurRule); a rule that only looks related is kept.
func (p *Provider) removeFirewall(ctx context.Context, s *peering.State, cl *Cloud, name string) (string, error) {
	note := "already gone"
	reqID := newRequestID()
	var op *computepb.Operation
	err := p.untilNotBusy(ctx, s, "deleting firewall rule "+name, func(ctx context.Context) (bool, error) {
		fw, err := p.getRule(ctx, name)
		if err != nil || fw == nil {
			return err == nil, err
		}
		if why := cl.notOurRule(fw); why != "" {
			note = "kept: " + why
			return true, nil
		}
		op, err = p.c.startRemoval(ctx, fmt.Sprintf("deleting firewall rule %s (compute.firewalls.delete)", name), func(ctx context.Context) (*compute.Operation, error) {
			return p.c.Firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: cl.Project, Firewall: name, RequestId: &reqID})
		})
		return err == nil, err
	})
	if err != nil {
		return "", err
	}
	if op == nil {
		return note, nil
	}
	if _, err := p.c.waitOperation(ctx, op, p.in.Timeout); err != nil {
		if errorCode(err) == "RESOURCE_NOT_FOUND" {
			return "already gone", nil
		}
		return "", fmt.Errorf("deleting firewall rule %s: %w", name, err)
	}
	return "removed", nil
}
