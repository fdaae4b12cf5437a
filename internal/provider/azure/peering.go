package azure

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// The peering back, from the user's VNet to Dragonfly's, created signed in
// as the application with a temporary secret (secret.go).

// PeeringName is the console guide's name for the peering from the
// user's VNet to Dragonfly's.
func PeeringName(vnet string) string { return vnet + "-dfcloud-peering" }

// peeringChanges: a peering whose other side is gone removed (before the
// connection), the peering created or kept, and the wait for Connected.
type peeringChanges struct {
	Stale         *peering.Change
	Create        peering.Change
	WaitConnected peering.Change
	// Sync is status's check of peeringSyncLevel (nil for connect, and
	// when there is no peering to check).
	Sync *peering.Change
}

// peeringWant marks the removal of a peering that belongs to the
// connection connect --recreate replaces: removed whatever its state.
type peeringWant struct{ Replacing bool }

func replacing(c peering.Change) bool {
	w, ok := c.Want.(peeringWant)
	return ok && w.Replacing
}

// KindPeeringSync is the check that the peering knows both VNets'
// address spaces (peeringSyncLevel FullyInSync).
const KindPeeringSync peering.Kind = "peering_sync"

// needsLocalSync: Dragonfly's VNet changed its address space and our
// peering has not taken it in; a PUT with syncRemoteAddressSpace does.
func needsLocalSync(pe *Peering) bool {
	return pe.State == "Connected" && (pe.SyncLevel == "LocalNotInSync" || pe.SyncLevel == "LocalAndRemoteNotInSync")
}

