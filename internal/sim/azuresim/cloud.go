package azuresim

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// The simcloud.Cloud side: what Dragonfly Cloud's backend does in Azure when
// a connection is created. Acting as Dragonfly's application it
//
//  1. creates the peering from Dragonfly's network to the customer's, which
//     needs Dragonfly's service principal in the customer's tenant with
//     peer/action on the customer's network (the console guide's custom
//     role), proven by a token for that tenant;
//  2. lets the customer's application into Dragonfly's tenant: creates its
//     service principal there and grants it peering rights on Dragonfly's
//     network (so the customer can peer back, with an auxiliary token).
//
// Every failure is returned with the Azure error text Dragonfly would see.

var _ simcloud.Cloud = (*Sim)(nil)

// DragonflyGrantRole is the custom role, in Dragonfly's tenant, that
// CreatePeering gives the customer's application on Dragonfly's network.
// The real role's name is not public; this one allows what peering back
// needs and nothing more.
const DragonflyGrantRole = "dfcloud-customer-peering-role"

// Provider implements simcloud.Cloud.
func (s *Sim) Provider() string { return "azure" }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// PeeringName is the name (and peer ID) of Dragonfly's side of the
// peering of a connection.
func PeeringName(connectionID string) string {
	return "dfcloud-" + unsafeName.ReplaceAllString(connectionID, "-")
}

// CreatePeering implements simcloud.Cloud.
func (s *Sim) CreatePeering(req simcloud.PeeringRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	name := PeeringName(req.ConnectionID)
	if cp := s.connPeerings[req.ConnectionID]; cp != nil && cp.err == "" {
		return cp.name, nil
	}
	cp := &cloudPeering{connectionID: req.ConnectionID, name: name,
		vnetID: req.Network.VPCAccountID + "/providers/Microsoft.Network/virtualNetworks/" + req.Network.VPCResourceID}
	s.connPeerings[req.ConnectionID] = cp
	if err := s.createPeeringLocked(req, cp); err != nil {
		cp.err = err.Error()
		return "", err
	}
	return name, nil
}

func (s *Sim) createPeeringLocked(req simcloud.PeeringRequest, cp *cloudPeering) error {
	az := req.Peer.Azure
	if az == nil {
		return errors.New("InvalidRequest: the connection has no Azure peer details (resource group, tenant, app ID)")
	}
	dfTenant := s.tenants[lower(s.opts.DragonflyTenantID)]
	var dfSP *servicePrincipal
	if dfTenant != nil {
		dfSP = s.spByApp(dfTenant.id, s.opts.DragonflyAppID)
	}
	if dfSP == nil {
		return fmt.Errorf("simulator setup: Dragonfly's tenant %s is not seeded (AddTenant)", s.opts.DragonflyTenantID)
	}
	local := s.vnets[lower(cp.vnetID)]
	if local == nil {
		_, rg, vname, _ := parseVNetID(cp.vnetID)
		return resourceNotFound("Microsoft.Network/virtualNetworks/"+vname, rg)
	}
	cp.vnetID = local.id()

	// The customer's application must exist and be multi-tenant.
	app := s.apps[lower(az.AppObjectID)]
	if app == nil || !app.multiTenant() {
		//lint:ignore ST1005 Graph's own message, verbatim: the connection's status_detail shows it as Azure wrote it.
		return fmt.Errorf("Request_BadRequest: The appId '%s' of the service principal does not reference a valid application object.", az.AppObjectID)
	}

	// A token for the customer's tenant: Dragonfly needs a service
	// principal there.
	custTenant := s.tenants[lower(az.TenantID)]
	if custTenant == nil {
		return fmt.Errorf("AADSTS90002: %s", tenantNotFound(az.TenantID))
	}
	dfInCustomer := s.spByApp(custTenant.id, s.opts.DragonflyAppID)
	if dfInCustomer == nil {
		return fmt.Errorf("AADSTS700016: %s", appNotFoundInDirectory(s.opts.DragonflyAppID, custTenant))
	}

	// The peering, as the network resource provider checks it.
	pscope := local.id() + "/virtualNetworkPeerings/" + cp.name
	if !s.allowed(dfSP.objectID, actionPeeringWrite, pscope, s.now()) {
		return authorizationFailed(dfSP, actionPeeringWrite, pscope)
	}
	remoteID := "/subscriptions/" + req.Peer.AccountID + "/resourceGroups/" + az.ResourceGroup +
		"/providers/Microsoft.Network/virtualNetworks/" + req.Peer.VPCID
	if p := local.peering(cp.name); p != nil && eq(p.remoteID, remoteID) && p.provisioning != "Deleting" {
		return nil // already there: idempotent
	}
	useGW := az.UseRemoteGateways
	spec := peeringSpec{Properties: &peeringProps{RemoteVirtualNetwork: &resourceRef{ID: remoteID}, UseRemoteGateways: &useGW}}
	who := principals{primary: dfSP, aux: map[string]*servicePrincipal{lower(custTenant.id): dfInCustomer}}
	if _, _, e := s.applyPeering(nil, who, local, cp.name, spec); e != nil {
		return e
	}
	s.grantPeerBack(dfTenant, app, local)
	return nil
}

