package dfcloud_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

func TestThrottleHonoursRetryAfter(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.sim.HTTP().SetFaults(simhttp.Faults{RetryAfter: 2 * time.Second})
	e.sim.HTTP().FailNext(simhttp.Throttle, 1)
	nets, err := e.client.ListNetworks(context.Background())
	if err != nil || len(nets) != 2 {
		t.Fatalf("after throttle: %v %d", err, len(nets))
	}
	if got := e.sleeps.get(); len(got) != 1 || got[0] != 2*time.Second {
		t.Fatalf("slept %v, want exactly the Retry-After [2s]", got)
	}
	if n := e.ops("networks.list"); n != 2 {
		t.Fatalf("%d list calls, want 2", n)
	}
}

func TestThrottledPOSTIsRetried(t *testing.T) {
	// A 429 is answered before the handler runs, so repeating a create is
	// safe and does not duplicate it.
	e := newEnv(t, envConfig{})
	e.sim.HTTP().SetFaults(simhttp.Faults{RetryAfter: time.Second, Only: func(op string) bool { return op == "connections.create" }})
	e.sim.HTTP().FailNext(simhttp.Throttle, 2)
	c, err := e.client.CreateConnection(context.Background(), awsConfig("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.sleeps.get(); len(got) != 2 || got[0] != time.Second || got[1] != time.Second {
		t.Fatalf("sleeps %v", got)
	}
	if n := len(e.sim.Connections()); n != 1 || e.ops("connections.create") != 3 || c.ConnectionID != e.sim.Connections()[0].ConnectionID {
		t.Fatalf("%d connections after %d create calls", n, e.ops("connections.create"))
	}
}

func TestRetryAfterForms(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header func() string
		min    time.Duration
		max    time.Duration
	}{
		{"seconds on 503", 503, func() string { return "3" }, 3 * time.Second, 3 * time.Second},
		{"capped", 429, func() string { return "3600" }, dfcloud.MaxRetryAfter, dfcloud.MaxRetryAfter},
		// HTTP dates have one-second resolution.
		{"http date", 429, func() string { return time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat) }, 3 * time.Second, 5 * time.Second},
		{"date in the past", 429, func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, 0, 0},
		{"garbage falls back to backoff", 429, func() string { return "soon" }, 0, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.header())
					w.WriteHeader(tt.status)
					return
				}
				w.Write([]byte("[]"))
			}))
			defer srv.Close()
			rec := &sleepRecorder{}
			c, _ := dfcloud.New(srv.URL, testKey, dfcloud.WithSleep(rec.sleep))
			if _, err := c.ListConnections(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := rec.get()
			if len(got) != 1 || got[0] < tt.min || got[0] > tt.max {
				t.Fatalf("slept %v, want one delay in [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
}

func TestServerErrorsRetriedThenSurfaced(t *testing.T) {
	e := newEnv(t, envConfig{options: []dfcloud.Option{dfcloud.WithRetryPolicy(dfcloud.RetryPolicy{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second})}})
	e.sim.HTTP().FailNext(simhttp.ServerError, 10)
	_, err := e.client.GetConnection(context.Background(), "conn-1")
	var apiErr *dfcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.Message != "internal error" {
		t.Fatalf("want the last 500 surfaced, got %v", err)
	}
	if err.Error() != "dfcloud: GET /v1/connections/conn-1: 500: internal error" {
		t.Fatalf("text %q", err)
	}
	if n := e.ops("connections.get"); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	got := e.sleeps.get()
	if len(got) != 2 || got[0] > 100*time.Millisecond || got[1] > 200*time.Millisecond || got[0] < 0 || got[1] < 0 {
		t.Fatalf("backoff %v, want full jitter under 100ms then 200ms", got)
	}
}

func TestServerErrorsRecover(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.sim.HTTP().FailNext(simhttp.ServerError, 2)
	if _, err := e.client.ListConnections(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, _ := e.client.CreateConnection(context.Background(), awsConfig("c1"))
	e.sim.HTTP().FailNext(simhttp.ServerError, 1)
	if err := e.client.DeleteConnection(context.Background(), c.ConnectionID); err != nil {
		t.Fatalf("DELETE not retried: %v", err)
	}
	if n := e.ops("connections.delete"); n != 2 {
		t.Fatalf("%d delete calls", n)
	}
}

func TestPOSTNotRetriedAfterServerError(t *testing.T) {
	e := newEnv(t, envConfig{})
	e.sim.HTTP().FailNext(simhttp.ServerError, 1)
	_, err := e.client.CreateConnection(context.Background(), awsConfig("c1"))
	var apiErr *dfcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("want 500, got %v", err)
	}
	if n := e.ops("connections.create"); n != 1 || len(e.sleeps.get()) != 0 {
		t.Fatalf("POST sent %d times (sleeps %v), want once", n, e.sleeps.get())
	}
}

func TestPOSTNotRetriedWhenHandlerRan(t *testing.T) {
	// The handler creates the connection, then the answer is lost as a 502
	// from a proxy: retrying would create a second connection (or a 409).
	var posts atomic.Int32
	e := newEnv(t, envConfig{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != "POST" {
				next.ServeHTTP(w, r)
				return
			}
			posts.Add(1)
			next.ServeHTTP(httptest.NewRecorder(), r)
			w.WriteHeader(http.StatusBadGateway)
		})
	}})
	_, err := e.client.CreateConnection(context.Background(), awsConfig("c1"))
	var apiErr *dfcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Message != "" {
		t.Fatalf("want bare 502, got %v", err)
	}
	if err.Error() != "dfcloud: POST /v1/connections: 502: Bad Gateway" {
		t.Fatalf("text %q", err)
	}
	if posts.Load() != 1 || len(e.sim.Connections()) != 1 || e.ops("connections.create") != 1 {
		t.Fatalf("posts %d, connections %d", posts.Load(), len(e.sim.Connections()))
	}
}

