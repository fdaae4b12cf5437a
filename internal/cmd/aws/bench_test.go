package aws_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// BenchmarkAWSConnectFlow measures a whole `aws connect` against the
// simulators with fixed delays, next to the floor those delays impose (the
// sum of the steps no client can overlap), and counts the API calls per
// service. It reports figures; it never fails on timing.
func BenchmarkAWSConnectFlow(b *testing.B) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, AWSProvisioning: 200 * time.Millisecond, Activate: 100 * time.Millisecond, Delete: 10 * time.Millisecond}
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
		for _, c := range e.SB.AWS.HTTP().Calls() {
			if c.Op == "GetCallerIdentity" {
				calls["sts"]++
			} else {
				calls["ec2"]++
			}
		}
		e.SB.Close()
		b.StartTimer()
	}
	mean := wall / time.Duration(b.N)
	b.ReportMetric(float64(mean.Milliseconds()), "wall-ms/op")
	b.ReportMetric(float64(d.AWSFloor().Milliseconds()), "floor-ms")
	b.ReportMetric(float64((mean - d.AWSFloor()).Milliseconds()), "overhead-ms/op")
	names := make([]string, 0, len(calls))
	for k := range calls {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		b.ReportMetric(float64(calls[k])/float64(b.N), k+"-calls/op")
		parts = append(parts, k)
	}
	b.Logf("services: %s", strings.Join(parts, ", "))
}
