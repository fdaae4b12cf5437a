package azure

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
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
	ID      string // its resource ID
	Name    string // its GUID
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
				a := &assignment{ID: str(ra.ID), Name: str(ra.Name), Scope: str(p.Scope)}
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
	err = c.retry(ctx, propagationBudget, "assigning role on "+scope, principalNotYetReplicated, notify, func() error {
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
		out = &assignment{ID: str(resp.ID), Name: name, Scope: scope, Created: time.Now()}
		if p := resp.Properties; p != nil && p.CreatedOn != nil {
			out.Created = *p.CreatedOn
		}
		return nil
	})
	if err != nil {
		if alreadyExists(err, "RoleAssignmentExists") {
			a, ferr := c.findAssignment(ctx, subscription, scope, principalID, roleGUID)
			if ferr != nil || a != nil {
				return a, ferr
			}
			return &assignment{Name: name, Scope: scope, Created: time.Now()}, nil
		}
		return nil, classify("assigning role on "+scope, err)
	}
	return out, nil
}

// assignmentWant says whose role assignment on the VNet a change is
// about: the application's Network Contributor, or Dragonfly's custom
// role.
type assignmentWant struct{ Dragonfly bool }

// roleChanges are the roles' changes, in the order they are ensured, and
// what they will write (for the permission check).
type roleChanges struct {
	NetworkContributor, Definition, Dragonfly, Settle peering.Change
	// assign: some role assignment is to be made; define: the custom role
	// is to be created or widened.
	assign, define bool
}

// observeRoles reads the custom role and the two assignments on the VNet.
func (p *Provider) observeRoles(ctx context.Context, cl *resolved) (roleChanges, error) {
	var out roleChanges
	var err error
	cl.role, err = p.c.findCustomRole(ctx, p.in.SubscriptionID, cl.tenantID)
	var mismatch *roleMismatch
	if err != nil {
		if !errors.As(err, &mismatch) {
			return out, err
		}
		if cl.connecting() {
			return out, problem.RefuseErr(err)
		}
		// Status and disconnect: a role of that name that does not
		// allow peering is someone else's, and Dragonfly lacks its
		// role.
		cl.role.Exists = false
	}
	var nc, df *assignment
	if cl.sp != nil {
		if nc, err = p.c.findAssignment(ctx, p.in.SubscriptionID, cl.vnet.ID, cl.sp.ID, networkContributor); err != nil {
			return out, err
		}
	}
	if cl.dfSP != nil && cl.role.Exists && !cl.role.NeedsScope {
		if df, err = p.c.findAssignment(ctx, p.in.SubscriptionID, cl.vnet.ID, cl.dfSP.ID, cl.role.GUID); err != nil {
			return out, err
		}
	}
	out.NetworkContributor = assignmentChange(cl, nc, cl.sp, networkContributor, assignmentWant{},
		"Network Contributor for "+cl.appName, fmt.Sprintf("Network Contributor for %s on %s", cl.appName, cl.vnet.Name))
	out.Dragonfly = assignmentChange(cl, df, cl.dfSP, cl.role.GUID, assignmentWant{Dragonfly: true},
		CustomRoleName+" for Dragonfly Cloud", fmt.Sprintf("%s for Dragonfly Cloud on %s", CustomRoleName, cl.vnet.Name))
	out.assign = nc == nil || df == nil

	subScope := "/subscriptions/" + p.in.SubscriptionID
	def := peering.Change{Action: peering.Create, Kind: peering.KindRoleDefinition, Target: subScope, Found: peering.Absent,
		ID:     roleDefinitionID(p.in.SubscriptionID, cl.role.GUID),
		Detail: fmt.Sprintf("custom role %s (%s), assignable in %s", CustomRoleName, actionPeer, subScope), Title: "Custom role " + CustomRoleName}
	switch {
	case cl.role.Exists && cl.role.NeedsScope:
		def.Action, def.Found, def.Reason = peering.Update, peering.Different, "not assignable in "+subScope
		def.Detail = fmt.Sprintf("custom role %s: make it assignable in %s too", CustomRoleName, subScope)
	case cl.role.Exists:
		def.Action, def.Found = peering.Unchanged, peering.AsWanted
	}
	if mismatch != nil {
		def.Found, def.Reason = peering.NotOurs, mismatch.Error()
	}
	out.Definition = def
	out.define = def.Action != peering.Unchanged

	out.Settle = peering.Change{Action: peering.Wait, Kind: peering.KindRoleAssignment, Target: cl.vnet.ID, Quiet: true,
		Detail: "let Dragonfly Cloud's role assignment take effect before the connection exists", Title: "Let Dragonfly Cloud's role take effect"}
	return out, nil
}

// assignmentChange classifies one assignment: ours when dfpeer made it
// on the VNet under the name it derives; one made by someone else (on the
// VNet or above it) does the job but is not dfpeer's to remove.
func assignmentChange(cl *resolved, a *assignment, sp *ServicePrincipal, roleGUID string, want assignmentWant, detail, title string) peering.Change {
	c := peering.Change{Action: peering.Create, Kind: peering.KindRoleAssignment, Target: cl.vnet.ID, Detail: detail, Title: title,
		Found: peering.Absent, Want: want}
	if a == nil {
		return c
	}
	c.Action, c.ID, c.Found = peering.Unchanged, a.ID, peering.AsWanted
	if !strings.EqualFold(a.Scope, cl.vnet.ID) || !strings.EqualFold(a.Name, nameGUID("assignment", cl.vnet.ID, sp.ID, roleGUID)) {
		c.Found, c.Reason = peering.NotOurs, "granted on "+a.Scope+" by someone else (assignment "+a.Name+")"
	}
	return c
}

