package azuresim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

func peeringBody(remote string) armnetwork.VirtualNetworkPeering {
	return armnetwork.VirtualNetworkPeering{Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{
		RemoteVirtualNetwork:      &armnetwork.SubResource{ID: to.Ptr(remote)},
		AllowVirtualNetworkAccess: to.Ptr(true),
	}}
}

func (e *env) connectionRequest(appID string) simcloud.PeeringRequest {
	return simcloud.PeeringRequest{
		ConnectionID: "conn-1",
		Name:         "my-conn",
		Network: simcloud.Network{ID: "net-1", Provider: "azure", Region: "eastus", CIDR: "192.168.0.0/16",
			VPCResourceID: dfVNetName, VPCAccountID: "/subscriptions/" + dfSub + "/resourceGroups/" + dfRG},
		Peer: simcloud.Peer{AccountID: custSub, VPCID: custVNetName, Region: "eastus",
			Azure: &simcloud.AzurePeer{ResourceGroup: custRG, TenantID: custTenant, AppObjectID: appID}},
	}
}

// TestCrossTenantPeering walks the console guide's steps with the real SDK:
// the user creates the client app and the service principals through Graph,
// the custom role and the role assignments through ARM; Dragonfly creates
// its side; the client app then peers back with an auxiliary token.
func TestCrossTenantPeering(t *testing.T) {
	e := newEnv(t)
	user := e.userCred()
	g := e.graph(user)

	// Step 2: client application, its service principal and a secret.
	_, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app", "signInAudience": "AzureADMultipleOrgs"})
	appID := app["appId"].(string)
	_, sp := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	clientSP := sp["id"].(string)
	_, pc := g.do(http.MethodPost, "/applications(appId='"+appID+"')/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "dfpeer"}})
	secret := pc["secretText"].(string)

	// Step 4: Network Contributor for the client app, Dragonfly's service
	// principal, the custom role and its assignment.
	status, dfsp := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": DefaultDragonflyAppID})
	if status != http.StatusCreated {
		t.Fatalf("Dragonfly's service principal: %d %v", status, dfsp)
	}
	dfSP := dfsp["id"].(string)
	rds := must(armauthorization.NewRoleDefinitionsClient(user, e.armOptions()))
	roleID := "0c0c0c0c-0000-4000-8000-000000000001"
	must(rds.CreateOrUpdate(ctxb, "/subscriptions/"+custSub, roleID, armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
		RoleName: to.Ptr("dfcloud-peering-role"), RoleType: to.Ptr("CustomRole"),
		Permissions:      []*armauthorization.Permission{{Actions: []*string{to.Ptr(actionPeer)}}},
		AssignableScopes: []*string{to.Ptr("/subscriptions/" + custSub)},
	}}, nil))
	ras := must(armauthorization.NewRoleAssignmentsClient(custSub, user, e.armOptions()))
	assign := func(name, principal, role string) {
		t.Helper()
		_, err := ras.Create(ctxb, e.custV, name, armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr("/subscriptions/" + custSub + "/providers/Microsoft.Authorization/roleDefinitions/" + role),
			PrincipalID:      to.Ptr(principal), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
		}}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	assign("0d0d0d0d-0000-4000-8000-000000000001", clientSP, RoleNetworkContributor)
	assign("0d0d0d0d-0000-4000-8000-000000000002", dfSP, roleID)

	// Step 5: Dragonfly creates its side. The assignment on the customer's
	// network has not propagated yet.
	_, err := e.sim.CreatePeering(e.connectionRequest(appID))
	if err == nil || !strings.Contains(err.Error(), "LinkedAuthorizationFailed") {
		t.Fatalf("before propagation Dragonfly cannot peer: %v", err)
	}
	e.clock.Advance(propagation)
	peerID, err := e.sim.CreatePeering(e.connectionRequest(appID))
	if err != nil {
		t.Fatalf("Dragonfly's side: %v", err)
	}
	if again, err := e.sim.CreatePeering(e.connectionRequest(appID)); err != nil || again != peerID {
		t.Errorf("CreatePeering must be idempotent: %q %v", again, err)
	}
	if st := e.sim.PeeringStatus(peerID); st.Established || st.Failed != "" || st.Gone {
		t.Errorf("only Dragonfly's side exists: %+v", st)
	}

	// Step 6: the client app peers back with both tenants.
	clientCred := func() azcore.TokenCredential {
		return e.cred(custTenant, appID, secret, DefaultDragonflyTenantID)
	}
	peering := peeringBody(e.dfV)

	// Without an auxiliary token, ARM cannot authorize the linked network.
	noAux := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, clientCred(), e.armOptions()))
	_, err = noAux.BeginCreateOrUpdate(ctxb, custRG, custVNetName, "to-dragonfly", peering, nil)
	status, code, msg := errCode(t, err)
	if status != http.StatusForbidden || code != "LinkedAuthorizationFailed" || !strings.Contains(msg, "is not authorized to access linked subscription '"+dfSub+"'") {
		t.Fatalf("without auxiliary token: %d %s %s", status, code, msg)
	}
	// With one, but Dragonfly's grant to the client app is still propagating.
	_, err = must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, clientCred(), e.armOptions(DefaultDragonflyTenantID))).
		BeginCreateOrUpdate(ctxb, custRG, custVNetName, "to-dragonfly", peering, nil)
	status, code, msg = errCode(t, err)
	if status != http.StatusForbidden || code != "LinkedAuthorizationFailed" || !strings.Contains(msg, "on the linked scope(s) '"+e.dfV+"'") {
		t.Fatalf("before Dragonfly's grant propagated: %d %s %s", status, code, msg)
	}
	e.clock.Advance(propagation)

	withAux := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, clientCred(), e.armOptions(DefaultDragonflyTenantID)))
	poller, err := withAux.BeginCreateOrUpdate(ctxb, custRG, custVNetName, "to-dragonfly", peering, nil)
	if err != nil {
		t.Fatalf("with auxiliary token: %v", err)
	}
	res, err := poller.PollUntilDone(ctxb, fastPoll())
	if err != nil {
		t.Fatal(err)
	}
	p := res.Properties
	if *p.ProvisioningState != armnetwork.ProvisioningStateSucceeded || *p.PeeringState != armnetwork.VirtualNetworkPeeringStateConnected ||
		*p.PeeringSyncLevel != armnetwork.VirtualNetworkPeeringLevelFullyInSync || *p.RemoteAddressSpace.AddressPrefixes[0] != "192.168.0.0/16" {
		t.Errorf("customer side: %s %s %s", *p.ProvisioningState, *p.PeeringState, *p.PeeringSyncLevel)
	}
	if info, _ := e.sim.Peering(e.dfV, peerID); info.PeeringState != "Connected" {
		t.Errorf("Dragonfly side: %+v", info)
	}
	if st := e.sim.PeeringStatus(peerID); !st.Established {
		t.Errorf("both sides connected: %+v", st)
	}

	// The customer deletes their side: Dragonfly's becomes Disconnected.
	del, err := withAux.BeginDelete(ctxb, custRG, custVNetName, "to-dragonfly", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctxb, fastPoll()); err != nil {
		t.Fatal(err)
	}
	if info, _ := e.sim.Peering(e.dfV, peerID); info.PeeringState != "Disconnected" {
		t.Errorf("Dragonfly side after the customer's delete: %+v", info)
	}
	if st := e.sim.PeeringStatus(peerID); !st.Gone {
		t.Errorf("want Gone: %+v", st)
	}
	if err := e.sim.DeletePeering(peerID); err != nil {
		t.Fatal(err)
	}
}

