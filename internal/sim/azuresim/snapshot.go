package azuresim

import (
	"encoding/json"
	"sort"
	"time"
)

// Snapshot: the whole simulated state as deterministic JSON (sorted, no
// request log, nothing that changes on reads). Secrets never appear: only
// key IDs and Graph's three-character hints are kept.

type snapTenant struct {
	ID string `json:"id"`
}

type snapPassword struct {
	KeyID       string `json:"keyId"`
	DisplayName string `json:"displayName,omitempty"`
	Hint        string `json:"hint"`
	Start       string `json:"start,omitempty"`
	End         string `json:"end"`
	UsableFrom  string `json:"usableFrom,omitempty"`
}

type snapApp struct {
	ObjectID       string         `json:"objectId"`
	AppID          string         `json:"appId"`
	TenantID       string         `json:"tenantId"`
	DisplayName    string         `json:"displayName"`
	SignInAudience string         `json:"signInAudience"`
	Owners         []string       `json:"owners,omitempty"`
	Passwords      []snapPassword `json:"passwordCredentials"`
}

type snapSP struct {
	ObjectID       string   `json:"objectId"`
	AppID          string   `json:"appId"`
	TenantID       string   `json:"tenantId"`
	GraphRoles     []string `json:"graphRoles,omitempty"`
	DirectoryRoles []string `json:"directoryRoles,omitempty"`
}

type snapSub struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
}

type snapRG struct {
	ID       string `json:"id"`
	Location string `json:"location"`
}

type snapPeering struct {
	Name                      string   `json:"name"`
	RemoteVNetID              string   `json:"remoteVirtualNetwork"`
	RemoteAddressSpace        []string `json:"remoteAddressSpace"`
	PeeringState              string   `json:"peeringState"`
	ProvisioningState         string   `json:"provisioningState"`
	AllowVirtualNetworkAccess bool     `json:"allowVirtualNetworkAccess"`
	AllowForwardedTraffic     bool     `json:"allowForwardedTraffic"`
	AllowGatewayTransit       bool     `json:"allowGatewayTransit"`
	UseRemoteGateways         bool     `json:"useRemoteGateways"`
}

type snapSubnet struct {
	Name          string `json:"name"`
	AddressPrefix string `json:"addressPrefix"`
	NSG           string `json:"networkSecurityGroup,omitempty"`
	RouteTable    string `json:"routeTable,omitempty"`
}

type snapRoute struct {
	Name             string `json:"name"`
	AddressPrefix    string `json:"addressPrefix"`
	NextHopType      string `json:"nextHopType"`
	NextHopIPAddress string `json:"nextHopIpAddress,omitempty"`
}

type snapRouteTable struct {
	ID     string      `json:"id"`
	Routes []snapRoute `json:"routes"`
}

type snapVNet struct {
	ID         string        `json:"id"`
	Location   string        `json:"location"`
	Prefixes   []string      `json:"addressPrefixes"`
	HasGateway bool          `json:"hasGateway"`
	Subnets    []snapSubnet  `json:"subnets"`
	Peerings   []snapPeering `json:"peerings"`
}

type snapRule struct {
	Name              string         `json:"name"`
	ProvisioningState string         `json:"provisioningState"`
	Properties        ruleProperties `json:"properties"`
}

type snapNSG struct {
	ID       string     `json:"id"`
	Location string     `json:"location"`
	Rules    []snapRule `json:"securityRules"`
}

type snapRoleDef struct {
	ID               string   `json:"id"`
	TenantID         string   `json:"tenantId"`
	Name             string   `json:"roleName"`
	Actions          []string `json:"actions"`
	NotActions       []string `json:"notActions,omitempty"`
	AssignableScopes []string `json:"assignableScopes"`
}

type snapAssignment struct {
	Name        string `json:"name"`
	Scope       string `json:"scope"`
	RoleDef     string `json:"roleDefinition"`
	PrincipalID string `json:"principalId"`
	TenantID    string `json:"tenantId"`
	Effective   string `json:"effectiveFrom,omitempty"`
}

type snapConnection struct {
	ConnectionID string `json:"connectionId"`
	VNetID       string `json:"virtualNetwork"`
	PeeringName  string `json:"peeringName"`
	Error        string `json:"error,omitempty"`
}

type snapshot struct {
	Tenants               []snapTenant     `json:"tenants"`
	Applications          []snapApp        `json:"applications"`
	ServicePrincipals     []snapSP         `json:"servicePrincipals"`
	Subscriptions         []snapSub        `json:"subscriptions"`
	ResourceGroups        []snapRG         `json:"resourceGroups"`
	VirtualNetworks       []snapVNet       `json:"virtualNetworks"`
	NetworkSecurityGroups []snapNSG        `json:"networkSecurityGroups"`
	RouteTables           []snapRouteTable `json:"routeTables,omitempty"`
	RoleDefinitions       []snapRoleDef    `json:"customRoleDefinitions"`
	RoleAssignments       []snapAssignment `json:"roleAssignments"`
	Connections           []snapConnection `json:"dragonflyConnections"`
}

func snapTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Snapshot returns the simulator's state as deterministic, indented JSON.
// Long-running operations that are due are completed first, so the result
// reflects the state as of now.
func (s *Sim) Snapshot() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	snap := snapshot{}
	for _, k := range sortedKeys(s.tenants) {
		snap.Tenants = append(snap.Tenants, snapTenant{ID: s.tenants[k].id})
	}
	for _, k := range sortedKeys(s.apps) {
		a := s.apps[k]
		sa := snapApp{ObjectID: a.objectID, AppID: a.appID, TenantID: a.tenantID, DisplayName: a.displayName,
			SignInAudience: a.signInAudience, Owners: a.owners, Passwords: []snapPassword{}}
		for _, pc := range a.passwords {
			sa.Passwords = append(sa.Passwords, snapPassword{KeyID: pc.keyID, DisplayName: pc.displayName, Hint: pc.hint,
				Start: snapTime(pc.start), End: snapTime(pc.end), UsableFrom: snapTime(pc.usableFrom)})
		}
		sort.Slice(sa.Passwords, func(i, j int) bool { return sa.Passwords[i].KeyID < sa.Passwords[j].KeyID })
		snap.Applications = append(snap.Applications, sa)
	}
	for _, k := range sortedKeys(s.sps) {
		sp := s.sps[k]
		snap.ServicePrincipals = append(snap.ServicePrincipals, snapSP{ObjectID: sp.objectID, AppID: sp.appID, TenantID: sp.tenantID,
			GraphRoles: sp.graphRoles, DirectoryRoles: sp.directoryRoles})
	}
	for _, k := range sortedKeys(s.subs) {
		sub := s.subs[k]
		snap.Subscriptions = append(snap.Subscriptions, snapSub{ID: sub.id, TenantID: sub.tenantID, Name: sub.name})
	}
	for _, k := range sortedKeys(s.rgs) {
		g := s.rgs[k]
		snap.ResourceGroups = append(snap.ResourceGroups, snapRG{ID: "/subscriptions/" + g.subID + "/resourceGroups/" + g.name, Location: g.location})
	}
	for _, k := range sortedKeys(s.vnets) {
		v := s.vnets[k]
		sv := snapVNet{ID: v.id(), Location: v.location, Prefixes: v.prefixes, HasGateway: v.hasGateway, Subnets: []snapSubnet{}, Peerings: []snapPeering{}}
		for _, sn := range v.subnets {
			sv.Subnets = append(sv.Subnets, snapSubnet{Name: sn.name, AddressPrefix: sn.prefix, NSG: sn.nsgID, RouteTable: sn.routeTableID})
		}
		for _, p := range v.peerings {
			sv.Peerings = append(sv.Peerings, snapPeering{Name: p.name, RemoteVNetID: p.remoteID, RemoteAddressSpace: nonNil(p.remoteSnapshot),
				PeeringState: p.state, ProvisioningState: p.provisioning,
				AllowVirtualNetworkAccess: p.allowVirtualNetworkAccess, AllowForwardedTraffic: p.allowForwardedTraffic,
				AllowGatewayTransit: p.allowGatewayTransit, UseRemoteGateways: p.useRemoteGateways})
		}
		snap.VirtualNetworks = append(snap.VirtualNetworks, sv)
	}
	for _, k := range sortedKeys(s.nsgs) {
		n := s.nsgs[k]
		sn := snapNSG{ID: n.id(), Location: n.location, Rules: []snapRule{}}
		for _, r := range n.rules {
			sn.Rules = append(sn.Rules, snapRule{Name: r.name, ProvisioningState: r.provisioning, Properties: r.props})
		}
		snap.NetworkSecurityGroups = append(snap.NetworkSecurityGroups, sn)
	}
	for _, k := range sortedKeys(s.routeTables) {
		rt := s.routeTables[k]
		st := snapRouteTable{ID: rt.id(), Routes: []snapRoute{}}
		for _, r := range rt.routes {
			st.Routes = append(st.Routes, snapRoute{Name: r.name, AddressPrefix: r.addressPrefix, NextHopType: r.nextHopType, NextHopIPAddress: r.nextHopIPAddress})
		}
		snap.RouteTables = append(snap.RouteTables, st)
	}
	for _, k := range sortedKeys(s.roleDefs) {
		rd := s.roleDefs[k]
		snap.RoleDefinitions = append(snap.RoleDefinitions, snapRoleDef{ID: rd.guid, TenantID: rd.tenantID, Name: rd.name,
			Actions: nonNil(rd.actions), NotActions: rd.notActions, AssignableScopes: nonNil(rd.assignableScopes)})
	}
	for _, ra := range s.sortedAssignments() {
		snap.RoleAssignments = append(snap.RoleAssignments, snapAssignment{Name: ra.name, Scope: ra.scope, RoleDef: ra.roleDefGUID,
			PrincipalID: ra.principalID, TenantID: ra.tenantID, Effective: snapTime(ra.effective)})
	}
	for _, k := range sortedKeys(s.connPeerings) {
		cp := s.connPeerings[k]
		snap.Connections = append(snap.Connections, snapConnection{ConnectionID: cp.connectionID, VNetID: cp.vnetID, PeeringName: cp.name, Error: cp.err})
	}
	out, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		panic(err) // only plain types: cannot happen
	}
	return out
}
