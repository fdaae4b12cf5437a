package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// What the signed-in identity needs, checked in pre-flight and printed by
// `dfpeer azure permissions`.

// Microsoft Entra directory role template IDs (the same in every tenant);
// they travel in a token's wids claim.
const (
	roleGlobalAdmin   = "62e90394-69f5-4237-9190-012177145e10"
	roleAppAdmin      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	roleCloudAppAdmin = "158c047a-c907-4556-b7ef-446551a6b5f7"
	roleAppDeveloper  = "cf1c38e5-3621-4004-a7cb-879624dced7c"
)

// Microsoft Graph application permissions, in an app-only token's roles
// claim.
const (
	permAppReadWriteAll = "Application.ReadWrite.All"
	permAppOwnedBy      = "Application.ReadWrite.OwnedBy"
	permDirReadWriteAll = "Directory.ReadWrite.All"
)

// RBAC actions dfpeer checks before writing.
const (
	actionRoleAssignmentsWrite = "Microsoft.Authorization/roleAssignments/write"
	actionRoleDefinitionsWrite = "Microsoft.Authorization/roleDefinitions/write"
	actionSecurityRulesWrite   = "Microsoft.Network/networkSecurityGroups/securityRules/write"
	actionPeer                 = "Microsoft.Network/virtualNetworks/peer/action"
)

// tokenClaims are the claims of an access token dfpeer reads to learn
// what the signed-in identity may do in the directory.
type tokenClaims struct {
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid"`
	AppID    string   `json:"appid"`
	IDType   string   `json:"idtyp"`
	Scopes   string   `json:"scp"`
	Roles    []string `json:"roles"`
	Wids     []string `json:"wids"`
	// opaque: the token could not be read (not a JWT); nothing can be
	// told from it.
	opaque bool
}

// appOnly: a service principal's own token (client credentials), whose
// permissions are all in roles and wids. A user's token (scp) depends on
// tenant settings dfpeer cannot read: by default users may register
// applications.
func (t tokenClaims) appOnly() bool {
	return !t.opaque && (t.IDType == "app" || (t.Scopes == "" && t.IDType == ""))
}

func decodeClaims(token string) (tokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenClaims{}, errors.New("the access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return tokenClaims{}, err
	}
	var c tokenClaims
	err = json.Unmarshal(b, &c)
	return c, err
}

// graphClaims signs in for Microsoft Graph (a cached token: the Graph
// client's first call reuses it) and reads the token's claims.
func (c *Client) graphClaims(ctx context.Context) (tokenClaims, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{EnableCAE: true, Scopes: []string{c.Endpoints.GraphScope}})
	if err != nil {
		return tokenClaims{}, classify("signing in to Microsoft Graph", err)
	}
	claims, err := decodeClaims(tok.Token)
	if err != nil {
		// Tokens are opaque to clients by contract; when this one is,
		// Graph's own answers will tell.
		return tokenClaims{opaque: true}, nil
	}
	return claims, nil
}

// graphNeeds are the directory operations a run will perform.
type graphNeeds struct {
	createApp   bool // register the application
	manageApp   bool // add/remove a client secret on an existing one
	dragonflySP bool // create Dragonfly's service principal
}

// missingGraph lists, for an app-only token, the directory permissions it
// lacks for needs; nil when it has them or cannot tell (a user).
func missingGraph(t tokenClaims, n graphNeeds) []string {
	if !t.appOnly() {
		return nil
	}
	has := func(perms []string, roles ...string) bool {
		for _, p := range perms {
			if slices.Contains(t.Roles, p) {
				return true
			}
		}
		for _, r := range roles {
			if slices.Contains(t.Wids, r) {
				return true
			}
		}
		return false
	}
	var missing []string
	if n.createApp && !has([]string{permAppReadWriteAll, permAppOwnedBy}, roleGlobalAdmin, roleAppAdmin, roleCloudAppAdmin, roleAppDeveloper) {
		missing = append(missing, "register an application: Microsoft Graph application permission Application.ReadWrite.All (or Application.ReadWrite.OwnedBy), or the Application Developer / Application Administrator directory role")
	}
	if n.manageApp && !has([]string{permAppReadWriteAll, permAppOwnedBy}, roleGlobalAdmin, roleAppAdmin, roleCloudAppAdmin, roleAppDeveloper) {
		missing = append(missing, "add a client secret to the existing application: Microsoft Graph application permission Application.ReadWrite.All (or Application.ReadWrite.OwnedBy as its owner), or the Application Administrator directory role")
	}
	if n.dragonflySP && !has([]string{permAppReadWriteAll, permDirReadWriteAll}, roleGlobalAdmin, roleAppAdmin, roleCloudAppAdmin) {
		missing = append(missing, "create Dragonfly Cloud's service principal: Microsoft Graph application permission Application.ReadWrite.All, or the Cloud Application Administrator / Application Administrator directory role")
	}
	return missing
}

