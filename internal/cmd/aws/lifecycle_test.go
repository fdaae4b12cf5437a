package aws_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	awsprov "github.com/dragonflydb/dfpeer/internal/provider/aws"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

var find = []string{"--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC}

func verb(v string, extra ...string) []string {
	return append(append([]string{"aws", v}, find...), extra...)
}

// TestLifecycle: connect, status healthy; a route deleted through EC2 →
// status exit 5 naming the table; connect again repairs it; disconnect
// leaves the simulators as before connect; a second disconnect changes
// nothing. status never writes.
func TestLifecycle(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	before := e.SB.AWS.Snapshot()
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}

	code, h := e.StatusReadOnly([]*simhttp.Server{e.SB.AWS.HTTP(), e.SB.DF.HTTP()}, verb("status")...)
	if code != 0 || !h.Healthy || h.Status != "active" || len(h.Checks) < 4 {
		t.Fatalf("healthy connection: exit %d %+v", code, h)
	}

	// Break it through EC2: delete the route in the main table.
	ctx := context.Background()
	c, err := awsprov.NewClient(ctx, awsprov.Config{Sandbox: e.SB.Endpoints.AWS, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rts, err := c.RouteTables(ctx, sandbox.DemoAWSVPC)
	if err != nil || len(rts) == 0 {
		t.Fatalf("route tables: %v", err)
	}
	if _, err := c.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rts[0].ID), DestinationCidrBlock: aws.String(demoCIDR)}); err != nil {
		t.Fatal(err)
	}
	code, h = e.StatusReadOnly([]*simhttp.Server{e.SB.AWS.HTTP(), e.SB.DF.HTTP()}, verb("status")...)
	if code != 5 || h.Healthy {
		t.Fatalf("after deleting a route: exit %d, healthy %v", code, h.Healthy)
	}
	if f := cmdtest.Failed(h); len(f) != 1 || !strings.Contains(f[0], rts[0].ID) {
		t.Fatalf("want one failed check naming %s, got %q", rts[0].ID, f)
	}
	for _, ch := range h.Checks {
		if ch.Status == peering.Fail && !strings.Contains(ch.Fix, "dfpeer aws connect") {
			t.Errorf("fix %q does not say how to repair", ch.Fix)
		}
	}

	// connect repairs it, without duplicating anything.
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
	}
	if code, h = e.StatusReadOnly([]*simhttp.Server{e.SB.AWS.HTTP(), e.SB.DF.HTTP()}, verb("status")...); code != 0 || !h.Healthy {
		t.Fatalf("after repair: exit %d %q", code, cmdtest.Failed(h))
	}
	assertConnected(t, e, nil, nil)

	// dry run changes nothing.
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
	if r.Status != "deleted" || len(r.Removed) < 4 {
		t.Fatalf("removal %+v", r)
	}
	// EC2 keeps a deleted peering visible for a while: that record is
	// AWS's, not something disconnect left.
	if got := withoutDeletedPeerings(t, e.SB.AWS.Snapshot()); string(got) != string(withoutDeletedPeerings(t, before)) {
		t.Fatalf("disconnect did not restore the cloud side:\n%s", cmdtest.Diff(withoutDeletedPeerings(t, before), got))
	}

	again := state(e)
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("second disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if string(again) != string(state(e)) || !strings.Contains(e.ErrOut.String(), "Nothing to disconnect") {
		t.Fatalf("second disconnect changed state or did not say so:\n%s", e.ErrOut)
	}
}

func withoutDeletedPeerings(t *testing.T, snap []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(snap, &m); err != nil {
		t.Fatal(err)
	}
	var kept []any
	all, _ := m["peerings"].([]any)
	for _, p := range all {
		if pm, _ := p.(map[string]any); pm["state"] != "deleted" {
			kept = append(kept, p)
		}
	}
	m["peerings"] = kept
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
