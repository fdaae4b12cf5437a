package azure

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Dragonfly Cloud's fixed identities in Azure (from the console guide).
const (
	DragonflyTenantID = "3f7cbd78-1650-4b7d-b28f-8ee05eac10a4"
	DragonflyAppID    = "ac30c41f-1eab-4f45-9024-70decee5559d"
)

// Inputs are the user's choices for one connect run.
type Inputs struct {
	SubscriptionID string
	// TenantID is the subscription's tenant, when already read (saves
	// reading the subscription again); "" reads it.
	TenantID          string
	ResourceGroup     string
	VNet              string
	Region            string // the VNet's location; a mismatch is refused
	AppName           string
	AppNameGiven      bool // --app-name was given (not derived)
	UseRemoteGateways bool
	Port              int
	// Ports are the datastore ports to open (a repeatable --port, once
	// the command takes it); empty means Port alone.
	Ports          []int
	ConnectionName string
	// Timeout bounds dfpeer's own waits (the peering to connect).
	Timeout time.Duration
	// NoWait skips waiting for the peering to be Connected.
	NoWait bool
	// KeepIdentity (disconnect --keep-identity) keeps the application,
	// its service principal, the custom role and the role assignments.
	KeepIdentity bool
}

// Provider implements peering.Provider for Azure. It holds only the
// client and the inputs: what Observe resolves travels in a *resolved.
type Provider struct {
	c  *Client
	in Inputs
}

// resolved is what Observe resolved — the VNet, the application, the
// principals, the role — and what Ensure completes as it goes down the
// chain application → service principal → role assignment. It is the
// plan's data (State.Cloud), never the provider's.
type resolved struct {
	tenantID    string
	vnet        VNet
	dfVNetID    string // Dragonfly's VNet, the peering's remote
	connName    string
	appName     string // the application's display name, for titles
	app         *Application
	sp, dfSP    *ServicePrincipal
	role        customRole
	peeringName string
	// dfAssignment is Dragonfly's role assignment on the VNet, once
	// ensured: how long ago it was made decides the settle wait.
	dfAssignment *assignment
	// purpose is the verb observing: only connect refuses what it finds
	// standing in its way; status and disconnect classify it.
	purpose peering.Purpose
	// gateways: Dragonfly's peering uses this VNet's gateway, so ours
	// allows gateway transit (connect's --use-remote-gateways, or, for
	// status and disconnect, what the connection was created with).
	gateways bool
	// connection is the existing connection's ID, for fixes that name it.
	connection string
	// replacing: connect --recreate deletes a failed connection first
	// (Target.Replaces).
	replacing bool
}

// connecting says the observation is for connect, which refuses what
// would stand in its way; status and disconnect classify it instead.
func (cl *resolved) connecting() bool { return cl.purpose == peering.ForConnect }

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
// fields; the application ID is completed when the application is
// ensured.
func (p *Provider) Peer(ctx context.Context) (dfcloud.Peer, error) {
	tenant, err := p.tenant(ctx)
	if err != nil {
		return dfcloud.Peer{}, err
	}
	az := &dfcloud.AzurePeer{ResourceGroup: p.in.ResourceGroup, TenantID: tenant, UseRemoteGateways: p.in.UseRemoteGateways}
	return dfcloud.Peer{AccountID: p.in.SubscriptionID, VPCID: p.in.VNet, Region: p.in.Region, Azure: az}, nil
}

// tenant is the subscription's tenant, where the application lives
// (Inputs.TenantID when the command layer has checked it already).
func (p *Provider) tenant(ctx context.Context) (string, error) {
	if p.in.TenantID != "" {
		return p.in.TenantID, nil
	}
	return p.c.SubscriptionTenant(ctx, p.in.SubscriptionID)
}

