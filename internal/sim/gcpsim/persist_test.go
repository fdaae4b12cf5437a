package gcpsim

import (
	"bytes"
	"context"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// Saving completes an operation still running (its effect cannot be
// saved), the saved state loads into an identical simulator, and IDs and
// operation names continue the saved sequence.
func TestSaveLoadStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{Delays: Delays{Operation: opDelay}, Seed: 3})
	e.seedPair(t)
	peer, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-1",
		Network: simcloud.Network{Provider: "gcp", VPCResourceID: "df-net", VPCAccountID: "df-prod"},
		Peer:    simcloud.Peer{AccountID: "cust-proj", VPCID: "cust-net"}})
	if err != nil {
		t.Fatal(err)
	}
	op, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
	must(t, err)
	if op.Proto().GetStatus() == computepb.Operation_DONE {
		t.Fatal("the insert finished at once; the test needs it running")
	}

	saved, err := e.sim.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.sim.Firewalls("cust-proj")) != 1 {
		t.Fatal("saving did not complete the running firewall insert")
	}
	restored := New(Options{Delays: Delays{Operation: opDelay}, Now: e.clock.Now, Seed: 3})
	if err := restored.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	if a, b := e.sim.Snapshot(), restored.Snapshot(); !bytes.Equal(a, b) {
		t.Fatalf("snapshot after load differs:\n%s\nvs\n%s", a, b)
	}
	if again, _ := restored.SaveState(); !bytes.Equal(saved, again) {
		t.Error("SaveState(LoadState(x)) != x")
	}
	if st := restored.PeeringStatus(peer); st.Failed != "" {
		t.Errorf("Dragonfly's peering %s is unknown after load: %+v", peer, st)
	}
	for _, s := range []*Sim{e.sim, restored} {
		s.AddProject("later")
	}
	a, _ := e.sim.SaveState()
	b, _ := restored.SaveState()
	if !bytes.Equal(a, b) {
		t.Error("a project added after load got other IDs than in the original")
	}
}
