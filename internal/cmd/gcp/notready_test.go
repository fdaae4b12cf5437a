package gcp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// Compute may refuse a firewall rule on a network while a peering
// operation runs on it (400 resourceNotReady). dfpeer creates the rule
// while its addPeering runs: it must wait that out and converge.
func TestGCPConnectRetriesNetworkNotReady(t *testing.T) {
	d := sandbox.Delays{Provision: 10 * time.Millisecond, Activate: 10 * time.Millisecond, Delete: 10 * time.Millisecond, GCPOperation: 400 * time.Millisecond}
	e := cmdtest.NewSandbox(t, sandbox.Options{Delays: &d})
	e.SB.GCP.SetNotReadyWhilePeering(true)
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	notReady := 0
	for _, c := range e.SB.GCP.HTTP().Calls() {
		if c.Op == "firewalls.insert" && c.Status == 400 {
			notReady++
		}
	}
	if notReady == 0 {
		t.Fatalf("no firewalls.insert was refused as not ready: the test proves nothing")
	}
	if strings.Contains(e.ErrOut.String(), "resourceNotReady") {
		t.Errorf("a retried refusal reached the user:\n%s", e.ErrOut)
	}
	assertConnected(t, e, 6379, nil)
}
