package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Dragonfly Cloud's fixed identities in Azure (from the console guide).
const (
	DragonflyTenantID = "3f7cbd78-1650-4b7d-b28f-8ee05eac10a4"
	DragonflyAppID    = "ac30c41f-1eab-4f45-9024-70decee5559d"
)

// PeeringName is the console guide's name for the peering from the
// user's VNet to Dragonfly's.
func PeeringName(vnet string) string { return vnet + "-dfcloud-peering" }

// connectionAppID is what dfpeer sends as peer.azure.app_object_id. The
// console form asks for the application's "App ID" (its client ID, appId)
// while the API field is named app_object_id and documented as the object
// ID — the open question in dragonfly-cloud-api.md. dfpeer follows the
// console. This and appFromConnection are the one place to change if
// Dragonfly settles it the other way.
func connectionAppID(app *Application) string { return app.AppID }

// appFromConnection finds the application an existing connection names,
// reading app_object_id the way connectionAppID writes it.
func appFromConnection(ctx context.Context, g *Graph, id string) (*Application, error) {
	return g.ApplicationByAppID(ctx, id)
}

// Inputs are the user's choices for one connect run.
type Inputs struct {
	SubscriptionID    string
	ResourceGroup     string
	VNet              string
	Region            string // the VNet's location; a mismatch is refused
	AppName           string
	AppNameGiven      bool // --app-name was given (not derived)
	UseRemoteGateways bool
	Port              int
	ConnectionName    string
	// Timeout bounds dfpeer's own waits (the peering to connect).
	Timeout time.Duration
	// NoWait skips waiting for the peering to be Connected.
	NoWait bool
}

// Provider implements peering.Provider for Azure.
type Provider struct {
	c  *Client
	in Inputs

	tenantID string

	// Resolved by Preflight.
	vnet        VNet
	dfVNetID    string
	connName    string
	app         *Application
	sp, dfSP    *ServicePrincipal
	role        customRole
	peeringName string
	peering     *Peering // ours, when it exists
	removeStale bool     // ours is Disconnected: remove it before the connection
	nsgs        []nsgPlan

	// Set by the steps.
	dfAssignment *assignment
}

// nsgPlan is an NSG whose rule dfpeer creates or keeps.
type nsgPlan struct {
	ID, Name, ResourceGroup, Subscription string
	Subnets                               []string // prefixes it protects in the VNet
}

// NewProvider returns the Azure side of a connect run.
func NewProvider(c *Client, in Inputs) *Provider {
	if in.Timeout <= 0 {
		in.Timeout = 15 * time.Minute
	}
	return &Provider{c: c, in: in}
}

// Name implements peering.Provider.
func (p *Provider) Name() string { return "azure" }

// Peer is the customer side: subscription, VNet, region, and the Azure
// fields; the application ID is completed by the application step.
func (p *Provider) Peer(ctx context.Context) (dfcloud.Peer, error) {
	if p.tenantID == "" {
		sub, err := p.c.Subscription(ctx, p.in.SubscriptionID)
		if err != nil {
			if code, _ := errorCode(err); code == "InvalidAuthenticationTokenTenant" {
				return dfcloud.Peer{}, cmdutil.InputErrorf("--subscription %s belongs to another tenant than the signed-in identity: sign in to that tenant ('az login --tenant …', or AZURE_TENANT_ID)", p.in.SubscriptionID)
			}
			return dfcloud.Peer{}, err
		}
		if sub == nil {
			return dfcloud.Peer{}, p.subscriptionNotFound(ctx)
		}
		p.tenantID = sub.TenantID
	}
	az := &dfcloud.AzurePeer{ResourceGroup: p.in.ResourceGroup, TenantID: p.tenantID, UseRemoteGateways: p.in.UseRemoteGateways}
	if p.app != nil {
		az.AppObjectID = connectionAppID(p.app)
	}
	return dfcloud.Peer{AccountID: p.in.SubscriptionID, VPCID: p.in.VNet, Region: p.in.Region, Azure: az}, nil
}

