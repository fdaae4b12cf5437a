package dfcloudsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "dfc_test_secret_key_123"

// fakeClock is a settable clock for the simulator.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// counterIDs gives "net-1", "conn-1", … per prefix.
func counterIDs() func(string) string {
	var mu sync.Mutex
	n := map[string]int{}
	return func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		n[prefix]++
		return fmt.Sprintf("%s-%d", prefix, n[prefix])
	}
}

type harness struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *fakeClock
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clock := newFakeClock()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.IDs == nil {
		opts.IDs = counterIDs()
	}
	sim := New(opts)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	sim.SeedNetworks([]Network{
		{NetworkID: "net-aws", Name: "prod", Location: Location{Provider: "aws", Region: "us-east-1"}, CIDRBlock: "192.168.0.0/16"},
		{NetworkID: "net-gcp", Name: "gprod", Location: Location{Provider: "gcp", Region: "us-central1"}, CIDRBlock: "10.10.0.0/16"},
		{NetworkID: "net-az", Name: "aprod", Location: Location{Provider: "azure", Region: "centralus"}, CIDRBlock: "10.20.0.0/16"},
	})
	return &harness{t: t, sim: sim, srv: srv, clock: clock}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) errorText() string {
	var e errorBody
	_ = json.Unmarshal([]byte(r.body), &e)
	return e.Error
}

func (h *harness) requestKey(method, path, body, key string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (h *harness) request(method, path, body string) response {
	h.t.Helper()
	return h.requestKey(method, path, body, testKey)
}

// mustJSON issues a request that must answer want and decodes the body.
func (h *harness) mustJSON(method, path, body string, want int, out any) {
	h.t.Helper()
	r := h.request(method, path, body)
	if r.status != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r.body), out); err != nil {
			h.t.Fatalf("%s %s: decode %q: %v", method, path, r.body, err)
		}
	}
}

func (h *harness) createConn(body string) Connection {
	h.t.Helper()
	var c Connection
	h.mustJSON("POST", "/v1/connections", body, 200, &c)
	return c
}

func (h *harness) getConn(id string) Connection {
	h.t.Helper()
	var c Connection
	h.mustJSON("GET", "/v1/connections/"+id, "", 200, &c)
	return c
}

const awsConnBody = `{"name":"c1","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123456789abcdef0","region":"us-west-2","cidr_block":"172.16.0.0/16"}}`

func (h *harness) rawAuth(method, path, authHeader string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if authHeader != "" {
		req.Header.Set("Authorization", authHeader)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func mustRequest(t *testing.T, authHeader string) *http.Request {
	t.Helper()
	r := httptest.NewRequest("GET", "/v1/networks", nil)
	r.Header.Set("Authorization", authHeader)
	return r
}

func mustMethodRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}

func newServer(t *testing.T, s *Sim) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}
