package azure_test

import (
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// connectedWorld is a sandbox where connect has run; the request logs
// start after it, so only the flow under test is interrupted.
func connectedWorld(t *testing.T, after func(e *cmdtest.Env), argv []string) peeringtest.World {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	if after != nil {
		after(e)
	}
	e.SB.Azure.HTTP().ResetLog()
	e.SB.DF.HTTP().ResetLog()
	return &cmdtest.FlowWorld{Env: e, Args: argv, Snap: state,
		Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.Azure.HTTP() }}
}

// Disconnect interrupted after any mutating call converges, on a re-run,
// to what an uninterrupted disconnect leaves.
func TestDisconnectCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return connectedWorld(t, nil, verb("disconnect", "--yes", "--no-input"))
	})
}

// connect --recreate of a failed connection, interrupted after any
// mutating call (the old connection's delete included), converges on a
// re-run: one new connection, one peering, nothing duplicated.
// Killed right after the old connection's delete was accepted, the re-run
// finds it "deleting" and waits it out.
func TestRecreateCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return connectedWorld(t, func(e *cmdtest.Env) {
			conns := e.SB.DF.Connections()
			if len(conns) != 1 {
				t.Fatalf("%d connections", len(conns))
			}
			e.SB.DF.SetConnectionStatus(conns[0].ConnectionID, "failed", "peering failed: Dragonfly Cloud's role was not in effect")
		}, args("--recreate"))
	})
}
