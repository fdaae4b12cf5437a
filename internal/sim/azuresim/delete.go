package azuresim

import "net/http"

// Deletes `dfpeer azure disconnect` needs beyond what connect uses (kept
// apart from the handlers connect exercises).

// deleteServicePrincipal is Graph's DELETE /servicePrincipals/{id}: 204
// when deleted, 404 Request_ResourceNotFound when there is none.
func (s *Sim) deleteServicePrincipal(ctx *graphCtx) *graphError {
	for id, sp := range s.sps {
		if sp.tenantID != ctx.tenant || !((ctx.t.id != "" && eq(sp.objectID, ctx.t.id)) || (ctx.t.appID != "" && eq(sp.appID, ctx.t.appID))) {
			continue
		}
		app := s.apps[lower(sp.appID)]
		allowed := ctx.can([]string{"Application.ReadWrite.All", "Directory.ReadWrite.All"}, manageAppRoles)
		if app != nil && app.tenantID == ctx.tenant {
			allowed = ctx.canManage(app, "Directory.ReadWrite.All")
		}
		if !allowed {
			return graphDenied
		}
		delete(s.sps, id)
		ctx.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	key := ctx.t.id
	if key == "" {
		key = "appId='" + ctx.t.appID + "'"
	}
	return gErr(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", key)
}

// deleteRoleDefinition is ARM's Role Definitions - Delete: 200 with the
// deleted definition, 204 when it is already gone or never existed.
func (s *Sim) deleteRoleDefinition(ctx *armCtx) *armError {
	if _, e := s.authzScope(ctx, "Microsoft.Authorization/roleDefinitions/delete"); e != nil {
		return e
	}
	// Custom roles only: the simulator keeps built-in roles apart, and
	// dfpeer never deletes one.
	rd := s.roleDefs[lower(ctx.t.name)]
	if rd == nil || rd.tenantID != ctx.sub.tenantID {
		ctx.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	delete(s.roleDefs, lower(rd.guid))
	writeJSON(ctx.w, http.StatusOK, roleDefJSON(rd, ctx.sub.id))
	return nil
}