// observePeering finds the VNet's peering to Dragonfly's VNet and refuses
// (for connect) what would conflict with it; status and disconnect
// classify it instead. A peering whose other side is gone (Disconnected:
// the connection was deleted) blocks Dragonfly from peering again until
// it is removed, so it is removed before the connection is created, and
// created anew after.
func (p *Provider) observePeering(cl *resolved) (peeringChanges, error) {
	vnet := cl.vnet
	var out peeringChanges
	var ours, namesake *Peering
	cl.peeringName = PeeringName(vnet.Name)
	for i := range vnet.Peerings {
		if pe := &vnet.Peerings[i]; strings.EqualFold(pe.RemoteID, cl.dfVNetID) {
			ours, cl.peeringName = pe, pe.Name
		}
	}
	for i := range vnet.Peerings {
		if pe := &vnet.Peerings[i]; ours == nil && strings.EqualFold(pe.Name, cl.peeringName) {
			namesake = pe
		}
	}
	id := vnet.ID + "/virtualNetworkPeerings/" + cl.peeringName
	out.Create = peering.Change{Action: peering.Create, Kind: peering.KindPeering, Target: vnet.ID, ID: id, Found: peering.Absent, Phase: peering.AfterInactive,
		Title:  fmt.Sprintf("VNet peering %s to Dragonfly Cloud", cl.peeringName),
		Detail: fmt.Sprintf("%s from %s to Dragonfly Cloud's VNet %s (virtual network access allowed, gateway transit %s)", cl.peeringName, vnet.Name, cl.dfVNetID, onOff(cl.gateways))}
	out.WaitConnected = peering.Change{Action: peering.Wait, Kind: peering.KindPeering, Target: vnet.ID, ID: id, Phase: peering.AfterInactive, Quiet: true,
		Title: "Wait for the peering to be Connected", Detail: cl.peeringName + " Connected"}
	if namesake != nil {
		fix := fmt.Sprintf("delete it (az network vnet peering delete -g %s --vnet-name %s -n %s) and run again", vnet.ResourceGroup, vnet.Name, namesake.Name)
		if cl.connecting() {
			return out, problem.Refuse("vnet", vnet.Name, fix,
				"already has a peering named %s, to %s rather than Dragonfly Cloud's VNet %s", namesake.Name, namesake.RemoteID, cl.dfVNetID)
		}
		// The peering to Dragonfly's VNet is missing (status fails,
		// disconnect has nothing to remove), and the one holding its
		// name is not dfpeer's: it is never touched.
		out.Create.Detail = fmt.Sprintf("%s from %s to Dragonfly Cloud's VNet %s; the name is taken by a peering to %s: %s",
			cl.peeringName, vnet.Name, cl.dfVNetID, namesake.RemoteID, fix)
		out.WaitConnected.Found = peering.Absent
		return out, nil
	}
	switch {
	case ours == nil:
	case cl.replacing && cl.connecting():
		// connect --recreate: deleting the old connection takes
		// Dragonfly's side away, leaving ours Disconnected, which Azure
		// refuses to let the new connection peer with
		// (RemotePeeringIsDisconnected): ours is removed before the new
		// connection and created again after it.
		out.Stale = &peering.Change{Action: peering.Remove, Kind: peering.KindPeering, Target: vnet.ID, ID: id, Found: peering.Different,
			Reason: "it peers with the connection being replaced", Phase: peering.BeforeConnection, Want: peeringWant{Replacing: true},
			Title:  "Remove the peering " + cl.peeringName + " of the replaced connection",
			Detail: fmt.Sprintf("%s: it peers with the connection being replaced and would stop Dragonfly from peering again", ours.Name)}
	case ours.State == "Disconnected" || ours.ProvisioningState == "Failed":
		out.Stale = &peering.Change{Action: peering.Remove, Kind: peering.KindPeering, Target: vnet.ID, ID: id, Found: peering.Different,
			Reason: "Dragonfly Cloud's side is gone", Phase: peering.BeforeConnection, Title: "Remove the disconnected peering " + cl.peeringName,
			Detail: fmt.Sprintf("%s: it is %s (Dragonfly Cloud's side is gone) and would stop Dragonfly from peering again", ours.Name, ours.State)}
		if !cl.connecting() {
			// For status, the peering itself is what is broken: one
			// failed check, repaired by connect --recreate.
			out.Stale = nil
			out.Create.Found = peering.Different
			out.Create.Detail = fmt.Sprintf("%s to Dragonfly Cloud's VNet", ours.Name)
			out.Create.Reason = fmt.Sprintf("it is %s/%s: Dragonfly Cloud's side of the peering is gone", ours.State, ours.ProvisioningState)
		}
	case ours.AllowGatewayTransit != cl.gateways || ours.UseRemoteGateways || !ours.AllowVirtualNetworkAccess:
		if cl.connecting() {
			return out, problem.Refuse("vnet", vnet.Name,
				fmt.Sprintf("run with the same settings (--use-remote-gateways=%t), or delete that peering and run again", ours.AllowGatewayTransit),
				"already peers with Dragonfly Cloud's VNet through %s, with virtual network access %s, gateway transit %s and remote gateways %s",
				ours.Name, onOff(ours.AllowVirtualNetworkAccess), onOff(ours.AllowGatewayTransit), onOff(ours.UseRemoteGateways))
		}
		out.Create.Found = peering.Different
		out.Create.Detail = fmt.Sprintf("%s to Dragonfly Cloud's VNet (%s)", ours.Name, ours.State)
		out.Create.Reason = fmt.Sprintf("virtual network access %s, gateway transit %s, remote gateways %s; want access on, gateway transit %s, remote gateways off (az network vnet peering update -g %s --vnet-name %s -n %s …)",
			onOff(ours.AllowVirtualNetworkAccess), onOff(ours.AllowGatewayTransit), onOff(ours.UseRemoteGateways), onOff(cl.gateways), vnet.ResourceGroup, vnet.Name, ours.Name)
	case needsLocalSync(ours) && cl.connecting():
		out.Create.Action, out.Create.Found = peering.Update, peering.Different
		out.Create.Reason = ours.SyncLevel
		out.Create.Title = "Sync peering " + ours.Name + " with Dragonfly Cloud's address space"
		out.Create.Detail = fmt.Sprintf("%s: %s, take in Dragonfly Cloud's VNet address space (syncRemoteAddressSpace)", ours.Name, ours.SyncLevel)
	case ours.State != "Connected" && !cl.connecting():
		out.Create.Found = peering.Different
		out.Create.Detail = fmt.Sprintf("%s to Dragonfly Cloud's VNet", ours.Name)
		out.Create.Reason = fmt.Sprintf("it is %s, not Connected: Dragonfly Cloud's side of the peering is not there yet", ours.State)
	default:
		out.Create.Action, out.Create.Found = peering.Unchanged, peering.AsWanted
		out.Create.Detail = fmt.Sprintf("%s to Dragonfly Cloud's VNet (%s)", ours.Name, ours.State)
	}
	out.WaitConnected.Found = out.Create.Found
	if ours != nil && ours.State == "Connected" && !cl.connecting() {
		out.Sync = p.syncCheck(cl, ours, id)
	}
	return out, nil
}

