package azure

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
)

// Roles: Network Contributor for the peering application, and the custom
// role that lets Dragonfly Cloud peer with the VNet.

const (
	// CustomRoleName is the console guide's custom role for Dragonfly.
	CustomRoleName = "dfcloud-peering-role"
	// networkContributor is the built-in role's GUID (the same everywhere).
	networkContributor    = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	customRoleDescription = "Allows creating a peering to vnets in scope (but not from)"
)

// nameGUID derives a stable GUID (version 5 layout) from parts, so that
// what dfpeer names in Azure is the same on every run: a re-run finds its
// own role definition and assignments instead of adding new ones.
func nameGUID(parts ...string) string {
	h := sha1.Sum([]byte("dfpeer\x00" + strings.ToLower(strings.Join(parts, "\x00"))))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func roleDefinitionID(subscription, guid string) string {
	return "/subscriptions/" + subscription + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

// scopeCovers: an assignment at scope applies to target.
func scopeCovers(scope, target string) bool {
	s, t := strings.TrimRight(strings.ToLower(scope), "/"), strings.TrimRight(strings.ToLower(target), "/")
	return s == "" || t == s || strings.HasPrefix(t, s+"/")
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// customRole is the state of dfcloud-peering-role in the subscription.
type customRole struct {
	GUID   string
	Exists bool
	// NeedsScope: it exists but is not assignable in this subscription;
	// dfpeer adds the subscription to its assignable scopes.
	NeedsScope bool
	scopes     []string
	// perms and description of an existing role, kept when dfpeer only
	// widens its assignable scopes.
	perms       []*armauthorization.Permission
	description string
}

// findCustomRole looks for the role: first under the GUID dfpeer gives it
// (in whatever subscription of the tenant it was made), then by name (a
// role made by hand, following the console guide).
func (c *Client) findCustomRole(ctx context.Context, subscription, tenantID string) (customRole, error) {
	sc, err := c.sub(subscription)
	if err != nil {
		return customRole{}, err
	}
	subScope := "/subscriptions/" + subscription
	r := customRole{GUID: nameGUID("role", tenantID, CustomRoleName)}
	check := func(rd *armauthorization.RoleDefinition) (customRole, error) {
		p := rd.Properties
		if p == nil {
			return r, fmt.Errorf("role definition %s has no properties", str(rd.ID))
		}
		if !allows(p.Permissions, actionPeer) {
			var actions []string
			for _, perm := range p.Permissions {
				for _, a := range perm.Actions {
					actions = append(actions, str(a))
				}
			}
			return r, &roleMismatch{id: str(rd.ID), actions: actions}
		}
		r.GUID, r.Exists, r.perms, r.description = str(rd.Name), true, p.Permissions, str(p.Description)
		r.NeedsScope = true
		for _, s := range p.AssignableScopes {
			r.scopes = append(r.scopes, str(s))
			if scopeCovers(str(s), subScope) {
				r.NeedsScope = false
			}
		}
		return r, nil
	}
	got, err := sc.roleDefs.Get(ctx, subScope, r.GUID, nil)
	if err == nil && got.Properties != nil && strings.EqualFold(str(got.Properties.RoleName), CustomRoleName) {
		return check(&got.RoleDefinition)
	}
	if err != nil && !isNotFound(err) {
		return r, classify("reading role definition "+CustomRoleName, err)
	}
	pager := sc.roleDefs.NewListPager(subScope, &armauthorization.RoleDefinitionsClientListOptions{
		Filter: to.Ptr("roleName eq " + odataString(CustomRoleName)),
	})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return r, classify("listing role definitions", err)
		}
		for _, rd := range page.Value {
			if rd.Properties != nil && strings.EqualFold(str(rd.Properties.RoleName), CustomRoleName) {
				return check(rd)
			}
		}
	}
	return r, nil
}

// roleMismatch: a role of that name exists and does not allow peering.
type roleMismatch struct {
	id      string
	actions []string
}

func (e *roleMismatch) Error() string {
	return fmt.Sprintf("a custom role named %s already exists (%s) but does not allow %s (its actions: %s); add that action to it, or delete it so dfpeer creates it",
		CustomRoleName, e.id, actionPeer, strings.Join(e.actions, ", "))
}

// ensureCustomRole creates the role, or adds the subscription to its
// assignable scopes. Azure answers 201 for both.
func (c *Client) ensureCustomRole(ctx context.Context, subscription string, r customRole) error {
	sc, err := c.sub(subscription)
	if err != nil {
		return err
	}
	subScope := "/subscriptions/" + subscription
	scopes := append([]string(nil), r.scopes...)
	if !r.Exists || r.NeedsScope {
		scopes = append(scopes, subScope)
	}
	ptrs := make([]*string, len(scopes))
	for i := range scopes {
		ptrs[i] = to.Ptr(scopes[i])
	}
	perms := []*armauthorization.Permission{{Actions: []*string{to.Ptr(actionPeer)}}}
	description := customRoleDescription
	if r.Exists {
		perms, description = r.perms, r.description
	}
	_, err = sc.roleDefs.CreateOrUpdate(ctx, subScope, r.GUID, armauthorization.RoleDefinition{
		Properties: &armauthorization.RoleDefinitionProperties{
			RoleName:         to.Ptr(CustomRoleName),
			Description:      to.Ptr(description),
			RoleType:         to.Ptr("CustomRole"),
			Permissions:      perms,
			AssignableScopes: ptrs,
		},
	}, nil)
	if err != nil {
		return classify("creating role "+CustomRoleName, err)
	}
	return nil
}

// assignment is a role assignment that applies to the VNet.
type assignment struct {
	Scope   string
	Created time.Time
}

// findAssignment returns the assignment of role to principal that applies
// to scope (made there or above it), or nil.
func (c *Client) findAssignment(ctx context.Context, subscription, scope, principalID, roleGUID string) (*assignment, error) {
	sc, err := c.sub(subscription)
	if err != nil {
		return nil, err
	}
	pager := sc.assignments.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{
		Filter: to.Ptr("principalId eq " + odataString(principalID)),
	})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("listing role assignments on "+scope, err)
		}
		for _, ra := range page.Value {
			p := ra.Properties
			if p == nil || !strings.EqualFold(str(p.PrincipalID), principalID) || !strings.EqualFold(lastSegment(str(p.RoleDefinitionID)), roleGUID) {
				continue
			}
			if scopeCovers(str(p.Scope), scope) {
				a := &assignment{Scope: str(p.Scope)}
				if p.CreatedOn != nil {
					a.Created = *p.CreatedOn
				}
				return a, nil
			}
		}
	}
	return nil, nil
}

