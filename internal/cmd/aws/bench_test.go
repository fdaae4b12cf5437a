package aws_test

import (
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// BenchmarkAWSConnectFlow measures a whole `aws connect` against the
// simulators with fixed delays, next to the floor those delays impose (the
// sum of the steps no client can overlap), and counts the API calls per
// service.
func BenchmarkAWSConnectFlow(b *testing.B) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, AWSProvisioning: 200 * time.Millisecond, Activate: 100 * time.Millisecond, Delete: 10 * time.Millisecond}
	cmdtest.BenchFlow(b, d, d.AWSFloor(), args(), func(sb *sandbox.Sandbox, calls map[string]int) {
		for _, c := range sb.AWS.HTTP().Calls() {
			if c.Op == "GetCallerIdentity" {
				calls["sts"]++
			} else {
				calls["ec2"]++
			}
		}
	})
}

// BenchmarkAWSStatus measures `aws status -o json` on a healthy connection
// against the simulators (no delays: status waits for nothing) and counts
// its API calls per service; none of them may be mutating.
func BenchmarkAWSStatus(b *testing.B) {
	e := cmdtest.NewSandbox(b, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		b.Fatalf("connect: exit %d: %s", code, e.ErrOut)
	}
	st := verb("status", "-o", "json")
	calls := map[string]int{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.SB.AWS.HTTP().ResetLog()
		e.SB.DF.HTTP().ResetLog()
		e.Out.Reset()
		b.StartTimer()
		if code := e.Run(st...); code != 0 {
			b.Fatalf("status: exit %d: %s", code, e.ErrOut)
		}
		b.StopTimer()
		for _, c := range e.SB.AWS.HTTP().Calls() {
			calls[c.Op]++
			if c.Mutating {
				b.Fatalf("status made a mutating call: %s", c.Op)
			}
		}
		calls["dfcloud"] += len(e.SB.DF.HTTP().Calls())
		b.StartTimer()
	}
	b.StopTimer()
	total := 0
	for k, n := range calls {
		if k != "dfcloud" {
			total += n
		}
		b.ReportMetric(float64(n)/float64(b.N), k+"-calls/op")
	}
	b.ReportMetric(float64(total)/float64(b.N), "aws-calls/op")
}