// syncCheck is status's view of peeringSyncLevel: after an address-space
// change the side whose peering is stale must sync it. Ours (Dragonfly's
// VNet changed: LocalNotInSync) is synced by connect; Dragonfly's (your
// VNet changed: RemoteNotInSync) only by Dragonfly, which does it for a
// new connection.
func (p *Provider) syncCheck(cl *resolved, ours *Peering, id string) *peering.Change {
	c := &peering.Change{Action: peering.Verify, Kind: KindPeeringSync, Target: cl.vnet.ID, ID: id, Found: peering.AsWanted,
		Title: "Address spaces of " + ours.Name, Detail: fmt.Sprintf("%s knows both address spaces (%s)", ours.Name, ours.SyncLevel)}
	connID := "<connection ID>"
	if cl.connection != "" {
		connID = cl.connection
	}
	local := ""
	if needsLocalSync(ours) {
		local = fmt.Sprintf("Dragonfly Cloud's VNet address space changed and %s does not know it yet: run connect again, which syncs it (syncRemoteAddressSpace)", ours.Name)
	}
	remote := ""
	if ours.SyncLevel == "RemoteNotInSync" || ours.SyncLevel == "LocalAndRemoteNotInSync" {
		remote = fmt.Sprintf("the address space of %s (%s) changed and only Dragonfly Cloud's peering can take it in: replace the connection (dfpeer connections delete %s --wait, then connect again)",
			cl.vnet.Name, strings.Join(cl.vnet.Prefixes, ", "), connID)
	}
	switch {
	case ours.SyncLevel == "FullyInSync" || ours.SyncLevel == "":
		return c
	case local != "" && remote != "":
		c.Reason = local + "; then " + remote
	case local != "":
		c.Reason = local
	case remote != "":
		c.Reason = remote
	default:
		c.Reason = "peering sync level " + ours.SyncLevel
	}
	c.Found = peering.Different
	c.Detail = fmt.Sprintf("%s is %s", ours.Name, ours.SyncLevel)
	return c
}

func (p *Provider) peeringBody(cl *resolved) armnetwork.VirtualNetworkPeering {
	return armnetwork.VirtualNetworkPeering{Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{
		RemoteVirtualNetwork:      &armnetwork.SubResource{ID: to.Ptr(cl.dfVNetID)},
		AllowVirtualNetworkAccess: to.Ptr(true),
		// With --use-remote-gateways, Dragonfly's peering uses this
		// VNet's gateway, which Azure allows only through a peering
		// back that allows gateway transit.
		AllowGatewayTransit: to.Ptr(cl.gateways),
		UseRemoteGateways:   to.Ptr(false),
	}}
}

// currentPeering reads the VNet's peering to Dragonfly as the user; nil
// when there is none.
func (p *Provider) currentPeering(ctx context.Context, cl *resolved) (*Peering, error) {
	sc, err := p.c.sub(p.in.SubscriptionID)
	if err != nil {
		return nil, err
	}
	return getPeering(ctx, sc, cl.vnet.ResourceGroup, cl.vnet.Name, cl.peeringName)
}