func (p *Provider) subscriptionNotFound(ctx context.Context) error {
	valid := "none"
	if subs, err := p.c.Subscriptions(ctx); err == nil && len(subs) > 0 {
		var ids []string
		for _, s := range subs {
			ids = append(ids, fmt.Sprintf("%s (%s)", s.ID, s.Name))
		}
		valid = strings.Join(ids, ", ")
	}
	return cmdutil.InputErrorf("--subscription %s: no such subscription, or the signed-in identity has no role in it (subscriptions it can use: %s)", p.in.SubscriptionID, valid)
}

// Preflight checks, read-only, everything the run will touch.
func (p *Provider) Preflight(ctx context.Context, net *dfcloud.Network, existing *dfcloud.Connection) ([]peering.Change, error) {
	if net.VPC == nil || net.VPC.ResourceID == "" || net.VPC.AccountID == "" {
		return nil, fmt.Errorf("network %s has no VNet information yet; wait until it is active", net.NetworkID)
	}
	p.dfVNetID = strings.TrimRight(net.VPC.AccountID, "/") + "/providers/Microsoft.Network/virtualNetworks/" + net.VPC.ResourceID
	if _, err := p.Peer(ctx); err != nil {
		return nil, err
	}
	p.connName = p.in.ConnectionName
	if existing != nil {
		p.connName = existing.Config.Name
	}

	claims, err := p.c.graphClaims(ctx)
	if err != nil {
		return nil, err
	}
	if claims.TenantID != "" && !strings.EqualFold(claims.TenantID, p.tenantID) {
		return nil, cmdutil.InputErrorf("--subscription %s is in tenant %s, but the signed-in identity is in tenant %s: the application must be registered in the subscription's tenant; sign in there ('az login --tenant %s', or AZURE_TENANT_ID)",
			p.in.SubscriptionID, p.tenantID, claims.TenantID, p.tenantID)
	}
	// A service principal with no directory permission at all cannot even
	// read applications: say what it lacks before Graph refuses.
	if claims.appOnly() && len(claims.Roles) == 0 && len(claims.Wids) == 0 {
		return nil, permissionsError(missingGraph(claims, graphNeeds{createApp: true, dragonflySP: true}))
	}

	vnet, err := p.c.GetVNet(ctx, p.in.SubscriptionID, p.in.ResourceGroup, p.in.VNet)
	if err != nil {
		return nil, err
	}
	if vnet == nil {
		return nil, p.vnetNotFound(ctx)
	}
	p.vnet = *vnet
	if !sameRegion(p.in.Region, vnet.Location) {
		return nil, cmdutil.InputErrorf("--region %s: virtual network %s is in %s; the peering's region is the VNet's (drop --region)", p.in.Region, vnet.Name, vnet.Location)
	}
	if block, err := peering.FirstOverlap(net.CIDRBlock, vnet.Prefixes); err != nil {
		return nil, err
	} else if block != "" {
		return nil, cmdutil.InputErrorf("--vnet %s: its address prefix %s overlaps the Dragonfly network %s CIDR %s; peered networks need disjoint ranges (pick another VNet, or create the Dragonfly network with a CIDR outside %s)",
			vnet.Name, block, net.Name, net.CIDRBlock, strings.Join(vnet.Prefixes, ", "))
	}
	peeringChanges, err := p.preflightPeering(*vnet)
	if err != nil {
		return nil, err
	}

	if err := p.preflightApplication(ctx, existing); err != nil {
		return nil, err
	}
	if p.app != nil {
		if p.sp, err = p.c.Graph.ServicePrincipalByAppID(ctx, p.app.AppID); err != nil {
			return nil, classify("reading the application's service principal", err)
		}
	}
	if p.dfSP, err = p.c.Graph.ServicePrincipalByAppID(ctx, DragonflyAppID); err != nil {
		return nil, classify("reading Dragonfly Cloud's service principal", err)
	}
	p.role, err = p.c.findCustomRole(ctx, p.in.SubscriptionID, p.tenantID)
	if err != nil {
		var mismatch *roleMismatch
		if errors.As(err, &mismatch) {
			return nil, problem.RefuseErr(err)
		}
		return nil, err
	}
	ncDone, dfDone := false, false
	if p.sp != nil {
		a, err := p.c.findAssignment(ctx, p.in.SubscriptionID, vnet.ID, p.sp.ID, networkContributor)
		if err != nil {
			return nil, err
		}
		ncDone = a != nil
	}
	if p.dfSP != nil && p.role.Exists && !p.role.NeedsScope {
		a, err := p.c.findAssignment(ctx, p.in.SubscriptionID, vnet.ID, p.dfSP.ID, p.role.GUID)
		if err != nil {
			return nil, err
		}
		dfDone = a != nil
	}
	nsgChanges, err := p.preflightNSGs(ctx, net)
	if err != nil {
		return nil, err
	}

	// What the identity must be allowed to do, for the writes planned.
	leftovers := p.leftoverSecrets()
	needPassword := peeringChanges[len(peeringChanges)-1].Action != "unchanged"
	missing := missingGraph(claims, graphNeeds{
		createApp:   p.app == nil || p.sp == nil,
		manageApp:   p.app != nil && (needPassword || leftovers > 0),
		dragonflySP: p.dfSP == nil,
	})
	rbac, err := p.missingRBAC(ctx, !ncDone || !dfDone, !p.role.Exists || p.role.NeedsScope)
	if err != nil {
		return nil, err
	}
	if missing = append(missing, rbac...); len(missing) > 0 {
		return nil, permissionsError(missing)
	}

	return p.plan(ncDone, dfDone, leftovers, needPassword, peeringChanges, nsgChanges), nil
}