// SubscriptionTenant reads the subscription and returns its tenant. A
// subscription that does not exist, that the identity has no role in, or
// that belongs to another tenant is refused naming --subscription: the
// command calls it before it asks ARM anything else of the subscription.
func (c *Client) SubscriptionTenant(ctx context.Context, id string) (string, error) {
	sub, err := c.Subscription(ctx, id)
	if err != nil {
		if code, _ := errorCode(err); code == "InvalidAuthenticationTokenTenant" {
			return "", problem.Refuse("subscription", id, "sign in to that tenant ('az login --tenant …', or AZURE_TENANT_ID)",
				"belongs to another tenant than the signed-in identity")
		}
		return "", err
	}
	if sub == nil {
		return "", c.subscriptionNotFound(ctx, id)
	}
	return sub.TenantID, nil
}

func (c *Client) subscriptionNotFound(ctx context.Context, id string) error {
	valid := "none"
	if subs, err := c.Subscriptions(ctx); err == nil && len(subs) > 0 {
		var ids []string
		for _, s := range subs {
			ids = append(ids, fmt.Sprintf("%s (%s)", s.ID, s.Name))
		}
		valid = strings.Join(ids, ", ")
	}
	return problem.Refuse("subscription", id, "",
		"no such subscription, or the signed-in identity has no role in it (subscriptions it can use: %s)", valid)
}

// Observe checks, read-only, everything the run will touch, and lists the
// changes in the console guide's order: the application, the service
// principals and roles before the connection (Dragonfly peers as soon as
// it exists), a peering Dragonfly's side left Disconnected removed, the
// role given time to take effect; then, once Dragonfly's half exists, the
// peering back (with its temporary client secret), the NSG rules, and the
// wait for Connected.
func (p *Provider) Observe(ctx context.Context, t peering.Target) (*peering.Observation, error) {
	net := t.Network
	if net.VPC == nil || net.VPC.ResourceID == "" || net.VPC.AccountID == "" {
		return nil, fmt.Errorf("network %s has no VNet information yet; wait until it is active", net.NetworkID)
	}
	cl := &resolved{
		dfVNetID: strings.TrimRight(net.VPC.AccountID, "/") + "/providers/Microsoft.Network/virtualNetworks/" + net.VPC.ResourceID,
		connName: t.Name,
		purpose:  t.Purpose,
		gateways: p.in.UseRemoteGateways,
	}
	if t.Existing != nil {
		cl.connection = t.Existing.ConnectionID
	}
	cl.replacing = t.Replaces != nil
	if !cl.connecting() && t.Existing != nil && t.Existing.Config.Peer.Azure != nil {
		cl.gateways = t.Existing.Config.Peer.Azure.UseRemoteGateways
	}
	if t.Peer.Azure != nil && t.Peer.Azure.TenantID != "" {
		cl.tenantID = t.Peer.Azure.TenantID
	} else {
		var err error
		if cl.tenantID, err = p.tenant(ctx); err != nil {
			return nil, err
		}
	}
	claims, err := p.checkIdentity(ctx, cl.tenantID)
	if err != nil {
		return nil, err
	}
	vnetChecks, err := p.observeVNet(ctx, cl, net)
	if err != nil {
		return nil, err
	}

	pe, err := p.observePeering(cl)
	if err != nil {
		return nil, err
	}
	id, err := p.observeIdentity(ctx, cl, t.Existing)
	if err != nil {
		return nil, err
	}
	roles, err := p.observeRoles(ctx, cl)
	if err != nil {
		return nil, err
	}
	// The temporary secret exists only while connect peers: status and
	// disconnect have none to look for.
	secrets := p.observeSecret(cl, cl.connecting() && pe.Create.Action != peering.Unchanged)
	rules, err := p.observeFirewall(ctx, cl, net)
	if err != nil {
		return nil, err
	}
	// Route tables are only checked: status reads them, disconnect has
	// nothing there to remove.
	if cl.purpose == peering.ForStatus {
		routes, err := p.observeRoutes(ctx, cl, net.CIDRBlock)
		if err != nil {
			return nil, err
		}
		vnetChecks = append(vnetChecks, routes...)
	}
	// Status only reads, and disconnect needs other rights (listed by
	// 'dfpeer azure permissions'): the write check is connect's.
	if cl.connecting() {
		if err := p.checkPermissions(ctx, cl, claims, id, roles, secrets); err != nil {
			return nil, err
		}
	}

	// The order of the changes is the order they are ensured in.
	// Connect refused whatever a check would fail, so the checks are
	// listed for status (and skipped by disconnect) only.
	var changes []peering.Change
	if !cl.connecting() {
		changes = vnetChecks
	}
	changes = append(changes, id.App, id.SP, id.DragonflySP, roles.NetworkContributor, roles.Definition, roles.Dragonfly)
	if pe.Stale != nil {
		changes = append(changes, *pe.Stale)
	}
	changes = append(changes, roles.Settle)
	if secrets.Leftover != nil {
		changes = append(changes, *secrets.Leftover)
	}
	changes = append(changes, pe.Create)
	if pe.Sync != nil {
		changes = append(changes, *pe.Sync)
	}
	if secrets.Temporary != nil {
		changes = append(changes, *secrets.Temporary)
	}
	changes = append(changes, rules...)
	if !p.in.NoWait {
		changes = append(changes, pe.WaitConnected)
	}
	keepShared(changes, t, cl, p.in)
	return &peering.Observation{Changes: changes, Cloud: cl, PeerCIDRs: cl.vnet.Prefixes}, nil
}

