package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	awsprov "github.com/dragonflydb/dfpeer/internal/provider/aws"
	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// These tests run `aws connect` from its flags to the plan with a fake AWS
// (Cloud and provider) and the Dragonfly simulator of testdata: no AWS
// simulator, so they pin what the command hands the provider.

const (
	fakeVPC  = "vpc-0a1b2c3d4e5f60001"
	fakeMain = "rtb-0a1b2c3d4e5f60001"
	fakePriv = "rtb-0a1b2c3d4e5f60002"
	fakeDef  = "sg-0a1b2c3d4e5f60001"
	fakeWeb  = "sg-0a1b2c3d4e5f60002"
)

type fakeCloud struct {
	prov *fakeProvider
	cfg  awsprov.Config
}

func (c *fakeCloud) Region() string { return "us-east-1" }

func (c *fakeCloud) VPCs(context.Context) ([]awsprov.VPC, error) {
	return []awsprov.VPC{{ID: fakeVPC, Name: "app-vpc", CIDRs: []string{"10.0.0.0/16"}}}, nil
}

func (c *fakeCloud) RouteTables(context.Context, string) ([]awsprov.RouteTable, error) {
	return []awsprov.RouteTable{{ID: fakeMain, Main: true}, {ID: fakePriv}}, nil
}

func (c *fakeCloud) SecurityGroups(context.Context, string) ([]awsprov.SecurityGroup, error) {
	return []awsprov.SecurityGroup{{ID: fakeDef, Name: "default"}, {ID: fakeWeb, Name: "web"}}, nil
}

func (c *fakeCloud) Provider(in awsprov.Inputs) peering.Provider {
	c.prov.in = in
	return c.prov
}

// fakeProvider plans one route; it must never be asked to change anything.
type fakeProvider struct {
	t      *testing.T
	in     awsprov.Inputs
	refuse error
}

func (p *fakeProvider) Name() string { return "aws" }

func (p *fakeProvider) Peer(context.Context) (dfcloud.Peer, error) {
	return dfcloud.Peer{AccountID: "123456789012", VPCID: p.in.VPCID, Region: "us-east-1"}, nil
}

func (p *fakeProvider) Observe(_ context.Context, t peering.Target) (*peering.Observation, error) {
	if p.refuse != nil {
		return nil, p.refuse
	}
	return &peering.Observation{Changes: []peering.Change{{Action: peering.Create, Kind: peering.KindRoute, Target: fakeMain,
		Detail: t.Network.CIDRBlock + " → the peering", Phase: peering.AfterInactive}}}, nil
}

func (p *fakeProvider) Ensure(context.Context, *peering.State, peering.Change) (string, error) {
	p.t.Error("a dry run ensured a change")
	return "", errors.New("unexpected")
}

func (p *fakeProvider) Remove(context.Context, *peering.State, peering.Change) (string, error) {
	p.t.Error("connect removed a change")
	return "", errors.New("unexpected")
}

// env is the Dragonfly simulator seeded from testdata and a Factory
// pointed at it (cmdtest cannot be imported here: it builds every command).
type env struct {
	F        *cmdutil.Factory
	IO       *iostreams.IOStreams
	Out      *bytes.Buffer
	ErrOut   *bytes.Buffer
	DF       *dfcloudsim.Sim
	Prompter prompt.Prompter
}

func newEnv(t *testing.T) *env {
	t.Helper()
	const key = "dfc-test-key-run"
	sim := dfcloudsim.New(dfcloudsim.Options{APIKey: key})
	fixture, err := os.ReadFile("../../../testdata/networks.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.LoadNetworks(bytes.NewReader(fixture)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	ios, _, out, errOut := iostreams.Test()
	e := &env{IO: ios, Out: out, ErrOut: errOut, DF: sim}
	e.F = cmdutil.NewFactory(ios, nil)
	vars := map[string]string{"DFCLOUD_API_URL": srv.URL, "DFCLOUD_API_KEY": key}
	e.F.Getenv = func(k string) string { return vars[k] }
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) { return nil, nil }
	e.F.Prompter = func() prompt.Prompter {
		if e.Prompter == nil {
			return prompttest.New(t)
		}
		return e.Prompter
	}
	return e
}