// grantPeerBack lets the customer's application into Dragonfly's tenant
// with the right to peer with Dragonfly's network (subject, like any role
// assignment, to propagation).
func (s *Sim) grantPeerBack(dfTenant *tenant, app *application, local *vnet) {
	guest := s.spByApp(dfTenant.id, app.appID)
	if guest == nil {
		guest = s.addSPLocked(dfTenant.id, app, s.now())
	}
	role := s.roleDefByName(dfTenant.id, DragonflyGrantRole)
	if role == nil {
		role = &roleDefinition{guid: s.newGUID(), tenantID: dfTenant.id, name: DragonflyGrantRole, created: s.now(),
			description:      "Lets a customer's application peer its network with Dragonfly Cloud's network.",
			actions:          []string{"Microsoft.Network/virtualNetworks/read", actionPeer, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read"},
			assignableScopes: []string{"/subscriptions/" + local.subID}}
		s.roleDefs[role.guid] = role
	}
	if !s.hasAssignment(guest.objectID, local.id(), role.guid) {
		s.assignLocked(local.id(), guest, role.guid, s.now().Add(s.opts.Delays.RoleAssignmentPropagation))
	}
}

func (s *Sim) hasAssignment(principalID, scope, roleGUID string) bool {
	for _, ra := range s.assignments {
		if ra.principalID == principalID && eq(ra.scope, scope) && eq(ra.roleDefGUID, roleGUID) {
			return true
		}
	}
	return false
}

func (s *Sim) cloudPeeringByID(peerID string) *cloudPeering {
	for _, k := range sortedKeys(s.connPeerings) {
		if cp := s.connPeerings[k]; cp.name == peerID {
			return cp
		}
	}
	return nil
}

// PeeringStatus implements simcloud.Cloud: Established once both sides are
// Connected, Gone once the customer deleted their side of a connected
// peering (Dragonfly's side is then Disconnected).
func (s *Sim) PeeringStatus(peerID string) simcloud.PeeringStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	cp := s.cloudPeeringByID(peerID)
	if cp == nil {
		return simcloud.PeeringStatus{Failed: fmt.Sprintf("NotFound: peering %s is unknown", peerID)}
	}
	if cp.err != "" {
		return simcloud.PeeringStatus{Failed: cp.err}
	}
	v := s.vnets[lower(cp.vnetID)]
	var p *peering
	if v != nil {
		p = v.peering(cp.name)
	}
	switch {
	case p == nil:
		return simcloud.PeeringStatus{Failed: fmt.Sprintf("NotFound: Resource %s/virtualNetworkPeerings/%s not found.", cp.vnetID, cp.name)}
	case p.state == "Disconnected":
		return simcloud.PeeringStatus{Gone: true}
	case p.state == "Connected" && p.provisioning == "Succeeded":
		return simcloud.PeeringStatus{Established: true}
	}
	return simcloud.PeeringStatus{}
}

// DeletePeering implements simcloud.Cloud: it starts deleting Dragonfly's
// side (a long-running operation, like any peering delete), after a create
// still in progress if there is one.
func (s *Sim) DeletePeering(peerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	cp := s.cloudPeeringByID(peerID)
	if cp == nil {
		return nil
	}
	v := s.vnets[lower(cp.vnetID)]
	if v == nil {
		return nil
	}
	p := v.peering(cp.name)
	if p == nil || p.provisioning == "Deleting" {
		return nil
	}
	// While the create still runs, Azure would refuse the delete
	// (AnotherOperationInProgress); Dragonfly's backend retries until it
	// goes through, which queuing the delete after the create models.
	s.beginPeeringDelete(nil, v, p)
	return nil
}