func permissionsError(missing []string) error {
	return cmdutil.InputErrorf("the signed-in Azure identity lacks permissions, nothing was changed:\n  - %s\n('dfpeer azure permissions' lists everything dfpeer needs)",
		strings.Join(missing, "\n  - "))
}

// sameRegion compares Azure locations the way ARM does: case and spaces
// do not matter ("East US" is eastus).
func sameRegion(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }
	return a == "" || norm(a) == norm(b)
}

func (p *Provider) vnetNotFound(ctx context.Context) error {
	valid := "none"
	if vnets, err := p.c.VNets(ctx, p.in.SubscriptionID, ""); err == nil && len(vnets) > 0 {
		var names []string
		for _, v := range vnets {
			names = append(names, v.Name+" (resource group "+v.ResourceGroup+")")
		}
		valid = strings.Join(names, ", ")
	}
	return cmdutil.InputErrorf("--vnet %s: no such virtual network in resource group %s of subscription %s (virtual networks there: %s)",
		p.in.VNet, p.in.ResourceGroup, p.in.SubscriptionID, valid)
}

// preflightPeering finds the VNet's peering to Dragonfly's VNet and
// refuses what would conflict with it. A peering whose other side is gone
// (Disconnected: the connection was deleted) blocks Dragonfly from peering
// again until it is removed, so it is removed before the connection is
// created, and created anew after.
func (p *Provider) preflightPeering(vnet VNet) ([]peering.Change, error) {
	p.peeringName, p.peering, p.removeStale = PeeringName(vnet.Name), nil, false
	for i := range vnet.Peerings {
		if pe := &vnet.Peerings[i]; strings.EqualFold(pe.RemoteID, p.dfVNetID) {
			p.peering, p.peeringName = pe, pe.Name
		}
	}
	for _, pe := range vnet.Peerings {
		if p.peering != nil && pe.Name == p.peering.Name {
			continue
		}
		if p.peering == nil && strings.EqualFold(pe.Name, p.peeringName) {
			return nil, cmdutil.InputErrorf("--vnet %s already has a peering named %s, to %s rather than Dragonfly Cloud's VNet %s: delete it (az network vnet peering delete -g %s --vnet-name %s -n %s) and run again",
				vnet.Name, pe.Name, pe.RemoteID, p.dfVNetID, vnet.ResourceGroup, vnet.Name, pe.Name)
		}
		if p.in.UseRemoteGateways && pe.UseRemoteGateways {
			return nil, cmdutil.InputErrorf("--use-remote-gateways: peering %s of %s already uses remote gateways (to %s), and a virtual network can use the gateways of one peering only; drop --use-remote-gateways or change that peering",
				pe.Name, vnet.Name, pe.RemoteID)
		}
	}
	create := peering.Change{Action: "create", Kind: "peering", Target: vnet.ID,
		Detail: fmt.Sprintf("%s from %s to Dragonfly Cloud's VNet %s (virtual network access allowed, remote gateways %s)", p.peeringName, vnet.Name, p.dfVNetID, onOff(p.in.UseRemoteGateways))}
	pe := p.peering
	if pe == nil {
		return []peering.Change{create}, nil
	}
	if pe.State == "Disconnected" || pe.ProvisioningState == "Failed" {
		p.removeStale = true
		return []peering.Change{{Action: "remove", Kind: "peering", Target: vnet.ID,
			Detail: fmt.Sprintf("%s: it is %s (Dragonfly Cloud's side is gone) and would stop Dragonfly from peering again", pe.Name, pe.State)}, create}, nil
	}
	if pe.UseRemoteGateways != p.in.UseRemoteGateways || !pe.AllowVirtualNetworkAccess {
		return nil, cmdutil.InputErrorf("--vnet %s already peers with Dragonfly Cloud's VNet through %s, with virtual network access %s and remote gateways %s; run with the same settings (--use-remote-gateways=%t), or delete that peering and run again",
			vnet.Name, pe.Name, onOff(pe.AllowVirtualNetworkAccess), onOff(pe.UseRemoteGateways), pe.UseRemoteGateways)
	}
	return []peering.Change{{Action: "unchanged", Kind: "peering", Target: vnet.ID, Detail: fmt.Sprintf("%s to Dragonfly Cloud's VNet (%s)", pe.Name, pe.State)}}, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// preflightApplication finds the application to adopt, if any: the one
// an existing connection names, else the one of that display name.
func (p *Provider) preflightApplication(ctx context.Context, existing *dfcloud.Connection) error {
	p.app = nil
	if existing != nil && existing.Config.Peer.Azure != nil && existing.Config.Peer.Azure.AppObjectID != "" {
		id := existing.Config.Peer.Azure.AppObjectID
		app, err := appFromConnection(ctx, p.c.Graph, id)
		if err != nil {
			return classify("reading application "+id, err)
		}
		if app == nil {
			return cmdutil.InputErrorf("connection %s names application %s, which no longer exists in tenant %s; delete the connection ('dfpeer connections delete %s --wait') and run again",
				existing.ConnectionID, id, p.tenantID, existing.ConnectionID)
		}
		if p.in.AppNameGiven && app.DisplayName != p.in.AppName {
			return cmdutil.InputErrorf("--app-name %q: connection %s uses application %q (app ID %s); drop --app-name, or delete the connection to change it",
				p.in.AppName, existing.ConnectionID, app.DisplayName, app.AppID)
		}
		p.app = app
	} else {
		apps, err := p.c.Graph.ApplicationsByName(ctx, p.in.AppName)
		if err != nil {
			return classify("looking up application "+p.in.AppName, err)
		}
		if len(apps) > 1 {
			var ids []string
			for _, a := range apps {
				ids = append(ids, a.AppID)
			}
			return cmdutil.InputErrorf("--app-name %q: %d applications have this name (app IDs %s); choose another --app-name", p.in.AppName, len(apps), strings.Join(ids, ", "))
		}
		if len(apps) == 1 {
			p.app = &apps[0]
		}
	}
	if p.app != nil && p.app.SignInAudience != multiTenant && p.app.SignInAudience != "AzureADandPersonalMicrosoftAccount" {
		return cmdutil.InputErrorf("--app-name %q: the application exists (app ID %s) but is single-tenant (%s), and Dragonfly Cloud's tenant must accept it; choose another --app-name, or make it multitenant (az ad app update --id %s --sign-in-audience AzureADMultipleOrgs)",
			p.app.DisplayName, p.app.AppID, p.app.SignInAudience, p.app.AppID)
	}
	return nil
}

// leftoverSecrets counts temporary secrets an interrupted run left.
func (p *Provider) leftoverSecrets() int {
	n := 0
	if p.app != nil {
		for _, pc := range p.app.PasswordCredentials {
			if pc.DisplayName == tempSecretName {
				n++
			}
		}
	}
	return n
}

// missingRBAC checks the caller's own permissions on the VNet before it
// writes role definitions or assignments.
func (p *Provider) missingRBAC(ctx context.Context, assignments, definitions bool) ([]string, error) {
	if !assignments && !definitions {
		return nil, nil
	}
	perms, err := p.c.permissions(ctx, p.vnet.ID)
	if err != nil {
		return nil, err
	}
	var missing []string
	if assignments && !allows(perms, actionRoleAssignmentsWrite) {
		missing = append(missing, fmt.Sprintf("assign roles on %s: Azure RBAC action %s (Owner, User Access Administrator or Role Based Access Control Administrator)", p.vnet.ID, actionRoleAssignmentsWrite))
	}
	if definitions && !allows(perms, actionRoleDefinitionsWrite) {
		missing = append(missing, fmt.Sprintf("define the custom role %s in /subscriptions/%s: Azure RBAC action %s (Owner or User Access Administrator on the subscription)", CustomRoleName, p.in.SubscriptionID, actionRoleDefinitionsWrite))
	}
	return missing, nil
}

// preflightNSGs evaluates the NSGs of the VNet's subnets and plans an
// allow rule where a custom rule would deny the traffic first.
func (p *Provider) preflightNSGs(ctx context.Context, net *dfcloud.Network) ([]peering.Change, error) {
	p.nsgs = nil
	byID := map[string]*nsgPlan{}
	var order []string
	for _, sn := range p.vnet.Subnets {
		if sn.NSGID == "" {
			continue
		}
		key := strings.ToLower(sn.NSGID)
		if byID[key] == nil {
			id, err := arm.ParseResourceID(sn.NSGID)
			if err != nil {
				return nil, fmt.Errorf("subnet %s: network security group ID %q: %w", sn.Name, sn.NSGID, err)
			}
			byID[key] = &nsgPlan{ID: sn.NSGID, Name: id.Name, ResourceGroup: id.ResourceGroupName, Subscription: id.SubscriptionID}
			order = append(order, key)
		}
		byID[key].Subnets = append(byID[key].Subnets, sn.Prefix)
	}
	var changes []peering.Change
	for _, key := range order {
		n := byID[key]
		v, err := p.evaluate(ctx, n, net)
		if err != nil {
			return nil, err
		}
		target := fmt.Sprintf("%s (resource group %s)", n.Name, n.ResourceGroup)
		detail := fmt.Sprintf("allow inbound TCP %d from %s", p.in.Port, net.CIDRBlock)
		switch {
		case v.AllowedBy != "" && v.Ours:
			changes = append(changes, peering.Change{Action: "unchanged", Kind: "firewall_rule", Target: target, Detail: detail + " (rule " + v.AllowedBy + ")"})
			p.nsgs = append(p.nsgs, *n)
		case v.AllowedBy != "":
			changes = append(changes, peering.Change{Action: "unchanged", Kind: "firewall_rule", Target: target,
				Detail: fmt.Sprintf("TCP %d from %s is already allowed by rule %s: no rule needed", p.in.Port, net.CIDRBlock, v.AllowedBy)})
		case v.Priority == 0:
			return nil, cmdutil.InputErrorf("network security group %s denies TCP %d from %s with rule %s (priority %d), and no priority between 100 and %d is free for an allow rule ahead of it; free one, or narrow that rule",
				n.Name, p.in.Port, net.CIDRBlock, v.BlockedBy, v.BlockPriority, v.BlockPriority)
		default:
			perms, err := p.c.permissions(ctx, n.ID)
			if err != nil {
				return nil, err
			}
			if !allows(perms, actionSecurityRulesWrite) {
				return nil, permissionsError([]string{fmt.Sprintf("add a security rule to %s: Azure RBAC action %s (Network Contributor)", n.ID, actionSecurityRulesWrite)})
			}
			changes = append(changes, peering.Change{Action: "create", Kind: "firewall_rule", Target: target,
				Detail: fmt.Sprintf("%s as rule %s at priority %d, ahead of deny rule %s (%d)", detail, RuleName(p.connName), v.Priority, v.BlockedBy, v.BlockPriority)})
			p.nsgs = append(p.nsgs, *n)
		}
	}
	return changes, nil
}

func (p *Provider) plan(ncDone, dfDone bool, leftovers int, needPassword bool, peeringChanges, nsgChanges []peering.Change) []peering.Change {
	act := func(done bool) string {
		if done {
			return "unchanged"
		}
		return "create"
	}
	tenant := "tenant " + p.tenantID
	appAction, appDetail := "create", fmt.Sprintf("multi-tenant application %q", p.in.AppName)
	if p.app != nil {
		appAction, appDetail = "adopt", fmt.Sprintf("multi-tenant application %q (app ID %s)", p.app.DisplayName, p.app.AppID)
	}
	appName := p.in.AppName
	if p.app != nil {
		appName = p.app.DisplayName
	}
	roleAction, roleDetail := "create", fmt.Sprintf("custom role %s (%s), assignable in /subscriptions/%s", CustomRoleName, actionPeer, p.in.SubscriptionID)
	switch {
	case p.role.Exists && p.role.NeedsScope:
		roleAction, roleDetail = "update", fmt.Sprintf("custom role %s: make it assignable in /subscriptions/%s too", CustomRoleName, p.in.SubscriptionID)
	case p.role.Exists:
		roleAction = "unchanged"
	}
	changes := []peering.Change{
		{Action: peering.Action(appAction), Kind: "application", Target: tenant, Detail: appDetail},
		{Action: peering.Action(act(p.sp != nil)), Kind: "service_principal", Target: tenant, Detail: "service principal of " + appName},
		{Action: peering.Action(act(p.dfSP != nil)), Kind: "service_principal", Target: tenant, Detail: "Dragonfly Cloud's service principal (app ID " + DragonflyAppID + ")"},
		{Action: peering.Action(act(ncDone)), Kind: "role_assignment", Target: p.vnet.ID, Detail: "Network Contributor for " + appName},
		{Action: peering.Action(roleAction), Kind: "role_definition", Target: "/subscriptions/" + p.in.SubscriptionID, Detail: roleDetail},
		{Action: peering.Action(act(dfDone)), Kind: "role_assignment", Target: p.vnet.ID, Detail: CustomRoleName + " for Dragonfly Cloud"},
	}
	if leftovers > 0 {
		changes = append(changes, peering.Change{Action: "remove", Kind: "client_secret", Target: tenant,
			Detail: fmt.Sprintf("%d temporary client secret(s) of %s left by an interrupted run", leftovers, appName)})
	}
	if needPassword {
		changes = append(changes, peering.Change{Action: "create", Kind: "client_secret", Target: tenant,
			Detail: fmt.Sprintf("temporary client secret of %s, to peer as it in both tenants: expires within %s, removed when done, never shown", appName, tempSecretLifetimeText)})
	}
	changes = append(changes, peeringChanges...)
	return append(changes, nsgChanges...)
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

var _ peering.LegacyProvider = (*Provider)(nil)

// retryableCreate: throttling, server errors and transport failures may
// or may not have created the thing; look again before creating again.
func retryableCreate(err error) bool {
	code, status := errorCode(err)
	if status != 0 {
		return status == http.StatusTooManyRequests || status >= 500 || code == "ServiceUnavailable"
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