// actionMatches reports whether a role definition's action pattern (with
// '*' wildcards, case-insensitive) covers action.
func actionMatches(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == a
	}
	if !strings.HasPrefix(a, parts[0]) {
		return false
	}
	a = a[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(a, mid)
		if i < 0 {
			return false
		}
		a = a[i+len(mid):]
	}
	return strings.HasSuffix(a, parts[len(parts)-1])
}

// allows reports whether the permissions (one entry per role the caller
// holds at the scope) grant action: some entry's actions match it and the
// same entry's notActions do not.
func allows(perms []*armauthorization.Permission, action string) bool {
	for _, p := range perms {
		granted := false
		for _, a := range p.Actions {
			if a != nil && actionMatches(*a, action) {
				granted = true
				break
			}
		}
		for _, n := range p.NotActions {
			if n != nil && actionMatches(*n, action) {
				granted = false
			}
		}
		if granted {
			return true
		}
	}
	return false
}

// Requirements is what `dfpeer azure permissions` prints.
type Requirements struct {
	Graph   GraphRequirements `json:"microsoft_graph"`
	RBAC    RBACRequirements  `json:"azure_rbac"`
	Granted []Grant           `json:"granted_by_dfpeer"`
}

// GraphRequirements are the directory permissions of the signed-in
// identity.
type GraphRequirements struct {
	// ApplicationPermissions, for a service principal (admin consent).
	ApplicationPermissions []string `json:"application_permissions"`
	// DirectoryRoles, alternatively, for a user or a service principal.
	DirectoryRoles []string `json:"directory_roles"`
	Operations     []string `json:"operations"`
}

// RBACRequirements are the Azure roles of the signed-in identity.
type RBACRequirements struct {
	Scope        string   `json:"scope"`
	Actions      []string `json:"actions"`
	BuiltInRoles []string `json:"built_in_roles"`
}

// Grant is an access dfpeer gives to someone else.
type Grant struct {
	Principal string   `json:"principal"`
	Role      string   `json:"role"`
	Actions   []string `json:"actions,omitempty"`
	Scope     string   `json:"scope"`
	Why       string   `json:"why"`
}

// UserActions are the RBAC actions dfpeer performs as the signed-in
// identity. Keep in step with the ARM calls made with Client.cred.
var UserActions = func() []string {
	a := []string{
		"Microsoft.Resources/subscriptions/read",
		"Microsoft.Network/virtualNetworks/read",
		"Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read",
		// Only to remove a peering left Disconnected by a deleted connection.
		"Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete",
		"Microsoft.Network/networkSecurityGroups/read",
		"Microsoft.Network/networkSecurityGroups/securityRules/read",
		actionSecurityRulesWrite,
		// status reads the route tables of the VNet's subnets.
		"Microsoft.Network/routeTables/read",
		"Microsoft.Authorization/roleDefinitions/read",
		actionRoleDefinitionsWrite,
		"Microsoft.Authorization/roleAssignments/read",
		actionRoleAssignmentsWrite,
	}
	slices.Sort(a)
	return a
}()

// RemoveActions are the RBAC actions removing a connection's resources
// takes beyond UserActions' reads (Provider.Remove; the disconnect verb
// lists them). Keep in step with the ARM deletes in the remove functions.
var RemoveActions = func() []string {
	a := []string{
		"Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete",
		"Microsoft.Network/networkSecurityGroups/securityRules/delete",
		"Microsoft.Authorization/roleAssignments/delete",
		"Microsoft.Authorization/roleDefinitions/delete",
	}
	slices.Sort(a)
	return a
}()

// RemoveGraphOperations are the directory operations of Provider.Remove;
// Application.ReadWrite.All covers them.
var RemoveGraphOperations = []string{
	"remove the temporary client secrets of the peering application",
	"delete the peering application and its service principal (never Dragonfly Cloud's)",
}

// checkIdentity signs in for Microsoft Graph and refuses an identity of
// another tenant than the subscription's, or a service principal with no
// directory permission at all (it could not even read applications: say
// what it lacks before Graph refuses).
func (p *Provider) checkIdentity(ctx context.Context, tenantID string) (tokenClaims, error) {
	claims, err := p.c.graphClaims(ctx)
	if err != nil {
		return claims, err
	}
	if claims.TenantID != "" && !strings.EqualFold(claims.TenantID, tenantID) {
		return claims, problem.Refuse("subscription", p.in.SubscriptionID,
			fmt.Sprintf("the application must be registered in the subscription's tenant; sign in there ('az login --tenant %s', or AZURE_TENANT_ID)", tenantID),
			"is in tenant %s, but the signed-in identity is in tenant %s", tenantID, claims.TenantID)
	}
	if claims.appOnly() && len(claims.Roles) == 0 && len(claims.Wids) == 0 {
		return claims, permissionsError(missingGraph(claims, graphNeeds{createApp: true, dragonflySP: true}))
	}
	return claims, nil
}