func TestDroppedConnection(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()
	e.sim.HTTP().FailNext(simhttp.Drop, 1)
	if _, err := e.client.CreateConnection(ctx, awsConfig("c1")); err == nil {
		t.Fatal("dropped POST reported success")
	}
	if n := e.ops("connections.create"); n != 1 || len(e.sim.Connections()) != 0 {
		t.Fatalf("dropped POST sent %d times", n)
	}
	e.sim.HTTP().FailNext(simhttp.Drop, 1)
	if _, err := e.client.ListConnections(ctx); err != nil {
		t.Fatalf("dropped GET not retried: %v", err)
	}
	if n := e.ops("connections.list"); n < 2 {
		t.Fatalf("%d list calls", n)
	}
}

// dialFailer fails the first n round trips as if the connection were
// refused, before anything was sent.
type dialFailer struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (d *dialFailer) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return d.next.RoundTrip(r)
}

func TestPOSTRetriedAfterDialError(t *testing.T) {
	df := &dialFailer{next: http.DefaultTransport}
	df.n.Store(2)
	e := newEnv(t, envConfig{options: []dfcloud.Option{dfcloud.WithHTTPClient(&http.Client{Transport: df})}})
	if _, err := e.client.CreateConnection(context.Background(), awsConfig("c1")); err != nil {
		t.Fatal(err)
	}
	if len(e.sleeps.get()) != 2 || len(e.sim.Connections()) != 1 {
		t.Fatalf("sleeps %v, connections %d", e.sleeps.get(), len(e.sim.Connections()))
	}
}

func TestTransportErrorSurfaced(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	rec := &sleepRecorder{}
	c, _ := dfcloud.New(url, testKey, dfcloud.WithSleep(rec.sleep))
	_, err := c.ListNetworks(context.Background())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want connection refused, got %v", err)
	}
	if len(rec.get()) != dfcloud.DefaultRetryPolicy.MaxAttempts-1 {
		t.Fatalf("sleeps %v", rec.get())
	}
}

func TestCancelStopsBackoff(t *testing.T) {
	// The real sleep: a 30 s Retry-After must not hold a cancelled caller.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", strconv.Itoa(30))
		w.WriteHeader(429)
	}))
	defer srv.Close()
	c, _ := dfcloud.New(srv.URL, testKey)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListNetworks(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("returned after %v", d)
	}
}
