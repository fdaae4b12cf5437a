package gcp_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// BenchmarkGCPConnectFlow measures a whole `gcp connect` against the
// simulators with fixed delays, next to the floor those delays impose
// (sandbox.Delays.GCPFloor: provisioning, the addPeering and firewall
// operations one after the other, activation), and counts the API calls
// per service. dfpeer starts the firewall operation while the peering
// operation runs, so it can finish below that floor. It reports figures;
// it never fails on timing.
func BenchmarkGCPConnectFlow(b *testing.B) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, GCPOperation: 200 * time.Millisecond, Activate: 100 * time.Millisecond, Delete: 10 * time.Millisecond}
	var wall time.Duration
	calls := map[string]int{}
	ops := map[string]int{}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := cmdtest.NewSandbox(b, sandbox.Options{Delays: &d})
		// Production polling and backoff (no test tuning): the figure is
		// what users get.
		e.F.Tuning = cmdutil.Tuning{}
		b.StartTimer()
		start := time.Now()
		if code := e.Run(args()...); code != 0 {
			b.Fatalf("exit %d: %s", code, e.ErrOut)
		}
		wall += time.Since(start)
		b.StopTimer()
		calls["dfcloud"] += len(e.SB.DF.HTTP().Calls())
		for _, c := range e.SB.GCP.HTTP().Calls() {
			calls["compute"]++
			ops[c.Op]++
		}
		e.SB.Close()
		b.StartTimer()
	}
	mean := wall / time.Duration(b.N)
	b.ReportMetric(float64(mean.Milliseconds()), "wall-ms/op")
	b.ReportMetric(float64(d.GCPFloor().Milliseconds()), "floor-ms")
	b.ReportMetric(float64((mean - d.GCPFloor()).Milliseconds()), "overhead-ms/op")
	for k, n := range calls {
		b.ReportMetric(float64(n)/float64(b.N), k+"-calls/op")
	}
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s=%.1f", k, float64(ops[k])/float64(b.N)))
	}
	b.Logf("compute calls per run: %s", strings.Join(parts, " "))
}
