package peering_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

const key = "flow-test-key"

// fakeProvider records its steps; its cloud side is a ManualCloud that
// becomes established when the "accept" step runs.
type fakeProvider struct {
	cloud     *dfcloudsim.ManualCloud
	peer      dfcloud.Peer
	calls     []string
	preflight error
	failStep  string
}

func (p *fakeProvider) Name() string                               { return "aws" }
func (p *fakeProvider) Peer(context.Context) (dfcloud.Peer, error) { return p.peer, nil }
func (p *fakeProvider) Preflight(ctx context.Context, n *dfcloud.Network, existing *dfcloud.Connection) ([]peering.Change, error) {
	p.calls = append(p.calls, "preflight")
	return []peering.Change{{Action: "accept", Kind: "peering", Detail: "the request"}}, p.preflight
}
func (p *fakeProvider) Steps(n *dfcloud.Network) []peering.Step {
	step := func(name string, phase peering.Phase, fn func(s *peering.State)) peering.Step {
		return peering.Step{Title: name, Phase: phase, Run: func(ctx context.Context, s *peering.State) (string, error) {
			p.calls = append(p.calls, name)
			if p.failStep == name {
				return "", errors.New(name + " broke")
			}
			if fn != nil {
				fn(s)
			}
			return "done", nil
		}}
	}
	return []peering.Step{
		step("prepare", peering.BeforeConnection, nil),
		step("accept", peering.AfterInactive, func(s *peering.State) { p.cloud.SetEstablished(s.Connection.PeerConnectionID, true) }),
		step("route", peering.AfterInactive, func(s *peering.State) {
			s.Result.Routes = append(s.Result.Routes, peering.Route{RouteTable: "rtb-1", Destination: n.CIDRBlock, Target: s.Connection.PeerConnectionID, Action: "created"})
		}),
	}
}

type world struct {
	sim   *dfcloudsim.Sim
	api   *dfcloud.Client
	prov  *fakeProvider
	net   *dfcloud.Network
	log   *bytes.Buffer
	cloud *dfcloudsim.ManualCloud
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cloud := dfcloudsim.NewManualCloud("aws")
	n := 0
	sim := dfcloudsim.New(dfcloudsim.Options{APIKey: key, Clouds: []simcloud.Cloud{cloud},
		Delays: dfcloudsim.Delays{Provision: 10 * time.Millisecond},
		IDs:    func(p string) string { n++; return fmt.Sprintf("%s-%d", p, n) }})
	sim.SeedNetworks([]dfcloudsim.Network{{NetworkID: "net-1", Status: "active", Name: "prod",
		Location: dfcloudsim.Location{Provider: "aws", Region: "us-east-1"}, CIDRBlock: "192.168.0.0/16",
		VPC: &dfcloudsim.VPC{ResourceID: "vpc-0df1a2b3c4d5e6f70", AccountID: "111122223333"}}})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	api, err := dfcloud.New(srv.URL, key, dfcloud.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() }))
	if err != nil {
		t.Fatal(err)
	}
	net, err := api.GetNetwork(context.Background(), "net-1")
	if err != nil {
		t.Fatal(err)
	}
	return &world{sim: sim, api: api, net: net, log: &bytes.Buffer{}, cloud: cloud,
		prov: &fakeProvider{cloud: cloud, peer: dfcloud.Peer{AccountID: "123456789012", VPCID: "vpc-0a1b2c3d4e5f60001", Region: "us-east-1"}}}
}

func (w *world) opts() peering.Options {
	return peering.Options{API: w.api, Provider: w.prov, Network: w.net, Name: "app-prod",
		Report: progress.NewPlain(w.log, time.Now), PlanOut: w.log, Timeout: 5 * time.Second,
		Poll: dfcloud.WaitOptions{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}}
}

func TestFlowHappyPathAndRerun(t *testing.T) {
	w := newWorld(t)
	res, _, err := peering.Run(context.Background(), w.opts())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, w.log)
	}
	if res.Status != "active" || res.PeerConnectionID == "" || len(res.Routes) != 1 {
		t.Fatalf("result %+v", res)
	}
	if got := strings.Join(w.prov.calls, ","); got != "preflight,prepare,accept,route" {
		t.Errorf("steps %s", got)
	}
	// A second run adopts the connection: still one, and no create call.
	creates := w.sim.HTTP().Count("connections.create")
	res2, _, err := peering.Run(context.Background(), w.opts())
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if res2.ConnectionID != res.ConnectionID || len(w.sim.Connections()) != 1 || w.sim.HTTP().Count("connections.create") != creates {
		t.Fatalf("re-run made another connection: %+v", w.sim.Connections())
	}
	if !strings.Contains(w.log.String(), "adopted existing") {
		t.Errorf("re-run did not say it adopted: %s", w.log)
	}
}

func TestFlowDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	o := w.opts()
	o.DryRun = true
	_, plan, err := peering.Run(context.Background(), o)
	if !errors.Is(err, peering.ErrDryRun) || plan == nil || len(plan.Changes) != 2 {
		t.Fatalf("dry run: %v %+v", err, plan)
	}
	if len(w.sim.Connections()) != 0 || strings.Join(w.prov.calls, ",") != "preflight" {
		t.Fatalf("dry run changed something: %v %v", w.sim.Connections(), w.prov.calls)
	}
	if !strings.Contains(w.log.String(), "create  connection: connection app-prod") {
		t.Errorf("plan not printed: %s", w.log)
	}
}

func TestFlowRefusals(t *testing.T) {
	t.Run("preflight", func(t *testing.T) {
		w := newWorld(t)
		w.prov.preflight = cmdutil.InputErrorf("--vpc-id overlaps")
		_, _, err := peering.Run(context.Background(), w.opts())
		if cmdutil.ExitCode(err) != cmdutil.ExitInput || len(w.sim.Connections()) != 0 {
			t.Fatalf("err %v, conns %v", err, w.sim.Connections())
		}
	})
	t.Run("name taken by another peer", func(t *testing.T) {
		w := newWorld(t)
		c, err := w.api.CreateConnection(context.Background(), dfcloud.ConnectionConfig{Name: "app-prod", NetworkID: "net-1",
			Peer: dfcloud.Peer{AccountID: "999999999999", VPCID: "vpc-0ffffffffffffffff"}})
		if err != nil {
			t.Fatal(err)
		}
		// Let it settle (inactive, where the manual cloud leaves it) so
		// that only the refused run could change the snapshot.
		if _, err := w.api.WaitConnection(context.Background(), c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionInactive), w.opts().Poll); err != nil {
			t.Fatal(err)
		}
		before := w.sim.Snapshot()
		_, _, err = peering.Run(context.Background(), w.opts())
		if cmdutil.ExitCode(err) != cmdutil.ExitInput || !strings.Contains(err.Error(), "--name") {
			t.Fatalf("err %v", err)
		}
		if !bytes.Equal(before, w.sim.Snapshot()) || len(w.prov.calls) != 0 {
			t.Fatalf("refusal changed state or ran steps: %v", w.prov.calls)
		}
	})
	t.Run("declined", func(t *testing.T) {
		w := newWorld(t)
		o := w.opts()
		o.Confirm = func() (bool, error) { return false, nil }
		_, _, err := peering.Run(context.Background(), o)
		if cmdutil.ExitCode(err) != cmdutil.ExitCancelled || len(w.sim.Connections()) != 0 {
			t.Fatalf("err %v", err)
		}
	})
}

func TestFlowFailures(t *testing.T) {
	t.Run("connection fails", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.FailCreate("accepter VPC does not exist")
		res, _, err := peering.Run(context.Background(), w.opts())
		if err == nil || !strings.Contains(err.Error(), "accepter VPC does not exist") || cmdutil.ExitCode(err) != cmdutil.ExitError {
			t.Fatalf("err %v", err)
		}
		if res == nil || res.Status != "failed" {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("never active times out", func(t *testing.T) {
		w := newWorld(t)
		w.prov.failStep = "" // accept runs, but we undo it
		o := w.opts()
		o.Timeout = 200 * time.Millisecond
		o.Provider = &neverProvider{w.prov}
		_, _, err := peering.Run(context.Background(), o)
		if cmdutil.ExitCode(err) != cmdutil.ExitTimeout {
			t.Fatalf("err %v (exit %d)", err, cmdutil.ExitCode(err))
		}
	})
	t.Run("cancel says re-run resumes", func(t *testing.T) {
		w := newWorld(t)
		ctx, cancel := context.WithCancel(context.Background())
		w.sim.HTTP().OnCall(func(c simhttp.Call) {
			if c.Op == "connections.create" {
				cancel()
			}
		})
		_, _, err := peering.Run(ctx, w.opts())
		var hint *cmdutil.HintError
		if cmdutil.ExitCode(err) != cmdutil.ExitCancelled || !errors.As(err, &hint) || !strings.Contains(hint.Hint, "run the same command again") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("lost create answer is adopted", func(t *testing.T) {
		w := newWorld(t)
		// The create reaches the server and is done, but the answer is
		// lost (a 502 from a proxy): the flow must look again rather
		// than create twice.
		lost := false
		inner := w.sim.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && !lost {
				lost = true
				inner.ServeHTTP(httptest.NewRecorder(), r)
				http.Error(rw, "bad gateway", http.StatusBadGateway)
				return
			}
			inner.ServeHTTP(rw, r)
		}))
		defer srv.Close()
		api, err := dfcloud.New(srv.URL, key)
		if err != nil {
			t.Fatal(err)
		}
		w.api = api
		res, _, err := peering.Run(context.Background(), w.opts())
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if !lost || len(w.sim.Connections()) != 1 || res.Status != "active" {
			t.Fatalf("lost=%v connections %v", lost, w.sim.Connections())
		}
	})
}

// neverProvider runs the steps but never lets the peering establish.
type neverProvider struct{ *fakeProvider }

func (p *neverProvider) Steps(n *dfcloud.Network) []peering.Step { return nil }
