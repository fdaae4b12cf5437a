package azuresim

import (
	"fmt"
	"hash/crc32"
	"net/http"
	"net/netip"
	"sort"
	"strings"
)

// Microsoft.Network: virtual networks, subnets, network security groups and
// security rules. Peerings are in arm_peering.go.

func etag(id string, n int) string {
	return fmt.Sprintf(`W/"%08x-0000-4000-8000-%012d"`, crc32.ChecksumIEEE([]byte(lower(id))), n)
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (v *vnet) subnet(name string) *subnet {
	for _, sn := range v.subnets {
		if eq(sn.name, name) {
			return sn
		}
	}
	return nil
}

func (v *vnet) peering(name string) *peering {
	for _, p := range v.peerings {
		if eq(p.name, name) {
			return p
		}
	}
	return nil
}

// peeringTo finds the peering of v whose remote is remoteID.
func (v *vnet) peeringTo(remoteID string) *peering {
	for _, p := range v.peerings {
		if eq(p.remoteID, remoteID) {
			return p
		}
	}
	return nil
}

// Paths as the request spelled them; ARM echoes scopes that way.
func (t armTarget) rgScope() string { return "/subscriptions/" + t.sub + "/resourceGroups/" + t.rg }
func (t armTarget) vnetScope() string {
	return t.rgScope() + "/providers/Microsoft.Network/virtualNetworks/" + t.vnet
}
func (t armTarget) nsgScope() string {
	return t.rgScope() + "/providers/Microsoft.Network/networkSecurityGroups/" + t.nsg
}

func (s *Sim) vnetJSON(v *vnet) map[string]any {
	subnets := []any{}
	for _, sn := range v.subnets {
		subnets = append(subnets, subnetJSON(v, sn))
	}
	peerings := []any{}
	for _, p := range v.peerings {
		peerings = append(peerings, s.peeringJSON(v, p))
	}
	return map[string]any{
		"name":     v.name,
		"id":       v.id(),
		"etag":     etag(v.id(), 1),
		"type":     "Microsoft.Network/virtualNetworks",
		"location": v.location,
		"properties": map[string]any{
			"provisioningState":           "Succeeded",
			"resourceGuid":                v.guid,
			"addressSpace":                map[string]any{"addressPrefixes": nonNil(v.prefixes)},
			"dhcpOptions":                 map[string]any{"dnsServers": []string{}},
			"subnets":                     subnets,
			"virtualNetworkPeerings":      peerings,
			"enableDdosProtection":        false,
			"privateEndpointVNetPolicies": "Disabled",
		},
	}
}

func subnetJSON(v *vnet, sn *subnet) map[string]any {
	id := v.id() + "/subnets/" + sn.name
	props := map[string]any{
		"provisioningState":                 "Succeeded",
		"addressPrefix":                     sn.prefix,
		"delegations":                       []any{},
		"privateEndpointNetworkPolicies":    "Disabled",
		"privateLinkServiceNetworkPolicies": "Enabled",
	}
	if sn.nsgID != "" {
		props["networkSecurityGroup"] = map[string]any{"id": sn.nsgID}
	}
	if sn.routeTableID != "" {
		props["routeTable"] = map[string]any{"id": sn.routeTableID}
	}
	if gw := v.gatewayID(); gw != "" && eq(sn.name, GatewaySubnet) {
		// Azure lists the gateway's IP configuration on its subnet.
		props["ipConfigurations"] = []any{map[string]any{"id": gw + "/ipConfigurations/default"}}
	}
	return map[string]any{"name": sn.name, "id": id, "etag": etag(id, 1), "type": "Microsoft.Network/virtualNetworks/subnets", "properties": props}
}

// findVNet resolves the addressed virtual network.
func (s *Sim) findVNet(ctx *armCtx) (*vnet, *armError) {
	g, e := s.requireRG(ctx)
	if e != nil {
		return nil, e
	}
	v := s.vnets[lower("/subscriptions/"+ctx.sub.id+"/resourceGroups/"+g.name+"/providers/Microsoft.Network/virtualNetworks/"+ctx.t.vnet)]
	if v == nil {
		return nil, resourceNotFound("Microsoft.Network/virtualNetworks/"+ctx.t.vnet, ctx.t.rg)
	}
	return v, nil
}

func (s *Sim) listVNets(ctx *armCtx) *armError {
	scope := "/subscriptions/" + ctx.t.sub
	if ctx.t.kind == "vnets" {
		scope = ctx.t.rgScope()
	}
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/read", scope); e != nil {
		return e
	}
	if ctx.t.kind == "vnets" {
		if _, e := s.requireRG(ctx); e != nil {
			return e
		}
	}
	out := []any{}
	for _, k := range sortedKeys(s.vnets) {
		if scopeCovers(scope, k) {
			out = append(out, s.vnetJSON(s.vnets[k]))
		}
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

// vnetSpec is the part of a VNet PUT the simulator applies: the address
// space. Subnets and peerings are managed through their own resources
// here (a real PUT replaces the subnets with the body's).
type vnetSpec struct {
	Location   string `json:"location"`
	Properties *struct {
		AddressSpace *struct {
			AddressPrefixes []string `json:"addressPrefixes"`
		} `json:"addressSpace"`
	} `json:"properties"`
}

// putVNet updates a virtual network's address space
// (VirtualNetworks_CreateOrUpdate); its peerings fall out of sync until
// synced.
func (s *Sim) putVNet(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/write", ctx.t.vnetScope()); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	var spec vnetSpec
	if e := decodeBody(ctx.r, &spec); e != nil {
		return e
	}
	if spec.Properties == nil || spec.Properties.AddressSpace == nil || len(spec.Properties.AddressSpace.AddressPrefixes) == 0 {
		return netErr(http.StatusBadRequest, "InvalidRequestFormat", "Cannot parse the request: the virtual network %s has no address space.", v.id())
	}
	prefixes := spec.Properties.AddressSpace.AddressPrefixes
	if err := checkAddressSpace(v, prefixes); err != nil {
		return err
	}
	v.prefixes = append([]string(nil), prefixes...)
	writeJSON(ctx.w, http.StatusOK, s.vnetJSON(v))
	return nil
}

// checkAddressSpace refuses prefixes that are not CIDR blocks or that
// leave a subnet outside the address space, as Azure does.
func checkAddressSpace(v *vnet, prefixes []string) *armError {
	var blocks []netip.Prefix
	for _, p := range prefixes {
		b, err := netip.ParsePrefix(p)
		if err != nil {
			return netErr(http.StatusBadRequest, "InvalidAddressPrefixFormat", "Address prefix %s of resource %s is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.", p, v.id())
		}
		blocks = append(blocks, b)
	}
	for _, sn := range v.subnets {
		sp, err := netip.ParsePrefix(sn.prefix)
		if err != nil {
			continue
		}
		inside := false
		for _, b := range blocks {
			if b.Bits() <= sp.Bits() && b.Contains(sp.Addr()) {
				inside = true
			}
		}
		if !inside {
			return netErr(http.StatusBadRequest, "NetcfgSubnetRangeOutsideVnet",
				"Subnet '%s' is not valid because its IP address range is outside the IP address range of virtual network '%s'.", sn.name, v.name)
		}
	}
	return nil
}

func (s *Sim) getVNet(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/read", ctx.t.vnetScope()); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	writeJSON(ctx.w, http.StatusOK, s.vnetJSON(v))
	return nil
}

func (s *Sim) listSubnets(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/subnets/read", ctx.t.vnetScope()); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	out := []any{}
	for _, sn := range v.subnets {
		out = append(out, subnetJSON(v, sn))
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

func (s *Sim) getSubnet(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/subnets/read", ctx.t.vnetScope()+"/subnets/"+ctx.t.child); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	sn := v.subnet(ctx.t.child)
	if sn == nil {
		return childNotFound(v.id() + "/subnets/" + ctx.t.child)
	}
	writeJSON(ctx.w, http.StatusOK, subnetJSON(v, sn))
	return nil
}

// Network security groups.

type defaultRule struct {
	name, desc, direction, access, src, dst string
	priority                                int
}

var defaultSecurityRules = []defaultRule{
	{"AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork", 65000},
	{"AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", "Inbound", "Allow", "AzureLoadBalancer", "*", 65001},
	{"DenyAllInBound", "Deny all inbound traffic", "Inbound", "Deny", "*", "*", 65500},
	{"AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork", 65000},
	{"AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "Outbound", "Allow", "*", "Internet", 65001},
	{"DenyAllOutBound", "Deny all outbound traffic", "Outbound", "Deny", "*", "*", 65500},
}

func (s *Sim) nsgJSON(n *nsg) map[string]any {
	rules := []any{}
	for _, r := range n.rules {
		rules = append(rules, ruleJSON(n, r))
	}
	defaults := []any{}
	for _, d := range defaultSecurityRules {
		id := n.id() + "/defaultSecurityRules/" + d.name
		defaults = append(defaults, map[string]any{
			"name": d.name, "id": id, "etag": etag(id, 1), "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
			"properties": map[string]any{
				"provisioningState": "Succeeded", "description": d.desc, "protocol": "*",
				"sourcePortRange": "*", "destinationPortRange": "*",
				"sourceAddressPrefix": d.src, "destinationAddressPrefix": d.dst,
				"access": d.access, "priority": d.priority, "direction": d.direction,
				"sourcePortRanges": []string{}, "destinationPortRanges": []string{},
				"sourceAddressPrefixes": []string{}, "destinationAddressPrefixes": []string{},
			},
		})
	}
	subnets := []any{}
	for _, k := range sortedKeys(s.vnets) {
		v := s.vnets[k]
		for _, sn := range v.subnets {
			if eq(sn.nsgID, n.id()) {
				subnets = append(subnets, map[string]any{"id": v.id() + "/subnets/" + sn.name})
			}
		}
	}
	return map[string]any{
		"name": n.name, "id": n.id(), "etag": etag(n.id(), 1+len(n.rules)), "type": "Microsoft.Network/networkSecurityGroups",
		"location": n.location,
		"properties": map[string]any{
			"provisioningState":    "Succeeded",
			"resourceGuid":         n.guid,
			"securityRules":        rules,
			"defaultSecurityRules": defaults,
			"subnets":              subnets,
		},
	}
}

func ruleJSON(n *nsg, r *securityRule) map[string]any {
	p := r.props
	props := map[string]any{
		"provisioningState":          r.provisioning,
		"protocol":                   p.Protocol,
		"access":                     p.Access,
		"priority":                   p.Priority,
		"direction":                  p.Direction,
		"sourcePortRanges":           nonNil(p.SourcePortRanges),
		"destinationPortRanges":      nonNil(p.DestinationPortRanges),
		"sourceAddressPrefixes":      nonNil(p.SourceAddressPrefixes),
		"destinationAddressPrefixes": nonNil(p.DestinationAddressPrefixes),
	}
	for k, v := range map[string]string{
		"description": p.Description, "sourcePortRange": p.SourcePortRange, "destinationPortRange": p.DestinationPortRange,
		"sourceAddressPrefix": p.SourceAddressPrefix, "destinationAddressPrefix": p.DestinationAddressPrefix,
	} {
		if v != "" {
			props[k] = v
		}
	}
	id := n.id() + "/securityRules/" + r.name
	return map[string]any{"name": r.name, "id": id, "etag": etag(id, r.etag), "type": "Microsoft.Network/networkSecurityGroups/securityRules", "properties": props}
}

func (n *nsg) rule(name string) *securityRule {
	for _, r := range n.rules {
		if eq(r.name, name) {
			return r
		}
	}
	return nil
}

func (s *Sim) findNSG(ctx *armCtx) (*nsg, *armError) {
	g, e := s.requireRG(ctx)
	if e != nil {
		return nil, e
	}
	n := s.nsgs[lower(nsgID(ctx.sub.id, g.name, ctx.t.nsg))]
	if n == nil {
		return nil, resourceNotFound("Microsoft.Network/networkSecurityGroups/"+ctx.t.nsg, ctx.t.rg)
	}
	return n, nil
}

func (s *Sim) listNSGs(ctx *armCtx) *armError {
	scope := "/subscriptions/" + ctx.t.sub
	if ctx.t.kind == "nsgs" {
		scope = ctx.t.rgScope()
	}
	if e := s.authorize(ctx, "Microsoft.Network/networkSecurityGroups/read", scope); e != nil {
		return e
	}
	if ctx.t.kind == "nsgs" {
		if _, e := s.requireRG(ctx); e != nil {
			return e
		}
	}
	out := []any{}
	for _, k := range sortedKeys(s.nsgs) {
		if scopeCovers(scope, k) {
			out = append(out, s.nsgJSON(s.nsgs[k]))
		}
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

func (s *Sim) getNSG(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/networkSecurityGroups/read", ctx.t.nsgScope()); e != nil {
		return e
	}
	n, e := s.findNSG(ctx)
	if e != nil {
		return e
	}
	writeJSON(ctx.w, http.StatusOK, s.nsgJSON(n))
	return nil
}

func (s *Sim) listRules(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/networkSecurityGroups/securityRules/read", ctx.t.nsgScope()); e != nil {
		return e
	}
	n, e := s.findNSG(ctx)
	if e != nil {
		return e
	}
	out := []any{}
	for _, r := range n.rules {
		out = append(out, ruleJSON(n, r))
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

func (s *Sim) getRule(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/networkSecurityGroups/securityRules/read", ctx.t.nsgScope()+"/securityRules/"+ctx.t.child); e != nil {
		return e
	}
	n, e := s.findNSG(ctx)
	if e != nil {
		return e
	}
	r := n.rule(ctx.t.child)
	if r == nil {
		return childNotFound(n.id() + "/securityRules/" + ctx.t.child)
	}
	writeJSON(ctx.w, http.StatusOK, ruleJSON(n, r))
	return nil
}

var (
	ruleProtocols  = []string{"Tcp", "Udp", "Icmp", "Esp", "Ah", "*"}
	ruleAccess     = []string{"Allow", "Deny"}
	ruleDirections = []string{"Inbound", "Outbound"}
)

// canonical returns the spelling of v in allowed (case-insensitive), or "".
func canonical(v string, allowed []string) string {
	for _, a := range allowed {
		if eq(a, v) {
			return a
		}
	}
	return ""
}

// validateRule applies the network resource provider's checks to a rule
// about to be written into n.
func validateRule(n *nsg, name string, p *ruleProperties) *armError {
	id := n.id() + "/securityRules/" + name
	bad := func(field, value string) *armError {
		return netErr(http.StatusBadRequest, "InvalidRequestFormat", "Cannot parse the request. Value '%s' of property '%s' of security rule %s is not valid.", value, field, id)
	}
	for _, f := range []struct {
		name    string
		value   *string
		allowed []string
	}{{"protocol", &p.Protocol, ruleProtocols}, {"access", &p.Access, ruleAccess}, {"direction", &p.Direction, ruleDirections}} {
		c := canonical(*f.value, f.allowed)
		if c == "" {
			return bad(f.name, *f.value)
		}
		*f.value = c
	}
	if p.Priority < 100 || p.Priority > 4096 {
		return netErr(http.StatusBadRequest, "SecurityRuleInvalidPriority",
			"Security rule has invalid Priority. Value provided: %d Allowed range 100-4096.", p.Priority)
	}
	if (p.SourceAddressPrefix == "") == (len(p.SourceAddressPrefixes) == 0) {
		return netErr(http.StatusBadRequest, "SecurityRuleInvalidAddressPrefix",
			"Security rule %s must have exactly one of sourceAddressPrefix or sourceAddressPrefixes.", id)
	}
	if (p.DestinationAddressPrefix == "") == (len(p.DestinationAddressPrefixes) == 0) {
		return netErr(http.StatusBadRequest, "SecurityRuleInvalidAddressPrefix",
			"Security rule %s must have exactly one of destinationAddressPrefix or destinationAddressPrefixes.", id)
	}
	if (p.SourcePortRange == "") == (len(p.SourcePortRanges) == 0) {
		return netErr(http.StatusBadRequest, "SecurityRuleInvalidPortRange",
			"Security rule %s must have exactly one of sourcePortRange or sourcePortRanges.", id)
	}
	if (p.DestinationPortRange == "") == (len(p.DestinationPortRanges) == 0) {
		return netErr(http.StatusBadRequest, "SecurityRuleInvalidPortRange",
			"Security rule %s must have exactly one of destinationPortRange or destinationPortRanges.", id)
	}
	for _, other := range n.rules {
		if !eq(other.name, name) && other.props.Priority == p.Priority && other.props.Direction == p.Direction {
			// Azure names the existing rule first, then the one being
			// written (Azure/aks-engine#2106, starkandwayne/bucc#183).
			return netErr(http.StatusBadRequest, "SecurityRuleConflict",
				"Security rule %s conflicts with rule %s. Rules cannot have the same Priority and Direction.",
				other.name, name)
		}
	}
	return nil
}

func (s *Sim) putRule(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/networkSecurityGroups/securityRules/write", ctx.t.nsgScope()+"/securityRules/"+ctx.t.child); e != nil {
		return e
	}
	n, e := s.findNSG(ctx)
	if e != nil {
		if e.Code == "ResourceNotFound" {
			return parentNotFound("networkSecurityGroups/securityRules", ctx.t.nsgScope())
		}
		return e
	}
	var body struct {
		Properties *ruleProperties `json:"properties"`
	}
	if e := decodeBody(ctx.r, &body); e != nil {
		return e
	}
	if body.Properties == nil {
		return netErr(http.StatusBadRequest, "InvalidRequestFormat", "Cannot parse the request. The security rule has no properties.")
	}
	existing := n.rule(ctx.t.child)
	if existing != nil && existing.provisioning != "Succeeded" {
		return anotherOperation(n.id() + "/securityRules/" + existing.name)
	}
	if e := validateRule(n, ctx.t.child, body.Properties); e != nil {
		return e
	}
	status := http.StatusOK
	r := existing
	if r == nil {
		status = http.StatusCreated
		r = &securityRule{name: ctx.t.child}
		n.rules = append(n.rules, r)
		sort.Slice(n.rules, func(i, j int) bool { return lower(n.rules[i].name) < lower(n.rules[j].name) })
	}
	r.props = *body.Properties
	r.provisioning = "Updating"
	r.etag++
	s.startOperation(ctx, n.subID, n.location, false, func() { r.provisioning = "Succeeded" })
	writeJSON(ctx.w, status, ruleJSON(n, r))
	return nil
}

func (s *Sim) deleteRule(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/networkSecurityGroups/securityRules/delete", ctx.t.nsgScope()+"/securityRules/"+ctx.t.child); e != nil {
		return e
	}
	n, e := s.findNSG(ctx)
	if e != nil {
		return e
	}
	r := n.rule(ctx.t.child)
	if r == nil {
		ctx.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	r.provisioning = "Deleting"
	s.startOperation(ctx, n.subID, n.location, true, func() {
		for i, x := range n.rules {
			if x == r {
				n.rules = append(n.rules[:i], n.rules[i+1:]...)
				break
			}
		}
	})
	ctx.w.WriteHeader(http.StatusAccepted)
	return nil
}

// parentNotFound is ARM's answer to a PUT of a child resource whose parent
// does not exist.
func parentNotFound(childType, parentID string) *armError {
	return armErr(http.StatusNotFound, "ParentResourceNotFound",
		"Failed to perform 'write' on resource(s) of type '%s', because the parent resource '%s' could not be found.", childType, parentID)
}

func anotherOperation(id string) *armError {
	return netErr(http.StatusConflict, "AnotherOperationInProgress",
		"Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: %s.", id)
}

func joinPrefixes(p []string) string { return strings.Join(p, ", ") }
