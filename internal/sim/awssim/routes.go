package awssim

import (
	"net/netip"
	"strings"
)

// routeTarget is one CreateRoute target parameter: the XML element a route
// reports it in, and how EC2 refuses an ID it does not know. Only VPC
// peering connections are modelled; the other targets name resources the
// simulator does not hold, so CreateRoute refuses them the way EC2 refuses an
// unknown ID (AddRoute can still seed such routes).
type routeTarget struct {
	param    string
	element  string
	notFound func(id string) *apiError
}

var routeTargets = []routeTarget{
	{"CarrierGatewayId", "carrierGatewayId", func(id string) *apiError {
		return clientErr("InvalidCarrierGatewayID.NotFound", "The carrierGateway ID '%s' does not exist", id)
	}},
	{"CoreNetworkArn", "coreNetworkArn", func(id string) *apiError {
		return invalidValue("Value (%s) for parameter coreNetworkArn is invalid.", id)
	}},
	{"EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId", func(id string) *apiError {
		return clientErr("InvalidEgressOnlyInternetGatewayId.NotFound", "The egressOnlyInternetGateway ID '%s' does not exist", id)
	}},
	{"GatewayId", "gatewayId", func(id string) *apiError {
		return clientErr("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
	}},
	{"InstanceId", "instanceId", func(id string) *apiError {
		return clientErr("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}},
	{"LocalGatewayId", "localGatewayId", func(id string) *apiError {
		return clientErr("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
	}},
	{"NatGatewayId", "natGatewayId", func(id string) *apiError {
		return clientErr("NatGatewayNotFound", "The natGateway ID '%s' does not exist", id)
	}},
	{"NetworkInterfaceId", "networkInterfaceId", func(id string) *apiError {
		return clientErr("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	}},
	{"OdbNetworkArn", "odbNetworkArn", func(id string) *apiError {
		return invalidValue("Value (%s) for parameter odbNetworkArn is invalid.", id)
	}},
	{"TransitGatewayId", "transitGatewayId", func(id string) *apiError {
		return clientErr("InvalidTransitGatewayID.NotFound", "The transitGateway ID '%s' does not exist.", id)
	}},
	// A gateway load balancer endpoint route reports its target as gatewayId.
	{"VpcEndpointId", "gatewayId", func(id string) *apiError {
		return clientErr("InvalidVpcEndpointId.NotFound", "The vpcEndpoint ID '%s' does not exist", id)
	}},
	{"VpcPeeringConnectionId", "vpcPeeringConnectionId", pcxKind.notFound},
}

func routeTargetParams() []string {
	out := make([]string, 0, len(routeTargets))
	for _, t := range routeTargets {
		out = append(out, t.param)
	}
	return out
}

func routeTargetByParam(param string) routeTarget {
	for _, t := range routeTargets {
		if t.param == param {
			return t
		}
	}
	panic("awssim: unknown route target " + param)
}

// targetParamFor guesses a seeded route's target kind from its ID.
func targetParamFor(id string) string {
	prefixes := []struct{ prefix, param string }{
		{"pcx-", "VpcPeeringConnectionId"}, {"igw-", "GatewayId"}, {"vgw-", "GatewayId"},
		{"vpce-", "VpcEndpointId"}, {"nat-", "NatGatewayId"}, {"tgw-", "TransitGatewayId"},
		{"eni-", "NetworkInterfaceId"}, {"i-", "InstanceId"}, {"eigw-", "EgressOnlyInternetGatewayId"},
		{"lgw-", "LocalGatewayId"}, {"cagw-", "CarrierGatewayId"}, {"arn:aws:networkmanager:", "CoreNetworkArn"},
	}
	if id == "local" {
		return "GatewayId"
	}
	for _, p := range prefixes {
		if strings.HasPrefix(id, p.prefix) {
			return p.param
		}
	}
	return ""
}

// routeState is blackhole for a route whose peering is not (or no longer)
// active; every other route is active.
func (s *Sim) routeState(r route) string {
	if r.TargetParam == "VpcPeeringConnectionId" {
		if p, ok := s.pcxs[r.Target]; !ok || p.State != stateActive {
			return "blackhole"
		}
	}
	return "active"
}

type routeXML struct {
	DestinationCidrBlock        string `xml:"destinationCidrBlock,omitempty"`
	DestinationIpv6CidrBlock    string `xml:"destinationIpv6CidrBlock,omitempty"`
	GatewayID                   string `xml:"gatewayId,omitempty"`
	CarrierGatewayID            string `xml:"carrierGatewayId,omitempty"`
	CoreNetworkArn              string `xml:"coreNetworkArn,omitempty"`
	EgressOnlyInternetGatewayID string `xml:"egressOnlyInternetGatewayId,omitempty"`
	InstanceID                  string `xml:"instanceId,omitempty"`
	InstanceOwnerID             string `xml:"instanceOwnerId,omitempty"`
	LocalGatewayID              string `xml:"localGatewayId,omitempty"`
	NatGatewayID                string `xml:"natGatewayId,omitempty"`
	NetworkInterfaceID          string `xml:"networkInterfaceId,omitempty"`
	OdbNetworkArn               string `xml:"odbNetworkArn,omitempty"`
	TransitGatewayID            string `xml:"transitGatewayId,omitempty"`
	VpcPeeringConnectionID      string `xml:"vpcPeeringConnectionId,omitempty"`
	State                       string `xml:"state"`
	Origin                      string `xml:"origin"`
}

type rtbAssocXML struct {
	RouteTableAssociationID string   `xml:"routeTableAssociationId"`
	RouteTableID            string   `xml:"routeTableId"`
	SubnetID                string   `xml:"subnetId,omitempty"`
	Main                    bool     `xml:"main"`
	AssociationState        stateXML `xml:"associationState"`
}

type vgwXML struct {
	GatewayID string `xml:"gatewayId"`
}

type routeTableXML struct {
	RouteTableID      string             `xml:"routeTableId"`
	VpcID             string             `xml:"vpcId"`
	OwnerID           string             `xml:"ownerId"`
	RouteSet          items[routeXML]    `xml:"routeSet"`
	AssociationSet    items[rtbAssocXML] `xml:"associationSet"`
	PropagatingVgwSet items[vgwXML]      `xml:"propagatingVgwSet"`
	TagSet            items[tagXML]      `xml:"tagSet"`
}

func (s *Sim) routeXML(r route, owner string) routeXML {
	out := routeXML{State: s.routeState(r), Origin: r.Origin}
	if netip.MustParsePrefix(r.Destination).Addr().Is4() {
		out.DestinationCidrBlock = r.Destination
	} else {
		out.DestinationIpv6CidrBlock = r.Destination
	}
	switch routeTargetByParam(r.TargetParam).element {
	case "gatewayId":
		out.GatewayID = r.Target
	case "carrierGatewayId":
		out.CarrierGatewayID = r.Target
	case "coreNetworkArn":
		out.CoreNetworkArn = r.Target
	case "egressOnlyInternetGatewayId":
		out.EgressOnlyInternetGatewayID = r.Target
	case "instanceId":
		out.InstanceID, out.InstanceOwnerID = r.Target, owner
	case "localGatewayId":
		out.LocalGatewayID = r.Target
	case "natGatewayId":
		out.NatGatewayID = r.Target
	case "networkInterfaceId":
		out.NetworkInterfaceID = r.Target
	case "odbNetworkArn":
		out.OdbNetworkArn = r.Target
	case "transitGatewayId":
		out.TransitGatewayID = r.Target
	case "vpcPeeringConnectionId":
		out.VpcPeeringConnectionID = r.Target
	}
	return out
}

func (s *Sim) routeTableXML(rt *routeTable) routeTableXML {
	out := routeTableXML{RouteTableID: rt.ID, VpcID: rt.VPCID, OwnerID: rt.Account, TagSet: tagSet(rt.Tags)}
	for _, r := range rt.Routes {
		out.RouteSet.Item = append(out.RouteSet.Item, s.routeXML(r, rt.Account))
	}
	for _, a := range rt.Assocs {
		out.AssociationSet.Item = append(out.AssociationSet.Item, rtbAssocXML{
			RouteTableAssociationID: a.ID, RouteTableID: rt.ID, SubnetID: a.SubnetID, Main: a.Main,
			AssociationState: stateXML{"associated"},
		})
	}
	return out
}

// routeTableFilters are DescribeRouteTables' documented filters.
func (s *Sim) routeTableFilters() filterSet[*routeTable] {
	routeVals := func(pick func(route) (string, bool)) func(*routeTable) []string {
		return func(rt *routeTable) []string {
			var out []string
			for _, r := range rt.Routes {
				if v, ok := pick(r); ok {
					out = append(out, v)
				}
			}
			return out
		}
	}
	target := func(params ...string) func(*routeTable) []string {
		return routeVals(func(r route) (string, bool) {
			for _, p := range params {
				if r.TargetParam == p {
					return r.Target, true
				}
			}
			return "", false
		})
	}
	assocVals := func(pick func(rtbAssoc) (string, bool)) func(*routeTable) []string {
		return func(rt *routeTable) []string {
			var out []string
			for _, a := range rt.Assocs {
				if v, ok := pick(a); ok {
					out = append(out, v)
				}
			}
			return out
		}
	}
	return filterSet[*routeTable]{
		tagsOf: func(rt *routeTable) map[string]string { return rt.Tags },
		attrs: map[string]func(*routeTable) []string{
			"route-table-id": func(rt *routeTable) []string { return []string{rt.ID} },
			"vpc-id":         func(rt *routeTable) []string { return []string{rt.VPCID} },
			"owner-id":       func(rt *routeTable) []string { return []string{rt.Account} },
			// Tables without an association match neither true nor false.
			"association.main": assocVals(func(a rtbAssoc) (string, bool) {
				if a.Main {
					return "true", true
				}
				return "false", true
			}),
			"association.route-table-association-id": assocVals(func(a rtbAssoc) (string, bool) { return a.ID, true }),
			"association.route-table-id": func(rt *routeTable) []string {
				if len(rt.Assocs) == 0 {
					return nil
				}
				return []string{rt.ID}
			},
			"association.subnet-id":  assocVals(func(a rtbAssoc) (string, bool) { return a.SubnetID, a.SubnetID != "" }),
			"association.gateway-id": none[*routeTable],
			"route.destination-cidr-block": routeVals(func(r route) (string, bool) {
				return r.Destination, netip.MustParsePrefix(r.Destination).Addr().Is4()
			}),
			"route.destination-ipv6-cidr-block": routeVals(func(r route) (string, bool) {
				return r.Destination, netip.MustParsePrefix(r.Destination).Addr().Is6()
			}),
			"route.destination-prefix-list-id":      none[*routeTable],
			"route.egress-only-internet-gateway-id": target("EgressOnlyInternetGatewayId"),
			"route.gateway-id":                      target("GatewayId", "VpcEndpointId"),
			"route.instance-id":                     target("InstanceId"),
			"route.nat-gateway-id":                  target("NatGatewayId"),
			"route.transit-gateway-id":              target("TransitGatewayId"),
			"route.vpc-peering-connection-id":       target("VpcPeeringConnectionId"),
			"route.carrier-gateway-id":              target("CarrierGatewayId"),
			"route.local-gateway-id":                target("LocalGatewayId"),
			"route.origin":                          routeVals(func(r route) (string, bool) { return r.Origin, true }),
			"route.state":                           routeVals(func(r route) (string, bool) { return s.routeState(r), true }),
		},
	}
}

type describeRouteTablesResp struct {
	ec2Meta
	RouteTableSet items[routeTableXML] `xml:"routeTableSet"`
	NextToken     string               `xml:"nextToken,omitempty"`
}

func (s *Sim) describeRouteTables(c *ec2Call) (ec2Resp, *apiError) {
	ids := c.p.list("RouteTableId")
	filters, aerr := c.p.filters()
	if aerr != nil {
		return nil, aerr
	}
	fs := s.routeTableFilters()
	if aerr := fs.validate(filters); aerr != nil {
		return nil, aerr
	}
	var all []*routeTable
	for _, rt := range sortedValues(s.rtbs) {
		if rt.Account == c.account && rt.Region == c.region {
			all = append(all, rt)
		}
	}
	sel, aerr := selectIDs(all, ids, func(rt *routeTable) string { return rt.ID }, rtbKind)
	if aerr != nil {
		return nil, aerr
	}
	if c.dryRun {
		return nil, errDryRun
	}
	pg, next, aerr := paginate(fs.apply(sel, filters), c.p, page{min: 5, max: 100, idsParam: "routeTableIds"}, len(ids) > 0)
	if aerr != nil {
		return nil, aerr
	}
	resp := &describeRouteTablesResp{NextToken: next}
	for _, rt := range pg {
		resp.RouteTableSet.Item = append(resp.RouteTableSet.Item, s.routeTableXML(rt))
	}
	return resp, nil
}

// routeTableOf resolves RouteTableId for a mutating route call.
func (s *Sim) routeTableOf(c *ec2Call) (*routeTable, *apiError) {
	id := c.p.str("RouteTableId")
	if id == "" {
		return nil, missingParam("routeTableId")
	}
	if aerr := rtbKind.checkShape(id); aerr != nil {
		return nil, aerr
	}
	rt, ok := s.rtbs[id]
	if !ok || rt.Account != c.account || rt.Region != c.region {
		return nil, rtbKind.notFound(id)
	}
	return rt, nil
}

// routeDestination reads the one destination of a CreateRoute/DeleteRoute.
// Prefix lists are not modelled, so a DestinationPrefixListId names one
// that does not exist.
func routeDestination(p params) (netip.Prefix, string, *apiError) {
	var given []string
	for _, k := range []string{"DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"} {
		if p.has(k) {
			given = append(given, k)
		}
	}
	switch len(given) {
	case 0:
		return netip.Prefix{}, "", missingParam("destinationCidrBlock or destinationIpv6CidrBlock")
	case 1:
	default:
		return netip.Prefix{}, "", clientErr("InvalidParameterCombination",
			"The parameter %s cannot be used with the parameter %s", lowerFirst(given[1]), lowerFirst(given[0]))
	}
	raw := p.str(given[0])
	if given[0] == "DestinationPrefixListId" {
		return netip.Prefix{}, "", clientErr("InvalidPrefixListID.NotFound", "The prefix list '%s' does not exist.", raw)
	}
	pfx, err := netip.ParsePrefix(raw)
	want4 := given[0] == "DestinationCidrBlock"
	if err != nil || pfx.Masked() != pfx || pfx.Addr().Is4() != want4 {
		return netip.Prefix{}, "", invalidValue("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.",
			raw, lowerFirst(given[0]))
	}
	return pfx, raw, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// routeRequest reads and checks a CreateRoute or ReplaceRoute: the table,
// the destination and the one target, which must exist and be usable.
func (s *Sim) routeRequest(c *ec2Call) (rt *routeTable, dest netip.Prefix, destStr, param, target string, aerr *apiError) {
	fail := func(e *apiError) (*routeTable, netip.Prefix, string, string, string, *apiError) {
		return nil, netip.Prefix{}, "", "", "", e
	}
	if rt, aerr = s.routeTableOf(c); aerr != nil {
		return fail(aerr)
	}
	if dest, destStr, aerr = routeDestination(c.p); aerr != nil {
		return fail(aerr)
	}
	var targets []string
	for _, t := range routeTargets {
		if c.p.has(t.param) {
			targets = append(targets, t.param)
		}
	}
	if len(targets) != 1 {
		names := make([]string, 0, len(routeTargets))
		for _, t := range routeTargets {
			names = append(names, lowerFirst(t.param))
		}
		code := "MissingParameter"
		if len(targets) > 1 {
			code = "InvalidParameterCombination"
		}
		return fail(clientErr(code, "The request must contain exactly one of %s", strings.Join(names, ", ")))
	}
	param, target = targets[0], c.p.str(targets[0])
	v := s.vpcs[rt.VPCID]

	switch {
	case param == "VpcPeeringConnectionId":
		if aerr := pcxKind.checkShape(target); aerr != nil {
			return fail(aerr)
		}
		p, ok := s.pcxs[target]
		if !ok || !p.visibleTo(c.account, c.region, c.now) {
			return fail(pcxKind.notFound(target))
		}
		if p.Requester.VPCID != rt.VPCID && p.Accepter.VPCID != rt.VPCID {
			return fail(invalidValue("route table %s and network gateway %s belong to different networks", rt.ID, target))
		}
		switch p.State {
		case statePending, stateProvisioning, stateActive:
			// A route to a peering that is not active yet is allowed; it
			// is a blackhole until the peering turns active.
		default:
			return fail(pcxKind.notFound(target))
		}
	case param == "GatewayId" && target == "local":
		// Only the VPC's own CIDRs route locally, and those routes exist
		// from the start; below they answer RouteAlreadyExists.
		if !containsString(v.CIDRs, destStr) {
			return fail(invalidValue("The destination CIDR block %s does not match the VPC CIDR block for local target", destStr))
		}
	default:
		return fail(routeTargetByParam(param).notFound(target))
	}
	return rt, dest, destStr, param, target, nil
}

func (s *Sim) createRoute(c *ec2Call) (ec2Resp, *apiError) {
	rt, dest, destStr, param, target, aerr := s.routeRequest(c)
	if aerr != nil {
		return nil, aerr
	}
	v := s.vpcs[rt.VPCID]
	for _, r := range rt.Routes {
		if r.Destination == destStr {
			return nil, clientErr("RouteAlreadyExists", "The route identified by %s already exists.", destStr)
		}
	}
	for _, cidr := range v.CIDRs {
		if vp := netip.MustParsePrefix(cidr); dest.Addr().Is4() && vp.Bits() <= dest.Bits() && vp.Contains(dest.Addr()) {
			return nil, invalidValue("The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.", destStr)
		}
	}
	if c.dryRun {
		return nil, errDryRun
	}
	rt.Routes = append(rt.Routes, route{Destination: destStr, TargetParam: param, Target: target, Origin: "CreateRoute"})
	return &returnResp{Return: true}, nil
}

// replaceRoute points an existing route at another target. EC2 answers a
// destination the table has no route for with InvalidParameterValue (not
// InvalidRoute.NotFound, whatever its reference suggests), and refuses to
// replace the VPC's local routes with anything but LocalTarget.
func (s *Sim) replaceRoute(c *ec2Call) (ec2Resp, *apiError) {
	if c.p.has("LocalTarget") {
		return nil, invalidValue("LocalTarget is not supported by this simulator")
	}
	rt, _, destStr, param, target, aerr := s.routeRequest(c)
	if aerr != nil {
		return nil, aerr
	}
	at := -1
	for i, r := range rt.Routes {
		if r.Destination == destStr {
			at = i
		}
	}
	if at < 0 {
		return nil, invalidValue("There is no route defined for '%s' in the route table. Use CreateRoute instead.", destStr)
	}
	if rt.Routes[at].Target == "local" {
		return nil, invalidValue("cannot replace local route %s in route table %s", destStr, rt.ID)
	}
	if c.dryRun {
		return nil, errDryRun
	}
	rt.Routes[at].TargetParam, rt.Routes[at].Target = param, target
	return &returnResp{Return: true}, nil
}

func (s *Sim) deleteRoute(c *ec2Call) (ec2Resp, *apiError) {
	rt, aerr := s.routeTableOf(c)
	if aerr != nil {
		return nil, aerr
	}
	_, destStr, aerr := routeDestination(c.p)
	if aerr != nil {
		return nil, aerr
	}
	at := -1
	for i, r := range rt.Routes {
		if r.Destination == destStr {
			at = i
		}
	}
	if at < 0 {
		return nil, clientErr("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", destStr, rt.ID)
	}
	if rt.Routes[at].Target == "local" {
		return nil, invalidValue("cannot remove local route %s in route table %s", destStr, rt.ID)
	}
	if c.dryRun {
		return nil, errDryRun
	}
	rt.Routes = append(rt.Routes[:at], rt.Routes[at+1:]...)
	return &returnResp{Return: true}, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
