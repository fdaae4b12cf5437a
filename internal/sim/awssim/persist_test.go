package awssim

import (
	"bytes"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// A peering saved while provisioning comes back provisioning, turns active
// at the saved deadline, and new IDs continue the saved sequence.
func TestSaveLoadStateRoundTrip(t *testing.T) {
	e := newEnv(t, Delays{Provisioning: time.Minute})
	df := e.vpc(dfAccount, "us-east-1", VPCSpec{CIDRs: []string{"192.168.0.0/16"}})
	cust := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}, Name: "app"})
	if _, err := e.sim.AddSecurityGroup(custAccount, "us-east-1", cust.VPCID, "servers", "app servers"); err != nil {
		t.Fatal(err)
	}
	pcx, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "conn-1", Name: "demo",
		Network: simcloud.Network{Provider: "aws", Region: "us-east-1", VPCResourceID: df.VPCID, VPCAccountID: dfAccount},
		Peer:    simcloud.Peer{AccountID: custAccount, VPCID: cust.VPCID, Region: "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AcceptPeering(pcx); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second) // still provisioning

	saved, err := e.sim.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(Options{Delays: Delays{Provisioning: time.Minute}, Now: e.clock.Now, Seed: 42})
	if err := restored.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	if a, b := e.sim.Snapshot(), restored.Snapshot(); !bytes.Equal(a, b) {
		t.Fatalf("snapshot after load differs:\n%s\nvs\n%s", a, b)
	}
	if again, _ := restored.SaveState(); !bytes.Equal(saved, again) {
		t.Error("SaveState(LoadState(x)) != x")
	}
	if p, _ := restored.Peering(pcx); p.State != stateProvisioning {
		t.Fatalf("restored peering is %s, want %s", p.State, stateProvisioning)
	}
	if id, ok := restored.byConn["conn-1"]; !ok || id != pcx {
		t.Errorf("connection index lost: %q", id)
	}
	// The restored access keys still authenticate.
	if restored.accessKeys[custKey] != custAccount {
		t.Errorf("access key lost")
	}

	e.clock.Advance(41 * time.Second)
	if p, _ := restored.Peering(pcx); p.State != stateActive {
		t.Errorf("after the saved deadline the peering is %s, want active", p.State)
	}
	a, err := e.sim.AddVPC(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.1.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := restored.AddVPC(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.1.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a.VPCID == cust.VPCID || a.VPCID == df.VPCID {
		t.Errorf("IDs after load: %+v, want the original's %+v and no reuse", b, a)
	}
}
