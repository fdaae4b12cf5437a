package azure

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// How an NSG treats TCP port from the Dragonfly CIDR. Azure evaluates a
// group's inbound rules by priority, lowest number first, and the first
// rule matching a packet decides; the default AllowVnetInBound (65000)
// lets peered networks in, so a rule is only needed where a custom rule
// would deny the traffic first.

// nsgVerdict is the outcome for one NSG.
type nsgVerdict struct {
	// AllowedBy is the rule that lets all of the traffic in, "" when some
	// is denied.
	AllowedBy string
	// Ours says AllowedBy is a rule dfpeer created.
	Ours bool
	// BlockedBy and BlockPriority name the first rule that denies some of
	// the traffic.
	BlockedBy     string
	BlockPriority int32
	// Priority is a free priority for an allow rule ahead of BlockedBy,
	// 0 when there is none.
	Priority int32
}

// nsgRule is a security rule reduced to what the evaluation needs.
type nsgRule struct {
	Name        string
	Description string
	Priority    int32
	Inbound     bool
	Allow       bool
	Protocol    string
	Sources     []string
	Dests       []string
	DestASG     bool // destination is application security groups
	Ports       []string
	Deleting    bool
}

func toRule(r *armnetwork.SecurityRule) nsgRule {
	out := nsgRule{Name: str(r.Name)}
	p := r.Properties
	if p == nil {
		return out
	}
	out.Description = str(p.Description)
	if p.Priority != nil {
		out.Priority = *p.Priority
	}
	out.Inbound = p.Direction != nil && strings.EqualFold(string(*p.Direction), "Inbound")
	out.Allow = p.Access != nil && strings.EqualFold(string(*p.Access), "Allow")
	if p.Protocol != nil {
		out.Protocol = string(*p.Protocol)
	}
	if v := str(p.SourceAddressPrefix); v != "" {
		out.Sources = append(out.Sources, v)
	}
	for _, s := range p.SourceAddressPrefixes {
		out.Sources = append(out.Sources, str(s))
	}
	if v := str(p.DestinationAddressPrefix); v != "" {
		out.Dests = append(out.Dests, v)
	}
	for _, s := range p.DestinationAddressPrefixes {
		out.Dests = append(out.Dests, str(s))
	}
	out.DestASG = len(p.DestinationApplicationSecurityGroups) > 0
	if v := str(p.DestinationPortRange); v != "" {
		out.Ports = append(out.Ports, v)
	}
	for _, s := range p.DestinationPortRanges {
		out.Ports = append(out.Ports, str(s))
	}
	out.Deleting = p.ProvisioningState != nil && *p.ProvisioningState == armnetwork.ProvisioningStateDeleting
	return out
}

// defaultInbound are Azure's default inbound rules, used when a response
// leaves them out.
var defaultInbound = []nsgRule{
	{Name: "AllowVnetInBound", Priority: 65000, Inbound: true, Allow: true, Protocol: "*", Sources: []string{"VirtualNetwork"}, Dests: []string{"VirtualNetwork"}, Ports: []string{"*"}},
	{Name: "AllowAzureLoadBalancerInBound", Priority: 65001, Inbound: true, Allow: true, Protocol: "*", Sources: []string{"AzureLoadBalancer"}, Dests: []string{"*"}, Ports: []string{"*"}},
	{Name: "DenyAllInBound", Priority: 65500, Inbound: true, Allow: false, Protocol: "*", Sources: []string{"*"}, Dests: []string{"*"}, Ports: []string{"*"}},
}

// isOurs recognises the rules dfpeer creates by their description, which
// peering.RuleDescription starts with "dfpeer:".
func isOurs(r nsgRule) bool { return strings.HasPrefix(r.Description, "dfpeer:") }