func TestCreatePeeringPreconditions(t *testing.T) {
	e := newEnv(t)
	_, appID := e.sim.AddApplication(custTenant, AppSpec{DisplayName: "client-app", MultiTenant: true})

	req := e.connectionRequest("88888888-8888-4888-8888-888888888888")
	if _, err := e.sim.CreatePeering(req); err == nil || !strings.Contains(err.Error(), "does not reference a valid application object") {
		t.Errorf("unknown client app: %v", err)
	}
	req = e.connectionRequest(appID)
	_, err := e.sim.CreatePeering(req)
	if err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Fatalf("Dragonfly has no service principal in the customer's tenant: %v", err)
	}
	if st := e.sim.PeeringStatus(PeeringName(req.ConnectionID)); !strings.Contains(st.Failed, "AADSTS700016") {
		t.Errorf("status after a failed create: %+v", st)
	}
	dfSP := must(e.sim.AddServicePrincipal(custTenant, DefaultDragonflyAppID))
	_, err = e.sim.CreatePeering(req)
	if err == nil || !strings.Contains(err.Error(), "does not have permission to perform action 'Microsoft.Network/virtualNetworks/peer/action'") {
		t.Fatalf("no role on the customer's network: %v", err)
	}
	must(e.sim.AddCustomRole(custSub, "dfcloud-peering-role", actionPeer))
	must(e.sim.AssignRole(e.custV, dfSP, "dfcloud-peering-role"))
	peerID, err := e.sim.CreatePeering(req)
	if err != nil {
		t.Fatal(err)
	}
	// The client app got a service principal and a (propagating) role in
	// Dragonfly's tenant.
	guest := e.sim.ServicePrincipalID(DefaultDragonflyTenantID, appID)
	if guest == "" || e.sim.RoleAssignmentCount(guest) != 1 {
		t.Errorf("client app in Dragonfly's tenant: sp %q, %d assignments", guest, e.sim.RoleAssignmentCount(guest))
	}
	if info, ok := e.sim.Peering(e.dfV, peerID); !ok || info.RemoteVNetID != e.custV || info.PeeringState != "Initiated" {
		t.Errorf("Dragonfly side: %+v %v", info, ok)
	}

	// Overlapping networks and a missing gateway are refused.
	req2 := req
	req2.ConnectionID = "conn-2"
	req2.Peer.Azure = &simcloud.AzurePeer{ResourceGroup: custRG, TenantID: custTenant, AppObjectID: appID, UseRemoteGateways: true}
	if _, err := e.sim.CreatePeering(req2); err == nil || !strings.Contains(err.Error(), "AnotherPeeringAlreadyReferencesRemoteVnet") {
		t.Errorf("second peering to the same network: %v", err)
	}
	if err := e.sim.DeletePeering(peerID); err != nil { // while the create still runs
		t.Fatal(err)
	}
	if info, _ := e.sim.Peering(e.dfV, peerID); info.ProvisioningState != "Deleting" {
		t.Errorf("after DeletePeering: %+v", info)
	}
	e.clock.Advance(time.Second) // the delete completes
	if _, ok := e.sim.Peering(e.dfV, peerID); ok {
		t.Error("Dragonfly's side still exists after DeletePeering")
	}
	if _, err := e.sim.CreatePeering(req2); err == nil || !strings.Contains(err.Error(), "RemoteVnetHasNoGateways") {
		t.Errorf("useRemoteGateways without a gateway: %v", err)
	}
}

