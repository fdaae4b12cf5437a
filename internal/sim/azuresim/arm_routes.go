package azuresim

import (
	"fmt"
	"net/http"
	"net/netip"
)

// Microsoft.Network route tables and their routes, as far as a subnet's
// user-defined routes go: read, and routes written and deleted (how a
// customer sends a range to a virtual appliance, or drops it with None).

type routeTable struct {
	subID, rg, name, location string
	guid                      string
	routes                    []*udr
}

func (rt *routeTable) id() string {
	return routeTableID(rt.subID, rt.rg, rt.name)
}

func routeTableID(sub, rg, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Network/routeTables/" + name
}

// udr is a user-defined route.
type udr struct {
	name             string
	addressPrefix    string
	nextHopType      string // VirtualNetworkGateway | VnetLocal | Internet | VirtualAppliance | None
	nextHopIPAddress string
	provisioning     string
	etag             int
}

// nextHopTypes are RouteNextHopType's values.
var nextHopTypes = []string{"VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"}

func routeJSON(rt *routeTable, r *udr) map[string]any {
	id := rt.id() + "/routes/" + r.name
	props := map[string]any{"provisioningState": r.provisioning, "addressPrefix": r.addressPrefix, "nextHopType": r.nextHopType}
	if r.nextHopIPAddress != "" {
		props["nextHopIpAddress"] = r.nextHopIPAddress
	}
	return map[string]any{"name": r.name, "id": id, "etag": etag(id, r.etag), "type": "Microsoft.Network/routeTables/routes", "properties": props}
}

func (s *Sim) routeTableJSON(rt *routeTable) map[string]any {
	routes := []any{}
	for _, r := range rt.routes {
		routes = append(routes, routeJSON(rt, r))
	}
	subnets := []any{}
	for _, k := range sortedKeys(s.vnets) {
		v := s.vnets[k]
		for _, sn := range v.subnets {
			if eq(sn.routeTableID, rt.id()) {
				subnets = append(subnets, map[string]any{"id": v.id() + "/subnets/" + sn.name})
			}
		}
	}
	return map[string]any{
		"name": rt.name, "id": rt.id(), "etag": etag(rt.id(), 1), "type": "Microsoft.Network/routeTables", "location": rt.location,
		"properties": map[string]any{
			"provisioningState": "Succeeded", "resourceGuid": rt.guid, "disableBgpRoutePropagation": false,
			"routes": routes, "subnets": subnets,
		},
	}
}

func (t armTarget) routeTableScope() string {
	return t.rgScope() + "/providers/Microsoft.Network/routeTables/" + t.routeTable
}

func (s *Sim) findRouteTable(ctx *armCtx) (*routeTable, *armError) {
	g, e := s.requireRG(ctx)
	if e != nil {
		return nil, e
	}
	rt := s.routeTables[lower(routeTableID(ctx.sub.id, g.name, ctx.t.routeTable))]
	if rt == nil {
		return nil, resourceNotFound("Microsoft.Network/routeTables/"+ctx.t.routeTable, ctx.t.rg)
	}
	return rt, nil
}

func (s *Sim) getRouteTable(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/routeTables/read", ctx.t.routeTableScope()); e != nil {
		return e
	}
	rt, e := s.findRouteTable(ctx)
	if e != nil {
		return e
	}
	writeJSON(ctx.w, http.StatusOK, s.routeTableJSON(rt))
	return nil
}

func (s *Sim) getRoute(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/routeTables/routes/read", ctx.t.routeTableScope()+"/routes/"+ctx.t.child); e != nil {
		return e
	}
	rt, e := s.findRouteTable(ctx)
	if e != nil {
		return e
	}
	for _, r := range rt.routes {
		if eq(r.name, ctx.t.child) {
			writeJSON(ctx.w, http.StatusOK, routeJSON(rt, r))
			return nil
		}
	}
	return childNotFound(rt.id() + "/routes/" + ctx.t.child)
}

