package azuresim

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Seeding and inspection. Everything seeded here exists from the start:
// seeded secrets and role assignments are usable immediately, without the
// propagation delays that apply to what is created through the API.

// Entra directory role template IDs, by display name.
var directoryRoles = map[string]string{
	"Global Administrator":            "62e90394-69f5-4237-9190-012177145e10",
	"Application Administrator":       "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
	"Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
	"Application Developer":           "cf1c38e5-3621-4004-a7cb-879624dced7c",
	"Directory Readers":               "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
	"Privileged Role Administrator":   "e8611ab8-c189-46e8-94e1-60213ab1f814",
}

// Microsoft Graph application permissions the simulator knows.
var graphPermissions = map[string]bool{
	"Application.Read.All":               true,
	"Application.ReadWrite.All":          true,
	"Application.ReadWrite.OwnedBy":      true,
	"Directory.Read.All":                 true,
	"Directory.ReadWrite.All":            true,
	"AppRoleAssignment.ReadWrite.All":    true,
	"RoleManagement.ReadWrite.Directory": true,
}

// AddTenant adds a Microsoft Entra tenant (directory). Adding Dragonfly's
// tenant also registers Dragonfly's multi-tenant application there.
func (s *Sim) AddTenant(tenantID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTenantLocked(tenantID)
}

func (s *Sim) addTenantLocked(tenantID string) *tenant {
	if t := s.tenants[lower(tenantID)]; t != nil {
		return t
	}
	t := &tenant{id: tenantID, displayName: tenantID}
	s.tenants[lower(tenantID)] = t
	if strings.EqualFold(tenantID, s.opts.DragonflyTenantID) {
		app := s.addAppLocked(tenantID, AppSpec{AppID: s.opts.DragonflyAppID, DisplayName: "Dragonfly Cloud", MultiTenant: true}, time.Time{})
		s.addSPLocked(t.id, app, time.Time{})
	}
	return t
}

// AddSubscription adds a subscription to a tenant (added if missing). In
// Dragonfly's tenant, Dragonfly's application is made Owner of it.
func (s *Sim) AddSubscription(tenantID, subscriptionID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.addTenantLocked(tenantID)
	s.subs[lower(subscriptionID)] = &subscription{id: subscriptionID, tenantID: t.id, name: name}
	if strings.EqualFold(t.id, s.opts.DragonflyTenantID) {
		if sp := s.spByApp(t.id, s.opts.DragonflyAppID); sp != nil {
			s.assignLocked("/subscriptions/"+subscriptionID, sp, RoleOwner, time.Time{})
		}
	}
}

// AddResourceGroup adds a resource group to a subscription. It panics if
// the subscription was not added first (a seeding bug).
func (s *Sim) AddResourceGroup(subscriptionID, rg, location string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[lower(subscriptionID)]
	if sub == nil {
		panic(fmt.Sprintf("azuresim: AddResourceGroup: unknown subscription %q", subscriptionID))
	}
	s.rgs[lower(sub.id+"/"+rg)] = &resourceGroup{subID: sub.id, name: rg, location: location}
}

// VNetSpec describes a virtual network to seed.
type VNetSpec struct {
	Name            string
	Location        string // the resource group's when empty
	AddressPrefixes []string
	Subnets         []SubnetSpec
	// HasGateway says whether the network has a virtual network gateway,
	// which a peering with useRemoteGateways needs on its remote side. As
	// in Azure, the gateway lives in a subnet named GatewaySubnet, which
	// Subnets must hold; reads show it as that subnet's IP configuration.
	HasGateway bool
}

// SubnetSpec describes a subnet; NSG names a network security group in the
// same resource group (seed it first with AddNSG).
type SubnetSpec struct {
	Name          string
	AddressPrefix string
	NSG           string
	// RouteTable names a route table in the same resource group (seed it
	// first with AddRouteTable).
	RouteTable string
}