func TestPeeringValidation(t *testing.T) {
	e := newEnv(t)
	overlap := must(e.sim.AddVNet(custSub, custRG, VNetSpec{Name: "overlap", AddressPrefixes: []string{"10.0.128.0/17"}}))
	other := must(e.sim.AddVNet(custSub, custRG, VNetSpec{Name: "other", AddressPrefixes: []string{"10.1.0.0/16"}}))
	peerings := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, e.userCred(), e.armOptions()))
	create := func(vnet, name, remote string, useGW bool) error {
		body := peeringBody(remote)
		body.Properties.UseRemoteGateways = to.Ptr(useGW)
		poller, err := peerings.BeginCreateOrUpdate(ctxb, custRG, vnet, name, body, nil)
		if err != nil {
			return err
		}
		_, err = poller.PollUntilDone(ctxb, fastPoll())
		return err
	}
	wantCode := func(err error, status int, code string) {
		t.Helper()
		if s, c, msg := errCode(t, err); s != status || c != code {
			t.Errorf("want %d %s, got %d %s: %s", status, code, s, c, msg)
		}
	}
	wantCode(create(custVNetName, "p", overlap, false), 400, "VnetAddressSpacesOverlap")
	wantCode(create(custVNetName, "p", other, true), 400, "RemoteVnetHasNoGateways")
	wantCode(create(custVNetName, "p", "not-an-id", false), 400, "LinkedInvalidPropertyId")
	wantCode(create(custVNetName, "p", "/subscriptions/"+custSub+"/resourceGroups/"+custRG+"/providers/Microsoft.Network/virtualNetworks/missing", false), 400, "InvalidResourceReference")

	// Initiated, then Connected once the other side exists.
	if err := create(custVNetName, "a-to-b", other, false); err != nil {
		t.Fatal(err)
	}
	state := func(vnet, name string) string {
		info, _ := e.sim.Peering(vnet, name)
		return info.PeeringState
	}
	if s := state(e.custV, "a-to-b"); s != "Initiated" {
		t.Errorf("one side: %s", s)
	}
	wantCode(create(custVNetName, "again", other, false), 400, "AnotherPeeringAlreadyReferencesRemoteVnet")
	if err := create("other", "b-to-a", e.custV, false); err != nil {
		t.Fatal(err)
	}
	if a, b := state(e.custV, "a-to-b"), state(other, "b-to-a"); a != "Connected" || b != "Connected" {
		t.Errorf("both sides: %s %s", a, b)
	}

	// Deleting one side disconnects the other; re-creating the deleted side
	// is refused until the disconnected one is updated.
	del := must(peerings.BeginDelete(ctxb, custRG, "other", "b-to-a", nil))
	must(del.PollUntilDone(ctxb, fastPoll()))
	if s := state(e.custV, "a-to-b"); s != "Disconnected" {
		t.Errorf("after deleting the other side: %s", s)
	}
	wantCode(create("other", "b-to-a", e.custV, false), 400, "RemotePeeringIsDisconnected")
	if err := create(custVNetName, "a-to-b", other, false); err != nil {
		t.Fatal(err)
	}
	if s := state(e.custV, "a-to-b"); s != "Initiated" {
		t.Errorf("updated disconnected peering: %s", s)
	}
	if err := create("other", "b-to-a", e.custV, false); err != nil {
		t.Fatal(err)
	}
	if a, b := state(e.custV, "a-to-b"), state(other, "b-to-a"); a != "Connected" || b != "Connected" {
		t.Errorf("reconnected: %s %s", a, b)
	}

	// Peerings list and the network show them.
	pager := peerings.NewListPager(custRG, custVNetName, nil)
	page := must(pager.NextPage(ctxb))
	if len(page.Value) != 1 || *page.Value[0].Name != "a-to-b" {
		t.Errorf("list: %v", page.Value)
	}
}

