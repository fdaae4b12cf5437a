package gcp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

var find = []string{"--network", "demo-gcp", "--vpc", sandbox.DemoGCPNetwork}

func verb(v string, extra ...string) []string {
	return append(append([]string{"gcp", v}, find...), extra...)
}

// TestLifecycle: connect, status healthy; the customer-side peering
// removed through Compute → status exit 5 naming it; connect again
// re-adds it; disconnect leaves the customer's project as before connect;
// a second disconnect changes nothing. status never writes.
func TestLifecycle(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	before := e.SB.GCP.Snapshot()
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	code, h := e.StatusReadOnly([]*simhttp.Server{e.SB.GCP.HTTP(), e.SB.DF.HTTP()}, verb("status")...)
	if code != 0 || !h.Healthy || h.Status != "active" {
		t.Fatalf("healthy connection: exit %d %+v", code, h)
	}

	ctx := context.Background()
	c, err := gcpprov.NewClient(ctx, gcpprov.Config{Sandbox: e.SB.Endpoints.GCP, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peeringName := "dfpeer-" + h.Name
	op, err := c.Networks.RemovePeering(ctx, &computepb.RemovePeeringNetworkRequest{Project: sandbox.GCPProject, Network: sandbox.DemoGCPNetwork,
		NetworksRemovePeeringRequestResource: &computepb.NetworksRemovePeeringRequest{Name: &peeringName}})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	code, h = e.StatusReadOnly([]*simhttp.Server{e.SB.GCP.HTTP(), e.SB.DF.HTTP()}, verb("status")...)
	if code != 5 || h.Healthy {
		t.Fatalf("after removing the peering: exit %d, healthy %v", code, h.Healthy)
	}
	f := strings.Join(cmdtest.Failed(h), "\n")
	if !strings.Contains(f, "peering:"+peeringName) || !strings.Contains(f, "irrecoverable") {
		t.Fatalf("want failed checks naming the peering and the irrecoverable connection, got %q", f)
	}

	// The Dragonfly connection is irrecoverable once the customer's side
	// is gone (the API cannot update it): connect refuses without
	// --recreate, and converges with it.
	if code := e.Run(args()...); code != 2 || !strings.Contains(e.ErrOut.String(), "--recreate") {
		t.Fatalf("connect without --recreate: exit %d\n%s", code, e.ErrOut)
	}
	if code := e.Run(args("--recreate")...); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
	}
	if code, h = e.StatusReadOnly([]*simhttp.Server{e.SB.GCP.HTTP(), e.SB.DF.HTTP()}, verb("status")...); code != 0 || !h.Healthy {
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
	if r.Status != "deleted" || len(r.Removed) != 3 {
		t.Fatalf("removal %+v", r)
	}
	if got := e.SB.GCP.Snapshot(); string(got) != string(before) {
		t.Fatalf("disconnect did not restore the projects:\n%s", cmdtest.Diff(before, got))
	}
	again := state(e)
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("second disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if string(again) != string(state(e)) || !strings.Contains(e.ErrOut.String(), "Nothing to disconnect") {
		t.Fatalf("second disconnect changed state or did not say so:\n%s", e.ErrOut)
	}
}