// run executes `aws connect args` with the fake cloud and returns the
// command's error.
func run(t *testing.T, e *env, cloud *fakeCloud, args ...string) error {
	t.Helper()
	cmd := NewCmdConnect(e.F, func(ctx context.Context, o *ConnectOptions) error {
		o.Cloud = func(_ context.Context, cfg awsprov.Config) (Cloud, error) {
			cloud.cfg = cfg
			return cloud, nil
		}
		return connectRun(ctx, o)
	})
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

func TestConnectRunHandsFlagsToProvider(t *testing.T) {
	e := newEnv(t)
	e.F.Globals.Output = "json"
	cloud := &fakeCloud{prov: &fakeProvider{t: t}}
	err := run(t, e, cloud, "--network", "prod", "--vpc-id", fakeVPC, "--route-table", fakePriv, "--security-group", fakeWeb,
		"--security-group", fakeDef, "--port", "6380", "--name", "my-conn", "--account-id", "123456789012", "--region", "us-east-1", "--profile", "ops", "--dry-run")
	if err != nil {
		t.Fatalf("%v\n%s", err, e.ErrOut)
	}
	want := awsprov.Inputs{AccountID: "123456789012", VPCID: fakeVPC, RouteTables: []string{fakePriv}, SecurityGroups: []string{fakeWeb, fakeDef},
		Port: 6380, Ports: []int{6380}, ConnectionName: "my-conn"}
	if !reflect.DeepEqual(cloud.prov.in, want) {
		t.Errorf("provider inputs %+v, want %+v", cloud.prov.in, want)
	}
	if cloud.cfg.Profile != "ops" || cloud.cfg.Region != "us-east-1" || cloud.cfg.Sandbox != nil {
		t.Errorf("AWS config %+v", cloud.cfg)
	}
	var plan struct {
		Name, Provider string
		Changes        []struct{ Action, Kind, Target string }
	}
	if err := json.Unmarshal(e.Out.Bytes(), &plan); err != nil {
		t.Fatalf("%v: %s", err, e.Out)
	}
	if plan.Name != "my-conn" || plan.Provider != "aws" || len(plan.Changes) != 2 ||
		plan.Changes[0].Kind != "connection" || plan.Changes[1].Kind != "route" || plan.Changes[1].Target != fakeMain {
		t.Errorf("plan %+v", plan)
	}
	if n := len(e.DF.Connections()); n != 0 {
		t.Errorf("a dry run created %d connections", n)
	}
}

// A refusal from the provider is one line naming the flag, exit 2, and no
// connection.
func TestConnectRunRefusalExitsTwo(t *testing.T) {
	e := newEnv(t)
	e.F.Globals.Yes = true
	cloud := &fakeCloud{prov: &fakeProvider{t: t, refuse: problem.Refuse("vpc-id", fakeVPC, "pick another VPC", "its CIDR block overlaps")}}
	err := run(t, e, cloud, "--network", "prod", "--vpc-id", fakeVPC)
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitInput {
		t.Fatalf("exit %d for %v", code, err)
	}
	if got := err.Error(); got != "--vpc-id "+fakeVPC+": its CIDR block overlaps; pick another VPC" || strings.Contains(got, "\n") {
		t.Errorf("refusal %q", got)
	}
	if n := len(e.DF.Connections()); n != 0 {
		t.Errorf("a refusal created %d connections", n)
	}
}

// On a terminal the missing VPC, tables and groups are asked for, with the
// fake's listings as choices and the defaults preselected; the default
// name comes from the VPC's Name tag.
func TestConnectRunPrompts(t *testing.T) {
	e := newEnv(t)
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	p := prompttest.New(t).
		ExpectSelect("VPC to peer (us-east-1)", fakeVPC).
		ExpectMultiSelect("Route tables", nil).
		ExpectMultiSelect("Security groups to open TCP 6379", []string{fakeWeb}).
		ExpectInput("Connection name", "")
	e.Prompter = p
	cloud := &fakeCloud{prov: &fakeProvider{t: t}}
	if err := run(t, e, cloud, "--network", "prod", "--dry-run"); err != nil {
		t.Fatalf("%v\n%s", err, e.ErrOut)
	}
	want := awsprov.Inputs{VPCID: fakeVPC, RouteTables: []string{fakeMain}, SecurityGroups: []string{fakeWeb}, Port: 6379, Ports: []int{6379}, ConnectionName: "app-vpc-prod"}
	if !reflect.DeepEqual(cloud.prov.in, want) {
		t.Errorf("provider inputs %+v, want %+v", cloud.prov.in, want)
	}
	if opts := p.Seen["Route tables to add the route to"]; len(opts) != 2 || !strings.Contains(opts[0].Label, "(main)") {
		t.Errorf("route table choices %+v", opts)
	}
	if !strings.Contains(e.Out.String(), "route: 192.168.0.0/16 → the peering") {
		t.Errorf("text plan:\n%s", e.Out)
	}
}
