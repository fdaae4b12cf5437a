package azure_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// The wait for Dragonfly's role adapts: dfpeer goes on after a short
// settle, and when Dragonfly's side fails because Azure has not applied
// the role yet, it deletes that connection and creates it again with
// backoff — converging whether the role takes 0.5 s or 5 s, with no failed
// connection left behind.
func TestRoleSettleAdapts(t *testing.T) {
	for _, propagation := range []time.Duration{500 * time.Millisecond, 5 * time.Second} {
		t.Run(propagation.String(), func(t *testing.T) {
			d := sandbox.Delays{Provision: 20 * time.Millisecond, Activate: 10 * time.Millisecond, Delete: 20 * time.Millisecond,
				AWSProvisioning: 20 * time.Millisecond, GCPOperation: 20 * time.Millisecond, AzureOperation: 20 * time.Millisecond,
				AzureRolePropagation: propagation, AzureCredentialPropagation: 20 * time.Millisecond}
			e := cmdtest.NewSandbox(t, sandbox.Options{Delays: &d})
			e.Vars["DFPEER_AZURE_ROLE_SETTLE"] = "50ms" // shorter than the propagation: the first attempt may fail
			start := time.Now()
			if code := e.Run(args()...); code != 0 {
				t.Fatalf("exit %d\n%s", code, e.ErrOut)
			}
			took := time.Since(start)
			live, failed := 0, 0
			for _, c := range e.SB.DF.Connections() {
				switch c.Status {
				case "deleted":
				case "failed":
					failed++
				default:
					live++
				}
			}
			if live != 1 || failed != 0 {
				t.Fatalf("%d live and %d failed connections: %+v", live, failed, e.SB.DF.Connections())
			}
			retried := strings.Contains(e.ErrOut.String(), "creating it again")
			if propagation >= 5*time.Second && !retried {
				t.Errorf("a 5 s propagation should have made the first attempt fail and be retried:\n%s", e.ErrOut)
			}
			t.Logf("role propagation %s: connect took %s (retried: %v)", propagation, took.Round(100*time.Millisecond), retried)
		})
	}
}