// AddVNet adds a virtual network and returns its resource ID.
func (s *Sim) AddVNet(subscriptionID, rg string, v VNetSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.rgs[lower(subscriptionID+"/"+rg)]
	if g == nil {
		return "", fmt.Errorf("resource group %s/%s does not exist", subscriptionID, rg)
	}
	if v.Name == "" || len(v.AddressPrefixes) == 0 {
		return "", errors.New("a virtual network needs a name and at least one address prefix")
	}
	for _, p := range v.AddressPrefixes {
		if _, err := netip.ParsePrefix(p); err != nil {
			return "", fmt.Errorf("address prefix %q: %w", p, err)
		}
	}
	n := &vnet{subID: g.subID, rg: g.name, name: v.Name, location: v.Location, guid: s.newGUID(),
		prefixes: append([]string(nil), v.AddressPrefixes...), hasGateway: v.HasGateway}
	if n.location == "" {
		n.location = g.location
	}
	if s.vnets[lower(n.id())] != nil {
		return "", fmt.Errorf("virtual network %s already exists", n.id())
	}
	for _, sn := range v.Subnets {
		if _, err := netip.ParsePrefix(sn.AddressPrefix); err != nil {
			return "", fmt.Errorf("subnet %s: %w", sn.Name, err)
		}
		sub := &subnet{name: sn.Name, prefix: sn.AddressPrefix}
		if sn.NSG != "" {
			ng := s.nsgs[lower(nsgID(g.subID, g.name, sn.NSG))]
			if ng == nil {
				return "", fmt.Errorf("network security group %s does not exist in %s", sn.NSG, g.name)
			}
			sub.nsgID = ng.id()
		}
		if sn.RouteTable != "" {
			rt := s.routeTables[lower(routeTableID(g.subID, g.name, sn.RouteTable))]
			if rt == nil {
				return "", fmt.Errorf("route table %s does not exist in %s", sn.RouteTable, g.name)
			}
			sub.routeTableID = rt.id()
		}
		n.subnets = append(n.subnets, sub)
	}
	if n.hasGateway && n.gatewaySubnet() == nil {
		return "", fmt.Errorf("virtual network %s: a gateway needs a subnet named %s", v.Name, GatewaySubnet)
	}
	s.vnets[lower(n.id())] = n
	return n.id(), nil
}

func nsgID(sub, rg, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Network/networkSecurityGroups/" + name
}

// AddNSG adds a network security group (with Azure's default rules) and
// returns its resource ID.
func (s *Sim) AddNSG(subscriptionID, rg, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.rgs[lower(subscriptionID+"/"+rg)]
	if g == nil {
		return "", fmt.Errorf("resource group %s/%s does not exist", subscriptionID, rg)
	}
	n := &nsg{subID: g.subID, rg: g.name, name: name, location: g.location, guid: s.newGUID()}
	if s.nsgs[lower(n.id())] != nil {
		return "", fmt.Errorf("network security group %s already exists", n.id())
	}
	s.nsgs[lower(n.id())] = n
	return n.id(), nil
}

// SecurityRuleSpec describes a security rule to seed.
type SecurityRuleSpec struct {
	Priority                 int
	Direction                string // Inbound | Outbound
	Access                   string // Allow | Deny
	Protocol                 string // Tcp | Udp | Icmp | *
	SourceAddressPrefix      string
	SourcePortRange          string
	DestinationAddressPrefix string
	DestinationPortRange     string
	Description              string
}

// AddSecurityRule adds a rule to a network security group.
func (s *Sim) AddSecurityRule(nsgResourceID, name string, r SecurityRuleSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nsgs[lower(nsgResourceID)]
	if n == nil {
		return fmt.Errorf("network security group %s does not exist", nsgResourceID)
	}
	props := ruleProperties{
		Description: r.Description, Protocol: r.Protocol, Access: r.Access, Priority: r.Priority, Direction: r.Direction,
		SourceAddressPrefix: r.SourceAddressPrefix, SourcePortRange: r.SourcePortRange,
		DestinationAddressPrefix: r.DestinationAddressPrefix, DestinationPortRange: r.DestinationPortRange,
	}
	if e := validateRule(n, name, &props); e != nil {
		return errors.New(e.Message)
	}
	n.rules = append(n.rules, &securityRule{name: name, props: props, provisioning: "Succeeded", etag: 1})
	sort.Slice(n.rules, func(i, j int) bool { return lower(n.rules[i].name) < lower(n.rules[j].name) })
	return nil
}

