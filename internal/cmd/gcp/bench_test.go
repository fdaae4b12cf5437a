package gcp_test

import (
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// BenchmarkGCPConnectFlow measures a whole `gcp connect` against the
// simulators with fixed delays, next to the floor those delays impose
// (sandbox.Delays.GCPFloor: provisioning, one Compute operation — the
// firewall insert runs while the addPeering operation does — activation), and counts the API calls
// per service.
func BenchmarkGCPConnectFlow(b *testing.B) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, GCPOperation: 200 * time.Millisecond, Activate: 100 * time.Millisecond, Delete: 10 * time.Millisecond}
	cmdtest.BenchFlow(b, d, d.GCPFloor(), args(), func(sb *sandbox.Sandbox, calls map[string]int) {
		calls["compute"] += len(sb.GCP.HTTP().Calls())
	})
}
