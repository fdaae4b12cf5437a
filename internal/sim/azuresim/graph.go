package azuresim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Microsoft Graph v1.0: applications (create, read, add/remove password),
// service principals (create, read). Permissions come from the token: app
// permissions in the roles claim, directory roles in the wids claim, as
// Graph evaluates app-only tokens.

type graphError struct {
	status  int
	code    string
	message string
}

func gErr(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

var graphDenied = gErr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

func (s *Sim) writeGraphError(w http.ResponseWriter, e *graphError) {
	writeJSON(w, e.status, map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]any{
			"date":              s.now().Format("2006-01-02T15:04:05"),
			"request-id":        traceID(),
			"client-request-id": traceID(),
		},
	}})
}

// graphTarget is what a Graph request path addresses.
type graphTarget struct {
	collection string // applications | servicePrincipals
	id         string // object ID, when addressed by key
	appID      string // when addressed as (appId='…')
	action     string // addPassword | removePassword
	bad        string // the first unknown segment
}

var appIDKeyRE = regexp.MustCompile(`^(applications|servicePrincipals)\(appId='([^']*)'\)$`)

func parseGraphPath(rest string) graphTarget {
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	var t graphTarget
	if m := appIDKeyRE.FindStringSubmatch(segs[0]); m != nil {
		t.collection, t.appID = m[1], m[2]
	} else if segs[0] == "applications" || segs[0] == "servicePrincipals" {
		t.collection = segs[0]
		if len(segs) > 1 {
			t.id = segs[1]
			segs = segs[1:]
		}
	} else {
		t.bad = segs[0]
		return t
	}
	switch {
	case len(segs) == 1:
	case len(segs) == 2 && t.collection == "applications" && (segs[1] == "addPassword" || segs[1] == "removePassword"):
		t.action = segs[1]
	default:
		t.bad = segs[len(segs)-1]
	}
	return t
}

func graphOperation(method string, t graphTarget) (string, bool) {
	if t.bad != "" || t.collection == "" {
		return "Graph_Unknown", method != http.MethodGet
	}
	name := map[string]string{"applications": "Applications", "servicePrincipals": "ServicePrincipals"}[t.collection]
	keyed := t.id != "" || t.appID != ""
	switch {
	case t.action == "addPassword":
		return name + "_AddPassword", true
	case t.action == "removePassword":
		return name + "_RemovePassword", true
	case !keyed && method == http.MethodGet:
		return name + "_List", false
	case !keyed && method == http.MethodPost:
		return name + "_Create", true
	case keyed && method == http.MethodGet:
		return name + "_Get", false
	case keyed && method == http.MethodDelete:
		return name + "_Delete", true
	}
	return name + "_" + method, method != http.MethodGet
}

// graphCtx is an authenticated Graph request; s.mu is held.
type graphCtx struct {
	w      http.ResponseWriter
	r      *http.Request
	t      graphTarget
	caller *caller
	tenant string
	now    time.Time
	base   string // Graph v1.0 base URL, for @odata.context
}

