package azuresim

import (
	"net/http"
	"strings"
)

// Subscriptions, resource groups and scope resolution.

func subscriptionJSON(sub *subscription) map[string]any {
	return map[string]any{
		"id":                   "/subscriptions/" + sub.id,
		"authorizationSource":  "RoleBased",
		"managedByTenants":     []any{},
		"subscriptionId":       sub.id,
		"tenantId":             sub.tenantID,
		"displayName":          sub.name,
		"state":                "Enabled",
		"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
	}
}

// listSubscriptions lists the subscriptions of the token's tenant in which
// the caller has some role assignment, as ARM does.
func (s *Sim) listSubscriptions(ctx *armCtx) *armError {
	var out []any
	for _, k := range sortedKeys(s.subs) {
		sub := s.subs[k]
		if eq(sub.tenantID, ctx.caller.claims.TID) && s.hasAccessUnder(ctx.caller.sp.objectID, "/subscriptions/"+sub.id, ctx.now) {
			out = append(out, subscriptionJSON(sub))
		}
	}
	if out == nil {
		out = []any{}
	}
	writeJSON(ctx.w, http.StatusOK, map[string]any{"value": out, "count": map[string]any{"type": "Total", "value": len(out)}})
	return nil
}

func (s *Sim) getSubscription(ctx *armCtx) *armError {
	scope := "/subscriptions/" + ctx.sub.id
	if !s.hasAccessUnder(ctx.caller.sp.objectID, scope, ctx.now) {
		return authorizationFailed(ctx.caller.sp, "Microsoft.Resources/subscriptions/read", scope)
	}
	writeJSON(ctx.w, http.StatusOK, subscriptionJSON(ctx.sub))
	return nil
}

func (s *Sim) getResourceGroup(ctx *armCtx) *armError {
	scope := "/subscriptions/" + ctx.sub.id + "/resourceGroups/" + ctx.t.rg
	if e := s.authorize(ctx, "Microsoft.Resources/subscriptions/resourceGroups/read", scope); e != nil {
		return e
	}
	g, e := s.requireRG(ctx)
	if e != nil {
		return e
	}
	writeJSON(ctx.w, http.StatusOK, map[string]any{
		"id":         "/subscriptions/" + g.subID + "/resourceGroups/" + g.name,
		"name":       g.name,
		"type":       "Microsoft.Resources/resourceGroups",
		"location":   g.location,
		"properties": map[string]any{"provisioningState": "Succeeded"},
	})
	return nil
}

// resolveScope checks that an RBAC scope exists and returns it in the
// resources' own casing. Supported: a subscription, a resource group, a
// virtual network (or subnet) and a network security group. Caller holds s.mu.
func (s *Sim) resolveScope(scope string) (string, *subscription, *armError) {
	segs := strings.Split(strings.Trim(scope, "/"), "/")
	if len(segs) < 2 || !eq(segs[0], "subscriptions") {
		return "", nil, armErr(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid.", scope)
	}
	sub := s.subs[lower(segs[1])]
	if sub == nil {
		return "", nil, armErr(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", segs[1])
	}
	canon := "/subscriptions/" + sub.id
	if len(segs) == 2 {
		return canon, sub, nil
	}
	if !eq(segs[2], "resourceGroups") || len(segs) < 4 {
		return "", nil, armErr(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid.", scope)
	}
	g := s.rgs[lower(sub.id+"/"+segs[3])]
	if g == nil {
		return "", nil, armErr(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", segs[3])
	}
	canon += "/resourceGroups/" + g.name
	if len(segs) == 4 {
		return canon, sub, nil
	}
	if len(segs) < 8 || !eq(segs[4], "providers") || !eq(segs[5], "Microsoft.Network") {
		return "", nil, armErr(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid.", scope)
	}
	switch {
	case eq(segs[6], "virtualNetworks"):
		v := s.vnets[lower(canon+"/providers/Microsoft.Network/virtualNetworks/"+segs[7])]
		if v == nil {
			return "", nil, resourceNotFound("Microsoft.Network/virtualNetworks/"+segs[7], g.name)
		}
		canon = v.id()
		if len(segs) == 10 && eq(segs[8], "subnets") {
			sn := v.subnet(segs[9])
			if sn == nil {
				return "", nil, childNotFound(canon + "/subnets/" + segs[9])
			}
			return canon + "/subnets/" + sn.name, sub, nil
		}
	case eq(segs[6], "networkSecurityGroups"):
		n := s.nsgs[lower(canon+"/providers/Microsoft.Network/networkSecurityGroups/"+segs[7])]
		if n == nil {
			return "", nil, resourceNotFound("Microsoft.Network/networkSecurityGroups/"+segs[7], g.name)
		}
		canon = n.id()
	default:
		return "", nil, armErr(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid.", scope)
	}
	if len(segs) != 8 {
		return "", nil, armErr(http.StatusBadRequest, "InvalidScope", "The scope '%s' is not valid.", scope)
	}
	return canon, sub, nil
}

func resourceNotFound(typeAndName, rg string) *armError {
	return armErr(http.StatusNotFound, "ResourceNotFound",
		"The Resource '%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", typeAndName, rg)
}

// childNotFound is how the network resource provider reports a missing
// child resource (subnet, peering, security rule).
func childNotFound(id string) *armError {
	return netErr(http.StatusNotFound, "NotFound", "Resource %s not found.", id)
}