// AppSpec describes an app registration to seed.
type AppSpec struct {
	AppID       string // generated when empty
	DisplayName string
	// MultiTenant makes the sign-in audience AzureADMultipleOrgs, so the
	// app can get tokens in other tenants that have its service principal.
	MultiTenant bool
}

// AddApplication registers an application in its home tenant (added if
// missing) and returns its object ID and app (client) ID.
func (s *Sim) AddApplication(tenantID string, a AppSpec) (objectID, appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTenantLocked(tenantID)
	app := s.addAppLocked(tenantID, a, time.Time{})
	return app.objectID, app.appID
}

func (s *Sim) addAppLocked(tenantID string, a AppSpec, created time.Time) *application {
	if a.AppID == "" {
		a.AppID = s.newGUID()
	}
	if app := s.apps[lower(a.AppID)]; app != nil {
		return app
	}
	aud := "AzureADMyOrg"
	if a.MultiTenant {
		aud = "AzureADMultipleOrgs"
	}
	app := &application{objectID: s.newGUID(), appID: a.AppID, tenantID: s.tenants[lower(tenantID)].id,
		displayName: a.DisplayName, signInAudience: aud, created: created}
	s.apps[lower(app.appID)] = app
	return app
}

// AddServicePrincipal creates the service principal of an existing
// application in a tenant, as an admin consent or `az ad sp create` would.
func (s *Sim) AddServicePrincipal(tenantID, appID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[lower(tenantID)]
	app := s.apps[lower(appID)]
	if t == nil {
		return "", fmt.Errorf("tenant %s does not exist", tenantID)
	}
	if app == nil || (app.tenantID != t.id && !app.multiTenant()) {
		return "", fmt.Errorf("application %s is not available in tenant %s", appID, tenantID)
	}
	if sp := s.spByApp(t.id, app.appID); sp != nil {
		return sp.objectID, nil
	}
	return s.addSPLocked(t.id, app, time.Time{}).objectID, nil
}

func (s *Sim) addSPLocked(tenantID string, app *application, created time.Time) *servicePrincipal {
	sp := &servicePrincipal{objectID: s.newGUID(), appID: app.appID, tenantID: tenantID, displayName: app.displayName, created: created}
	s.sps[sp.objectID] = sp
	return sp
}

// AddPassword adds a client secret to an application, usable at once.
func (s *Sim) AddPassword(appID, secret string) (keyID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[lower(appID)]
	if app == nil {
		return "", fmt.Errorf("application %s does not exist", appID)
	}
	pc := s.newPassword(secret, "seeded", time.Time{}, time.Time{}, time.Time{})
	app.passwords = append(app.passwords, pc)
	return pc.keyID, nil
}

// newPassword makes a credential record. Zero start means "valid since
// ever"; zero end means two years after start (Graph's default).
func (s *Sim) newPassword(secret, displayName string, start, end, usableFrom time.Time) *passwordCredential {
	if end.IsZero() {
		if start.IsZero() {
			end = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
		} else {
			end = start.AddDate(2, 0, 0)
		}
	}
	hint := secret
	if len(hint) > 3 {
		hint = hint[:3]
	}
	return &passwordCredential{keyID: s.newGUID(), displayName: displayName, hint: hint, hash: hashSecret(secret),
		start: start, end: end, usableFrom: usableFrom}
}