// checkPermissions refuses, before any write, a run whose identity lacks
// a directory permission or an RBAC action for the writes planned.
func (p *Provider) checkPermissions(ctx context.Context, cl *resolved, claims tokenClaims, id identityChanges, roles roleChanges, secrets secretChanges) error {
	missing := missingGraph(claims, graphNeeds{
		createApp:   id.App.Action == peering.Create || id.SP.Action == peering.Create,
		manageApp:   secrets.manage,
		dragonflySP: id.DragonflySP.Action == peering.Create,
	})
	rbac, err := p.missingRBAC(ctx, cl, roles.assign, roles.define)
	if err != nil {
		return err
	}
	if missing = append(missing, rbac...); len(missing) > 0 {
		return permissionsError(missing)
	}
	return nil
}

func permissionsError(missing []string) error {
	return problem.Refusef("the signed-in Azure identity lacks permissions, nothing was changed:\n  - %s\n('dfpeer azure permissions' lists everything dfpeer needs)",
		strings.Join(missing, "\n  - "))
}

// missingRBAC checks the caller's own permissions on the VNet before it
// writes role definitions or assignments.
func (p *Provider) missingRBAC(ctx context.Context, cl *resolved, assignments, definitions bool) ([]string, error) {
	if !assignments && !definitions {
		return nil, nil
	}
	perms, err := p.c.permissions(ctx, cl.vnet.ID)
	if err != nil {
		return nil, err
	}
	var missing []string
	if assignments && !allows(perms, actionRoleAssignmentsWrite) {
		missing = append(missing, fmt.Sprintf("assign roles on %s: Azure RBAC action %s (Owner, User Access Administrator or Role Based Access Control Administrator)", cl.vnet.ID, actionRoleAssignmentsWrite))
	}
	if definitions && !allows(perms, actionRoleDefinitionsWrite) {
		missing = append(missing, fmt.Sprintf("define the custom role %s in /subscriptions/%s: Azure RBAC action %s (Owner or User Access Administrator on the subscription)", CustomRoleName, p.in.SubscriptionID, actionRoleDefinitionsWrite))
	}
	return missing, nil
}

// permissions lists the caller's effective permissions on a resource.
func (c *Client) permissions(ctx context.Context, resourceID string) ([]*armauthorization.Permission, error) {
	id, err := arm.ParseResourceID(resourceID)
	if err != nil {
		return nil, fmt.Errorf("resource ID %q: %w", resourceID, err)
	}
	sc, err := c.sub(id.SubscriptionID)
	if err != nil {
		return nil, err
	}
	pager := sc.permissions.NewListForResourcePager(id.ResourceGroupName, id.ResourceType.Namespace, "", lastSegment(id.ResourceType.Type), id.Name, nil)
	var out []*armauthorization.Permission
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("reading your permissions on "+resourceID, err)
		}
		out = append(out, page.Value...)
	}
	return out, nil
}

// PermissionRequirements describes everything `dfpeer azure connect`,
// `status` and `disconnect` need, and what connect grants.
func PermissionRequirements() Requirements {
	actions := slices.Clone(UserActions)
	for _, a := range RemoveActions {
		if !slices.Contains(actions, a) {
			actions = append(actions, a)
		}
	}
	slices.Sort(actions)
	return Requirements{
		Graph: GraphRequirements{
			ApplicationPermissions: []string{permAppReadWriteAll},
			DirectoryRoles:         []string{"Application Administrator", "Cloud Application Administrator"},
			Operations: []string{
				"read applications and service principals",
				"register the peering application (multi-tenant) and create its service principal",
				"create Dragonfly Cloud's service principal (app ID " + DragonflyAppID + ")",
				"add a temporary client secret to the peering application, and remove it",
				"disconnect: " + RemoveGraphOperations[0],
				"disconnect: " + RemoveGraphOperations[1],
			},
		},
		RBAC: RBACRequirements{
			Scope:        "/subscriptions/<subscription> (the custom role is defined there; the rest is on the VNet and its NSGs)",
			Actions:      actions,
			BuiltInRoles: []string{"Owner", "or: Network Contributor + User Access Administrator"},
		},
		Granted: []Grant{
			{Principal: "the peering application's service principal", Role: "Network Contributor", Scope: "the VNet",
				Why: "it creates the peering from your VNet to Dragonfly Cloud's, signed in to both tenants"},
			{Principal: "Dragonfly Cloud's service principal (app ID " + DragonflyAppID + ")", Role: CustomRoleName,
				Actions: []string{actionPeer}, Scope: "the VNet",
				Why: "Dragonfly Cloud creates its half of the peering, from its VNet to yours"},
		},
	}
}
