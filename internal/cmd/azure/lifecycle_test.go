package azure_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

var find = []string{"--network", "demo-azure", "--vnet", sandbox.DemoAzureVNet}

func verb(v string, extra ...string) []string {
	return append(append([]string{"azure", v}, find...), extra...)
}

// TestLifecycle: connect, status healthy; a deny rule added to web-nsg →
// status exit 5 naming the NSG; connect again adds dfpeer's allow rule
// ahead of it; disconnect takes down everything dfpeer made but Dragonfly's
// own service principal; a second disconnect changes nothing.
func TestLifecycle(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	before := e.SB.Azure.Snapshot()
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	code, h := e.StatusReadOnly([]*simhttp.Server{e.SB.Azure.HTTP(), e.SB.DF.HTTP()}, verb("status")...)
	if code != 0 || !h.Healthy || h.Status != "active" {
		t.Fatalf("healthy connection: exit %d %q", code, cmdtest.Failed(h))
	}

	nsg := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + sandbox.DemoAzureWebNSG
	if err := e.SB.Azure.AddSecurityRule(nsg, "deny-redis", azuresim.SecurityRuleSpec{Priority: 200, Direction: "Inbound", Access: "Deny", Protocol: "Tcp",
		SourceAddressPrefix: demoCIDR, SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "6379"}); err != nil {
		t.Fatal(err)
	}
	code, h = e.StatusReadOnly([]*simhttp.Server{e.SB.Azure.HTTP(), e.SB.DF.HTTP()}, verb("status")...)
	if f := cmdtest.Failed(h); code != 5 || len(f) != 1 || !strings.Contains(f[0], sandbox.DemoAzureWebNSG) {
		t.Fatalf("after a deny rule: exit %d, want one failed check naming %s, got %q", code, sandbox.DemoAzureWebNSG, f)
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
	}
	if code, h = e.StatusReadOnly([]*simhttp.Server{e.SB.Azure.HTTP(), e.SB.DF.HTTP()}, verb("status")...); code != 0 || !h.Healthy {
		t.Fatalf("after repair: exit %d %q", code, cmdtest.Failed(h))
	}

	mid := state(e)
	e.Out.Reset()
	if code := e.Run(verb("disconnect", "--dry-run", "-o", "json")...); code != 0 {
		t.Fatalf("disconnect --dry-run: exit %d\n%s", code, e.ErrOut)
	}
	if string(mid) != string(state(e)) {
		t.Fatal("disconnect --dry-run changed state")
	}
	e.Out.Reset()
	if code := e.Run(verb("disconnect", "--yes", "--no-input", "-o", "json")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	var r peering.Removal
	if err := json.Unmarshal(e.Out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, e.Out)
	}
	kept := map[peering.Kind]int{}
	for _, k := range r.Kept {
		kept[k.Kind]++
	}
	if r.Status != "deleted" || kept[peering.KindServicePrincipal] != 1 {
		t.Fatalf("removal %+v", r)
	}
	t.Logf("removed %d, kept %+v", len(r.Removed), r.Kept)
	// The customer's tenant holds nothing of dfpeer's any more: no
	// application, no role assignment, no peering, no NSG rule of dfpeer.
	conns := e.SB.DF.Connections()
	if len(conns) != 1 || conns[0].Config.Peer.Azure == nil {
		t.Fatalf("connections %+v", conns)
	}
	appID := conns[0].Config.Peer.Azure.AppObjectID
	if _, ok := e.SB.Azure.Application(appID); ok {
		t.Errorf("application %s is still there", appID)
	}
	vnetID := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/" + sandbox.DemoAzureVNet
	if _, ok := e.SB.Azure.Peering(vnetID, sandbox.DemoAzureVNet+"-dfcloud-peering"); ok {
		t.Error("the peering to Dragonfly's VNet is still there")
	}
	if diff := cmdtest.Diff(before, e.SB.Azure.Snapshot()); strings.Contains(diff, "dfpeer") || strings.Contains(diff, sandbox.DemoAzureVNet+"-dfcloud-peering") {
		t.Errorf("something of dfpeer's is left:\n%s", diff)
	}

	again := state(e)
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("second disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if string(again) != string(state(e)) || !strings.Contains(e.ErrOut.String(), "Nothing to disconnect") {
		t.Fatalf("second disconnect changed state or did not say so:\n%s", e.ErrOut)
	}
}

// TestUseRemoteGateways (issue 12 item 5): with --use-remote-gateways
// Dragonfly's peering uses the customer VNet's gateway, so the VNet must
// have one and the customer's peering allows gateway transit; the
// connection goes active and status checks the gateway.
func TestUseRemoteGateways(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	vnetID, err := e.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "gw-vnet", AddressPrefixes: []string{"10.60.0.0/16"}, HasGateway: true,
		Subnets: []azuresim.SubnetSpec{{Name: "app", AddressPrefix: "10.60.1.0/24"}, {Name: azuresim.GatewaySubnet, AddressPrefix: "10.60.255.0/27"}}})
	if err != nil {
		t.Fatal(err)
	}
	gw := []string{"azure", "connect", "--network", "demo-azure", "--vnet", "gw-vnet"}
	if code := e.Run(append(gw, "--use-remote-gateways", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("connect --use-remote-gateways: exit %d\n%s", code, e.ErrOut)
	}
	var ours, theirs int
	for _, v := range azSnapshot(t, e).VirtualNetworks {
		for _, p := range v.Peerings {
			switch {
			case v.ID == vnetID && p.RemoteVirtualNetwork == sandbox.DragonflyAzureVNetID:
				ours++
				if !p.AllowGatewayTransit || p.UseRemoteGateways || p.PeeringState != "Connected" {
					t.Errorf("customer's peering %+v: want gateway transit allowed, remote gateways off, Connected", p)
				}
			case v.ID == sandbox.DragonflyAzureVNetID && p.RemoteVirtualNetwork == vnetID:
				theirs++
				if !p.UseRemoteGateways || p.PeeringState != "Connected" {
					t.Errorf("Dragonfly's peering %+v: want it to use gw-vnet's gateway, Connected", p)
				}
			}
		}
	}
	if ours != 1 || theirs != 1 {
		t.Fatalf("%d customer peerings and %d Dragonfly peerings, want one each", ours, theirs)
	}
	e.Out.Reset()
	code := e.Run("azure", "status", "--network", "demo-azure", "--vnet", "gw-vnet", "-o", "json")
	var h peering.Health
	if err := json.Unmarshal(e.Out.Bytes(), &h); err != nil || code != 0 || !h.Healthy {
		t.Fatalf("status: exit %d %v %q\n%s", code, err, cmdtest.Failed(h), e.ErrOut)
	}
	found := false
	for _, c := range h.Checks {
		if c.ID == "gateway:gw-vnet" && c.Status == peering.OK && strings.Contains(c.Message, "gw-vnet-gw") {
			found = true
		}
	}
	if !found {
		t.Errorf("no ok gateway check naming gw-vnet-gw: %+v", h.Checks)
	}
}
