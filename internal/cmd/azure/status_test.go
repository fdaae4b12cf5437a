package azure_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// growVNet adds a prefix to app-vnet's address space through ARM, as the
// customer would (az network vnet update --address-prefixes …).
func growVNet(t *testing.T, sb *sandbox.Sandbox, prefix string) {
	t.Helper()
	ctx := context.Background()
	client, err := armnetwork.NewVirtualNetworksClient(sandbox.AzureSubscriptionID, sandboxCred(t, sb), &arm.ClientOptions{ClientOptions: sandboxClientOptions(sb)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.Get(ctx, sandbox.DemoAzureRG, sandbox.DemoAzureVNet, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := got.VirtualNetwork
	v.Properties.AddressSpace.AddressPrefixes = append(v.Properties.AddressSpace.AddressPrefixes, &prefix)
	poller, err := client.BeginCreateOrUpdate(ctx, sandbox.DemoAzureRG, sandbox.DemoAzureVNet, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// check returns the check of that id prefix, failing the test when
// there is none.
func check(t *testing.T, h peering.Health, prefix string) peering.Check {
	t.Helper()
	for _, c := range h.Checks {
		if strings.HasPrefix(c.ID, prefix) {
			return c
		}
	}
	t.Fatalf("no check %s… in %+v", prefix, h.Checks)
	return peering.Check{}
}

// peeringsOf counts app-vnet's peerings to Dragonfly's VNet.
func peeringsOf(t *testing.T, e *cmdtest.Env) int {
	n := 0
	for _, v := range azSnapshot(t, e).VirtualNetworks {
		for _, p := range v.Peerings {
			if v.ID == sandbox.DemoAzureVNetID && p.RemoteVirtualNetwork == sandbox.DragonflyAzureVNetID {
				n++
			}
		}
	}
	return n
}

// TestStatusPeeringSync (issue 9): an address-space change leaves the
// peering out of sync. Dragonfly's VNet grew → ours is LocalNotInSync:
// status fails naming the peering, connect syncs it in place
// (syncRemoteAddressSpace). The customer's VNet grew → RemoteNotInSync:
// only Dragonfly's side can sync; status says to replace the connection,
// and doing so converges.
func TestStatusPeeringSync(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	if code, h := e.Status(verb("status")...); code != 0 || check(t, h, "peering_sync:").Status != peering.OK {
		t.Fatalf("healthy: exit %d %q", code, cmdtest.Failed(h))
	}

	if err := e.SB.Azure.SetAddressPrefixes(sandbox.DragonflyAzureVNetID, []string{"192.168.0.0/16", "192.169.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	writes := len(cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP()))
	code, h := e.Status(verb("status")...)
	c := check(t, h, "peering_sync:")
	if code != 5 || c.Status != peering.Fail || !strings.Contains(c.Message, "LocalNotInSync") || !strings.Contains(c.Fix, "run connect again") {
		t.Fatalf("Dragonfly's VNet grew: exit %d, check %+v", code, c)
	}
	if got := len(cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP())); got != writes {
		t.Fatalf("status made %d mutating calls", got-writes)
	}
	e.SB.Azure.HTTP().ResetLog()
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
	}
	if code, h := e.Status(verb("status")...); code != 0 || !h.Healthy {
		t.Fatalf("after the sync: exit %d %q", code, cmdtest.Failed(h))
	}
	if n := e.SB.Azure.HTTP().Count("VirtualNetworkPeerings_CreateOrUpdate"); n != 1 || peeringsOf(t, e) != 1 {
		t.Fatalf("the sync made %d peering writes and left %d peerings, want 1 and 1", n, peeringsOf(t, e))
	}

	growVNet(t, e.SB, "10.2.0.0/16")
	code, h = e.Status(verb("status")...)
	c = check(t, h, "peering_sync:")
	if code != 5 || c.Status != peering.Fail || !strings.Contains(c.Message, "RemoteNotInSync") || !strings.Contains(c.Fix, "dfpeer connections delete "+h.ConnectionID+" --wait") {
		t.Fatalf("app-vnet grew: exit %d, check %+v", code, c)
	}
	if code := e.Run("connections", "delete", h.ConnectionID, "--yes", "--wait"); code != 0 {
		t.Fatalf("connections delete: exit %d\n%s", code, e.ErrOut)
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect after the delete: exit %d\n%s", code, e.ErrOut)
	}
	if code, h := e.Status(verb("status")...); code != 0 || !h.Healthy {
		t.Fatalf("after replacing the connection: exit %d %q", code, cmdtest.Failed(h))
	}
	if n := peeringsOf(t, e); n != 1 {
		t.Fatalf("%d peerings to Dragonfly's VNet, want 1", n)
	}
}

// graphAddPassword adds a client secret named name to an application
// through Microsoft Graph, as an interrupted run leaves one.
func graphAddPassword(t *testing.T, sb *sandbox.Sandbox, appObjectID, name string) {
	t.Helper()
	ctx := context.Background()
	base := sb.Azure.GraphURL(sb.AzureServer.URL)
	tok, err := sandboxCred(t, sb).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{strings.TrimSuffix(base, "/v1.0") + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/applications/"+appObjectID+"/addPassword",
		strings.NewReader(`{"passwordCredential":{"displayName":"`+name+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := sb.AzureServer.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("addPassword: %s\n%s", resp.Status, body)
	}
}

// deleteAssignment removes a role assignment through ARM.
func deleteAssignment(t *testing.T, sb *sandbox.Sandbox, id string) {
	t.Helper()
	client, err := armauthorization.NewRoleAssignmentsClient(sandbox.AzureSubscriptionID, sandboxCred(t, sb), &arm.ClientOptions{ClientOptions: sandboxClientOptions(sb)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteByID(context.Background(), id, nil); err != nil {
		t.Fatal(err)
	}
}

// TestStatusBreakages (issue 9): one thing broken at a time through
// Azure's own APIs → status exit 5 with a failed check naming the broken
// resource, no write; connect → status 0 again, nothing duplicated.
func TestStatusBreakages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, e *cmdtest.Env)
		check  string // id prefix of the failed check
		names  string // what its message or resource names
	}{
		{"Dragonfly's role assignment removed", func(t *testing.T, e *cmdtest.Env) {
			st := azSnapshot(t, e)
			dfSP := st.spOf(sandbox.AzureTenantID, e.SB.Azure.DragonflyAppID())
			for _, a := range st.RoleAssignments {
				if a.PrincipalID == dfSP && a.Scope == sandbox.DemoAzureVNetID {
					deleteAssignment(t, e.SB, a.Scope+"/providers/Microsoft.Authorization/roleAssignments/"+a.Name)
				}
			}
		}, "role_assignment", "dfcloud-peering-role for Dragonfly Cloud"},
		{"the application's Network Contributor removed", func(t *testing.T, e *cmdtest.Env) {
			st := azSnapshot(t, e)
			conns := e.SB.DF.Connections()
			var appID string
			for _, a := range st.Applications {
				if a.ObjectID == conns[0].Config.Peer.Azure.AppObjectID || a.AppID == conns[0].Config.Peer.Azure.AppObjectID {
					appID = a.AppID
				}
			}
			sp := st.spOf(sandbox.AzureTenantID, appID)
			for _, a := range st.RoleAssignments {
				if a.PrincipalID == sp && a.Scope == sandbox.DemoAzureVNetID {
					deleteAssignment(t, e.SB, a.Scope+"/providers/Microsoft.Authorization/roleAssignments/"+a.Name)
				}
			}
		}, "role_assignment", "Network Contributor"},
		{"a temporary client secret left behind", func(t *testing.T, e *cmdtest.Env) {
			st := azSnapshot(t, e)
			conns := e.SB.DF.Connections()
			for _, a := range st.Applications {
				if a.ObjectID == conns[0].Config.Peer.Azure.AppObjectID || a.AppID == conns[0].Config.Peer.Azure.AppObjectID {
					graphAddPassword(t, e.SB, a.ObjectID, "dfpeer-temporary")
				}
			}
		}, "client_secret", "left by an interrupted run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := cmdtest.NewSandbox(t, sandbox.Options{})
			if code := e.Run(args()...); code != 0 {
				t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
			}
			healthy := azSnapshot(t, e)
			tc.break_(t, e)
			writes := len(cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP()))
			code, h := e.Status(verb("status")...)
			f := cmdtest.Failed(h)
			if code != 5 || len(f) != 1 || !strings.HasPrefix(f[0], tc.check) || !strings.Contains(f[0], tc.names) {
				t.Fatalf("exit %d, want 5 with one failed %s check naming %q: %q", code, tc.check, tc.names, f)
			}
			if got := len(cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP())); got != writes {
				t.Fatalf("status made %d mutating calls", got-writes)
			}
			if code := e.Run(args()...); code != 0 {
				t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
			}
			if code, h := e.Status(verb("status")...); code != 0 || !h.Healthy {
				t.Fatalf("after repair: exit %d %q", code, cmdtest.Failed(h))
			}
			repaired := azSnapshot(t, e)
			if len(repaired.RoleAssignments) != len(healthy.RoleAssignments) || len(repaired.Applications) != len(healthy.Applications) ||
				len(repaired.ServicePrincipals) != len(healthy.ServicePrincipals) || peeringsOf(t, e) != 1 {
				t.Errorf("repair duplicated something: %d/%d role assignments, %d/%d applications, %d/%d service principals, %d peerings",
					len(repaired.RoleAssignments), len(healthy.RoleAssignments), len(repaired.Applications), len(healthy.Applications),
					len(repaired.ServicePrincipals), len(healthy.ServicePrincipals), peeringsOf(t, e))
			}
		})
	}
}

// deletePeering removes app-vnet's peering through ARM.
func deletePeering(t *testing.T, sb *sandbox.Sandbox, name string) {
	t.Helper()
	client, err := armnetwork.NewVirtualNetworkPeeringsClient(sandbox.AzureSubscriptionID, sandboxCred(t, sb), &arm.ClientOptions{ClientOptions: sandboxClientOptions(sb)})
	if err != nil {
		t.Fatal(err)
	}
	poller, err := client.BeginDelete(context.Background(), sandbox.DemoAzureRG, sandbox.DemoAzureVNet, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(context.Background(), &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// TestStatusClassifiesWhatConnectRefuses (brief item 1): what connect
// refuses (exit 2) is, for status, a failed check (exit 5) and, for
// disconnect, no obstacle: a deny rule with no free priority ahead of it,
// and the peering's name taken by a peering to another VNet (kept).
func TestStatusClassifiesWhatConnectRefuses(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	nsg := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + sandbox.DemoAzureWebNSG
	if err := e.SB.Azure.AddSecurityRule(nsg, "deny-all-peers", azuresim.SecurityRuleSpec{Priority: 100, Direction: "Inbound", Access: "Deny", Protocol: "*",
		SourceAddressPrefix: "VirtualNetwork", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "*"}); err != nil {
		t.Fatal(err)
	}
	name := sandbox.DemoAzureVNet + "-dfcloud-peering"
	deletePeering(t, e.SB, name)
	hub := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/hub-vnet"
	if _, err := e.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "hub-vnet", AddressPrefixes: []string{"10.50.0.0/16"}}); err != nil {
		t.Fatal(err)
	}
	addPeering(t, e.SB, name, hub, false)

	code, h := e.Status(verb("status")...)
	f := strings.Join(cmdtest.Failed(h), "\n")
	if code != 5 || !strings.Contains(f, sandbox.DemoAzureWebNSG) || !strings.Contains(f, "deny-all-peers") || !strings.Contains(f, "the name is taken by a peering to "+hub) {
		t.Fatalf("status: exit %d, want 5 with failed checks naming web-nsg's rule and the namesake peering:\n%s\n%s", code, f, e.ErrOut)
	}
	if code := e.Run(args()...); code != 2 {
		t.Fatalf("connect: exit %d, want 2 (refused)\n%s", code, e.ErrOut)
	}
	e.Out.Reset()
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if p, ok := e.SB.Azure.Peering(sandbox.DemoAzureVNetID, name); !ok || p.RemoteVNetID != hub {
		t.Errorf("disconnect touched the peering to hub-vnet: %+v %v", p, ok)
	}
}

// putRoute writes a route of a route table through ARM.
func putRoute(t *testing.T, sb *sandbox.Sandbox, table, name, prefix string, hop armnetwork.RouteNextHopType, ip string) {
	t.Helper()
	client, err := armnetwork.NewRoutesClient(sandbox.AzureSubscriptionID, sandboxCred(t, sb), &arm.ClientOptions{ClientOptions: sandboxClientOptions(sb)})
	if err != nil {
		t.Fatal(err)
	}
	r := armnetwork.Route{Properties: &armnetwork.RoutePropertiesFormat{AddressPrefix: &prefix, NextHopType: &hop}}
	if ip != "" {
		r.Properties.NextHopIPAddress = &ip
	}
	poller, err := client.BeginCreateOrUpdate(context.Background(), sandbox.DemoAzureRG, table, name, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(context.Background(), &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// TestStatusRouteTable (issue 9): a route table on the VNet's subnets that
// sends the Dragonfly CIDR (or part of it) to None or a virtual appliance
// fails status, naming the table and the route, with the command that
// deletes it; a default route to a firewall does not matter.
func TestStatusRouteTable(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	rt, err := e.SB.Azure.AddRouteTable(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, "app-routes")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SB.Azure.AddRoute(rt, "default-to-firewall", azuresim.RouteSpec{AddressPrefix: "0.0.0.0/0", NextHopType: "VirtualAppliance", NextHopIPAddress: "10.70.0.4"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "rt-vnet", AddressPrefixes: []string{"10.70.0.0/16"},
		Subnets: []azuresim.SubnetSpec{{Name: "app", AddressPrefix: "10.70.1.0/24", RouteTable: "app-routes"}}}); err != nil {
		t.Fatal(err)
	}
	find := []string{"--network", "demo-azure", "--vnet", "rt-vnet"}
	if code := e.Run(append(append([]string{"azure", "connect"}, find...), "--yes", "--no-input")...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	status := func() (int, peering.Health) {
		e.Out.Reset()
		code := e.Run(append(append([]string{"azure", "status"}, find...), "-o", "json")...)
		var h peering.Health
		if err := json.Unmarshal(e.Out.Bytes(), &h); err != nil {
			t.Fatalf("status: %v (exit %d)\n%s", err, code, e.ErrOut)
		}
		return code, h
	}
	if code, h := status(); code != 0 || check(t, h, "route_table:app-routes").Status != peering.OK {
		t.Fatalf("healthy: exit %d %q %+v", code, cmdtest.Failed(h), h.Checks)
	}
	for _, tc := range []struct {
		route, prefix string
		hop           armnetwork.RouteNextHopType
		ip            string
	}{
		{"drop-dragonfly", demoCIDR, armnetwork.RouteNextHopTypeNone, ""},
		{"inspect-part", "192.168.4.0/24", armnetwork.RouteNextHopTypeVirtualAppliance, "10.70.0.4"},
	} {
		putRoute(t, e.SB, "app-routes", tc.route, tc.prefix, tc.hop, tc.ip)
		code, h := status()
		c := check(t, h, "route_table:app-routes")
		if code != 5 || c.Status != peering.Fail || !strings.Contains(c.Message, "route "+tc.route+" sends "+tc.prefix) ||
			!strings.Contains(c.Fix, "az network route-table route delete -g "+sandbox.DemoAzureRG+" --route-table-name app-routes -n "+tc.route) ||
			strings.Contains(c.Message, "default-to-firewall") {
			t.Fatalf("route %s: exit %d, check %+v", tc.route, code, c)
		}
		client, err := armnetwork.NewRoutesClient(sandbox.AzureSubscriptionID, sandboxCred(t, e.SB), &arm.ClientOptions{ClientOptions: sandboxClientOptions(e.SB)})
		if err != nil {
			t.Fatal(err)
		}
		poller, err := client.BeginDelete(context.Background(), sandbox.DemoAzureRG, "app-routes", tc.route, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := poller.PollUntilDone(context.Background(), &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		if code, h := status(); code != 0 {
			t.Fatalf("after deleting %s: exit %d %q", tc.route, code, cmdtest.Failed(h))
		}
	}
}

// TestRecreate (issue 9): a failed connection cannot be repaired in
// place: status fails naming it, connect without --recreate refuses
// (exit 2), connect --recreate replaces it — our peering, which the old
// connection's deletion leaves Disconnected, removed and created again —
// and status is healthy with one peering.
func TestRecreate(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	old := e.SB.DF.Connections()[0].ConnectionID
	e.SB.DF.SetConnectionStatus(old, "failed", "peering failed")
	if code, h := e.Status(verb("status")...); code != 5 || check(t, h, "connection").Status != peering.Fail {
		t.Fatalf("failed connection: exit %d %q", code, cmdtest.Failed(h))
	}
	if code := e.Run(args()...); code != 2 || !strings.Contains(e.ErrOut.String(), "--recreate") {
		t.Fatalf("connect without --recreate: exit %d\n%s", code, e.ErrOut)
	}
	if code := e.Run(args("--recreate")...); code != 0 {
		t.Fatalf("connect --recreate: exit %d\n%s", code, e.ErrOut)
	}
	code, h := e.Status(verb("status")...)
	if code != 0 || !h.Healthy || h.ConnectionID == old {
		t.Fatalf("after --recreate: exit %d, connection %s (old %s) %q", code, h.ConnectionID, old, cmdtest.Failed(h))
	}
	if n := peeringsOf(t, e); n != 1 {
		t.Fatalf("%d peerings to Dragonfly's VNet, want 1", n)
	}
}

// TestDisconnectLeavesLookalikes (issue 10): what looks related but is
// not dfpeer's — a peering of app-vnet to another VNet, an allow rule for
// the port in web-nsg, another principal's Network Contributor on the
// VNet, an application named like dfpeer's, another custom role — is
// left exactly as it was by disconnect.
func TestDisconnectLeavesLookalikes(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	hub := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/hub-vnet"
	if _, err := e.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "hub-vnet", AddressPrefixes: []string{"10.50.0.0/16"}}); err != nil {
		t.Fatal(err)
	}
	addPeering(t, e.SB, "to-hub", hub, false)
	nsg := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + sandbox.DemoAzureWebNSG
	if err := e.SB.Azure.AddSecurityRule(nsg, "dfpeer-ops", azuresim.SecurityRuleSpec{Priority: 150, Direction: "Inbound", Access: "Allow", Protocol: "Tcp",
		SourceAddressPrefix: "10.0.0.0/8", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "6379", Description: "ops: redis from the office"}); err != nil {
		t.Fatal(err)
	}
	_, otherApp := e.SB.Azure.AddApplication(sandbox.AzureTenantID, azuresim.AppSpec{DisplayName: "dfpeer-app-vnet-old", MultiTenant: true})
	otherSP, err := e.SB.Azure.AddServicePrincipal(sandbox.AzureTenantID, otherApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.SB.Azure.AssignRole(sandbox.DemoAzureVNetID, otherSP, "Network Contributor"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SB.Azure.AddCustomRole(sandbox.AzureSubscriptionID, "dfcloud-peering-role-ops", "Microsoft.Network/virtualNetworks/read"); err != nil {
		t.Fatal(err)
	}
	before := azSnapshot(t, e)
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	after := azSnapshot(t, e)
	if p, ok := e.SB.Azure.Peering(sandbox.DemoAzureVNetID, "to-hub"); !ok || p.RemoteVNetID != hub {
		t.Errorf("peering to-hub: %+v %v", p, ok)
	}
	rules := func(s azState) []string {
		var out []string
		for _, n := range s.NetworkSecurityGroups {
			for _, r := range n.SecurityRules {
				out = append(out, n.ID+"/"+r.Name+" "+r.Properties.Description)
			}
		}
		return out
	}
	if b, a := strings.Join(rules(before), "\n"), strings.Join(rules(after), "\n"); a != b {
		t.Errorf("security rules changed:\n--- before\n%s\n--- after\n%s", b, a)
	}
	count := func(s azState) (apps, assignments, roles int) {
		for _, a := range s.Applications {
			if a.AppID == otherApp {
				apps++
			}
		}
		for _, a := range s.RoleAssignments {
			if a.PrincipalID == otherSP {
				assignments++
			}
		}
		for _, r := range s.CustomRoleDefinitions {
			if r.RoleName == "dfcloud-peering-role-ops" {
				roles++
			}
		}
		return
	}
	if a, r, c := count(after); a != 1 || r != 1 || c != 1 {
		t.Errorf("after disconnect: %d lookalike applications, %d of its role assignments, %d lookalike custom roles; want 1, 1, 1", a, r, c)
	}
}