// keepShared marks the identity disconnect must leave in place: all of it
// with --keep-identity, and whatever another live connection still relies
// on (the same VNet, or the same application). Dragonfly's own service
// principal is always kept: other VNets of the tenant may use it.
func keepShared(changes []peering.Change, t peering.Target, cl *resolved, in Inputs) {
	reason := ""
	if in.KeepIdentity {
		reason = "--keep-identity"
	}
	for _, o := range t.Others {
		peer := o.Config.Peer
		sameVNet := strings.EqualFold(peer.AccountID, in.SubscriptionID) && strings.EqualFold(peer.VPCID, in.VNet)
		sameApp := cl.app != nil && peer.Azure != nil && peer.Azure.AppObjectID == connectionAppID(cl.app)
		if reason == "" && (sameVNet || sameApp) {
			reason = fmt.Sprintf("connection %s (%s) still uses it", o.Config.Name, o.ConnectionID)
		}
	}
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Kind == peering.KindServicePrincipal && isDragonflySP(c):
			c.KeepReason = "Dragonfly Cloud's own service principal: other VNets of the tenant may use it"
		case reason == "":
		case c.Kind == peering.KindApplication, c.Kind == peering.KindServicePrincipal,
			c.Kind == peering.KindRoleAssignment, c.Kind == peering.KindRoleDefinition:
			c.KeepReason = reason
		}
	}
}

// KindAddressSpace is the check that the VNet's address space (prefixes
// added since included) stays clear of the Dragonfly network.
const KindAddressSpace peering.Kind = "address_space"

// KindGateway is the check that the VNet has the virtual network gateway
// Dragonfly's peering uses (--use-remote-gateways).
const KindGateway peering.Kind = "gateway"

