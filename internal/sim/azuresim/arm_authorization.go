package azuresim

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Microsoft.Authorization: role definitions, role assignments and the
// caller's permissions at a scope.

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func timeJSON(t time.Time) string {
	if t.IsZero() {
		return "2024-01-01T00:00:00.0000000Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

func roleDefID(subID, guid string) string {
	return "/subscriptions/" + subID + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

func roleDefJSON(rd *roleDefinition, subID string) map[string]any {
	typ, created, updated := "CustomRole", timeJSON(rd.created), timeJSON(rd.created)
	if rd.builtIn {
		typ, created, updated = "BuiltInRole", builtInRolesCreated, builtInRolesUpdated
	}
	return map[string]any{
		"properties": map[string]any{
			"roleName":         rd.name,
			"type":             typ,
			"description":      rd.description,
			"assignableScopes": nonNil(rd.assignableScopes),
			"permissions": []any{map[string]any{
				"actions": nonNil(rd.actions), "notActions": nonNil(rd.notActions),
				"dataActions": []string{}, "notDataActions": []string{},
			}},
			"createdOn": created,
			"updatedOn": updated,
			"createdBy": nil,
			"updatedBy": nil,
		},
		"id":   roleDefID(subID, rd.guid),
		"type": "Microsoft.Authorization/roleDefinitions",
		"name": rd.guid,
	}
}

func (s *Sim) authzScope(ctx *armCtx, action string) (string, *armError) {
	if e := s.authorize(ctx, action, ctx.t.scope); e != nil {
		return "", e
	}
	canon, _, e := s.resolveScope(ctx.t.scope)
	return canon, e
}

// filterClauses splits an OData $filter of "a and b" clauses.
func filterClauses(f string) []string {
	if strings.TrimSpace(f) == "" {
		return nil
	}
	return andRE.Split(strings.TrimSpace(f), -1)
}

var andRE = regexp.MustCompile(`(?i)\s+and\s+`)

var (
	eqClauseRE       = regexp.MustCompile(`(?i)^(\w+)\s+eq\s+'([^']*)'$`)
	assignedToRE     = regexp.MustCompile(`(?i)^assignedTo\('([^']*)'\)$`)
	atScopeClauseRE  = regexp.MustCompile(`(?i)^atScope\(\)$`)
	unsupportedQuery = func(f string) *armError {
		return armErr(http.StatusBadRequest, "BadRequest", "The filter '%s' is not supported.", f)
	}
)

func (s *Sim) listRoleDefinitions(ctx *armCtx) *armError {
	canon, e := s.authzScope(ctx, "Microsoft.Authorization/roleDefinitions/read")
	if e != nil {
		return e
	}
	var roleName, typ string
	filter := ctx.r.URL.Query().Get("$filter")
	for _, c := range filterClauses(filter) {
		m := eqClauseRE.FindStringSubmatch(c)
		switch {
		case m != nil && eq(m[1], "roleName"):
			roleName = m[2]
		case m != nil && eq(m[1], "type"):
			typ = m[2]
		default:
			return unsupportedQuery(filter)
		}
	}
	var candidates []*roleDefinition
	candidates = append(candidates, builtInRoles...)
	for _, k := range sortedKeys(s.roleDefs) {
		rd := s.roleDefs[k]
		if rd.tenantID != ctx.sub.tenantID {
			continue
		}
		for _, as := range rd.assignableScopes {
			if scopeCovers(as, canon) || scopeCovers(canon, as) {
				candidates = append(candidates, rd)
				break
			}
		}
	}
	out := []any{}
	for _, rd := range candidates {
		if roleName != "" && !eq(rd.name, roleName) {
			continue
		}
		if typ != "" && !eq(typ, map[bool]string{true: "BuiltInRole", false: "CustomRole"}[rd.builtIn]) {
			continue
		}
		out = append(out, roleDefJSON(rd, ctx.sub.id))
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

func roleDefNotFound(guid string) *armError {
	return armErr(http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", guid)
}

func (s *Sim) getRoleDefinition(ctx *armCtx) *armError {
	if _, e := s.authzScope(ctx, "Microsoft.Authorization/roleDefinitions/read"); e != nil {
		return e
	}
	rd := s.roleDef(ctx.sub.tenantID, ctx.t.name)
	if rd == nil {
		return roleDefNotFound(ctx.t.name)
	}
	writeJSON(ctx.w, http.StatusOK, roleDefJSON(rd, ctx.sub.id))
	return nil
}

// putRoleDefinition creates or updates a custom role. Azure answers 201
// for both, and the SDK accepts nothing else.
func (s *Sim) putRoleDefinition(ctx *armCtx) *armError {
	if !guidRE.MatchString(ctx.t.name) {
		return armErr(http.StatusBadRequest, "InvalidRoleDefinitionId", "The role definition ID '%s' is not valid. The role definition ID must be a GUID.", ctx.t.name)
	}
	if _, e := s.authzScope(ctx, "Microsoft.Authorization/roleDefinitions/write"); e != nil {
		return e
	}
	var body struct {
		Properties *struct {
			RoleName    string `json:"roleName"`
			Description string `json:"description"`
			Type        string `json:"type"`
			Permissions []struct {
				Actions    []string `json:"actions"`
				NotActions []string `json:"notActions"`
			} `json:"permissions"`
			AssignableScopes []string `json:"assignableScopes"`
		} `json:"properties"`
	}
	if e := decodeBody(ctx.r, &body); e != nil {
		return e
	}
	p := body.Properties
	if p == nil || strings.TrimSpace(p.RoleName) == "" {
		return armErr(http.StatusBadRequest, "BadRequest", "The role definition must have a roleName.")
	}
	if len(p.AssignableScopes) == 0 {
		return armErr(http.StatusBadRequest, "BadRequest", "The role definition must have at least one assignable scope.")
	}
	var scopes []string
	for _, as := range p.AssignableScopes {
		canon, sub, e := s.resolveScope(as)
		if e != nil {
			return e
		}
		if !eq(sub.tenantID, ctx.sub.tenantID) {
			return authorizationFailed(ctx.caller.sp, "Microsoft.Authorization/roleDefinitions/write", as)
		}
		if !s.allowed(ctx.caller.sp.objectID, "Microsoft.Authorization/roleDefinitions/write", canon, ctx.now) {
			return authorizationFailed(ctx.caller.sp, "Microsoft.Authorization/roleDefinitions/write", as)
		}
		scopes = append(scopes, canon)
	}
	for _, rd := range builtInRoles {
		if eq(rd.name, p.RoleName) || eq(rd.guid, ctx.t.name) {
			return armErr(http.StatusConflict, "RoleDefinitionWithSameNameExists", "A custom role with the same name already exists in this directory. Use a different name.")
		}
	}
	for _, rd := range s.roleDefs {
		if rd.tenantID == ctx.sub.tenantID && eq(rd.name, p.RoleName) && !eq(rd.guid, ctx.t.name) {
			return armErr(http.StatusConflict, "RoleDefinitionWithSameNameExists", "A custom role with the same name already exists in this directory. Use a different name.")
		}
	}
	rd := s.roleDefs[lower(ctx.t.name)]
	if rd == nil || rd.tenantID != ctx.sub.tenantID {
		rd = &roleDefinition{guid: lower(ctx.t.name), tenantID: ctx.sub.tenantID, created: ctx.now}
		s.roleDefs[lower(ctx.t.name)] = rd
	}
	rd.name, rd.description, rd.assignableScopes = p.RoleName, p.Description, scopes
	rd.actions, rd.notActions = nil, nil
	for _, perm := range p.Permissions {
		rd.actions = append(rd.actions, perm.Actions...)
		rd.notActions = append(rd.notActions, perm.NotActions...)
	}
	writeJSON(ctx.w, http.StatusCreated, roleDefJSON(rd, ctx.sub.id))
	return nil
}

func (s *Sim) roleAssignmentJSON(ra *roleAssignment) map[string]any {
	sub, _, _ := strings.Cut(strings.TrimPrefix(ra.scope, "/subscriptions/"), "/")
	var desc any
	if ra.description != "" {
		desc = ra.description
	}
	return map[string]any{
		"properties": map[string]any{
			"roleDefinitionId":                   roleDefID(sub, ra.roleDefGUID),
			"principalId":                        ra.principalID,
			"principalType":                      ra.principalType,
			"scope":                              ra.scope,
			"condition":                          nil,
			"conditionVersion":                   nil,
			"createdOn":                          timeJSON(ra.created),
			"updatedOn":                          timeJSON(ra.created),
			"createdBy":                          nil,
			"updatedBy":                          nil,
			"delegatedManagedIdentityResourceId": nil,
			"description":                        desc,
		},
		"id":   ra.scope + "/providers/Microsoft.Authorization/roleAssignments/" + ra.name,
		"type": "Microsoft.Authorization/roleAssignments",
		"name": ra.name,
	}
}

// listRoleAssignments lists the assignments at, above and below a scope;
// $filter supports atScope(), principalId eq '…' and assignedTo('…').
// armauthorization sends $filter unencoded; it arrives intact over HTTP/2.
func (s *Sim) listRoleAssignments(ctx *armCtx) *armError {
	canon, e := s.authzScope(ctx, "Microsoft.Authorization/roleAssignments/read")
	if e != nil {
		return e
	}
	atScope, principal := false, ""
	filter := ctx.r.URL.Query().Get("$filter")
	for _, c := range filterClauses(filter) {
		if atScopeClauseRE.MatchString(c) {
			atScope = true
		} else if m := assignedToRE.FindStringSubmatch(c); m != nil {
			principal = m[1]
		} else if m := eqClauseRE.FindStringSubmatch(c); m != nil && eq(m[1], "principalId") {
			principal = m[2]
		} else {
			return unsupportedQuery(filter)
		}
	}
	out := []any{}
	for _, ra := range s.sortedAssignments() {
		if ra.tenantID != ctx.sub.tenantID || (principal != "" && !eq(ra.principalID, principal)) {
			continue
		}
		if scopeCovers(ra.scope, canon) || (!atScope && scopeCovers(canon, ra.scope)) {
			out = append(out, s.roleAssignmentJSON(ra))
		}
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}

func (s *Sim) assignmentAt(canon, name string) *roleAssignment {
	ra := s.assignments[lower(name)]
	if ra == nil || !eq(ra.scope, canon) {
		return nil
	}
	return ra
}

func (s *Sim) getRoleAssignment(ctx *armCtx) *armError {
	canon, e := s.authzScope(ctx, "Microsoft.Authorization/roleAssignments/read")
	if e != nil {
		return e
	}
	ra := s.assignmentAt(canon, ctx.t.name)
	if ra == nil {
		return armErr(http.StatusNotFound, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", ctx.t.name)
	}
	writeJSON(ctx.w, http.StatusOK, s.roleAssignmentJSON(ra))
	return nil
}

func (s *Sim) putRoleAssignment(ctx *armCtx) *armError {
	if !guidRE.MatchString(ctx.t.name) {
		return armErr(http.StatusBadRequest, "InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", ctx.t.name)
	}
	canon, e := s.authzScope(ctx, actionRoleAssignmentsWrite)
	if e != nil {
		return e
	}
	var body struct {
		Properties *struct {
			RoleDefinitionID string `json:"roleDefinitionId"`
			PrincipalID      string `json:"principalId"`
			PrincipalType    string `json:"principalType"`
			Description      string `json:"description"`
		} `json:"properties"`
	}
	if e := decodeBody(ctx.r, &body); e != nil {
		return e
	}
	p := body.Properties
	if p == nil || p.RoleDefinitionID == "" || p.PrincipalID == "" {
		return armErr(http.StatusBadRequest, "InvalidRoleAssignmentRequest", "The role assignment request must have a roleDefinitionId and a principalId.")
	}
	guid := p.RoleDefinitionID[strings.LastIndex(p.RoleDefinitionID, "/")+1:]
	rd := s.roleDef(ctx.sub.tenantID, guid)
	if rd == nil {
		return armErr(http.StatusBadRequest, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", guid)
	}
	assignable := false
	for _, as := range rd.assignableScopes {
		if scopeCovers(as, canon) {
			assignable = true
		}
	}
	if !assignable {
		return armErr(http.StatusBadRequest, "InvalidCreateRoleAssignmentRequest",
			"The request to create role assignment '%s' is not valid. Role definition scope '%s' is not assignable at scope '%s'.",
			ctx.t.name, strings.Join(rd.assignableScopes, ","), canon)
	}
	sp := s.sps[lower(p.PrincipalID)]
	if sp == nil || !eq(sp.tenantID, ctx.sub.tenantID) {
		return armErr(http.StatusBadRequest, "PrincipalNotFound",
			"Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
			strings.ReplaceAll(p.PrincipalID, "-", ""), ctx.sub.tenantID)
	}
	if p.PrincipalType != "" && !eq(p.PrincipalType, "ServicePrincipal") {
		return armErr(http.StatusBadRequest, "UnmatchedPrincipalType",
			"The PrincipalId '%s' has type 'ServicePrincipal' , which is different from specified PrincipalType '%s'.",
			strings.ReplaceAll(p.PrincipalID, "-", ""), p.PrincipalType)
	}
	if ra := s.assignments[lower(ctx.t.name)]; ra != nil {
		if eq(ra.scope, canon) && ra.principalID == sp.objectID && eq(ra.roleDefGUID, rd.guid) {
			writeJSON(ctx.w, http.StatusCreated, s.roleAssignmentJSON(ra))
			return nil
		}
		return armErr(http.StatusBadRequest, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
	}
	for _, ra := range s.assignments {
		if eq(ra.scope, canon) && ra.principalID == sp.objectID && eq(ra.roleDefGUID, rd.guid) {
			return armErr(http.StatusConflict, "RoleAssignmentExists", "The role assignment already exists.")
		}
	}
	ra := &roleAssignment{name: lower(ctx.t.name), scope: canon, roleDefGUID: rd.guid, principalID: sp.objectID,
		principalType: "ServicePrincipal", tenantID: sp.tenantID, description: p.Description,
		created: ctx.now, effective: ctx.now.Add(s.opts.Delays.RoleAssignmentPropagation)}
	s.assignments[ra.name] = ra
	writeJSON(ctx.w, http.StatusCreated, s.roleAssignmentJSON(ra))
	return nil
}

func (s *Sim) deleteRoleAssignment(ctx *armCtx) *armError {
	canon, e := s.authzScope(ctx, "Microsoft.Authorization/roleAssignments/delete")
	if e != nil {
		return e
	}
	ra := s.assignmentAt(canon, ctx.t.name)
	if ra == nil {
		ctx.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	delete(s.assignments, lower(ra.name))
	writeJSON(ctx.w, http.StatusOK, s.roleAssignmentJSON(ra))
	return nil
}

// listPermissions returns the caller's own effective permissions at a
// scope, one entry per honoured role assignment, which is how a client
// checks whether it may, for example, create role assignments there.
func (s *Sim) listPermissions(ctx *armCtx) *armError {
	canon, _, e := s.resolveScope(ctx.t.scope)
	if e != nil {
		return e
	}
	out := []any{}
	seen := map[string]bool{}
	for _, ra := range s.effectiveAssignments(ctx.caller.sp.objectID, canon, ctx.now) {
		rd := s.roleDef(ra.tenantID, ra.roleDefGUID)
		if rd == nil || seen[rd.guid] {
			continue
		}
		seen[rd.guid] = true
		out = append(out, map[string]any{
			"actions": nonNil(rd.actions), "notActions": nonNil(rd.notActions),
			"dataActions": []string{}, "notDataActions": []string{},
		})
	}
	writeJSON(ctx.w, http.StatusOK, list(out))
	return nil
}
