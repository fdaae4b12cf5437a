// Package peeringtest holds test helpers shared by the connect flows of
// every cloud, chief among them CrashAtEveryStep.
package peeringtest

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// World is one fresh, identically seeded set of simulators plus a way to
// run the flow under test against them.
type World interface {
	// Servers are the simulators whose mutating calls are interruption
	// points.
	Servers() []*simhttp.Server
	// Run runs the flow once. It returns nil on success.
	Run(ctx context.Context) error
	// State is the comparable state of every simulator (no timestamps, no
	// request logs).
	State() []byte
}

// CrashAtEveryStep proves that the flow converges whatever point it is
// interrupted at. It runs the flow once uninterrupted to learn the final
// state and the number N of mutating calls; then, for each k in 1..N, it
// builds a fresh world, interrupts the flow right after the k-th mutating
// call has been answered (the client may or may not have read the answer,
// like a process killed at that moment), runs the flow again, and requires
// the final state to equal the uninterrupted one: nothing missing, nothing
// duplicated.
func CrashAtEveryStep(t *testing.T, newWorld func(t *testing.T) World) {
	t.Helper()
	base := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := base.Run(ctx); err != nil {
		t.Fatalf("uninterrupted run failed: %v", err)
	}
	want := base.State()
	var ops []string
	for _, s := range base.Servers() {
		for _, c := range s.Calls() {
			if c.Mutating && c.Fault == simhttp.NoFault && c.Status < 300 {
				ops = append(ops, c.Op)
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("the flow made no mutating call: nothing to interrupt")
	}
	t.Logf("uninterrupted run: %d mutating calls %v", len(ops), ops)

	for k := 1; k <= len(ops); k++ {
		t.Run(fmt.Sprintf("after_call_%d_%s", k, ops[k-1]), func(t *testing.T) {
			w := newWorld(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var (
				mu   sync.Mutex
				seen int
				hit  string
			)
			for _, s := range w.Servers() {
				s.OnCall(func(c simhttp.Call) {
					if !c.Mutating || c.Fault != simhttp.NoFault || c.Status >= 300 {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					seen++
					if seen == k {
						hit = c.Op
						cancel()
					}
				})
			}
			err := w.Run(ctx)
			mu.Lock()
			interruptedAt := hit
			mu.Unlock()
			if interruptedAt == "" {
				t.Fatalf("the interrupted run made fewer than %d mutating calls (err %v)", k, err)
			}
			if err == nil {
				t.Logf("interrupted after %s, but the run had already finished its work", interruptedAt)
			}
			rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer rcancel()
			if err := w.Run(rctx); err != nil {
				t.Fatalf("re-run after an interruption at %s failed: %v", interruptedAt, err)
			}
			if got := w.State(); string(got) != string(want) {
				t.Fatalf("after an interruption at %s and a re-run, the state differs from an uninterrupted run\n--- want\n%s\n--- got\n%s", interruptedAt, want, got)
			}
		})
	}
}

var timestampRE = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`)

// Timeless blanks RFC 3339 timestamps in a JSON snapshot: two runs create
// the same resources at different instants, and that is not a difference.
func Timeless(snapshot []byte) []byte {
	return timestampRE.ReplaceAll(snapshot, []byte(`"<time>"`))
}
