package dfcloud_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

func TestWaitFollowsStateMachine(t *testing.T) {
	e := newEnv(t, envConfig{delays: dfcloudsim.Delays{Provision: time.Second, Activate: 2 * time.Second}})
	ctx := context.Background()
	c, err := e.client.CreateConnection(ctx, awsConfig("c1"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []dfcloud.ConnectionStatus
	opts := dfcloud.WaitOptions{Clock: e.clock, OnChange: func(c *dfcloud.Connection) { seen = append(seen, c.Status) }}

	got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionInactive), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dfcloud.ConnectionInactive || got.PeerConnectionID != "peer-1" {
		t.Fatalf("got %+v", got)
	}
	// 100, 150, 225, 337.5 ms then the 500 ms cap: 1.3125 s >= Provision.
	want := []time.Duration{100 * time.Millisecond, 150 * time.Millisecond, 225 * time.Millisecond, 337500 * time.Microsecond, 500 * time.Millisecond}
	if iv := e.clock.intervals(); !slices.Equal(iv, want) {
		t.Fatalf("intervals %v, want %v", iv, want)
	}
	if !slices.Equal(seen, []dfcloud.ConnectionStatus{dfcloud.ConnectionPending, dfcloud.ConnectionInactive}) {
		t.Fatalf("OnChange saw %v", seen)
	}

	e.cloud.SetEstablished("peer-1", true)
	seen = nil
	got, err = e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), opts)
	if err != nil || got.Status != dfcloud.ConnectionActive {
		t.Fatalf("active: %+v %v", got, err)
	}
	if !slices.Equal(seen, []dfcloud.ConnectionStatus{dfcloud.ConnectionInactive, dfcloud.ConnectionActive}) {
		t.Fatalf("OnChange saw %v (once per status, not per poll)", seen)
	}
	for _, d := range e.clock.intervals() {
		if d > 500*time.Millisecond {
			t.Fatalf("interval %v above the default cap", d)
		}
	}
}

func TestWaitTerminalStatus(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()
	e.cloud.FailCreate("InvalidVpcID.NotFound: The vpc ID 'vpc-0123456789abcdef0' does not exist")
	c, _ := e.client.CreateConnection(ctx, awsConfig("c1"))
	got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionInactive), dfcloud.WaitOptions{Clock: e.clock})
	var term *dfcloud.TerminalStatusError
	if !errors.As(err, &term) || term.Connection.Status != dfcloud.ConnectionFailed || got == nil || got.Status != dfcloud.ConnectionFailed {
		t.Fatalf("want TerminalStatusError(failed), got %v / %+v", err, got)
	}
	want := "dfcloud: connection " + c.ConnectionID + " is failed: InvalidVpcID.NotFound: The vpc ID 'vpc-0123456789abcdef0' does not exist"
	if err.Error() != want {
		t.Fatalf("message %q", err)
	}
	// Failed is what the caller waited for: no error.
	if got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionFailed), dfcloud.WaitOptions{Clock: e.clock}); err != nil || got.Status != dfcloud.ConnectionFailed {
		t.Fatalf("waiting for failed: %v", err)
	}

	e.cloud.FailCreate("")
	c2, _ := e.client.CreateConnection(ctx, awsConfig("c2"))
	e.sim.Connection(c2.ConnectionID) // provision: peer-1
	e.cloud.SetEstablished("peer-1", true)
	e.cloud.SetGone("peer-1", true)
	// Active first, then the customer deletes their side.
	e.sim.SetConnectionStatus(c2.ConnectionID, dfcloudsim.ConnActive, "")
	_, err = e.client.WaitConnection(ctx, c2.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionDeleted), dfcloud.WaitOptions{Clock: e.clock})
	if !errors.As(err, &term) || term.Connection.Status != dfcloud.ConnectionIrrecoverable || !strings.Contains(err.Error(), "is irrecoverable: ") {
		t.Fatalf("irrecoverable: %v", err)
	}
}

func TestWaitNotFoundMeansDeleted(t *testing.T) {
	e := newEnv(t, envConfig{delays: dfcloudsim.Delays{Delete: 3 * time.Second}})
	ctx := context.Background()
	c, _ := e.client.CreateConnection(ctx, awsConfig("c1"))
	if err := e.client.DeleteConnection(ctx, c.ConnectionID); err != nil {
		t.Fatal(err)
	}
	var seen []dfcloud.ConnectionStatus
	got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionDeleted), dfcloud.WaitOptions{
		Clock: e.clock, OnChange: func(c *dfcloud.Connection) { seen = append(seen, c.Status) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if *got != (dfcloud.Connection{ConnectionID: c.ConnectionID, Status: dfcloud.ConnectionDeleted}) {
		t.Fatalf("got %+v", got)
	}
	if !slices.Equal(seen, []dfcloud.ConnectionStatus{dfcloud.ConnectionDeleting, dfcloud.ConnectionDeleted}) {
		t.Fatalf("OnChange saw %v", seen)
	}
	// Waiting for something else on a gone connection is a terminal error.
	_, err = e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{Clock: e.clock})
	var term *dfcloud.TerminalStatusError
	if !errors.As(err, &term) || term.Connection.Status != dfcloud.ConnectionDeleted {
		t.Fatalf("want deleted terminal error, got %v", err)
	}
}