// evaluateNSG decides how nsg treats TCP port from cidr to the subnets
// (prefixes) it protects in the peered VNet.
func evaluateNSG(nsg *armnetwork.SecurityGroup, cidr string, port int, subnets []string) nsgVerdict {
	var custom, defaults []nsgRule
	if p := nsg.Properties; p != nil {
		for _, r := range p.SecurityRules {
			custom = append(custom, toRule(r))
		}
		for _, r := range p.DefaultSecurityRules {
			defaults = append(defaults, toRule(r))
		}
	}
	if len(defaults) == 0 {
		defaults = defaultInbound
	}
	return evaluate(custom, defaults, cidr, port, subnets)
}

func evaluate(custom, defaults []nsgRule, cidr string, port int, subnets []string) nsgVerdict {
	src, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nsgVerdict{}
	}
	src = src.Masked()
	used := map[int32]bool{}
	var rules []nsgRule
	for _, r := range custom {
		if r.Inbound {
			used[r.Priority] = true
		}
		if r.Inbound && !r.Deleting {
			rules = append(rules, r)
		}
	}
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	for _, r := range defaults {
		if r.Inbound {
			rules = append(rules, r)
		}
	}
	for _, r := range rules {
		if !protocolMatches(r.Protocol) || !portMatches(r.Ports, port) {
			continue
		}
		if r.Allow {
			// An allow only settles it when it admits all of the traffic;
			// a partial one leaves the rest to the rules after it.
			if sourceCovers(r.Sources, src) && destCovers(r, subnets) {
				return nsgVerdict{AllowedBy: r.Name, Ours: isOurs(r)}
			}
			continue
		}
		if sourceOverlaps(r.Sources, src) && destOverlaps(r, subnets) {
			v := nsgVerdict{BlockedBy: r.Name, BlockPriority: r.Priority}
			// Just ahead of the deny, so that the user's other rules keep
			// their order relative to it.
			for p := min(r.Priority-1, 4096); p >= 100; p-- {
				if !used[p] {
					v.Priority = p
					break
				}
			}
			return v
		}
	}
	return nsgVerdict{}
}

func protocolMatches(p string) bool {
	return p == "*" || strings.EqualFold(p, "Tcp") || strings.EqualFold(p, "Any")
}

func portMatches(ranges []string, port int) bool {
	for _, r := range ranges {
		r = strings.TrimSpace(r)
		if r == "*" {
			return true
		}
		lo, hi, found := strings.Cut(r, "-")
		if !found {
			hi = lo
		}
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 == nil && err2 == nil && a <= port && port <= b {
			return true
		}
	}
	return false
}

// everything reports whether an address prefix (or service tag) stands
// for all sources that can reach the VNet over the peering: "*", and
// VirtualNetwork, which includes peered address spaces.
func everything(p string) bool {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "*", "any", "0.0.0.0/0", "virtualnetwork":
		return true
	}
	return false
}