// ensureRoleDefinition creates the custom role, or makes it assignable
// in this subscription too.
func (p *Provider) ensureRoleDefinition(ctx context.Context, cl *resolved) (string, error) {
	r, err := p.c.findCustomRole(ctx, p.in.SubscriptionID, cl.tenantID)
	if err != nil {
		return "", err
	}
	cl.role = r
	if r.Exists && !r.NeedsScope {
		return "already present", nil
	}
	if err := p.c.ensureCustomRole(ctx, p.in.SubscriptionID, r); err != nil {
		return "", err
	}
	cl.role.Exists, cl.role.NeedsScope = true, false
	if r.Exists {
		return "made assignable in this subscription", nil
	}
	return "created", nil
}

// ensureRoleAssignment gives the principal its role on the VNet unless an
// assignment at or above it already does.
func (p *Provider) ensureRoleAssignment(ctx context.Context, s *peering.State, cl *resolved, want assignmentWant) (string, error) {
	principal, role := cl.sp.ID, networkContributor
	if want.Dragonfly {
		principal, role = cl.dfSP.ID, cl.role.GUID
	}
	a, err := p.c.findAssignment(ctx, p.in.SubscriptionID, cl.vnet.ID, principal, role)
	if err != nil {
		return "", err
	}
	note := "granted"
	if a != nil {
		note = "already granted"
		if !strings.EqualFold(a.Scope, cl.vnet.ID) {
			note += " (on " + a.Scope + ")"
		}
	} else {
		a, err = p.c.assign(ctx, p.in.SubscriptionID, cl.vnet.ID, principal, role, func(error) {
			s.Report.Update("waiting for the service principal to replicate")
		})
		if err != nil {
			return "", err
		}
	}
	if want.Dragonfly {
		cl.dfAssignment = a
	}
	return note, nil
}

// ensureSettled waits until Dragonfly's role assignment is old enough to
// be in effect: Dragonfly peers with the VNet as soon as the connection
// exists, and dfpeer cannot observe another principal's access.
func (p *Provider) ensureSettled(ctx context.Context, s *peering.State, cl *resolved) (string, error) {
	if cl.dfAssignment == nil || cl.dfAssignment.Created.IsZero() {
		return "nothing to wait for", nil
	}
	wait := p.c.rolePropagation - time.Since(cl.dfAssignment.Created)
	if wait <= 0 {
		return "in effect", nil
	}
	wait = min(wait, p.c.rolePropagation)
	s.Report.Update(fmt.Sprintf("Azure takes a while to apply a new role assignment; %s", roundDuration(wait)))
	if err := poll.Sleep(ctx, nil, wait); err != nil {
		return "", err
	}
	return fmt.Sprintf("waited %s", roundDuration(wait)), nil
}

// removeRoleAssignment deletes an assignment dfpeer made (by its ID);
// ARM answers 204 for one already gone.
func (p *Provider) removeRoleAssignment(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	if c.ID == "" {
		return "already gone", nil
	}
	sc, err := p.c.sub(p.in.SubscriptionID)
	if err != nil {
		return "", err
	}
	resp, err := sc.assignments.DeleteByID(ctx, c.ID, nil)
	if err == nil && resp.ID == nil {
		return "already gone", nil // 204: ARM had none
	}
	return deleted("role assignment "+lastSegment(c.ID), err)
}

// removeRoleDefinition deletes the custom role when nothing in the
// subscription is assigned it any more and it serves no other
// subscription; otherwise it is kept, saying why.
func (p *Provider) removeRoleDefinition(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	sc, err := p.c.sub(p.in.SubscriptionID)
	if err != nil {
		return "", err
	}
	subScope := "/subscriptions/" + p.in.SubscriptionID
	guid := lastSegment(c.ID)
	got, err := sc.roleDefs.Get(ctx, subScope, guid, nil)
	if err != nil {
		if isNotFound(err) {
			return "already gone", nil
		}
		return "", classify("reading role definition "+CustomRoleName, err)
	}
	props := got.Properties
	if props == nil || !strings.EqualFold(str(props.RoleName), CustomRoleName) {
		return "kept: role " + guid + " is not " + CustomRoleName, nil
	}
	for _, s := range props.AssignableScopes {
		if !strings.EqualFold(strings.TrimRight(str(s), "/"), subScope) {
			return "kept: it is also assignable in " + str(s), nil
		}
	}
	n := 0
	pager := sc.assignments.NewListForScopePager(subScope, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", classify("listing role assignments of "+subScope, err)
		}
		for _, ra := range page.Value {
			if ra.Properties != nil && strings.EqualFold(lastSegment(str(ra.Properties.RoleDefinitionID)), guid) {
				n++
			}
		}
	}
	if n > 0 {
		return fmt.Sprintf("kept: still assigned (%d assignment(s))", n), nil
	}
	_, err = sc.roleDefs.Delete(ctx, subScope, guid, nil)
	return deleted("role "+CustomRoleName, err)
}
