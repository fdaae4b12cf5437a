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
