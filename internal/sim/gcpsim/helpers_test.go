package gcpsim

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator behind a real HTTP server, with the official clients
// pointed at it.
type env struct {
	sim       *Sim
	clock     *fakeClock
	url       string
	networks  *compute.NetworksClient
	firewalls *compute.FirewallsClient
	subnets   *compute.SubnetworksClient
	ops       *compute.GlobalOperationsClient
	projects  *compute.ProjectsClient
}

const opDelay = 2 * time.Second

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	sim := New(opts)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	e := &env{sim: sim, clock: clock, url: srv.URL}
	ctx := context.Background()
	co := clientOptions(srv.URL, "test-token")
	var err error
	if e.networks, err = compute.NewNetworksRESTClient(ctx, co...); err != nil {
		t.Fatal(err)
	}
	if e.firewalls, err = compute.NewFirewallsRESTClient(ctx, co...); err != nil {
		t.Fatal(err)
	}
	if e.subnets, err = compute.NewSubnetworksRESTClient(ctx, co...); err != nil {
		t.Fatal(err)
	}
	if e.ops, err = compute.NewGlobalOperationsRESTClient(ctx, co...); err != nil {
		t.Fatal(err)
	}
	if e.projects, err = compute.NewProjectsRESTClient(ctx, co...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.networks.Close()
		e.firewalls.Close()
		e.subnets.Close()
		e.ops.Close()
		e.projects.Close()
	})
	return e
}

func clientOptions(url, token string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(url),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})),
	}
}

// seedPair makes Dragonfly's project/network and a customer's, with
// non-overlapping subnets.
func (e *env) seedPair(t *testing.T) {
	t.Helper()
	must(t, e.sim.AddNetwork("df-prod", NetworkSpec{Name: "df-net", Subnets: []SubnetSpec{
		{Name: "df-sub", Region: "us-central1", CIDR: "192.168.0.0/16"},
	}}))
	must(t, e.sim.AddNetwork("cust-proj", NetworkSpec{Name: "cust-net", Subnets: []SubnetSpec{
		{Name: "app", Region: "us-central1", CIDR: "10.0.0.0/20", Secondary: map[string]string{"pods": "10.4.0.0/14"}},
		{Name: "eu", Region: "europe-west1", CIDR: "10.10.0.0/20"},
	}}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// apiErr extracts the *googleapi.Error the REST clients return.
func apiErr(t *testing.T, err error) *googleapi.Error {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("error %v (%T) is not a *googleapi.Error", err, err)
	}
	return gerr
}

func wantAPIError(t *testing.T, err error, code int, reason, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %d %s, got success", code, reason)
	}
	gerr := apiErr(t, err)
	if gerr.Code != code {
		t.Errorf("code = %d, want %d (%v)", gerr.Code, code, err)
	}
	if len(gerr.Errors) == 0 || gerr.Errors[0].Reason != reason {
		t.Errorf("errors = %+v, want reason %q", gerr.Errors, reason)
	}
	if message != "" && gerr.Message != message {
		t.Errorf("message = %q\n want %q", gerr.Message, message)
	}
}

// finish moves the clock past the operation delay.
func (e *env) finish() { e.clock.Advance(opDelay) }

func (e *env) getOp(t *testing.T, project, name string) *computepb.Operation {
	t.Helper()
	op, err := e.ops.Get(context.Background(), &computepb.GetGlobalOperationRequest{Project: project, Operation: name})
	must(t, err)
	return op
}

func (e *env) peering(t *testing.T, project, network, name string) *computepb.NetworkPeering {
	t.Helper()
	n, err := e.networks.Get(context.Background(), &computepb.GetNetworkRequest{Project: project, Network: network})
	must(t, err)
	for _, p := range n.GetPeerings() {
		if p.GetName() == name {
			return p
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