// AddServicePrincipalWithSecret seeds a signed-in identity: an application
// (registered in tenantID unless appID already exists) with its service
// principal in tenantID and a client secret usable at once. roles are
// Microsoft Graph application permissions (e.g. "Application.ReadWrite.All")
// or Entra directory role names (e.g. "Application Administrator"). Give it
// Azure roles with AssignRole. It returns the service principal's object ID
// and panics on an unknown permission or role name (a seeding bug).
func (s *Sim) AddServicePrincipalWithSecret(tenantID, appID, displayName, secret string, roles ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.addTenantLocked(tenantID)
	app := s.addAppLocked(t.id, AppSpec{AppID: appID, DisplayName: displayName}, time.Time{})
	sp := s.spByApp(t.id, app.appID)
	if sp == nil {
		sp = s.addSPLocked(t.id, app, time.Time{})
	}
	if secret != "" {
		app.passwords = append(app.passwords, s.newPassword(secret, "seeded", time.Time{}, time.Time{}, time.Time{}))
	}
	if err := grantLocked(sp, roles); err != nil {
		panic("azuresim: AddServicePrincipalWithSecret: " + err.Error())
	}
	return sp.objectID
}

// GrantGraphPermission grants Graph application permissions or directory
// roles (by name) to a service principal. They appear in tokens issued
// afterwards, as with a real admin consent.
func (s *Sim) GrantGraphPermission(spObjectID string, roles ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.sps[spObjectID]
	if sp == nil {
		return fmt.Errorf("service principal %s does not exist", spObjectID)
	}
	return grantLocked(sp, roles)
}