// getPeering reads one peering of a VNet; nil when there is none.
func getPeering(ctx context.Context, sc *subClients, rg, vnet, name string) (*Peering, error) {
	resp, err := sc.peerings.Get(ctx, rg, vnet, name, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, classify("reading peering "+name, err)
	}
	pe := toPeering(&resp.VirtualNetworkPeering)
	return &pe, nil
}

// ensurePeering keeps the peering to Dragonfly's VNet or creates it as
// the application.
func (p *Provider) ensurePeering(ctx context.Context, s *peering.State, cl *resolved) (string, error) {
	cur, err := p.currentPeering(ctx, cl)
	if err != nil {
		return "", err
	}
	if cur != nil {
		if !strings.EqualFold(cur.RemoteID, cl.dfVNetID) || cur.AllowGatewayTransit != cl.gateways || cur.UseRemoteGateways || !cur.AllowVirtualNetworkAccess {
			return "", fmt.Errorf("peering %s of %s changed since the plan (remote %s, gateway transit %s, remote gateways %s); run again",
				cl.peeringName, cl.vnet.Name, cur.RemoteID, onOff(cur.AllowGatewayTransit), onOff(cur.UseRemoteGateways))
		}
		if cur.State != "Disconnected" && cur.ProvisioningState != "Failed" && !needsLocalSync(cur) {
			if _, err := p.pollPeering(ctx, s, cl, "provisioned", func(pe *Peering) bool {
				return pe.ProvisioningState != "Updating" && pe.ProvisioningState != "Creating"
			}); err != nil {
				return "", err
			}
			return "already present", nil
		}
	}
	// Syncing references Dragonfly's VNet as creating does: it is done
	// as the application, signed in to both tenants.
	sync := cur != nil && needsLocalSync(cur)
	var state string
	err = p.withTempSecret(ctx, s, cl, []string{cl.tenantID, DragonflyTenantID}, func(cred azcore.TokenCredential) error {
		var err error
		state, err = p.peerAs(ctx, s, cl, cred, sync)
		return err
	})
	if err != nil {
		return "", err
	}
	if sync {
		return "synced with Dragonfly Cloud's address space (" + state + ")", nil
	}
	return "created (" + state + ")", nil
}

// peerAs creates the peering signed in as the application, retrying while
// the role assignments are not yet in effect.
func (p *Provider) peerAs(ctx context.Context, s *peering.State, cl *resolved, cred azcore.TokenCredential, sync bool) (string, error) {
	client, err := armnetwork.NewVirtualNetworkPeeringsClient(p.in.SubscriptionID, cred, p.c.armOptions(DragonflyTenantID))
	if err != nil {
		return "", err
	}
	var poller *runtime.Poller[armnetwork.VirtualNetworkPeeringsClientCreateOrUpdateResponse]
	step := fmt.Sprintf("creating peering %s as %s", cl.peeringName, cl.app.DisplayName)
	err = p.c.retry(ctx, min(propagationBudget, p.in.Timeout), step, roleNotYetInEffect, func(err error) {
		code, _ := errorCode(err)
		s.Report.Update(fmt.Sprintf("waiting for role assignments to take effect (%s)", code))
	}, func() error {
		var err error
		var opts *armnetwork.VirtualNetworkPeeringsClientBeginCreateOrUpdateOptions
		if sync {
			opts = &armnetwork.VirtualNetworkPeeringsClientBeginCreateOrUpdateOptions{SyncRemoteAddressSpace: to.Ptr(armnetwork.SyncRemoteAddressSpaceTrue)}
		}
		poller, err = client.BeginCreateOrUpdate(ctx, cl.vnet.ResourceGroup, cl.vnet.Name, cl.peeringName, p.peeringBody(cl), opts)
		return err
	})
	if err != nil {
		return "", classify(step, err)
	}
	s.Report.Update("peering " + cl.peeringName + " provisioning")
	res, err := pollUntilDone(ctx, p.c, poller, "peering "+cl.peeringName+" to be provisioned")
	if err != nil {
		return "", classify(step, err)
	}
	pe := toPeering(&res.VirtualNetworkPeering)
	return pe.State, nil
}

