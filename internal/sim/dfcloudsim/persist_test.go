package dfcloudsim

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A connection saved pending comes back pending and turns inactive once
// the provisioning delay has passed since it was created, counted from the
// saved time, not from the load.
func TestSaveLoadStateRoundTrip(t *testing.T) {
	delays := Delays{Provision: time.Minute, Delete: time.Minute}
	h := newHarness(t, Options{Delays: delays})
	pending := h.createConn(awsConnBody)
	gone := h.createConn(`{"name":"c1","network_id":"net-gcp","peer":{"account_id":"my-project","vpc_id":"default"}}`)
	h.clock.Advance(2 * time.Minute)
	h.request("DELETE", "/v1/connections/"+gone.ConnectionID, "")
	later := h.createConn(`{"name":"c2","network_id":"net-az","peer":{"account_id":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","vpc_id":"app-vnet","azure":{"resource_group":"app-rg","tenant_id":"c0ffee00-7e4a-4c9b-8d2f-1f6d8e2a4c70","app_object_id":"5a4d0f3e-7c21-4b8a-9e6f-2d1c3b4a5e60"}}}`)
	h.clock.Advance(30 * time.Second)

	saved, err := h.sim.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(Options{APIKey: testKey, Delays: delays, Now: h.clock.Now, IDs: counterIDs()})
	if err := restored.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	if a, b := h.sim.Snapshot(), restored.Snapshot(); !bytes.Equal(a, b) {
		t.Fatalf("snapshot after load differs:\n%s\nvs\n%s", a, b)
	}
	if again, _ := restored.SaveState(); !bytes.Equal(saved, again) {
		t.Error("SaveState(LoadState(x)) != x")
	}
	if c, _ := restored.Connection(later.ConnectionID); c.Status != ConnPending {
		t.Fatalf("restored connection is %s, want pending", c.Status)
	}
	if c, _ := restored.Connection(gone.ConnectionID); c.Status != ConnDeleting {
		t.Fatalf("restored deleted connection is %s, want deleting", c.Status)
	}
	h.clock.Advance(31 * time.Second)
	if c, _ := restored.Connection(later.ConnectionID); c.Status != ConnInactive {
		t.Errorf("a minute after creation the restored connection is %s, want inactive", c.Status)
	}
	if c, _ := restored.Connection(gone.ConnectionID); c.Status != ConnDeleted {
		t.Errorf("a minute after the delete the restored connection is %s, want deleted", c.Status)
	}
	if c, _ := restored.Connection(pending.ConnectionID); c.Status != ConnInactive {
		t.Errorf("first connection is %s, want inactive", c.Status)
	}
	// A counter restarted by the new process must not hand out a taken ID.
	h2 := &harness{t: t, sim: restored, srv: newServer(t, restored), clock: h.clock}
	if c := h2.createConn(strings.Replace(awsConnBody, `"c1"`, `"c9"`, 1)); c.ConnectionID == pending.ConnectionID || c.ConnectionID == gone.ConnectionID || c.ConnectionID == later.ConnectionID {
		t.Errorf("new connection reused ID %s", c.ConnectionID)
	}
}
