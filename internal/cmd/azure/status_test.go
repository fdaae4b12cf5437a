package azure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
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
	if code, h := health(t, e); code != 0 || check(t, h, "peering_sync:").Status != peering.OK {
		t.Fatalf("healthy: exit %d %q", code, failed(h))
	}

	if err := e.SB.Azure.SetAddressPrefixes(sandbox.DragonflyAzureVNetID, []string{"192.168.0.0/16", "192.169.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	writes := len(cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP()))
	code, h := health(t, e)
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
	if code, h := health(t, e); code != 0 || !h.Healthy {
		t.Fatalf("after the sync: exit %d %q", code, failed(h))
	}
	if n := e.SB.Azure.HTTP().Count("VirtualNetworkPeerings_CreateOrUpdate"); n != 1 || peeringsOf(t, e) != 1 {
		t.Fatalf("the sync made %d peering writes and left %d peerings, want 1 and 1", n, peeringsOf(t, e))
	}

	growVNet(t, e.SB, "10.2.0.0/16")
	code, h = health(t, e)
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
	if code, h := health(t, e); code != 0 || !h.Healthy {
		t.Fatalf("after replacing the connection: exit %d %q", code, failed(h))
	}
	if n := peeringsOf(t, e); n != 1 {
		t.Fatalf("%d peerings to Dragonfly's VNet, want 1", n)
	}
}
