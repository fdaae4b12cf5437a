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
	never     bool // accept never establishes the peering
	made      map[string]bool
}

func (p *fakeProvider) Name() string                               { return "aws" }
func (p *fakeProvider) Peer(context.Context) (dfcloud.Peer, error) { return p.peer, nil }
func (p *fakeProvider) Observe(ctx context.Context, t peering.Target) (*peering.Observation, error) {
	p.calls = append(p.calls, "observe")
	if p.preflight != nil {
		return nil, p.preflight
	}
	change := func(name string, phase peering.Phase, action peering.Action, kind peering.Kind) peering.Change {
		c := peering.Change{Action: action, Kind: kind, Detail: name, ID: name, Title: name, Phase: phase}
		if p.made[name] {
			c.Action, c.Found = peering.Unchanged, peering.AsWanted
		}
		return c
	}
	return &peering.Observation{Cloud: "resolved", Changes: []peering.Change{
		change("prepare", peering.BeforeConnection, peering.Create, peering.KindApplication),
		change("accept", peering.AfterInactive, peering.Accept, peering.KindPeering),
		change("route", peering.AfterInactive, peering.Create, peering.KindRoute),
	}}, nil
}

func (p *fakeProvider) Ensure(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	p.calls = append(p.calls, c.ID)
	if s.Cloud != "resolved" {
		return "", errors.New("the observation's context did not reach Ensure")
	}
	if p.failStep == c.ID {
		return "", errors.New(c.ID + " broke")
	}
	if p.made == nil {
		p.made = map[string]bool{}
	}
	p.made[c.ID] = true
	switch c.ID {
	case "accept":
		if !p.never {
			p.cloud.SetEstablished(s.Connection.PeerConnectionID, true)
		}
	case "route":
		s.Result.Routes = append(s.Result.Routes, peering.Route{RouteTable: "rtb-1", Destination: s.Network.CIDRBlock, Target: s.Connection.PeerConnectionID, Action: "created"})
	}
	return "done", nil
}

func (p *fakeProvider) Remove(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	p.calls = append(p.calls, "remove "+c.ID)
	delete(p.made, c.ID)
	return "removed", nil
}

// run plans and applies, as connect does after confirmation.
func run(ctx context.Context, o peering.Options) (*peering.Result, *peering.Plan, error) {
	plan, err := peering.MakePlan(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	res, err := peering.Apply(ctx, o, plan)
	return res, plan, err
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
		Report: progress.NewPlain(w.log, time.Now), Timeout: 5 * time.Second,
		Poll: dfcloud.WaitOptions{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}}
}

func TestFlowHappyPathAndRerun(t *testing.T) {
	w := newWorld(t)
	res, _, err := run(context.Background(), w.opts())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, w.log)
	}
	if res.Status != "active" || res.PeerConnectionID == "" || len(res.Routes) != 1 {
		t.Fatalf("result %+v", res)
	}
	if got := strings.Join(w.prov.calls, ","); got != "observe,prepare,accept,route" {
		t.Errorf("steps %s", got)
	}
	// A second run adopts the connection: still one, and no create call.
	creates := w.sim.HTTP().Count("connections.create")
	res2, _, err := run(context.Background(), w.opts())
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

func TestFlowPlanChangesNothing(t *testing.T) {
	w := newWorld(t)
	plan, err := peering.MakePlan(context.Background(), w.opts())
	if err != nil || plan == nil || len(plan.Changes) != 4 {
		t.Fatalf("plan: %v %+v", err, plan)
	}
	if len(w.sim.Connections()) != 0 || strings.Join(w.prov.calls, ",") != "observe" {
		t.Fatalf("planning changed something: %v %v", w.sim.Connections(), w.prov.calls)
	}
	if c := plan.Changes[0]; c.Action != peering.Create || c.Kind != peering.KindConnection {
		t.Errorf("first change %+v, want the connection's create", c)
	}
	if plan.Cloud != "resolved" {
		t.Errorf("the provider's context is not in the plan: %v", plan.Cloud)
	}
}

func TestFlowRefusals(t *testing.T) {
	t.Run("preflight", func(t *testing.T) {
		w := newWorld(t)
		w.prov.preflight = cmdutil.InputErrorf("--vpc-id overlaps")
		_, _, err := run(context.Background(), w.opts())
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
		_, _, err = run(context.Background(), w.opts())
		if cmdutil.ExitCode(err) != cmdutil.ExitInput || !strings.Contains(err.Error(), "--name") {
			t.Fatalf("err %v", err)
		}
		if !bytes.Equal(before, w.sim.Snapshot()) || len(w.prov.calls) != 0 {
			t.Fatalf("refusal changed state or ran steps: %v", w.prov.calls)
		}
	})
	t.Run("cancelled before applying", func(t *testing.T) {
		w := newWorld(t)
		o := w.opts()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := run(ctx, o)
		if cmdutil.ExitCode(err) != cmdutil.ExitCancelled || len(w.sim.Connections()) != 0 {
			t.Fatalf("err %v", err)
		}
	})
}

func TestFlowFailures(t *testing.T) {
	t.Run("connection fails", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.FailCreate("accepter VPC does not exist")
		res, _, err := run(context.Background(), w.opts())
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
		w.prov.never = true
		_, _, err := run(context.Background(), o)
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
		_, _, err := run(ctx, w.opts())
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
		res, _, err := run(context.Background(), w.opts())
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if !lost || len(w.sim.Connections()) != 1 || res.Status != "active" {
			t.Fatalf("lost=%v connections %v", lost, w.sim.Connections())
		}
	})
}

func TestDisconnectRemovesInReverseThenTheConnection(t *testing.T) {
	w := newWorld(t)
	res, _, err := run(context.Background(), w.opts())
	if err != nil {
		t.Fatal(err)
	}
	w.prov.calls = nil
	o := w.opts()
	do := peering.DisconnectOptions{API: w.api, Provider: w.prov, Network: w.net, Name: o.Name, Report: o.Report, Timeout: o.Timeout, Poll: o.Poll}
	plan, err := peering.MakeRemovalPlan(context.Background(), do)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range plan.Changes {
		order = append(order, string(c.Action)+" "+string(c.Kind))
	}
	if got := strings.Join(order, ","); got != "remove route,remove peering,remove connection,remove application" {
		t.Fatalf("removal order %s", got)
	}
	if len(w.prov.calls) != 1 || w.prov.calls[0] != "observe" {
		t.Fatalf("planning did more than observe: %v", w.prov.calls)
	}
	out, err := peering.ApplyRemoval(context.Background(), do, plan)
	if err != nil {
		t.Fatal(err)
	}
	if out.ConnectionID != res.ConnectionID || out.Status != "deleted" || len(out.Removed) != 4 {
		t.Fatalf("removal %+v", out)
	}
	// Again: nothing left to remove, and no error.
	plan, err = peering.MakeRemovalPlan(context.Background(), do)
	if err != nil || !plan.IsEmpty() {
		t.Fatalf("second disconnect: %v %+v", err, plan)
	}
}