// observeVNet reads the VNet and refuses one in another region. An
// address space overlapping the Dragonfly network, or a missing gateway
// that --use-remote-gateways needs, is refused by connect and a failed
// check for status and disconnect (prefixes may have been added since).
func (p *Provider) observeVNet(ctx context.Context, cl *resolved, net *dfcloud.Network) ([]peering.Change, error) {
	vnet, err := p.c.GetVNet(ctx, p.in.SubscriptionID, p.in.ResourceGroup, p.in.VNet)
	if err != nil {
		return nil, err
	}
	if vnet == nil {
		return nil, p.vnetNotFound(ctx)
	}
	cl.vnet = *vnet
	if !sameRegion(p.in.Region, vnet.Location) {
		return nil, problem.Refuse("region", p.in.Region, "the peering's region is the VNet's (drop --region)", "virtual network %s is in %s", vnet.Name, vnet.Location)
	}
	block, err := peering.FirstOverlap(net.CIDRBlock, vnet.Prefixes)
	if err != nil {
		return nil, err
	}
	space := peering.Change{Action: peering.Verify, Kind: KindAddressSpace, Target: vnet.ID, ID: vnet.Name, Found: peering.AsWanted,
		Title:  "Address space of " + vnet.Name,
		Detail: fmt.Sprintf("address space %s of %s clear of the Dragonfly network's %s", strings.Join(vnet.Prefixes, ", "), vnet.Name, net.CIDRBlock)}
	if block != "" {
		fix := fmt.Sprintf("peered networks need disjoint ranges (pick another VNet, or create the Dragonfly network with a CIDR outside %s)", strings.Join(vnet.Prefixes, ", "))
		if cl.connecting() {
			return nil, problem.Refuse("vnet", vnet.Name, fix, "its address prefix %s overlaps the Dragonfly network %s CIDR %s", block, net.Name, net.CIDRBlock)
		}
		space.Found = peering.Different
		space.Detail = fmt.Sprintf("address prefix %s of %s overlaps the Dragonfly network %s CIDR %s", block, vnet.Name, net.Name, net.CIDRBlock)
		space.Reason = fmt.Sprintf("remove %s from the address space of %s (az network vnet update -g %s -n %s --address-prefixes …)", block, vnet.Name, vnet.ResourceGroup, vnet.Name)
	}
	// Azure refuses to peer a VNet with one that overlaps a VNet it is
	// already peered with (VnetAddressSpaceOverlapsWithAlreadyPeeredVnet):
	// Dragonfly's side would fail after everything was made.
	for _, pe := range vnet.Peerings {
		if strings.EqualFold(pe.RemoteID, cl.dfVNetID) {
			continue
		}
		block, err := peering.FirstOverlap(net.CIDRBlock, pe.RemotePrefixes)
		if err != nil {
			return nil, err
		}
		if block == "" {
			continue
		}
		fix := fmt.Sprintf("Azure does not peer a VNet with two overlapping networks (pick another VNet, remove peering %s, or create the Dragonfly network with a CIDR outside %s)",
			pe.Name, strings.Join(pe.RemotePrefixes, ", "))
		if cl.connecting() {
			return nil, problem.Refuse("vnet", vnet.Name, fix,
				"is already peered through %s with %s, whose address prefix %s overlaps the Dragonfly network %s CIDR %s", pe.Name, pe.RemoteID, block, net.Name, net.CIDRBlock)
		}
		if space.Found == peering.AsWanted {
			space.Found = peering.Different
			space.Detail = fmt.Sprintf("%s is also peered through %s with %s, whose address prefix %s overlaps the Dragonfly network %s CIDR %s",
				vnet.Name, pe.Name, pe.RemoteID, block, net.Name, net.CIDRBlock)
			space.Reason = fix
		}
	}
	checks := []peering.Change{space}
	if !cl.gateways {
		return checks, nil
	}
	// Dragonfly's peering uses this VNet's gateway: Azure refuses it
	// (RemoteVnetHasNoGateways) when there is none, after the
	// application, the roles and the connection were made.
	gw := peering.Change{Action: peering.Verify, Kind: KindGateway, Target: vnet.ID, ID: vnet.Name, Found: peering.AsWanted,
		Title: "Gateway of " + vnet.Name, Detail: fmt.Sprintf("virtual network gateway %s, used by Dragonfly Cloud over the peering", vnet.Gateway)}
	if vnet.Gateway == "" {
		fix := fmt.Sprintf("create a virtual network gateway in %s (its subnet GatewaySubnet), or drop --use-remote-gateways", vnet.Name)
		if cl.connecting() {
			return nil, problem.Refuse("vnet", vnet.Name, fix,
				"has no virtual network gateway, and --use-remote-gateways makes Dragonfly Cloud's peering use this VNet's gateway")
		}
		gw.Found, gw.Detail = peering.Absent, fmt.Sprintf("virtual network gateway of %s, which Dragonfly Cloud's peering uses (remote gateways on)", vnet.Name)
		gw.Reason = fix
	}
	return append(checks, gw), nil
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
	return problem.Refuse("vnet", p.in.VNet, "", "no such virtual network in resource group %s of subscription %s (virtual networks there: %s)",
		p.in.ResourceGroup, p.in.SubscriptionID, valid)
}