// removePeering deletes the VNet's peering to Dragonfly's VNet: before a
// new connection when its other side is gone (Azure refuses to let
// Dragonfly peer again while it exists), or on disconnect. A peering to
// another VNet is never touched.
func (p *Provider) removePeering(ctx context.Context, s *peering.State, cl *resolved, c peering.Change) (string, error) {
	sc, rg, vnetName, name, err := p.c.child(c.ID)
	if err != nil {
		return "", err
	}
	get := func(ctx context.Context) (*Peering, error) { return getPeering(ctx, sc, rg, vnetName, name) }
	cur, err := get(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case cur == nil:
		return "already gone", nil
	case !strings.EqualFold(cur.RemoteID, cl.dfVNetID):
		return "kept: it peers with " + cur.RemoteID + ", not Dragonfly Cloud's VNet", nil
	case c.Phase == peering.BeforeConnection && !replacing(c) && cur.ProvisioningState != "Deleting" && cur.State != "Disconnected" && cur.ProvisioningState != "Failed":
		// Connect removes only a stale peering: this one came back.
		return "it is " + cur.State + " again: kept", nil
	}
	if cur.ProvisioningState != "Deleting" {
		poller, err := sc.peerings.BeginDelete(ctx, rg, vnetName, name, nil)
		if err != nil {
			return "", classify("removing peering "+name, err)
		}
		if _, err := pollUntilDone(ctx, p.c, poller, "peering "+name+" to be deleted"); err != nil {
			return "", classify("removing peering "+name, err)
		}
	}
	// A delete an interrupted run started: wait for it to finish.
	err = poll.Until(ctx, p.c.pollOptions(p.in.Timeout, "peering "+name+" to be deleted", "Run again later."), func(ctx context.Context) (bool, error) {
		cur, err := get(ctx)
		return cur == nil, err
	})
	if err != nil {
		return "", err
	}
	return "removed", nil
}

// waitConnected waits until both sides are there: Connected.
func (p *Provider) waitConnected(ctx context.Context, s *peering.State, cl *resolved) (string, error) {
	pe, err := p.pollPeering(ctx, s, cl, "Connected", func(pe *Peering) bool {
		return pe.State == "Connected" && pe.ProvisioningState == "Succeeded"
	})
	if err != nil {
		return "", err
	}
	return pe.State, nil
}

// pollPeering waits until done says the peering is as wanted; a peering
// that disappears or whose other side fails ends the wait.
func (p *Provider) pollPeering(ctx context.Context, s *peering.State, cl *resolved, want string, done func(*Peering) bool) (*Peering, error) {
	var last *Peering
	shown := ""
	err := poll.Until(ctx, p.c.pollOptions(p.in.Timeout, fmt.Sprintf("peering %s to be %s", cl.peeringName, want),
		"Run the same command again to keep waiting; every step is safe to repeat."), func(ctx context.Context) (bool, error) {
		pe, err := p.currentPeering(ctx, cl)
		if err != nil {
			return false, err
		}
		if pe == nil {
			return false, fmt.Errorf("peering %s of %s has disappeared; run again to re-create it", cl.peeringName, cl.vnet.Name)
		}
		last = pe
		if done(pe) {
			return true, nil
		}
		if pe.State == "Disconnected" || pe.ProvisioningState == "Failed" {
			return false, fmt.Errorf("peering %s is %s/%s: Dragonfly Cloud's side is gone or failed; check the connection with 'dfpeer connections get'", cl.peeringName, pe.State, pe.ProvisioningState)
		}
		if st := pe.State + "/" + pe.ProvisioningState; st != shown {
			s.Report.Update(st)
			shown = st
		}
		return false, nil
	})
	var te *problem.TimeoutError
	if errors.As(err, &te) && last != nil {
		te.Err = fmt.Errorf("%w (it is %s/%s)", te.Err, last.State, last.ProvisioningState)
	}
	return last, err
}