func grantLocked(sp *servicePrincipal, roles []string) error {
	for _, r := range roles {
		switch {
		case directoryRoles[r] != "":
			if !contains(sp.directoryRoles, directoryRoles[r]) {
				sp.directoryRoles = append(sp.directoryRoles, directoryRoles[r])
			}
		case graphPermissions[r]:
			if !contains(sp.graphRoles, r) {
				sp.graphRoles = append(sp.graphRoles, r)
			}
		default:
			return fmt.Errorf("unknown Graph permission or directory role %q", r)
		}
	}
	sort.Strings(sp.graphRoles)
	sort.Strings(sp.directoryRoles)
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// AssignRole gives a principal a role (built-in or custom, by name) on a
// scope, effective immediately. It returns the role assignment's ID.
func (s *Sim) AssignRole(scope, principalObjectID, roleName string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.sps[principalObjectID]
	if sp == nil {
		return "", fmt.Errorf("principal %s does not exist", principalObjectID)
	}
	canon, sub, e := s.resolveScope(scope)
	if e != nil {
		return "", errors.New(e.Message)
	}
	if sub.tenantID != sp.tenantID {
		return "", fmt.Errorf("principal %s is in tenant %s, scope %s in tenant %s", principalObjectID, sp.tenantID, scope, sub.tenantID)
	}
	rd := s.roleDefByName(sub.tenantID, roleName)
	if rd == nil {
		return "", fmt.Errorf("role %q does not exist in tenant %s", roleName, sub.tenantID)
	}
	ra := s.assignLocked(canon, sp, rd.guid, time.Time{})
	return ra.scope + "/providers/Microsoft.Authorization/roleAssignments/" + ra.name, nil
}

func (s *Sim) assignLocked(scope string, sp *servicePrincipal, roleGUID string, effective time.Time) *roleAssignment {
	for _, ra := range s.assignments {
		if ra.principalID == sp.objectID && strings.EqualFold(ra.scope, scope) && strings.EqualFold(ra.roleDefGUID, roleGUID) {
			return ra
		}
	}
	ra := &roleAssignment{name: s.newGUID(), scope: scope, roleDefGUID: roleGUID, principalID: sp.objectID,
		principalType: "ServicePrincipal", tenantID: sp.tenantID, created: effective, effective: effective}
	s.assignments[lower(ra.name)] = ra
	return ra
}

// AddCustomRole defines a custom role in the subscription's tenant,
// assignable at the subscription (like the console guide's
// dfcloud-peering-role), and returns its GUID.
func (s *Sim) AddCustomRole(subscriptionID, name string, actions ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[lower(subscriptionID)]
	if sub == nil {
		return "", fmt.Errorf("subscription %s does not exist", subscriptionID)
	}
	if rd := s.roleDefByName(sub.tenantID, name); rd != nil {
		return "", fmt.Errorf("a role named %q already exists in tenant %s", name, sub.tenantID)
	}
	rd := &roleDefinition{guid: s.newGUID(), tenantID: sub.tenantID, name: name, actions: append([]string(nil), actions...),
		assignableScopes: []string{"/subscriptions/" + sub.id}}
	s.roleDefs[rd.guid] = rd
	return rd.guid, nil
}

// ServicePrincipalID returns the object ID of appID's service principal in
// tenantID, or "" when it has none.
func (s *Sim) ServicePrincipalID(tenantID, appID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp := s.spByApp(tenantID, appID); sp != nil {
		return sp.objectID
	}
	return ""
}

// spByApp finds appID's service principal in tenantID. Caller holds s.mu.
func (s *Sim) spByApp(tenantID, appID string) *servicePrincipal {
	for _, sp := range s.sps {
		if strings.EqualFold(sp.tenantID, tenantID) && strings.EqualFold(sp.appID, appID) {
			return sp
		}
	}
	return nil
}

// AppInfo describes an application registration.
type AppInfo struct {
	ObjectID, AppID, TenantID, DisplayName, SignInAudience string
	PasswordKeyIDs                                         []string
}

// Application looks an application up by app (client) ID.
func (s *Sim) Application(appID string) (AppInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[lower(appID)]
	if app == nil {
		return AppInfo{}, false
	}
	info := AppInfo{ObjectID: app.objectID, AppID: app.appID, TenantID: app.tenantID, DisplayName: app.displayName, SignInAudience: app.signInAudience}
	for _, pc := range app.passwords {
		info.PasswordKeyIDs = append(info.PasswordKeyIDs, pc.keyID)
	}
	return info, true
}

// PeeringInfo describes one side of a peering.
type PeeringInfo struct {
	Name, RemoteVNetID, PeeringState, PeeringSyncLevel, ProvisioningState string
	UseRemoteGateways, AllowGatewayTransit                                bool
}

// SetAddressPrefixes changes a virtual network's address space as a
// VNet update does (its peerings then fall out of sync): for Dragonfly's
// side, which no customer credential can update.
func (s *Sim) SetAddressPrefixes(vnetID string, prefixes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vnets[lower(vnetID)]
	if v == nil {
		return fmt.Errorf("no virtual network %s", vnetID)
	}
	if e := checkAddressSpace(v, prefixes); e != nil {
		return e
	}
	v.prefixes = append([]string(nil), prefixes...)
	return nil
}

// Peering looks up a peering of a virtual network (completing operations
// that are due first).
func (s *Sim) Peering(vnetID, name string) (PeeringInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	v := s.vnets[lower(vnetID)]
	if v == nil {
		return PeeringInfo{}, false
	}
	p := v.peering(name)
	if p == nil {
		return PeeringInfo{}, false
	}
	return PeeringInfo{Name: p.name, RemoteVNetID: p.remoteID, PeeringState: p.state, PeeringSyncLevel: s.syncLevel(v, p),
		ProvisioningState: p.provisioning, UseRemoteGateways: p.useRemoteGateways, AllowGatewayTransit: p.allowGatewayTransit}, true
}

// RoleAssignmentCount counts the role assignments of a principal, honoured
// or not yet.
func (s *Sim) RoleAssignmentCount(principalObjectID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ra := range s.assignments {
		if ra.principalID == principalObjectID {
			n++
		}
	}
	return n
}

// sortedAssignments returns the assignments in a stable order. Caller holds s.mu.
func (s *Sim) sortedAssignments() []*roleAssignment {
	out := make([]*roleAssignment, 0, len(s.assignments))
	for _, ra := range s.assignments {
		out = append(out, ra)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
