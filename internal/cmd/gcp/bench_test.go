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

// BenchmarkGCPStatus measures `gcp status -o json` on a healthy
// connection against the simulators (no delays: status waits for
// nothing), and counts its API calls per service and how many of them
// write (always 0).
func BenchmarkGCPStatus(b *testing.B) {
	e := cmdtest.NewSandbox(b, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		b.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	e.SB.GCP.HTTP().ResetLog()
	e.SB.DF.HTTP().ResetLog()
	status := verb("status", "-o", "json")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Out.Reset()
		if code := e.Run(status...); code != 0 {
			b.Fatalf("status: exit %d\n%s", code, e.ErrOut)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(len(e.SB.GCP.HTTP().Calls()))/n, "compute-calls/op")
	b.ReportMetric(float64(len(e.SB.DF.HTTP().Calls()))/n, "dfcloud-calls/op")
	b.ReportMetric(float64(len(cmdtest.MutatingCalls(e.SB.GCP.HTTP(), e.SB.DF.HTTP())))/n, "writes/op")
}