// putRoute creates or updates a route (Routes_CreateOrUpdate).
func (s *Sim) putRoute(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/routeTables/routes/write", ctx.t.routeTableScope()+"/routes/"+ctx.t.child); e != nil {
		return e
	}
	rt, e := s.findRouteTable(ctx)
	if e != nil {
		if e.Code == "ResourceNotFound" {
			return parentNotFound("routeTables/routes", ctx.t.routeTableScope())
		}
		return e
	}
	var spec struct {
		Properties *RouteSpec `json:"properties"`
	}
	if e := decodeBody(ctx.r, &spec); e != nil {
		return e
	}
	if spec.Properties == nil {
		return netErr(http.StatusBadRequest, "InvalidRequestFormat", "Cannot parse the request.")
	}
	r, e := s.applyRoute(rt, ctx.t.child, *spec.Properties)
	if e != nil {
		return e
	}
	status := http.StatusOK
	if r.etag == 1 {
		status = http.StatusCreated
	}
	s.startOperation(ctx, rt.subID, rt.location, false, func() { r.provisioning = "Succeeded" })
	writeJSON(ctx.w, status, routeJSON(rt, r))
	return nil
}

// RouteSpec is a route's writable part, as the SDK sends it.
type RouteSpec struct {
	AddressPrefix    string `json:"addressPrefix"`
	NextHopType      string `json:"nextHopType"`
	NextHopIPAddress string `json:"nextHopIpAddress,omitempty"`
}

func (s *Sim) applyRoute(rt *routeTable, name string, spec RouteSpec) (*udr, *armError) {
	id := rt.id() + "/routes/" + name
	if _, err := netip.ParsePrefix(spec.AddressPrefix); err != nil {
		return nil, netErr(http.StatusBadRequest, "InvalidAddressPrefixFormat",
			"Address prefix %s of resource %s is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.", spec.AddressPrefix, id)
	}
	known := false
	for _, t := range nextHopTypes {
		if eq(t, spec.NextHopType) {
			spec.NextHopType, known = t, true
		}
	}
	if !known {
		return nil, netErr(http.StatusBadRequest, "InvalidRequestFormat", "Cannot parse the request.")
	}
	var r *udr
	for _, x := range rt.routes {
		if eq(x.name, name) {
			r = x
		}
	}
	if r == nil {
		r = &udr{name: name}
		rt.routes = append(rt.routes, r)
	}
	r.addressPrefix, r.nextHopType, r.nextHopIPAddress = spec.AddressPrefix, spec.NextHopType, spec.NextHopIPAddress
	r.provisioning = "Updating"
	r.etag++
	return r, nil
}

func (s *Sim) deleteRoute(ctx *armCtx) *armError {
	if e := s.authorize(ctx, "Microsoft.Network/routeTables/routes/delete", ctx.t.routeTableScope()+"/routes/"+ctx.t.child); e != nil {
		return e
	}
	rt, e := s.findRouteTable(ctx)
	if e != nil {
		return e
	}
	for i, r := range rt.routes {
		if eq(r.name, ctx.t.child) {
			rt.routes = append(rt.routes[:i], rt.routes[i+1:]...)
			ctx.w.WriteHeader(http.StatusOK)
			return nil
		}
	}
	ctx.w.WriteHeader(http.StatusNoContent)
	return nil
}

// AddRouteTable seeds a route table (attach it to subnets with
// SubnetSpec.RouteTable) and returns its resource ID.
func (s *Sim) AddRouteTable(subscriptionID, rg, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.rgs[lower(subscriptionID+"/"+rg)]
	if g == nil {
		return "", fmt.Errorf("resource group %s/%s does not exist", subscriptionID, rg)
	}
	rt := &routeTable{subID: g.subID, rg: g.name, name: name, location: g.location, guid: s.newGUID()}
	if s.routeTables[lower(rt.id())] != nil {
		return "", fmt.Errorf("route table %s already exists", rt.id())
	}
	s.routeTables[lower(rt.id())] = rt
	return rt.id(), nil
}

// AddRoute seeds a route in a route table.
func (s *Sim) AddRoute(routeTableID, name string, spec RouteSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routeTables[lower(routeTableID)]
	if rt == nil {
		return fmt.Errorf("route table %s does not exist", routeTableID)
	}
	r, e := s.applyRoute(rt, name, spec)
	if e != nil {
		return e
	}
	r.provisioning = "Succeeded"
	return nil
}