func parsePrefix(p string) (netip.Prefix, bool) {
	p = strings.TrimSpace(p)
	if !strings.Contains(p, "/") {
		a, err := netip.ParseAddr(p)
		if err != nil {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	pre, err := netip.ParsePrefix(p)
	if err != nil {
		return netip.Prefix{}, false
	}
	return pre.Masked(), true
}

func sourceCovers(sources []string, src netip.Prefix) bool {
	for _, s := range sources {
		if everything(s) {
			return true
		}
		if p, ok := parsePrefix(s); ok && p.Bits() <= src.Bits() && p.Contains(src.Addr()) {
			return true
		}
	}
	return false
}

func sourceOverlaps(sources []string, src netip.Prefix) bool {
	for _, s := range sources {
		if everything(s) {
			return true
		}
		if p, ok := parsePrefix(s); ok && p.Overlaps(src) {
			return true
		}
	}
	return false
}

// destCovers: the rule applies to every subnet the NSG protects here.
func destCovers(r nsgRule, subnets []string) bool {
	for _, d := range r.Dests {
		if everything(d) {
			return true
		}
	}
	for _, sn := range subnets {
		sp, ok := parsePrefix(sn)
		if !ok {
			return false
		}
		covered := false
		for _, d := range r.Dests {
			if p, ok := parsePrefix(d); ok && p.Bits() <= sp.Bits() && p.Contains(sp.Addr()) {
				covered = true
			}
		}
		if !covered {
			return false
		}
	}
	return len(subnets) > 0 && len(r.Dests) > 0
}

// destOverlaps: the rule applies to some of the traffic. Application
// security groups name machines in the VNet: assume they may be hit.
func destOverlaps(r nsgRule, subnets []string) bool {
	if r.DestASG {
		return true
	}
	for _, d := range r.Dests {
		if everything(d) {
			return true
		}
		p, ok := parsePrefix(d)
		if !ok {
			continue // other service tags (Internet, AzureLoadBalancer …) are not the VNet
		}
		for _, sn := range subnets {
			if sp, ok := parsePrefix(sn); ok && sp.Overlaps(p) {
				return true
			}
		}
	}
	return false
}

// RuleName is the name dfpeer gives the allow rule of a connection in an
// NSG: letters, digits, '.', '_', '-', ending with a letter, digit or '_',
// at most 80 characters.
func RuleName(connection string) string {
	name := "dfpeer-" + connection
	if len(name) > 80 {
		name = name[:80]
	}
	return strings.TrimRight(name, ".-")
}

// nsgPlan is an NSG of the VNet's subnets.
type nsgPlan struct {
	ID, Name, ResourceGroup, Subscription string
	Subnets                               []string // prefixes it protects in the VNet
}

// ruleWant is an NSG in which dfpeer's allow rule is wanted (or kept).
type ruleWant struct{ NSG nsgPlan }

// ports are the datastore ports the firewall step opens: Inputs.Ports,
// or the single Inputs.Port.
func (p *Provider) ports() []int {
	if len(p.in.Ports) > 0 {
		return p.in.Ports
	}
	return []int{p.in.Port}
}

func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, port := range ports {
		s[i] = strconv.Itoa(port)
	}
	return strings.Join(s, ", ")
}

// nsgOutcome is how an NSG treats every port, and what dfpeer's one rule
// in it must be: Azure takes several destination ports in one rule.
type nsgOutcome struct {
	// Ours is dfpeer's rule allowing some port, "" when none does.
	Ours string
	// OtherAllow names a rule of someone else allowing a port.
	OtherAllow string
	// Blocked are the ports a deny rule blocks, first BlockedBy at
	// BlockPriority; Priority is a free priority ahead of every block (0
	// when there is none).
	Blocked       []int
	BlockedBy     string
	BlockPriority int32
	Priority      int32
	// Ports are the ports dfpeer's rule must allow: those it allows and
	// those blocked.
	Ports []int
}

func (p *Provider) outcome(sg *armnetwork.SecurityGroup, cidr string, subnets []string) nsgOutcome {
	var o nsgOutcome
	var oursAllows []int
	for _, port := range p.ports() {
		v := evaluateNSG(sg, cidr, port, subnets)
		switch {
		case v.AllowedBy != "" && v.Ours:
			o.Ours = v.AllowedBy
			oursAllows = append(oursAllows, port)
		case v.AllowedBy != "":
			if o.OtherAllow == "" {
				o.OtherAllow = v.AllowedBy
			}
		default:
			o.Blocked = append(o.Blocked, port)
		}
	}
	if len(o.Blocked) == 0 {
		o.Ports = oursAllows
		return o
	}
	// dfpeer's rule is to be (re)written: it must stand ahead of every
	// deny that would block one of its ports, including those it
	// overcomes today, so the ports are weighed without it.
	bare := sg
	if o.Ours != "" && sg.Properties != nil {
		cp := *sg
		props := *sg.Properties
		props.SecurityRules = nil
		for _, r := range sg.Properties.SecurityRules {
			if r.Name == nil || *r.Name != o.Ours {
				props.SecurityRules = append(props.SecurityRules, r)
			}
		}
		cp.Properties = &props
		bare = &cp
	}
	noFree := false
	for _, port := range p.ports() {
		v := evaluateNSG(bare, cidr, port, subnets)
		if v.AllowedBy != "" {
			continue
		}
		o.Ports = append(o.Ports, port)
		if o.BlockedBy == "" || v.BlockPriority < o.BlockPriority {
			o.BlockedBy, o.BlockPriority = v.BlockedBy, v.BlockPriority
		}
		// The lowest free priority found is ahead of every block (each
		// was free and ahead of its own).
		switch {
		case v.Priority == 0:
			noFree = true
		case o.Priority == 0 || v.Priority < o.Priority:
			o.Priority = v.Priority
		}
	}
	if noFree {
		o.Priority = 0
	}
	return o
}

// observeFirewall evaluates the NSGs of the VNet's subnets and plans one
// allow rule per NSG for the ports a custom rule would deny first. A rule
// of someone else that already allows the traffic is noted, not dfpeer's.
func (p *Provider) observeFirewall(ctx context.Context, cl *resolved, net *dfcloud.Network) ([]peering.Change, error) {
	byID := map[string]*nsgPlan{}
	var order []string
	for _, sn := range cl.vnet.Subnets {
		if sn.NSGID == "" {
			continue
		}
		key := strings.ToLower(sn.NSGID)
		if byID[key] == nil {
			id, err := arm.ParseResourceID(sn.NSGID)
			if err != nil {
				return nil, fmt.Errorf("subnet %s: network security group ID %q: %w", sn.Name, sn.NSGID, err)
			}
			byID[key] = &nsgPlan{ID: sn.NSGID, Name: id.Name, ResourceGroup: id.ResourceGroupName, Subscription: id.SubscriptionID}
			order = append(order, key)
		}
		byID[key].Subnets = append(byID[key].Subnets, sn.Prefix)
	}
	ports := portList(p.ports())
	var changes []peering.Change
	for _, key := range order {
		n := byID[key]
		sg, err := p.readNSG(ctx, n)
		if err != nil {
			return nil, err
		}
		o := p.outcome(sg, net.CIDRBlock, n.Subnets)
		c := peering.Change{Kind: peering.KindFirewallRule, Target: fmt.Sprintf("%s (resource group %s)", n.Name, n.ResourceGroup),
			Phase: peering.AfterInactive, Want: ruleWant{NSG: *n},
			Title: fmt.Sprintf("Allow TCP %s from %s in %s", ports, net.CIDRBlock, n.Name)}
		detail := fmt.Sprintf("allow inbound TCP %s from %s", ports, net.CIDRBlock)
		name := RuleName(cl.connName)
		switch {
		case len(o.Blocked) == 0 && o.Ours != "":
			c.Action, c.Found, c.ID = peering.Unchanged, peering.AsWanted, n.ID+"/securityRules/"+o.Ours
			c.Detail = detail + " (rule " + o.Ours + ")"
		case len(o.Blocked) == 0:
			// Nothing to do, and nothing of dfpeer's: applying it only
			// looks again.
			c.Action, c.Found = peering.Unchanged, peering.NotOurs
			c.Reason = "allowed by rule " + o.OtherAllow + ", not dfpeer's"
			c.Detail = fmt.Sprintf("TCP %s from %s is already allowed by rule %s: no rule needed", ports, net.CIDRBlock, o.OtherAllow)
		case o.Priority == 0 && !cl.connecting():
			c.Action, c.Found, c.ID = peering.Create, peering.Absent, n.ID+"/securityRules/"+name
			c.Detail = fmt.Sprintf("allow inbound TCP %s from %s: rule %s (priority %d) denies it, and no priority between 100 and %d is free for an allow rule ahead of it; free one, or narrow that rule",
				portList(o.Blocked), net.CIDRBlock, o.BlockedBy, o.BlockPriority, o.BlockPriority)
		case !cl.connecting():
			// Status reads; disconnect has nothing of dfpeer's here.
			c.Action, c.Found, c.ID = peering.Create, peering.Absent, n.ID+"/securityRules/"+name
			if o.Ours != "" {
				c.Found, c.Reason = peering.Different, fmt.Sprintf("rule %s does not allow TCP %s", o.Ours, portList(o.Blocked))
			}
			c.Detail = fmt.Sprintf("allow inbound TCP %s from %s: rule %s (priority %d) denies it; dfpeer adds allow rule %s at priority %d ahead of it",
				portList(o.Blocked), net.CIDRBlock, o.BlockedBy, o.BlockPriority, name, o.Priority)
		case o.Priority == 0:
			return nil, problem.Refusef("network security group %s denies TCP %s from %s with rule %s (priority %d), and no priority between 100 and %d is free for an allow rule ahead of it; free one, or narrow that rule",
				n.Name, portList(o.Blocked), net.CIDRBlock, o.BlockedBy, o.BlockPriority, o.BlockPriority)
		default:
			perms, err := p.c.permissions(ctx, n.ID)
			if err != nil {
				return nil, err
			}
			if !allows(perms, actionSecurityRulesWrite) {
				return nil, permissionsError([]string{fmt.Sprintf("add a security rule to %s: Azure RBAC action %s (Network Contributor)", n.ID, actionSecurityRulesWrite)})
			}
			c.Action, c.Found, c.ID = peering.Create, peering.Absent, n.ID+"/securityRules/"+name
			if o.Ours != "" {
				c.Action, c.Found, c.Reason = peering.Update, peering.Different, fmt.Sprintf("rule %s does not allow TCP %s", o.Ours, portList(o.Blocked))
			}
			c.Detail = fmt.Sprintf("allow inbound TCP %s from %s as rule %s at priority %d, ahead of deny rule %s (%d)",
				portList(o.Ports), net.CIDRBlock, name, o.Priority, o.BlockedBy, o.BlockPriority)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// readNSG reads an NSG.
func (p *Provider) readNSG(ctx context.Context, n *nsgPlan) (*armnetwork.SecurityGroup, error) {
	sc, err := p.c.sub(n.Subscription)
	if err != nil {
		return nil, err
	}
	resp, err := sc.nsgs.Get(ctx, n.ResourceGroup, n.Name, nil)
	if err != nil {
		return nil, classify("reading network security group "+n.Name, err)
	}
	return &resp.SecurityGroup, nil
}

// ensureFirewall makes dfpeer's one rule in an NSG allow every port a
// deny would block (looking again: the NSG may have changed since the
// plan).
func (p *Provider) ensureFirewall(ctx context.Context, s *peering.State, cl *resolved, want ruleWant) (string, error) {
	n := want.NSG
	cidr := s.Network.CIDRBlock
	name := RuleName(s.Result.Name)
	record := func(rule, action string, ports []int) {
		for _, port := range ports {
			s.Result.FirewallRules = append(s.Result.FirewallRules, peering.FirewallRule{Target: n.Name, Name: rule, Protocol: "tcp", Port: port, Source: cidr, Action: action})
		}
	}
	sc, err := p.c.sub(n.Subscription)
	if err != nil {
		return "", err
	}
	sg, err := p.readNSG(ctx, &n)
	if err != nil {
		return "", err
	}
	o := p.outcome(sg, cidr, n.Subnets)
	switch {
	case len(o.Blocked) == 0 && o.Ours != "":
		if err := p.waitRule(ctx, sc, n, o.Ours); err != nil {
			return "", err
		}
		record(o.Ours, "unchanged", o.Ports)
		return "already allowed by " + o.Ours, nil
	case len(o.Blocked) == 0:
		return "already allowed by " + o.OtherAllow, nil
	case o.Priority == 0:
		return "", fmt.Errorf("network security group %s denies TCP %s from %s with rule %s (priority %d) and no priority ahead of it is free",
			n.Name, portList(o.Blocked), cidr, o.BlockedBy, o.BlockPriority)
	}
	props := &armnetwork.SecurityRulePropertiesFormat{
		Description:              to.Ptr(peering.RuleDescription(s.Result.Name)),
		Protocol:                 to.Ptr(armnetwork.SecurityRuleProtocolTCP),
		SourceAddressPrefix:      to.Ptr(cidr),
		SourcePortRange:          to.Ptr("*"),
		DestinationAddressPrefix: to.Ptr("VirtualNetwork"),
		Access:                   to.Ptr(armnetwork.SecurityRuleAccessAllow),
		Priority:                 to.Ptr(o.Priority),
		Direction:                to.Ptr(armnetwork.SecurityRuleDirectionInbound),
	}
	if len(o.Ports) == 1 {
		props.DestinationPortRange = to.Ptr(strconv.Itoa(o.Ports[0]))
	} else {
		for _, port := range o.Ports {
			props.DestinationPortRanges = append(props.DestinationPortRanges, to.Ptr(strconv.Itoa(port)))
		}
	}
	poller, err := sc.rules.BeginCreateOrUpdate(ctx, n.ResourceGroup, n.Name, name, armnetwork.SecurityRule{Properties: props}, nil)
	step := fmt.Sprintf("adding rule %s to %s", name, n.Name)
	if err != nil {
		return "", classify(step, err)
	}
	if _, err := pollUntilDone(ctx, p.c, poller, "rule "+name+" to be provisioned"); err != nil {
		return "", classify(step, err)
	}
	verb := "created"
	if o.Ours != "" {
		verb = "updated"
	}
	record(name, verb, o.Ports)
	return fmt.Sprintf("%s %s (TCP %s) at priority %d, ahead of %s", verb, name, portList(o.Ports), o.Priority, o.BlockedBy), nil
}

// waitRule waits for a rule an interrupted run started writing.
func (p *Provider) waitRule(ctx context.Context, sc *subClients, n nsgPlan, rule string) error {
	return poll.Until(ctx, p.c.pollOptions(p.in.Timeout, fmt.Sprintf("rule %s in %s to be provisioned", rule, n.Name), ""), func(ctx context.Context) (bool, error) {
		resp, err := sc.rules.Get(ctx, n.ResourceGroup, n.Name, rule, nil)
		if err != nil {
			return false, classify("reading rule "+rule, err)
		}
		st := armnetwork.ProvisioningStateSucceeded
		if pp := resp.Properties; pp != nil && pp.ProvisioningState != nil {
			st = *pp.ProvisioningState
		}
		if st == armnetwork.ProvisioningStateFailed {
			return false, fmt.Errorf("rule %s in %s is Failed; delete it and run again", rule, n.Name)
		}
		return st == armnetwork.ProvisioningStateSucceeded, nil
	})
}

// removeFirewall deletes dfpeer's allow rule of this connection: one with
// the name and the description connect gives it. Any other rule is kept.
func (p *Provider) removeFirewall(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	if c.ID == "" {
		return "nothing of dfpeer's", nil
	}
	sc, rg, nsg, name, err := p.c.child(c.ID)
	if err != nil {
		return "", err
	}
	resp, err := sc.rules.Get(ctx, rg, nsg, name, nil)
	if err != nil {
		if isNotFound(err) {
			return "already gone", nil
		}
		return "", classify("reading rule "+name, err)
	}
	r := toRule(&resp.SecurityRule)
	if r.Description != peering.RuleDescription(cl.connName) {
		return fmt.Sprintf("kept: rule %s is not dfpeer's for connection %s (description %q)", name, cl.connName, r.Description), nil
	}
	poller, err := sc.rules.BeginDelete(ctx, rg, nsg, name, nil)
	if err == nil {
		_, err = pollUntilDone(ctx, p.c, poller, "rule "+name+" to be deleted")
	}
	return deleted("rule "+name+" from "+nsg, err)
}