// Ensure implements peering.Provider: it makes one change of the plan,
// looking before it writes.
func (p *Provider) Ensure(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	cl, err := cloudOf(s)
	if err != nil {
		return "", err
	}
	if c.Action == peering.Verify {
		return "checked", nil // a condition, nothing to make
	}
	switch c.Kind {
	case peering.KindApplication:
		return p.ensureApplication(ctx, s, cl)
	case peering.KindServicePrincipal:
		return p.ensureServicePrincipal(ctx, s, cl, c.Want.(principalWant))
	case peering.KindRoleDefinition:
		return p.ensureRoleDefinition(ctx, cl)
	case peering.KindRoleAssignment:
		if c.Action == peering.Wait {
			return p.ensureSettled(ctx, s, cl)
		}
		return p.ensureRoleAssignment(ctx, s, cl, c.Want.(assignmentWant))
	case KindClientSecret:
		return p.ensureSecret(ctx, cl, c)
	case peering.KindPeering:
		switch c.Action {
		case peering.Remove:
			return p.removePeering(ctx, s, cl, c)
		case peering.Wait:
			return p.waitConnected(ctx, s, cl)
		}
		return p.ensurePeering(ctx, s, cl)
	case peering.KindFirewallRule:
		return p.ensureFirewall(ctx, s, cl, c.Want.(ruleWant))
	}
	return "", fmt.Errorf("azure: no change of kind %q", c.Kind)
}

// Remove implements peering.Provider: it deletes one resource the
// connection owns, looking first; what is gone, or not dfpeer's, is left.
func (p *Provider) Remove(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	cl, err := cloudOf(s)
	if err != nil {
		return "", err
	}
	if c.Found == peering.NotOurs {
		return "kept: " + c.Reason, nil
	}
	switch c.Kind {
	case peering.KindApplication:
		return p.removeApplication(ctx, cl, c)
	case peering.KindServicePrincipal:
		return p.removeServicePrincipal(ctx, cl, c)
	case peering.KindRoleDefinition:
		return p.removeRoleDefinition(ctx, cl, c)
	case peering.KindRoleAssignment:
		if c.Action == peering.Wait {
			return "nothing to remove", nil
		}
		return p.removeRoleAssignment(ctx, cl, c)
	case KindClientSecret:
		return p.removeSecret(ctx, cl, c)
	case peering.KindPeering:
		if c.Action == peering.Wait {
			return "nothing to remove", nil
		}
		return p.removePeering(ctx, s, cl, c)
	case peering.KindFirewallRule:
		return p.removeFirewall(ctx, cl, c)
	}
	return "", fmt.Errorf("azure: no change of kind %q", c.Kind)
}

func cloudOf(s *peering.State) (*resolved, error) {
	cl, ok := s.Cloud.(*resolved)
	if !ok {
		return nil, fmt.Errorf("azure: the plan carries no Azure observation (%T)", s.Cloud)
	}
	return cl, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// roundDuration shows a wait the way a person reads it: 20ms, 1.5s, 30s.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

var _ peering.Provider = (*Provider)(nil)

func isDragonflySP(c *peering.Change) bool {
	w, ok := c.Want.(principalWant)
	return ok && w.Dragonfly
}

// RetryConnection implements peering.ConnectionRetrier: a connection that
// failed because Dragonfly's role assignment on the VNet was not in effect
// yet (Azure applies new assignments after a while) is worth creating
// again; any other failure is not.
func (p *Provider) RetryConnection(c *dfcloud.Connection) bool {
	d := c.StatusDetail
	return c.Status == dfcloud.ConnectionFailed &&
		(strings.Contains(d, "AuthorizationFailed") || strings.Contains(d, "does not have authorization"))
}
