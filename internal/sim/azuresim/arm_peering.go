package azuresim

import (
	"net/http"
	"net/netip"
	"strings"
)

// Virtual network peerings: the linked authorization check (with
// auxiliary tokens across tenants), the resource provider's validations and
// the Initiated / Connected / Disconnected state machine.

// syncLevel is peeringSyncLevel as Azure reports it for p, a peering of
// local: after an address-space change a peering whose knowledge of the
// remote VNet is stale is LocalNotInSync (a PUT of it with
// syncRemoteAddressSpace=true refreshes it), and one whose remote peering
// does not know local's new space is RemoteNotInSync (only the remote
// side can sync).
func (s *Sim) syncLevel(local *vnet, p *peering) string {
	if p.state != "Connected" {
		return "RemoteNotInSync"
	}
	remote := s.vnets[lower(p.remoteID)]
	if remote == nil {
		return "RemoteNotInSync"
	}
	localStale := !samePrefixes(p.remoteSnapshot, remote.prefixes)
	remoteStale := false
	if q := remote.peeringTo(local.id()); q != nil {
		remoteStale = !samePrefixes(q.remoteSnapshot, local.prefixes)
	}
	switch {
	case localStale && remoteStale:
		return "LocalAndRemoteNotInSync"
	case localStale:
		return "LocalNotInSync"
	case remoteStale:
		return "RemoteNotInSync"
	}
	return "FullyInSync"
}

func samePrefixes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, p := range a {
		seen[lower(p)] = true
	}
	for _, p := range b {
		if !seen[lower(p)] {
			return false
		}
	}
	return true
}

func (s *Sim) peeringJSON(v *vnet, p *peering) map[string]any {
	id := v.id() + "/virtualNetworkPeerings/" + p.name
	current := p.remoteSnapshot
	if r := s.vnets[lower(p.remoteID)]; r != nil {
		current = r.prefixes
	}
	return map[string]any{
		"name": p.name, "id": id, "etag": etag(id, p.etag), "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
		"properties": map[string]any{
			"provisioningState":                p.provisioning,
			"resourceGuid":                     p.guid,
			"peeringState":                     p.state,
			"peeringSyncLevel":                 s.syncLevel(v, p),
			"remoteVirtualNetwork":             map[string]any{"id": p.remoteID},
			"allowVirtualNetworkAccess":        p.allowVirtualNetworkAccess,
			"allowForwardedTraffic":            p.allowForwardedTraffic,
			"allowGatewayTransit":              p.allowGatewayTransit,
			"useRemoteGateways":                p.useRemoteGateways,
			"doNotVerifyRemoteGateways":        false,
			"peerCompleteVnets":                true,
			"remoteAddressSpace":               map[string]any{"addressPrefixes": nonNil(p.remoteSnapshot)},
			"remoteVirtualNetworkAddressSpace": map[string]any{"addressPrefixes": nonNil(current)},
			"routeServiceVips":                 map[string]any{},
		},
	}
}

