package azure_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
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
// service.
func BenchmarkAzureConnectFlow(b *testing.B) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, Activate: 100 * time.Millisecond, Delete: 10 * time.Millisecond,
		AzureOperation: 200 * time.Millisecond, AzureRolePropagation: 200 * time.Millisecond, AzureCredentialPropagation: 200 * time.Millisecond}
	cmdtest.BenchFlow(b, d, d.AzureFloor(), args(), func(sb *sandbox.Sandbox, calls map[string]int) {
		for _, c := range sb.Azure.HTTP().Calls() {
			calls[azureService(c.Path)]++
		}
	})
}

// BenchmarkAzureStatus measures `azure status -o json` on a healthy
// connection against the simulators (after one connect), and counts its
// API calls per service: the figures issue 9's closing note asks for.
func BenchmarkAzureStatus(b *testing.B) {
	e := cmdtest.NewSandbox(b, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		b.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	argv := append(append([]string{"azure", "status"}, find...), "-o", "json")
	calls := map[string]int{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.SB.Azure.HTTP().ResetLog()
		e.SB.DF.HTTP().ResetLog()
		e.Out.Reset()
		if code := e.Run(argv...); code != 0 {
			b.Fatalf("status: exit %d\n%s", code, e.ErrOut)
		}
		for _, c := range e.SB.Azure.HTTP().Calls() {
			calls[azureService(c.Path)]++
		}
		calls["dragonfly"] += len(e.SB.DF.HTTP().Calls())
	}
	b.StopTimer()
	for svc, n := range calls {
		b.ReportMetric(float64(n)/float64(b.N), svc+"-calls/op")
	}
}
