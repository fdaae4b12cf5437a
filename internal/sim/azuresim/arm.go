package azuresim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Azure Resource Manager: request parsing, authentication (primary and
// auxiliary tokens), api-version checks and the error envelope.

// armError is an ARM error response.
type armError struct {
	Status  int
	Code    string
	Message string
	// challenge, when set, is the tenant a WWW-Authenticate header points
	// the client to (ARM does so on 401s).
	challenge string
	details   bool // the network resource provider adds "details": []
}

func (e *armError) Error() string { return e.Code + ": " + e.Message }

func armErr(status int, code, format string, args ...any) *armError {
	return &armError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func netErr(status int, code, format string, args ...any) *armError {
	e := armErr(status, code, format, args...)
	e.details = true
	return e
}

func (s *Sim) writeARMError(w http.ResponseWriter, r *http.Request, e *armError) {
	if e.Status == http.StatusUnauthorized {
		t := e.challenge
		if t == "" {
			t = "common"
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="https://%s/%s", error="invalid_token", error_description="%s"`,
			r.Host, t, strings.ReplaceAll(e.Message, `"`, "'")))
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if e.details {
		body["details"] = []any{}
	}
	writeJSON(w, e.Status, map[string]any{"error": body})
}

// Supported api-versions, per resource provider: the published stable
// versions (and the previews the SDKs send) up to 2026-11-30, as the Azure
// REST API specs and the SDKs built from them list them. The SDK pins are
// armnetwork/v9 (2025-05-01), armauthorization/v2 (2022-04-01, 2020-10-01
// and 2015-07-01 for some calls), armsubscriptions (2022-12-01) and
// @azure/arm-resources (2025-04-01). Unknown versions are refused.
var (
	networkAPIVersions = []string{
		"2018-06-01", "2018-07-01", "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01",
		"2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01",
		"2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01",
		"2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01",
		"2022-01-01", "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01",
		"2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01",
		"2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-05-01",
	}
	authorizationAPIVersions = []string{
		"2015-07-01", "2018-01-01-preview", "2020-04-01-preview", "2020-08-01-preview", "2020-10-01-preview",
		"2020-10-01", "2022-04-01", "2022-05-01-preview",
	}
	subscriptionAPIVersions  = []string{"2016-06-01", "2019-06-01", "2020-01-01", "2021-01-01", "2022-01-01", "2022-12-01"}
	resourceGroupAPIVersions = []string{
		"2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01",
		"2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01",
	}
)

// armTarget is what an ARM request path addresses.
type armTarget struct {
	kind    string
	sub, rg string
	vnet    string
	nsg     string
	// routeTable is the addressed route table.
	routeTable string
	child      string // subnet, peering, security rule or route name
	location   string
	opID       string
	scope      string // for Microsoft.Authorization requests
	name       string // role definition or assignment name
	badType    string // unknown resource type or namespace
}

func eq(a, b string) bool { return strings.EqualFold(a, b) }

// parseARMPath maps a path onto a target; kind is "" for paths ARM does
// not know.
func parseARMPath(path string) armTarget {
	// Empty segments (a "//" from an SDK that fills an optional path part
	// with "") are ignored, as ARM does.
	var segs []string
	for _, seg := range strings.Split(path, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 || !eq(segs[0], "subscriptions") {
		return armTarget{}
	}
	// Microsoft.Authorization can sit under any scope.
	for i := len(segs) - 2; i >= 2; i-- {
		if eq(segs[i], "providers") && eq(segs[i+1], "Microsoft.Authorization") {
			t := armTarget{sub: segs[1], scope: "/" + strings.Join(segs[:i], "/")}
			rest := segs[i+2:]
			if len(rest) == 0 || len(rest) > 2 {
				t.badType = strings.Join(rest, "/")
				t.kind = "unknownType"
				return t
			}
			switch {
			case eq(rest[0], "roleDefinitions"):
				t.kind = "roleDefinitions"
			case eq(rest[0], "roleAssignments"):
				t.kind = "roleAssignments"
			case eq(rest[0], "permissions") && len(rest) == 1:
				t.kind = "permissions"
			default:
				t.kind, t.badType = "unknownType", rest[0]
				return t
			}
			if len(rest) == 2 {
				t.kind = strings.TrimSuffix(t.kind, "s")
				t.name = rest[1]
			}
			return t
		}
	}
	switch len(segs) {
	case 1:
		return armTarget{kind: "subscriptions"}
	case 2:
		return armTarget{kind: "subscription", sub: segs[1]}
	}
	t := armTarget{sub: segs[1]}
	if eq(segs[2], "providers") && len(segs) >= 5 {
		if !eq(segs[3], "Microsoft.Network") {
			t.kind, t.badType = "unknownNamespace", segs[3]
			return t
		}
		switch {
		case len(segs) == 5 && eq(segs[4], "virtualNetworks"):
			t.kind = "vnetsAll"
		case len(segs) == 5 && eq(segs[4], "networkSecurityGroups"):
			t.kind = "nsgsAll"
		case len(segs) == 8 && eq(segs[4], "locations") && eq(segs[6], "operations"):
			t.kind, t.location, t.opID = "asyncOperation", segs[5], segs[7]
		case len(segs) == 8 && eq(segs[4], "locations") && eq(segs[6], "operationResults"):
			t.kind, t.location, t.opID = "operationResult", segs[5], segs[7]
		default:
			t.kind, t.badType = "unknownType", segs[4]
		}
		return t
	}
	if !eq(segs[2], "resourceGroups") || len(segs) < 4 {
		return armTarget{}
	}
	t.rg = segs[3]
	if len(segs) == 4 {
		t.kind = "resourceGroup"
		return t
	}
	if len(segs) < 7 || !eq(segs[4], "providers") {
		return armTarget{}
	}
	if !eq(segs[5], "Microsoft.Network") {
		t.kind, t.badType = "unknownNamespace", segs[5]
		return t
	}
	typ := segs[6]
	rest := segs[7:]
	switch {
	case eq(typ, "virtualNetworks"):
		switch len(rest) {
		case 0:
			t.kind = "vnets"
		case 1:
			t.kind, t.vnet = "vnet", rest[0]
		case 2, 3:
			t.vnet = rest[0]
			switch {
			case eq(rest[1], "subnets"):
				t.kind = "subnets"
			case eq(rest[1], "virtualNetworkPeerings"):
				t.kind = "peerings"
			default:
				t.kind, t.badType = "unknownType", "virtualNetworks/"+rest[1]
				return t
			}
			if len(rest) == 3 {
				t.kind = strings.TrimSuffix(t.kind, "s")
				t.child = rest[2]
			}
		default:
			t.kind, t.badType = "unknownType", strings.Join(segs[6:], "/")
		}
	case eq(typ, "networkSecurityGroups"):
		switch len(rest) {
		case 0:
			t.kind = "nsgs"
		case 1:
			t.kind, t.nsg = "nsg", rest[0]
		case 2, 3:
			t.nsg = rest[0]
			if !eq(rest[1], "securityRules") {
				t.kind, t.badType = "unknownType", "networkSecurityGroups/"+rest[1]
				return t
			}
			t.kind = "rules"
			if len(rest) == 3 {
				t.kind, t.child = "rule", rest[2]
			}
		default:
			t.kind, t.badType = "unknownType", strings.Join(segs[6:], "/")
		}
	case eq(typ, "routeTables"):
		switch len(rest) {
		case 1:
			t.kind, t.routeTable = "routeTable", rest[0]
		case 3:
			if !eq(rest[1], "routes") {
				t.kind, t.badType = "unknownType", "routeTables/"+rest[1]
				return t
			}
			t.kind, t.routeTable, t.child = "route", rest[0], rest[2]
		default:
			t.kind, t.badType = "unknownType", strings.Join(segs[6:], "/")
		}
	default:
		t.kind, t.badType = "unknownType", typ
	}
	return t
}

// armOperation names the REST operation (the operationId of the API
// specification) of a request to t.
func armOperation(method string, t armTarget) (op string, mutating bool) {
	table := map[string]string{
		"subscriptions": "Subscriptions_List", "subscription": "Subscriptions_Get", "resourceGroup": "ResourceGroups_Get",
		"vnets": "VirtualNetworks_List", "vnetsAll": "VirtualNetworks_ListAll", "vnet": "VirtualNetworks_Get",
		"subnets": "Subnets_List", "subnet": "Subnets_Get",
		"peerings": "VirtualNetworkPeerings_List", "peering": "VirtualNetworkPeerings_Get",
		"nsgs": "NetworkSecurityGroups_List", "nsgsAll": "NetworkSecurityGroups_ListAll", "nsg": "NetworkSecurityGroups_Get",
		"rules": "SecurityRules_List", "rule": "SecurityRules_Get",
		"routeTable": "RouteTables_Get", "route": "Routes_Get",
		"asyncOperation": "AsyncOperation_Get", "operationResult": "OperationResult_Get",
		"roleDefinitions": "RoleDefinitions_List", "roleDefinition": "RoleDefinitions_Get",
		"roleAssignments": "RoleAssignments_ListForScope", "roleAssignment": "RoleAssignments_Get",
		"permissions": "Permissions_ListForScope",
	}
	op = table[t.kind]
	if op == "" {
		return "ARM_Unknown", method != http.MethodGet
	}
	if method == http.MethodGet {
		return op, false
	}
	base := strings.TrimSuffix(op, "_Get")
	switch {
	case method == http.MethodPut && t.kind == "roleAssignment":
		return "RoleAssignments_Create", true
	case method == http.MethodPut && strings.HasSuffix(op, "_Get"):
		return base + "_CreateOrUpdate", true
	case method == http.MethodDelete && strings.HasSuffix(op, "_Get"):
		return base + "_Delete", true
	}
	return op + "_" + method, true
}

// armCtx is an authenticated ARM request being served; s.mu is held.
type armCtx struct {
	w      http.ResponseWriter
	r      *http.Request
	t      armTarget
	caller *caller
	aux    []*caller // validated auxiliary tokens of the same application
	sub    *subscription
	now    time.Time
	apiVer string
}

// serveARM authenticates and dispatches an ARM request.
func (s *Sim) serveARM(w http.ResponseWriter, r *http.Request, t armTarget) {
	w.Header().Set("x-ms-request-id", traceID())
	w.Header().Set("x-ms-correlation-request-id", traceID())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	now := s.now()
	if t.kind == "" {
		s.writeARMError(w, r, armErr(http.StatusNotFound, "NotFound", "The requested path '%s' was not found.", r.URL.Path))
		return
	}

	var sub *subscription
	if t.sub != "" {
		sub = s.subs[lower(t.sub)]
	}
	challengeTenant := ""
	if sub != nil {
		challengeTenant = sub.tenantID
	}
	raw, fail := bearer(r.Header.Get("Authorization"))
	var c *caller
	if fail == authOK {
		c, fail = s.checkToken(raw, serviceARM, r.Host, now)
	}
	if fail != authOK {
		e := armAuthError(fail, c, now)
		e.challenge = challengeTenant
		s.writeARMError(w, r, e)
		return
	}
	if t.sub != "" {
		if sub == nil {
			s.writeARMError(w, r, armErr(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", t.sub))
			return
		}
		if !eq(sub.tenantID, c.claims.TID) {
			e := armErr(http.StatusUnauthorized, "InvalidAuthenticationTokenTenant",
				"The access token is from the wrong issuer 'https://sts.windows.net/%s/'. It must match the tenant 'https://sts.windows.net/%s/' associated with this subscription. Please use the authority (URL) 'https://%s/%s' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
				c.claims.TID, sub.tenantID, r.Host, sub.tenantID)
			e.challenge = sub.tenantID
			s.writeARMError(w, r, e)
			return
		}
	}
	ctx := &armCtx{w: w, r: r, t: t, caller: c, sub: sub, now: now, apiVer: r.URL.Query().Get("api-version")}
	if e := s.checkAPIVersion(ctx); e != nil {
		s.writeARMError(w, r, e)
		return
	}
	for _, part := range strings.Split(r.Header.Get("x-ms-authorization-auxiliary"), ",") {
		tok, f := bearer(strings.TrimSpace(part))
		if f != authOK {
			continue
		}
		// An auxiliary token only counts for the same application; an
		// invalid one is ignored and the linked check fails later.
		if ac, f := s.checkToken(tok, serviceARM, r.Host, now); f == authOK && eq(ac.claims.AppID, c.claims.AppID) {
			ctx.aux = append(ctx.aux, ac)
		}
	}
	if e := s.dispatchARM(ctx); e != nil {
		s.writeARMError(w, r, e)
	}
}

func armAuthError(f authFailure, c *caller, now time.Time) *armError {
	switch f {
	case authMissing:
		return armErr(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
	case authBadFormat:
		return armErr(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.")
	case authExpired:
		return armErr(http.StatusUnauthorized, "ExpiredAuthenticationToken",
			"The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			time.Unix(c.claims.Exp, 0).UTC().Format("1/2/2006 3:04:05 PM"), now.Format("1/2/2006 3:04:05 PM"))
	case authWrongAudience:
		return armErr(http.StatusUnauthorized, "InvalidAuthenticationToken",
			"The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
			c.claims.Aud)
	}
	return armErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
}

func (s *Sim) checkAPIVersion(ctx *armCtx) *armError {
	v := ctx.apiVer
	if v == "" {
		return armErr(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
	}
	var supported []string
	var typ string
	switch ctx.t.kind {
	case "subscriptions", "subscription":
		if !contains(subscriptionAPIVersions, v) {
			return armErr(http.StatusBadRequest, "InvalidApiVersionParameter", "The api-version '%s' is invalid. The supported versions are '%s'.",
				v, strings.Join(subscriptionAPIVersions, ","))
		}
		return nil
	case "resourceGroup":
		supported, typ = resourceGroupAPIVersions, "resourceGroups"
	case "roleDefinitions", "roleDefinition":
		supported, typ = authorizationAPIVersions, "roleDefinitions"
	case "roleAssignments", "roleAssignment":
		supported, typ = authorizationAPIVersions, "roleAssignments"
	case "permissions":
		supported, typ = authorizationAPIVersions, "permissions"
	case "unknownType", "unknownNamespace":
		return nil
	default:
		supported, typ = networkAPIVersions, networkType(ctx.t.kind)
	}
	if contains(supported, v) {
		return nil
	}
	loc := s.locationOf(ctx.t)
	locs := "'westus, eastus, northeurope, westeurope, eastasia, southeastasia, northcentralus, southcentralus, centralus, eastus2'"
	if strings.HasPrefix(typ, "role") || typ == "permissions" {
		locs = "''"
	}
	return armErr(http.StatusBadRequest, "NoRegisteredProviderFound",
		"No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'. The supported locations are %s.",
		loc, v, typ, strings.Join(supported, ", "), locs)
}

func networkType(kind string) string {
	switch kind {
	case "vnets", "vnetsAll", "vnet":
		return "virtualNetworks"
	case "subnets", "subnet":
		return "virtualNetworks/subnets"
	case "peerings", "peering":
		return "virtualNetworks/virtualNetworkPeerings"
	case "nsgs", "nsgsAll", "nsg":
		return "networkSecurityGroups"
	case "rules", "rule":
		return "networkSecurityGroups/securityRules"
	case "routeTable":
		return "routeTables"
	case "route":
		return "routeTables/routes"
	}
	return "locations/operations"
}

// locationOf names the region of the addressed resource for messages.
func (s *Sim) locationOf(t armTarget) string {
	if t.location != "" {
		return t.location
	}
	if t.rg != "" {
		if g := s.rgs[lower(t.sub+"/"+t.rg)]; g != nil {
			return g.location
		}
	}
	return "global"
}

func (s *Sim) dispatchARM(ctx *armCtx) *armError {
	m := ctx.r.Method
	t := ctx.t
	switch t.kind {
	case "unknownNamespace":
		return armErr(http.StatusBadRequest, "InvalidResourceNamespace", "The resource namespace '%s' is invalid.", t.badType)
	case "unknownType":
		return armErr(http.StatusBadRequest, "InvalidResourceType", "The resource type '%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.", t.badType, ctx.apiVer)
	}
	type key struct{ kind, method string }
	handlers := map[key]func(*armCtx) *armError{
		{"subscriptions", "GET"}:     s.listSubscriptions,
		{"subscription", "GET"}:      s.getSubscription,
		{"resourceGroup", "GET"}:     s.getResourceGroup,
		{"vnets", "GET"}:             s.listVNets,
		{"vnetsAll", "GET"}:          s.listVNets,
		{"vnet", "GET"}:              s.getVNet,
		{"vnet", "PUT"}:              s.putVNet,
		{"routeTable", "GET"}:        s.getRouteTable,
		{"route", "GET"}:             s.getRoute,
		{"route", "PUT"}:             s.putRoute,
		{"route", "DELETE"}:          s.deleteRoute,
		{"subnets", "GET"}:           s.listSubnets,
		{"subnet", "GET"}:            s.getSubnet,
		{"peerings", "GET"}:          s.listPeerings,
		{"peering", "GET"}:           s.getPeering,
		{"peering", "PUT"}:           s.putPeering,
		{"peering", "DELETE"}:        s.deletePeering,
		{"nsgs", "GET"}:              s.listNSGs,
		{"nsgsAll", "GET"}:           s.listNSGs,
		{"nsg", "GET"}:               s.getNSG,
		{"rules", "GET"}:             s.listRules,
		{"rule", "GET"}:              s.getRule,
		{"rule", "PUT"}:              s.putRule,
		{"rule", "DELETE"}:           s.deleteRule,
		{"asyncOperation", "GET"}:    s.getAsyncOperation,
		{"operationResult", "GET"}:   s.getOperationResult,
		{"roleDefinitions", "GET"}:   s.listRoleDefinitions,
		{"roleDefinition", "GET"}:    s.getRoleDefinition,
		{"roleDefinition", "PUT"}:    s.putRoleDefinition,
		{"roleDefinition", "DELETE"}: s.deleteRoleDefinition,
		{"roleAssignments", "GET"}:   s.listRoleAssignments,
		{"roleAssignment", "GET"}:    s.getRoleAssignment,
		{"roleAssignment", "PUT"}:    s.putRoleAssignment,
		{"roleAssignment", "DELETE"}: s.deleteRoleAssignment,
		{"permissions", "GET"}:       s.listPermissions,
	}
	h := handlers[key{t.kind, m}]
	if h == nil {
		return armErr(http.StatusMethodNotAllowed, "UnsupportedOperation",
			"The simulator does not implement %s on this resource (%s).", m, t.kind)
	}
	return h(ctx)
}

// authorize checks RBAC for the caller, with Azure's error.
func (s *Sim) authorize(ctx *armCtx, action, scope string) *armError {
	if s.allowed(ctx.caller.sp.objectID, action, scope, ctx.now) {
		return nil
	}
	return authorizationFailed(ctx.caller.sp, action, scope)
}

func authorizationFailed(sp *servicePrincipal, action, scope string) *armError {
	return armErr(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		sp.appID, sp.objectID, action, scope)
}

// requireRG checks that the addressed resource group exists.
func (s *Sim) requireRG(ctx *armCtx) (*resourceGroup, *armError) {
	g := s.rgs[lower(ctx.sub.id+"/"+ctx.t.rg)]
	if g == nil {
		return nil, armErr(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", ctx.t.rg)
	}
	return g, nil
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeBody parses a JSON request body into v.
func decodeBody(r *http.Request, v any) *armError {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return armErr(http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: '%s'.", err.Error())
	}
	return nil
}

func list(v any) map[string]any { return map[string]any{"value": v} }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