func (s *Sim) listPeerings(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read", ctx.t.vnetScope()); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	out := []any{}
	for _, p := range v.peerings {
		out = append(out, s.peeringJSON(v, p))
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

func (s *Sim) getPeering(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read", ctx.t.vnetScope()+"/virtualNetworkPeerings/"+ctx.t.child); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	p := v.peering(ctx.t.child)
	if p == nil {
		return childNotFound(v.id() + "/virtualNetworkPeerings/" + ctx.t.child)
	}
	writeJSON(ctx.w, http.StatusOK, s.peeringJSON(v, p))
	return nil
}

// peeringSpec is the writable part of a peering, as the SDK sends it.
type peeringSpec struct {
	Properties *peeringProps `json:"properties"`
}

type peeringProps struct {
	RemoteVirtualNetwork      *resourceRef `json:"remoteVirtualNetwork"`
	AllowVirtualNetworkAccess *bool        `json:"allowVirtualNetworkAccess"`
	AllowForwardedTraffic     *bool        `json:"allowForwardedTraffic"`
	AllowGatewayTransit       *bool        `json:"allowGatewayTransit"`
	UseRemoteGateways         *bool        `json:"useRemoteGateways"`
}

type resourceRef struct {
	ID string `json:"id"`
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// principals is who acts on a peering: the primary identity and, per
// other tenant, the identity an auxiliary token proved.
type principals struct {
	primary *servicePrincipal
	aux     map[string]*servicePrincipal // by lower-case tenant ID
}

func (ctx *armCtx) principals() principals {
	p := principals{primary: ctx.caller.sp, aux: map[string]*servicePrincipal{}}
	for _, a := range ctx.aux {
		p.aux[lower(a.sp.tenantID)] = a.sp
	}
	return p
}

// parseVNetID splits a virtual network resource ID.
func parseVNetID(id string) (sub, rg, name string, ok bool) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	if !strings.HasPrefix(id, "/") || len(segs) != 8 || !eq(segs[0], "subscriptions") || !eq(segs[2], "resourceGroups") ||
		!eq(segs[4], "providers") || !eq(segs[5], "Microsoft.Network") || !eq(segs[6], "virtualNetworks") {
		return "", "", "", false
	}
	return segs[1], segs[3], segs[7], true
}

// linkedPeerCheck is ARM's linked authorization for a peering: the
// identity must hold peer/action on the remote network, and when that
// network is in another tenant the identity there is only known through an
// auxiliary token.
func (s *Sim) linkedPeerCheck(who principals, peeringScope, remoteID string) *armError {
	remoteSub, _, _, _ := parseVNetID(remoteID)
	rsub := s.subs[lower(remoteSub)]
	if rsub == nil {
		return armErr(http.StatusForbidden, "LinkedAuthorizationFailed",
			"The client has permission to perform action '%s' on scope '%s', however the linked subscription '%s' was not found.",
			actionPeer, peeringScope, remoteSub)
	}
	actor := who.primary
	if !eq(rsub.tenantID, who.primary.tenantID) {
		actor = who.aux[lower(rsub.tenantID)]
		if actor == nil {
			return armErr(http.StatusForbidden, "LinkedAuthorizationFailed",
				"The client has permission to perform action '%s' on scope '%s', however the current tenant '%s' is not authorized to access linked subscription '%s'.",
				actionPeer, peeringScope, who.primary.tenantID, remoteSub)
		}
	}
	if !s.allowed(actor.objectID, actionPeer, remoteID, s.now()) {
		return armErr(http.StatusForbidden, "LinkedAuthorizationFailed",
			"The client '%s' with object id '%s' has permission to perform action '%s' on scope '%s'; however, it does not have permission to perform action '%s' on the linked scope(s) '%s' or the linked scope(s) are invalid.",
			who.primary.appID, who.primary.objectID, actionPeeringWrite, peeringScope, actionPeer, remoteID)
	}
	return nil
}

func (s *Sim) putPeering(ctx *armCtx) *armError {
	scope := ctx.t.vnetScope() + "/virtualNetworkPeerings/" + ctx.t.child
	if e := s.authorize(ctx, actionPeeringWrite, scope); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		if e.Code == "ResourceNotFound" {
			return parentNotFound("virtualNetworks/virtualNetworkPeerings", ctx.t.vnetScope())
		}
		return e
	}
	var spec peeringSpec
	if e := decodeBody(ctx.r, &spec); e != nil {
		return e
	}
	status, p, e := s.applyPeering(ctx, ctx.principals(), v, ctx.t.child, spec)
	if e != nil {
		return e
	}
	writeJSON(ctx.w, status, s.peeringJSON(v, p))
	return nil
}

// applyPeering validates and writes a peering of local, as the network
// resource provider does after ARM's own authorization, and starts its
// long-running operation. ctx is nil when Dragonfly's backend calls it.
// Caller holds s.mu.
func (s *Sim) applyPeering(ctx *armCtx, who principals, local *vnet, name string, spec peeringSpec) (int, *peering, *armError) {
	id := local.id() + "/virtualNetworkPeerings/" + name
	if spec.Properties == nil || spec.Properties.RemoteVirtualNetwork == nil || spec.Properties.RemoteVirtualNetwork.ID == "" {
		return 0, nil, netErr(http.StatusBadRequest, "InvalidRequestFormat",
			"Cannot parse the request. Peering %s must reference a remote virtual network (properties.remoteVirtualNetwork.id).", id)
	}
	props := spec.Properties
	remoteID := props.RemoteVirtualNetwork.ID
	if _, _, _, ok := parseVNetID(remoteID); !ok {
		return 0, nil, armErr(http.StatusBadRequest, "LinkedInvalidPropertyId",
			"Property id '%s' at path 'properties.remoteVirtualNetwork.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
			remoteID)
	}
	if e := s.linkedPeerCheck(who, id, remoteID); e != nil {
		return 0, nil, e
	}
	remote := s.vnets[lower(remoteID)]
	if remote == nil {
		return 0, nil, netErr(http.StatusBadRequest, "InvalidResourceReference",
			"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
			remoteID, id)
	}
	existing := local.peering(name)
	if existing != nil && existing.provisioning != "Succeeded" {
		return 0, nil, anotherOperation(id)
	}
	if other := local.peeringTo(remote.id()); other != nil && !eq(other.name, name) {
		return 0, nil, netErr(http.StatusBadRequest, "AnotherPeeringAlreadyReferencesRemoteVnet",
			"Peering %s already references remote virtual network %s.", local.id()+"/virtualNetworkPeerings/"+other.name, remote.id())
	}
	if overlap := overlapping(local.prefixes, remote.prefixes); len(overlap) > 0 {
		return 0, nil, netErr(http.StatusBadRequest, "VnetAddressSpacesOverlap",
			"Cannot create or update peering %s. Virtual networks %s and %s cannot be peered because their address spaces overlap. Overlapping address prefixes: %s",
			id, local.id(), remote.id(), joinPrefixes(overlap))
	}
	if e := s.overlapsAlreadyPeered(id, local, remote); e != nil {
		return 0, nil, e
	}
	useRemoteGateways := boolOr(props.UseRemoteGateways, false)
	if useRemoteGateways && !remote.hasGateway {
		return 0, nil, netErr(http.StatusBadRequest, "RemoteVnetHasNoGateways",
			"Peering %s cannot have UseRemoteGateway flag set to true because remote virtual network %s referenced by the peering does not have any gateways.",
			id, remote.id())
	}
	if q := remote.peeringTo(local.id()); q != nil && q.state == "Disconnected" {
		return 0, nil, netErr(http.StatusBadRequest, "RemotePeeringIsDisconnected",
			"Cannot create or update peering %s because remote peering %s referencing parent virtual network %s is in Disconnected state. Update or re-create the remote peering to get it back to Initiated state. Peering gets Disconnected when remote vnet or remote peering is deleted and re-created.",
			id, remote.id()+"/virtualNetworkPeerings/"+q.name, local.id())
	}

	status := http.StatusOK
	p := existing
	if p == nil {
		status = http.StatusCreated
		p = &peering{name: name, guid: s.newGUID(), state: "Initiated"}
		local.peerings = append(local.peerings, p)
		sortPeerings(local)
	}
	// The peering learns the remote address space when it is created
	// or brought back; afterwards only a PUT with
	// syncRemoteAddressSpace=true refreshes it.
	sync := status == http.StatusCreated || p.state == "Disconnected" ||
		(ctx != nil && eq(ctx.r.URL.Query().Get("syncRemoteAddressSpace"), "true"))
	if p.state == "Disconnected" {
		p.state = "Initiated" // an update brings a disconnected peering back
	}
	p.remoteID = remote.id()
	if sync {
		p.remoteSnapshot = append([]string(nil), remote.prefixes...)
	}
	p.allowVirtualNetworkAccess = boolOr(props.AllowVirtualNetworkAccess, true)
	p.allowForwardedTraffic = boolOr(props.AllowForwardedTraffic, false)
	p.allowGatewayTransit = boolOr(props.AllowGatewayTransit, false)
	p.useRemoteGateways = useRemoteGateways
	p.provisioning = "Updating"
	p.etag++
	s.startOperation(ctx, local.subID, local.location, false, func() {
		if p.provisioning == "Updating" { // not overtaken by a delete
			p.provisioning = "Succeeded"
			s.connect(local, p)
		}
	})
	return status, p, nil
}

// overlapsAlreadyPeered is the hub rule: a network peered with two
// networks whose address spaces overlap could not route to both, so a
// peering is refused when the local network overlaps a network already
// peered with the remote one (the documented error, seen in
// Azure/ResourceModules#731 and microsoft/AzureTRE#1927, #4641), or the
// remote network overlaps one already peered with the local one (the same
// code; that wording is unverified). A peering counts whatever its state,
// with the address space it recorded: an orphaned peering to a deleted
// network still blocks (AzureTRE#4641).
func (s *Sim) overlapsAlreadyPeered(id string, local, remote *vnet) *armError {
	const msg = "Cannot create or update peering %s. Virtual networks %s and %s cannot be peered because address space of the %s virtual network overlaps with address space of virtual network %s already peered with the %s virtual network. Overlapping address prefixes: %s. For more information please refer to https://aka.ms/VnetPeeringInfo"
	for _, q := range remote.peerings {
		if eq(q.remoteID, local.id()) {
			continue
		}
		if o := overlapping(local.prefixes, q.remoteSnapshot); len(o) > 0 {
			return netErr(http.StatusBadRequest, "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet", msg,
				id, local.id(), remote.id(), "first", q.remoteID, "second", joinPrefixes(o))
		}
	}
	for _, q := range local.peerings {
		if eq(q.remoteID, remote.id()) {
			continue
		}
		if o := overlapping(remote.prefixes, q.remoteSnapshot); len(o) > 0 {
			return netErr(http.StatusBadRequest, "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet", msg,
				id, local.id(), remote.id(), "second", q.remoteID, "first", joinPrefixes(o))
		}
	}
	return nil
}

// connect moves a freshly provisioned peering and its counterpart (the
// remote network's peering back to local) to Connected when both exist.
func (s *Sim) connect(local *vnet, p *peering) {
	remote := s.vnets[lower(p.remoteID)]
	if remote == nil {
		return
	}
	q := remote.peeringTo(local.id())
	if q != nil && q.provisioning == "Succeeded" && q.state != "Disconnected" {
		p.state, q.state = "Connected", "Connected"
	}
}

func (s *Sim) deletePeering(ctx *armCtx) *armError {
	scope := ctx.t.vnetScope() + "/virtualNetworkPeerings/" + ctx.t.child
	if e := s.authorize(ctx, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete", scope); e != nil {
		return e
	}
	v, e := s.findVNet(ctx)
	if e != nil {
		return e
	}
	p := v.peering(ctx.t.child)
	if p == nil {
		ctx.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if p.provisioning == "Updating" {
		return anotherOperation(v.id() + "/virtualNetworkPeerings/" + p.name)
	}
	s.beginPeeringDelete(ctx, v, p)
	ctx.w.WriteHeader(http.StatusAccepted)
	return nil
}

// beginPeeringDelete starts deleting p; when done, the remote side (if it
// was connected) becomes Disconnected. Caller holds s.mu.
func (s *Sim) beginPeeringDelete(ctx *armCtx, v *vnet, p *peering) {
	p.provisioning = "Deleting"
	s.startOperation(ctx, v.subID, v.location, true, func() { s.removePeering(v, p) })
}

func (s *Sim) removePeering(v *vnet, p *peering) {
	for i, x := range v.peerings {
		if x == p {
			v.peerings = append(v.peerings[:i], v.peerings[i+1:]...)
			break
		}
	}
	if remote := s.vnets[lower(p.remoteID)]; remote != nil {
		if q := remote.peeringTo(v.id()); q != nil && q.state == "Connected" {
			q.state = "Disconnected"
		}
	}
}

func sortPeerings(v *vnet) {
	for i := 1; i < len(v.peerings); i++ {
		for j := i; j > 0 && lower(v.peerings[j].name) < lower(v.peerings[j-1].name); j-- {
			v.peerings[j], v.peerings[j-1] = v.peerings[j-1], v.peerings[j]
		}
	}
}

// overlapping returns the prefixes of a that overlap some prefix of b.
func overlapping(a, b []string) []string {
	var out []string
	for _, x := range a {
		px, err := netip.ParsePrefix(x)
		if err != nil {
			continue
		}
		for _, y := range b {
			if py, err := netip.ParsePrefix(y); err == nil && px.Overlaps(py) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}