func (s *Sim) serveGraph(w http.ResponseWriter, r *http.Request, rest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	raw, fail := bearer(r.Header.Get("Authorization"))
	var c *caller
	if fail == authOK {
		c, fail = s.checkToken(raw, serviceGraph, r.Host, now)
	}
	switch fail {
	case authOK:
	case authMissing:
		s.writeGraphError(w, gErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."))
		return
	case authExpired:
		s.writeGraphError(w, gErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."))
		return
	case authWrongAudience:
		s.writeGraphError(w, gErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."))
		return
	default:
		s.writeGraphError(w, gErr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure."))
		return
	}
	ctx := &graphCtx{w: w, r: r, t: parseGraphPath(rest), caller: c, tenant: c.claims.TID, now: now, base: s.GraphURL("https://" + r.Host)}
	if ctx.t.bad != "" {
		s.writeGraphError(w, gErr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", ctx.t.bad))
		return
	}
	op, _ := graphOperation(r.Method, ctx.t)
	handlers := map[string]func(*graphCtx) *graphError{
		"Applications_List":           s.listApplications,
		"Applications_Create":         s.createApplication,
		"Applications_Get":            s.getApplication,
		"Applications_Delete":         s.deleteApplication,
		"Applications_AddPassword":    s.addPassword,
		"Applications_RemovePassword": s.removePassword,
		"ServicePrincipals_List":      s.listServicePrincipals,
		"ServicePrincipals_Create":    s.createServicePrincipal,
		"ServicePrincipals_Get":       s.getServicePrincipal,
		"ServicePrincipals_Delete":    s.deleteServicePrincipal,
	}
	h := handlers[op]
	if h == nil || (ctx.t.action != "" && r.Method != http.MethodPost) {
		s.writeGraphError(w, gErr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."))
		return
	}
	if e := h(ctx); e != nil {
		s.writeGraphError(w, e)
	}
}

// Permission sets, by what the call needs.
var (
	readPermissions    = []string{"Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All", "Directory.ReadWrite.All"}
	createAppRoles     = []string{directoryRoles["Global Administrator"], directoryRoles["Application Administrator"], directoryRoles["Cloud Application Administrator"], directoryRoles["Application Developer"]}
	manageAppRoles     = []string{directoryRoles["Global Administrator"], directoryRoles["Application Administrator"], directoryRoles["Cloud Application Administrator"]}
	ownerDeveloperRole = directoryRoles["Application Developer"]
)

func hasAny(have, want []string) bool {
	for _, w := range want {
		if contains(have, w) {
			return true
		}
	}
	return false
}

func (ctx *graphCtx) can(perms, wids []string) bool {
	return hasAny(ctx.caller.claims.Roles, perms) || hasAny(ctx.caller.claims.Wids, wids)
}

func (ctx *graphCtx) canRead() bool {
	var anyRole []string
	for _, id := range directoryRoles {
		anyRole = append(anyRole, id)
	}
	return ctx.can(readPermissions, anyRole)
}

// canManage: may the caller change app (passwords) or create its service
// principal in the caller's tenant.
func (ctx *graphCtx) canManage(app *application, extra ...string) bool {
	owner := contains(app.owners, ctx.caller.sp.objectID)
	if ctx.can(append([]string{"Application.ReadWrite.All"}, extra...), manageAppRoles) {
		return true
	}
	return owner && (contains(ctx.caller.claims.Roles, "Application.ReadWrite.OwnedBy") || contains(ctx.caller.claims.Wids, ownerDeveloperRole))
}

func (s *Sim) applicationJSON(app *application) map[string]any {
	creds := []any{}
	for _, pc := range app.passwords {
		creds = append(creds, passwordJSON(pc, nil))
	}
	return map[string]any{
		"id":                     app.objectID,
		"deletedDateTime":        nil,
		"appId":                  app.appID,
		"createdDateTime":        timeJSON(app.created)[:19] + "Z",
		"displayName":            app.displayName,
		"description":            nil,
		"identifierUris":         []string{},
		"publisherDomain":        app.tenantID + ".onmicrosoft.com",
		"signInAudience":         app.signInAudience,
		"tags":                   []string{},
		"keyCredentials":         []any{},
		"passwordCredentials":    creds,
		"requiredResourceAccess": []any{},
	}
}

func passwordJSON(pc *passwordCredential, secretText *string) map[string]any {
	start := pc.start
	if start.IsZero() {
		start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         pc.displayName,
		"endDateTime":         pc.end.UTC().Format(time.RFC3339Nano),
		"hint":                pc.hint,
		"keyId":               pc.keyID,
		"secretText":          secretText,
		"startDateTime":       start.UTC().Format(time.RFC3339Nano),
	}
}

func (s *Sim) spJSON(sp *servicePrincipal) map[string]any {
	owner, audience := "", ""
	if app := s.apps[lower(sp.appID)]; app != nil {
		owner, audience = app.tenantID, app.signInAudience
	}
	return map[string]any{
		"id":                        sp.objectID,
		"deletedDateTime":           nil,
		"accountEnabled":            true,
		"appDisplayName":            sp.displayName,
		"appId":                     sp.appID,
		"appOwnerOrganizationId":    owner,
		"appRoleAssignmentRequired": false,
		"displayName":               sp.displayName,
		"servicePrincipalNames":     []string{sp.appID},
		"servicePrincipalType":      "Application",
		"signInAudience":            audience,
		"tags":                      []string{},
		"keyCredentials":            []any{},
		"passwordCredentials":       []any{},
	}
}

func (ctx *graphCtx) writeList(collection string, items []any) {
	if items == nil {
		items = []any{}
	}
	writeJSON(ctx.w, http.StatusOK, map[string]any{"@odata.context": ctx.base + "/$metadata#" + collection, "value": items})
}

func (ctx *graphCtx) writeEntity(status int, collection string, obj map[string]any) {
	obj["@odata.context"] = ctx.base + "/$metadata#" + collection + "/$entity"
	writeJSON(ctx.w, status, obj)
}

// graphFilter parses the one-clause $filter the simulator supports.
func graphFilter(ctx *graphCtx, resource string, props ...string) (prop, value string, e *graphError) {
	f := ctx.r.URL.Query().Get("$filter")
	if f == "" {
		return "", "", nil
	}
	m := eqClauseRE.FindStringSubmatch(strings.TrimSpace(f))
	if m != nil {
		for _, p := range props {
			if m[1] == p {
				return p, m[2], nil
			}
		}
	}
	return "", "", gErr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for resource '%s': %s", resource, f)
}

func (s *Sim) listApplications(ctx *graphCtx) *graphError {
	if !ctx.canRead() {
		return graphDenied
	}
	prop, value, e := graphFilter(ctx, "Application", "displayName", "appId", "id")
	if e != nil {
		return e
	}
	var out []any
	for _, k := range sortedKeys(s.apps) {
		app := s.apps[k]
		if app.tenantID != ctx.tenant {
			continue
		}
		if (prop == "displayName" && app.displayName != value) || (prop == "appId" && !eq(app.appID, value)) || (prop == "id" && !eq(app.objectID, value)) {
			continue
		}
		out = append(out, s.applicationJSON(app))
	}
	ctx.writeList("applications", out)
	return nil
}

// findApplication resolves /applications/{id} or (appId='…') in the
// caller's directory.
func (s *Sim) findApplication(ctx *graphCtx) (*application, *graphError) {
	for _, app := range s.apps {
		if app.tenantID == ctx.tenant && ((ctx.t.id != "" && eq(app.objectID, ctx.t.id)) || (ctx.t.appID != "" && eq(app.appID, ctx.t.appID))) {
			return app, nil
		}
	}
	key := ctx.t.id
	if key == "" {
		key = "appId='" + ctx.t.appID + "'"
	}
	return nil, gErr(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", key)
}

func (s *Sim) getApplication(ctx *graphCtx) *graphError {
	if !ctx.canRead() {
		return graphDenied
	}
	app, e := s.findApplication(ctx)
	if e != nil {
		return e
	}
	ctx.writeEntity(http.StatusOK, "applications", s.applicationJSON(app))
	return nil
}

func decodeGraph(r *http.Request, v any) *graphError {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return gErr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return nil
}

var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

func (s *Sim) createApplication(ctx *graphCtx) *graphError {
	if !ctx.can([]string{"Application.ReadWrite.All", "Application.ReadWrite.OwnedBy"}, createAppRoles) {
		return graphDenied
	}
	var body struct {
		DisplayName    string `json:"displayName"`
		SignInAudience string `json:"signInAudience"`
	}
	if e := decodeGraph(ctx.r, &body); e != nil {
		return e
	}
	if strings.TrimSpace(body.DisplayName) == "" {
		return gErr(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	aud := "AzureADMyOrg"
	if body.SignInAudience != "" {
		if aud = canonical(body.SignInAudience, signInAudiences); aud == "" {
			return gErr(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'signInAudience' of resource 'Application'.")
		}
	}
	app := s.addAppLocked(ctx.tenant, AppSpec{DisplayName: body.DisplayName}, ctx.now)
	app.signInAudience = aud
	app.owners = []string{ctx.caller.sp.objectID}
	ctx.writeEntity(http.StatusCreated, "applications", s.applicationJSON(app))
	return nil
}

func (s *Sim) deleteApplication(ctx *graphCtx) *graphError {
	app, e := s.findApplication(ctx)
	if e != nil {
		return e
	}
	if !ctx.canManage(app) {
		return graphDenied
	}
	delete(s.apps, lower(app.appID))
	for id, sp := range s.sps {
		if eq(sp.appID, app.appID) && sp.tenantID == app.tenantID {
			delete(s.sps, id)
		}
	}
	ctx.w.WriteHeader(http.StatusNoContent)
	return nil
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"

// newSecret generates a secret shaped like Entra's (40 characters, "8Q~"
// marker at position 3).
func (s *Sim) newSecret() string {
	b := make([]byte, 40)
	for i := range b {
		b[i] = secretAlphabet[s.rng.Intn(len(secretAlphabet))]
	}
	copy(b[3:], "8Q~")
	return string(b)
}

func (s *Sim) addPassword(ctx *graphCtx) *graphError {
	app, e := s.findApplication(ctx)
	if e != nil {
		return e
	}
	if !ctx.canManage(app) {
		return graphDenied
	}
	var body struct {
		PasswordCredential *struct {
			DisplayName   string     `json:"displayName"`
			StartDateTime *time.Time `json:"startDateTime"`
			EndDateTime   *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if ctx.r.ContentLength != 0 {
		if e := decodeGraph(ctx.r, &body); e != nil {
			return e
		}
	}
	start, end, name := ctx.now, time.Time{}, ""
	if pc := body.PasswordCredential; pc != nil {
		name = pc.DisplayName
		if pc.StartDateTime != nil {
			start = pc.StartDateTime.UTC()
		}
		if pc.EndDateTime != nil {
			end = pc.EndDateTime.UTC()
		}
	}
	if end.IsZero() {
		end = start.AddDate(2, 0, 0)
	}
	if !end.After(start) {
		return gErr(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.")
	}
	secret := s.newSecret()
	pc := s.newPassword(secret, name, start, end, ctx.now.Add(s.opts.Delays.CredentialPropagation))
	app.passwords = append(app.passwords, pc)
	// The only place the secret ever appears: this response body.
	writeJSON(ctx.w, http.StatusOK, passwordJSON(pc, &secret))
	return nil
}

func (s *Sim) removePassword(ctx *graphCtx) *graphError {
	app, e := s.findApplication(ctx)
	if e != nil {
		return e
	}
	if !ctx.canManage(app) {
		return graphDenied
	}
	var body struct {
		KeyID string `json:"keyId"`
	}
	if e := decodeGraph(ctx.r, &body); e != nil {
		return e
	}
	for i, pc := range app.passwords {
		if eq(pc.keyID, body.KeyID) {
			app.passwords = append(app.passwords[:i], app.passwords[i+1:]...)
			ctx.w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return gErr(http.StatusBadRequest, "Request_BadRequest", "No password credential found with keyId '%s'.", body.KeyID)
}

func (s *Sim) listServicePrincipals(ctx *graphCtx) *graphError {
	if !ctx.canRead() {
		return graphDenied
	}
	prop, value, e := graphFilter(ctx, "ServicePrincipal", "appId", "displayName", "id")
	if e != nil {
		return e
	}
	var out []any
	for _, k := range sortedKeys(s.sps) {
		sp := s.sps[k]
		if sp.tenantID != ctx.tenant {
			continue
		}
		if (prop == "appId" && !eq(sp.appID, value)) || (prop == "displayName" && sp.displayName != value) || (prop == "id" && !eq(sp.objectID, value)) {
			continue
		}
		out = append(out, s.spJSON(sp))
	}
	ctx.writeList("servicePrincipals", out)
	return nil
}

func (s *Sim) getServicePrincipal(ctx *graphCtx) *graphError {
	if !ctx.canRead() {
		return graphDenied
	}
	for _, k := range sortedKeys(s.sps) {
		sp := s.sps[k]
		if sp.tenantID == ctx.tenant && ((ctx.t.id != "" && eq(sp.objectID, ctx.t.id)) || (ctx.t.appID != "" && eq(sp.appID, ctx.t.appID))) {
			ctx.writeEntity(http.StatusOK, "servicePrincipals", s.spJSON(sp))
			return nil
		}
	}
	key := ctx.t.id
	if key == "" {
		key = "appId='" + ctx.t.appID + "'"
	}
	return gErr(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", key)
}

// createServicePrincipal instantiates an application in the caller's
// tenant: its own app, or a multi-tenant app of another tenant.
func (s *Sim) createServicePrincipal(ctx *graphCtx) *graphError {
	var body struct {
		AppID string `json:"appId"`
	}
	if e := decodeGraph(ctx.r, &body); e != nil {
		return e
	}
	if body.AppID == "" {
		return gErr(http.StatusBadRequest, "Request_BadRequest", "Invalid value specified for property 'appId' of resource 'ServicePrincipal'.")
	}
	app := s.apps[lower(body.AppID)]
	// Without read access the caller could not tell the app exists.
	if !ctx.can([]string{"Application.ReadWrite.All", "Directory.ReadWrite.All", "Application.ReadWrite.OwnedBy"}, createAppRoles) {
		return graphDenied
	}
	if app == nil || (app.tenantID != ctx.tenant && !app.multiTenant()) {
		return gErr(http.StatusBadRequest, "Request_BadRequest", "The appId '%s' of the service principal does not reference a valid application object.", body.AppID)
	}
	if !ctx.canManage(app, "Directory.ReadWrite.All") {
		return graphDenied
	}
	if s.spByApp(ctx.tenant, app.appID) != nil {
		return gErr(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue",
			"The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", app.appID)
	}
	sp := s.addSPLocked(ctx.tenant, app, ctx.now)
	ctx.writeEntity(http.StatusCreated, "servicePrincipals", s.spJSON(sp))
	return nil
}
