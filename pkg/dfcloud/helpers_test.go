package dfcloud_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

const testKey = "dfc_live_0123456789abcdef_secret"

// sleepRecorder stands in for the client's backoff sleep: instant, and it
// remembers every delay.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// simClock is a settable clock shared by the simulator (Now) and
// WaitConnection (Clock): After advances time instantly, so waits that
// span minutes of simulated time take microseconds.
type simClock struct {
	mu     sync.Mutex
	now    time.Time
	afters []time.Duration
}

func newSimClock() *simClock {
	return &simClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.afters = append(c.afters, d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

func (c *simClock) intervals() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.afters...)
}

type env struct {
	sim    *dfcloudsim.Sim
	srv    *httptest.Server
	client *dfcloud.Client
	sleeps *sleepRecorder
	cloud  *dfcloudsim.ManualCloud
	clock  *simClock
}

type envConfig struct {
	delays  dfcloudsim.Delays
	wrap    func(http.Handler) http.Handler
	options []dfcloud.Option
	realNow bool // simulator on the wall clock instead of simClock
}

func newEnv(t testing.TB, cfg envConfig) *env {
	t.Helper()
	cloud := dfcloudsim.NewManualCloud("aws")
	clock := newSimClock()
	now := clock.Now
	if cfg.realNow {
		now = time.Now
	}
	var n int
	var mu sync.Mutex
	sim := dfcloudsim.New(dfcloudsim.Options{
		APIKey: testKey,
		Delays: cfg.delays,
		Clouds: []simcloud.Cloud{cloud},
		Now:    now,
		IDs: func(prefix string) string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("%s-%d", prefix, n)
		},
	})
	sim.SeedNetworks([]dfcloudsim.Network{
		{NetworkID: "net-aws", Name: "prod", Location: dfcloudsim.Location{Provider: "aws", Region: "us-east-1"}, CIDRBlock: "192.168.0.0/16"},
		{NetworkID: "net-az", Name: "aprod", Location: dfcloudsim.Location{Provider: "azure", Region: "centralus"}, CIDRBlock: "10.20.0.0/16"},
	})
	var h http.Handler = sim.Handler()
	if cfg.wrap != nil {
		h = cfg.wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rec := &sleepRecorder{}
	opts := append([]dfcloud.Option{dfcloud.WithSleep(rec.sleep)}, cfg.options...)
	client, err := dfcloud.New(srv.URL, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sim: sim, srv: srv, client: client, sleeps: rec, cloud: cloud, clock: clock}
}

func (e *env) ops(op string) int {
	n := 0
	for _, c := range e.sim.HTTP().Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

func awsConfig(name string) dfcloud.ConnectionConfig {
	return dfcloud.ConnectionConfig{
		Name:      name,
		NetworkID: "net-aws",
		Peer:      dfcloud.Peer{AccountID: "123456789012", VPCID: "vpc-0123456789abcdef0", Region: "us-west-2", CIDRBlock: "172.16.0.0/16"},
	}
}
