package gcp_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	gcpcmd "github.com/dragonflydb/dfpeer/internal/cmd/gcp"
	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// fakeProvider records what the command gave it and plans one change; it
// fails the test if anything is applied.
type fakeProvider struct {
	t          *testing.T
	in         gcpprov.Inputs
	target     peering.Target
	observeErr error
}

func (f *fakeProvider) Name() string { return "gcp" }
func (f *fakeProvider) Peer(context.Context) (dfcloud.Peer, error) {
	return dfcloud.Peer{AccountID: "fake-project", VPCID: f.in.Network}, nil
}
func (f *fakeProvider) Observe(_ context.Context, t peering.Target) (*peering.Observation, error) {
	f.target = t
	if f.observeErr != nil {
		return nil, f.observeErr
	}
	return &peering.Observation{Changes: []peering.Change{{Action: peering.Create, Kind: peering.KindPeering,
		Target: "project fake-project, network " + f.in.Network, Detail: "the fake peering", Phase: peering.AfterInactive}}}, nil
}
func (f *fakeProvider) Ensure(context.Context, *peering.State, peering.Change) (string, error) {
	f.t.Error("Ensure called on a dry run")
	return "", nil
}
func (f *fakeProvider) Remove(context.Context, *peering.State, peering.Change) (string, error) {
	f.t.Error("Remove called by connect")
	return "", nil
}

// runFake runs `dfpeer gcp connect args…` against the Dragonfly simulator
// only, with a fake GCP: it returns the Config the command built and the
// command's error.
func runFake(t *testing.T, e *cmdtest.Env, fake *fakeProvider, args ...string) (*gcpprov.Config, error) {
	t.Helper()
	var cfg *gcpprov.Config
	cmd := gcpcmd.NewCmdConnect(e.F, func(ctx context.Context, o *gcpcmd.ConnectOptions) error {
		o.NewCloud = func(_ context.Context, c gcpprov.Config) (*gcpcmd.Cloud, error) {
			cfg = &c
			return &gcpcmd.Cloud{Project: "fake-project", ProjectSource: "--project",
				VPCs: func(context.Context) ([]gcpprov.VPC, error) {
					return []gcpprov.VPC{{Name: "fake-net", Mode: "custom", Subnets: []gcpprov.Subnet{{Name: "s", Region: "r", CIDR: "10.0.0.0/20"}}}}, nil
				},
				Provider: func(in gcpprov.Inputs) peering.Provider { fake.in = in; return fake },
				Close:    func() error { return nil }}, nil
		}
		return gcpcmd.ConnectRun(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(e.Out)
	cmd.SetErr(e.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return cfg, err
}

// Flags and answers reach the provider's inputs and the client's config;
// the provider's plan is what --dry-run prints.
func TestGCPConnectCommandWithFakeCloud(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) { return nil, nil }
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	p := prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-0003").
		ExpectSelect("VPC network to peer", "fake-net").
		ExpectInput("Firewall rule target tags", "web, db").
		ExpectInput("Connection name", "")
	e.Prompter = p
	fake := &fakeProvider{t: t}
	cfg, err := runFake(t, e, fake, "--project", "fake-project", "--port", "6380", "--import-custom-routes", "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, e.ErrOut)
	}
	if cfg == nil || cfg.Project != "fake-project" || cfg.Sandbox != nil {
		t.Errorf("config %+v", cfg)
	}
	in := fake.in
	if in.Network != "fake-net" || in.Port != 6380 || !slices.Equal(in.Targets.Tags, []string{"web", "db"}) ||
		in.ImportCustomRoutes == nil || !*in.ImportCustomRoutes || in.ExportCustomRoutes != nil {
		t.Errorf("inputs %+v", in)
	}
	if opts := p.Seen["VPC network to peer (project fake-project)"]; len(opts) != 1 || opts[0].Label != "fake-net  custom  10.0.0.0/20" {
		t.Errorf("VPC choices %+v", opts)
	}
	if fake.target.Network == nil || fake.target.Network.NetworkID != "net-0003" || fake.target.Name != "fake-net-analytics" ||
		fake.target.Peer != (dfcloud.Peer{AccountID: "fake-project", VPCID: "fake-net"}) || fake.target.Existing != nil {
		t.Errorf("target %+v", fake.target)
	}
	if out := e.Out.String(); !strings.Contains(out, "create  peering: the fake peering") || !strings.Contains(out, "connection fake-net-analytics from network analytics to gcp fake-net in fake-project") {
		t.Errorf("plan:\n%s", out)
	}
	if n := len(e.DF.HTTP().Calls()); n == 0 {
		t.Errorf("the Dragonfly simulator saw no call: the test did not reach it")
	}
	if m := cmdtest.MutatingCalls(e.DF.HTTP()); len(m) != 0 {
		t.Errorf("dry run made mutating calls: %v", m)
	}
}

// A refusal from the provider is the command's refusal: exit 2, naming the
// flag, and nothing created.
func TestGCPConnectCommandRefusalFromProvider(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) { return nil, nil }
	e.F.Globals.Yes = true
	fake := &fakeProvider{t: t, observeErr: problem.Refuse("vpc", "fake-net", "pick another network", "overlaps the Dragonfly network")}
	_, err := runFake(t, e, fake, "--network", "analytics", "--vpc", "fake-net", "--no-wait")
	if cmdutil.ExitCode(err) != cmdutil.ExitInput || !strings.Contains(err.Error(), "--vpc fake-net: overlaps the Dragonfly network; pick another network") {
		t.Fatalf("got %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if fake.in.Network != "fake-net" || fake.in.Port != 6379 || fake.in.Targets.Tags != nil {
		t.Errorf("inputs %+v", fake.in)
	}
	if m := cmdtest.MutatingCalls(e.DF.HTTP()); len(m) != 0 {
		t.Errorf("a refused run made mutating calls: %v", m)
	}
}