// Azure refuses a peering when one network overlaps a network already
// peered with the other (VnetAddressSpaceOverlapsWithAlreadyPeeredVnet):
// with Dragonfly's network as the hub, a second customer network that
// overlaps the first, and a customer network already peered with something
// that overlaps Dragonfly's range, are both refused, from either side.
func TestPeeringRefusedWhenOverlappingAlreadyPeeredVNet(t *testing.T) {
	e := newEnv(t)
	add := func(name, prefix string) string {
		return must(e.sim.AddVNet(custSub, custRG, VNetSpec{Name: name, AddressPrefixes: []string{prefix}}))
	}
	hub := add("hub", "192.168.0.0/16")
	spokeB := add("spoke-b", "10.0.128.0/17") // inside the customer VNet's 10.0.0.0/16
	spokeC := add("spoke-c", "10.5.0.0/16")
	legacy := add("legacy", "192.168.7.0/24") // inside the hub's range
	peerings := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, e.userCred(), e.armOptions()))
	create := func(vnet, name, remote string) error {
		poller, err := peerings.BeginCreateOrUpdate(ctxb, custRG, vnet, name, peeringBody(remote), nil)
		if err != nil {
			return err
		}
		_, err = poller.PollUntilDone(ctxb, fastPoll())
		return err
	}
	refused := func(err error, want string) {
		t.Helper()
		if err == nil {
			t.Fatalf("want VnetAddressSpaceOverlapsWithAlreadyPeeredVnet, got success")
		}
		if s, c, msg := errCode(t, err); s != 400 || c != "VnetAddressSpaceOverlapsWithAlreadyPeeredVnet" || !strings.Contains(msg, want) {
			t.Errorf("got %d %s: %s\nwant message %s", s, c, msg, want)
		}
	}
	const tail = " For more information please refer to https://aka.ms/VnetPeeringInfo"
	if err := create("hub", "to-cust", e.custV); err != nil {
		t.Fatal(err)
	}
	if err := create(custVNetName, "to-hub", hub); err != nil {
		t.Fatal(err)
	}

	// A second spoke overlapping the first one.
	refused(create("spoke-b", "to-hub", hub), "Cannot create or update peering "+spokeB+"/virtualNetworkPeerings/to-hub. Virtual networks "+spokeB+" and "+hub+
		" cannot be peered because address space of the first virtual network overlaps with address space of virtual network "+e.custV+
		" already peered with the second virtual network. Overlapping address prefixes: 10.0.128.0/17."+tail)
	refused(create("hub", "to-b", spokeB), "Virtual networks "+hub+" and "+spokeB+
		" cannot be peered because address space of the second virtual network overlaps with address space of virtual network "+e.custV+
		" already peered with the first virtual network. Overlapping address prefixes: 10.0.128.0/17."+tail)

	// A spoke already peered with something overlapping the hub.
	if err := create("spoke-c", "to-legacy", legacy); err != nil {
		t.Fatal(err)
	}
	refused(create("hub", "to-c", spokeC), "Virtual networks "+hub+" and "+spokeC+
		" cannot be peered because address space of the first virtual network overlaps with address space of virtual network "+legacy+
		" already peered with the second virtual network. Overlapping address prefixes: 192.168.0.0/16."+tail)
	refused(create("spoke-c", "to-hub", hub), "Virtual networks "+spokeC+" and "+hub+
		" cannot be peered because address space of the second virtual network overlaps with address space of virtual network "+legacy+
		" already peered with the first virtual network. Overlapping address prefixes: 192.168.0.0/16."+tail)
	for _, p := range []struct{ vnet, name string }{{spokeB, "to-hub"}, {hub, "to-b"}, {hub, "to-c"}, {spokeC, "to-hub"}} {
		if _, ok := e.sim.Peering(p.vnet, p.name); ok {
			t.Errorf("a refused peering was created: %s/%s", p.vnet, p.name)
		}
	}

	// Once the other peering is gone, the spoke may join the hub.
	del := must(peerings.BeginDelete(ctxb, custRG, "spoke-c", "to-legacy", nil))
	must(del.PollUntilDone(ctxb, fastPoll()))
	if err := create("spoke-c", "to-hub", hub); err != nil {
		t.Fatalf("after removing the overlapping peering: %v", err)
	}
}
