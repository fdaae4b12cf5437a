package azuresim

import (
	"strings"
	"time"
)

// Azure RBAC: built-in roles, action matching with wildcards, scope
// inheritance and the propagation delay of new assignments.

// Built-in role definition GUIDs (the same in every tenant).
const (
	RoleOwner              = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleContributor        = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleReader             = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleNetworkContributor = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	RoleUserAccessAdmin    = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RoleRBACAdministrator  = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
)

const (
	builtInRolesCreated        = "2015-02-02T21:55:09.8806423Z"
	builtInRolesUpdated        = "2024-03-01T00:00:00.0000000Z"
	actionPeer                 = "Microsoft.Network/virtualNetworks/peer/action"
	actionPeeringWrite         = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/write"
	actionRoleAssignmentsWrite = "Microsoft.Authorization/roleAssignments/write"
)

var builtInRoles = []*roleDefinition{
	{guid: RoleOwner, name: "Owner", builtIn: true, actions: []string{"*"},
		description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC."},
	{guid: RoleContributor, name: "Contributor", builtIn: true, actions: []string{"*"},
		notActions: []string{
			"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
			"Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
			"Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
			"Microsoft.Resources/deploymentStacks/manageDenySetting/action",
			"Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action",
		},
		description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries."},
	{guid: RoleReader, name: "Reader", builtIn: true, actions: []string{"*/read"},
		description: "View all resources, but does not allow you to make any changes."},
	{guid: RoleNetworkContributor, name: "Network Contributor", builtIn: true,
		actions: []string{
			"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Network/*",
			"Microsoft.ResourceHealth/availabilityStatuses/read", "Microsoft.Resources/deployments/*",
			"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*",
		},
		description: "Lets you manage networks, but not access to them."},
	{guid: RoleUserAccessAdmin, name: "User Access Administrator", builtIn: true,
		actions:     []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"},
		description: "Lets you manage user access to Azure resources."},
	{guid: RoleRBACAdministrator, name: "Role Based Access Control Administrator", builtIn: true,
		actions: []string{
			"Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete",
			"*/read", "Microsoft.Support/*",
		},
		description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy."},
}

func init() {
	for _, r := range builtInRoles {
		r.assignableScopes = []string{"/"}
	}
}

// roleDef finds a role definition visible in tenant by GUID. Caller holds s.mu.
func (s *Sim) roleDef(tenantID, guid string) *roleDefinition {
	for _, r := range builtInRoles {
		if strings.EqualFold(r.guid, guid) {
			return r
		}
	}
	if r := s.roleDefs[lower(guid)]; r != nil && r.tenantID == tenantID {
		return r
	}
	return nil
}

// roleDefByName finds a role definition visible in tenant by name.
func (s *Sim) roleDefByName(tenantID, name string) *roleDefinition {
	for _, r := range builtInRoles {
		if strings.EqualFold(r.name, name) {
			return r
		}
	}
	for _, r := range s.roleDefs {
		if r.tenantID == tenantID && strings.EqualFold(r.name, name) {
			return r
		}
	}
	return nil
}

// actionMatches reports whether an action pattern (with * wildcards, case
// insensitive, as in role definitions) matches action.
func actionMatches(pattern, action string) bool {
	p, a := lower(pattern), lower(action)
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == a
	}
	if !strings.HasPrefix(a, parts[0]) {
		return false
	}
	a = a[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		idx := strings.Index(a, parts[i])
		if idx < 0 {
			return false
		}
		a = a[idx+len(parts[i]):]
	}
	return strings.HasSuffix(a, parts[len(parts)-1])
}

func (r *roleDefinition) allows(action string) bool {
	ok := false
	for _, p := range r.actions {
		if actionMatches(p, action) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for _, p := range r.notActions {
		if actionMatches(p, action) {
			return false
		}
	}
	return true
}

// scopeCovers reports whether an assignment at scope applies to target:
// the same scope or one of its descendants.
func scopeCovers(scope, target string) bool {
	s, t := strings.TrimRight(lower(scope), "/"), strings.TrimRight(lower(target), "/")
	if s == "" {
		return true
	}
	return t == s || strings.HasPrefix(t, s+"/")
}

// effectiveAssignments are the assignments of principal that RBAC honours
// now and that apply to target. Caller holds s.mu.
func (s *Sim) effectiveAssignments(principalID, target string, now time.Time) []*roleAssignment {
	var out []*roleAssignment
	for _, ra := range s.sortedAssignments() {
		if ra.principalID == principalID && !now.Before(ra.effective) && scopeCovers(ra.scope, target) {
			out = append(out, ra)
		}
	}
	return out
}

// allowed reports whether principal may perform action on target.
func (s *Sim) allowed(principalID, action, target string, now time.Time) bool {
	for _, ra := range s.effectiveAssignments(principalID, target, now) {
		if rd := s.roleDef(ra.tenantID, ra.roleDefGUID); rd != nil && rd.allows(action) {
			return true
		}
	}
	return false
}

// hasAccessUnder reports whether principal has any honoured assignment at,
// above or below scope: what makes a subscription visible to it.
func (s *Sim) hasAccessUnder(principalID, scope string, now time.Time) bool {
	for _, ra := range s.assignments {
		if ra.principalID == principalID && !now.Before(ra.effective) &&
			(scopeCovers(ra.scope, scope) || scopeCovers(scope, ra.scope)) {
			return true
		}
	}
	return false
}
