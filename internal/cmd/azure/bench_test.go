package azure_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// azureService names the API a simulator call belongs to.
func azureService(path string) string {
	switch {
	case strings.Contains(path, "/oauth2/") || strings.Contains(path, "/.well-known/"):
		return "login"
	case strings.Contains(path, "/v1.0/"):
		return "graph"
	case strings.HasPrefix(path, "/metadata/"):
		return "metadata"
	}
	return "arm"
}

// BenchmarkAzureConnectFlow measures a whole `azure connect` against the
// simulators with fixed delays, next to the floor those delays impose (the
// sum of the steps no client can overlap), and counts the API calls per
// service. It reports figures; it never fails on timing.
func BenchmarkAzureConnectFlow(b *testing.B) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, Activate: 100 * time.Millisecond, Delete: 10 * time.Millisecond,
		AzureOperation: 200 * time.Millisecond, AzureRolePropagation: 200 * time.Millisecond, AzureCredentialPropagation: 200 * time.Millisecond}
	var wall time.Duration
	calls := map[string]int{}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := cmdtest.NewSandbox(b, sandbox.Options{Delays: &d})
		// Production polling (no test tuning): the figure is what users get.
		e.F.Tuning.Poll = dfcloud.WaitOptions{}
		b.StartTimer()
		start := time.Now()
		if code := e.Run(args()...); code != 0 {
			b.Fatalf("exit %d: %s", code, e.ErrOut)
		}
		wall += time.Since(start)
		b.StopTimer()
		calls["dfcloud"] += len(e.SB.DF.HTTP().Calls())
		for _, c := range e.SB.Azure.HTTP().Calls() {
			calls[azureService(c.Path)]++
		}
		e.SB.Close()
		b.StartTimer()
	}
	mean := wall / time.Duration(b.N)
	b.ReportMetric(float64(mean.Milliseconds()), "wall-ms/op")
	b.ReportMetric(float64(d.AzureFloor().Milliseconds()), "floor-ms")
	b.ReportMetric(float64((mean - d.AzureFloor()).Milliseconds()), "overhead-ms/op")
	names := make([]string, 0, len(calls))
	for k := range calls {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.ReportMetric(float64(calls[k])/float64(b.N), k+"-calls/op")
	}
	b.Logf("services: %s", strings.Join(names, ", "))
}