// assign gives principal role on scope under a name derived from the
// three, so a retry or re-run cannot add a second one. An identical
// assignment under another name (RoleAssignmentExists) is as good; a
// principal just created may not have replicated yet (PrincipalNotFound),
// which is retried.
func (c *Client) assign(ctx context.Context, subscription, scope, principalID, roleGUID string, notify func(error)) (*assignment, error) {
	sc, err := c.sub(subscription)
	if err != nil {
		return nil, err
	}
	name := nameGUID("assignment", scope, principalID, roleGUID)
	var out *assignment
	err = c.retryWhile(ctx, propagationBudget, func(err error) bool {
		code, _ := errorCode(err)
		return code == "PrincipalNotFound"
	}, notify, func() error {
		resp, err := sc.assignments.Create(ctx, scope, name, armauthorization.RoleAssignmentCreateParameters{
			Properties: &armauthorization.RoleAssignmentProperties{
				RoleDefinitionID: to.Ptr(roleDefinitionID(subscription, roleGUID)),
				PrincipalID:      to.Ptr(principalID),
				// Set, so that ARM does not look the principal up in a
				// directory replica that may not have it yet.
				PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
			},
		}, nil)
		if err != nil {
			return err
		}
		out = &assignment{Scope: scope, Created: time.Now()}
		if p := resp.Properties; p != nil && p.CreatedOn != nil {
			out.Created = *p.CreatedOn
		}
		return nil
	})
	if err != nil {
		if code, status := errorCode(err); code == "RoleAssignmentExists" || status == http.StatusConflict {
			a, ferr := c.findAssignment(ctx, subscription, scope, principalID, roleGUID)
			if ferr != nil || a != nil {
				return a, ferr
			}
			return &assignment{Scope: scope, Created: time.Now()}, nil
		}
		return nil, classify("assigning role on "+scope, err)
	}
	return out, nil
}