func TestWaitDeadline(t *testing.T) {
	e := newEnv(t, envConfig{realNow: true})
	c, _ := e.client.CreateConnection(context.Background(), awsConfig("c1"))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{})
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	if !strings.Contains(err.Error(), "last status inactive") || got == nil || got.Status != dfcloud.ConnectionInactive {
		t.Fatalf("want the last state reported, got %v / %+v", err, got)
	}
	// Promptly: well within one max interval after the deadline.
	if elapsed > 150*time.Millisecond+400*time.Millisecond {
		t.Fatalf("returned %v after start", elapsed)
	}
}

// stuckClock never fires: only cancellation can end the wait.
type stuckClock struct{}

func (stuckClock) Now() time.Time                       { return time.Now() }
func (stuckClock) After(time.Duration) <-chan time.Time { return nil }

func TestWaitCancel(t *testing.T) {
	e := newEnv(t, envConfig{})
	c, _ := e.client.CreateConnection(context.Background(), awsConfig("c1"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{Clock: stuckClock{}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want Canceled, got %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("wait ignored cancellation")
	}
}

func TestWaitRidesOutTransientErrors(t *testing.T) {
	e := newEnv(t, envConfig{options: []dfcloud.Option{dfcloud.WithRetryPolicy(dfcloud.RetryPolicy{MaxAttempts: 1})}})
	ctx := context.Background()
	c, _ := e.client.CreateConnection(ctx, awsConfig("c1"))
	e.sim.HTTP().FailNext(simhttp.ServerError, 3)
	got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionInactive), dfcloud.WaitOptions{Clock: e.clock})
	if err != nil || got.Status != dfcloud.ConnectionInactive {
		t.Fatalf("%+v %v", got, err)
	}
	if n := e.ops("connections.get"); n != 4 {
		t.Fatalf("%d polls, want 4", n)
	}

	// A persistent outage ends with the deadline, naming the last error.
	e.sim.HTTP().FailNext(simhttp.ServerError, 1000)
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = e.client.WaitConnection(dctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{Interval: 10 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "500: internal error") {
		t.Fatalf("outage: %v", err)
	}
}

func TestWaitStopsOnAuthError(t *testing.T) {
	e := newEnv(t, envConfig{})
	bad, _ := dfcloud.New(e.srv.URL, "revoked-key")
	_, err := bad.WaitConnection(context.Background(), "conn-1", dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{Clock: stuckClock{}})
	var authErr *dfcloud.AuthError
	if !errors.As(err, &authErr) {
		t.Fatalf("want AuthError, got %v", err)
	}
	if _, err := e.client.WaitConnection(context.Background(), "", dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{}); err == nil {
		t.Fatal("empty ID accepted")
	}
}

func TestStatusTerminal(t *testing.T) {
	for s, want := range map[dfcloud.ConnectionStatus]bool{
		dfcloud.ConnectionPending: false, dfcloud.ConnectionInactive: false, dfcloud.ConnectionActive: false, dfcloud.ConnectionDeleting: false,
		dfcloud.ConnectionFailed: true, dfcloud.ConnectionIrrecoverable: true, dfcloud.ConnectionDeleted: true,
	} {
		if s.Terminal() != want {
			t.Errorf("%s.Terminal() = %v", s, !want)
		}
	}
}

// An API that stops answering (connections dropped, every retry too) ends
// the wait after MaxTransportFailures polls instead of at the deadline;
// an answer, even a 5xx, resets the count.
func TestWaitStopsWhenTheAPINoLongerAnswers(t *testing.T) {
	e := newEnv(t, envConfig{options: []dfcloud.Option{dfcloud.WithRetryPolicy(dfcloud.RetryPolicy{MaxAttempts: 2})}})
	ctx := context.Background()
	c, _ := e.client.CreateConnection(ctx, awsConfig("c1"))

	// 4 polls without an answer (2 attempts each), then a 500, then 4
	// more: never 5 in a row, so the wait rides it out.
	e.sim.HTTP().FailNext(simhttp.Drop, 8)
	e.sim.HTTP().FailNext(simhttp.ServerError, 2)
	e.sim.HTTP().FailNext(simhttp.Drop, 8)
	got, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionInactive), dfcloud.WaitOptions{Clock: e.clock})
	if err != nil || got.Status != dfcloud.ConnectionInactive {
		t.Fatalf("interrupted outages: %+v %v", got, err)
	}

	e.sim.HTTP().FailNext(simhttp.Drop, 1000)
	before := e.ops("connections.get")
	_, err = e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{Clock: e.clock})
	var noAnswer *dfcloud.NoAnswerError
	if !errors.As(err, &noAnswer) || noAnswer.Polls != dfcloud.DefaultMaxTransportFailures {
		t.Fatalf("want NoAnswerError after %d polls, got %v", dfcloud.DefaultMaxTransportFailures, err)
	}
	if !strings.Contains(err.Error(), "did not answer 5 polls in a row") || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("message: %v", err)
	}
	// 5 polls of 2 attempts each (net/http may repeat a GET once on a
	// reused connection), then it stops: not polling on until a deadline.
	if n := e.ops("connections.get") - before; n < 10 || n > 20 {
		t.Errorf("%d attempts, want 10 to 20", n)
	}

	// A smaller limit is honoured.
	_, err = e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{Clock: e.clock, MaxTransportFailures: 2})
	if !errors.As(err, &noAnswer) || noAnswer.Polls != 2 {
		t.Fatalf("MaxTransportFailures 2: %v", err)
	}
}
