package azure

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
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
