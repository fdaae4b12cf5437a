package azure_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmd/azure"
	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	azprov "github.com/dragonflydb/dfpeer/internal/provider/azure"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Command-level tests: flags → options → ConnectRun with a fake Azure
// (no Azure simulator) and the prompt double; Dragonfly is its simulator.

const (
	fakeSub    = "11111111-2222-4333-8444-555555555555"
	fakeTenant = "22222222-2222-4333-8444-555555555555"
	fakeAppID  = "33333333-2222-4333-8444-555555555555"
)

// fakeAzure offers two subscriptions and two VNets, and hands out
// fakeProviders that record what they were asked.
type fakeAzure struct {
	refuse error // Observe's answer, when set
	prov   *fakeProvider
}

func (f *fakeAzure) Subscriptions(ctx context.Context) ([]azprov.Subscription, error) {
	return []azprov.Subscription{{ID: fakeSub, Name: "prod", TenantID: fakeTenant, State: "Enabled"},
		{ID: "99999999-2222-4333-8444-555555555555", Name: "test", TenantID: fakeTenant, State: "Enabled"}}, nil
}

func (f *fakeAzure) VNets(ctx context.Context, subscription, rg string) ([]azprov.VNet, error) {
	if subscription != fakeSub {
		return nil, nil
	}
	return []azprov.VNet{
		{ID: "/subscriptions/" + fakeSub + "/resourceGroups/rg-a/providers/Microsoft.Network/virtualNetworks/vnet-a", Name: "vnet-a", ResourceGroup: "rg-a", Location: "East US", Prefixes: []string{"10.1.0.0/16"}},
		{ID: "/subscriptions/" + fakeSub + "/resourceGroups/rg-b/providers/Microsoft.Network/virtualNetworks/vnet-b", Name: "vnet-b", ResourceGroup: "rg-b", Location: "westeurope", Prefixes: []string{"10.2.0.0/16"}},
	}, nil
}

func (f *fakeAzure) GetVNet(ctx context.Context, subscription, rg, name string) (*azprov.VNet, error) {
	vnets, _ := f.VNets(ctx, subscription, rg)
	for i := range vnets {
		if vnets[i].Name == name && vnets[i].ResourceGroup == rg {
			return &vnets[i], nil
		}
	}
	return nil, nil
}

func (f *fakeAzure) SubscriptionTenant(ctx context.Context, subscription string) (string, error) {
	subs, _ := f.Subscriptions(ctx)
	for _, s := range subs {
		if s.ID == subscription {
			return s.TenantID, nil
		}
	}
	return "", problem.Refuse("subscription", subscription, "", "no such subscription")
}

func (f *fakeAzure) Provider(in azprov.Inputs) peering.Provider {
	f.prov = &fakeProvider{in: in, refuse: f.refuse}
	return f.prov
}

type fakeProvider struct {
	in      azprov.Inputs
	refuse  error
	ensured []string
}

func (p *fakeProvider) Name() string { return "azure" }

func (p *fakeProvider) Peer(ctx context.Context) (dfcloud.Peer, error) {
	return dfcloud.Peer{AccountID: p.in.SubscriptionID, VPCID: p.in.VNet, Region: p.in.Region,
		Azure: &dfcloud.AzurePeer{ResourceGroup: p.in.ResourceGroup, TenantID: fakeTenant}}, nil
}

func (p *fakeProvider) Observe(ctx context.Context, t peering.Target) (*peering.Observation, error) {
	if p.refuse != nil {
		return nil, p.refuse
	}
	return &peering.Observation{Cloud: "fake", Changes: []peering.Change{
		{Action: peering.Create, Kind: peering.KindApplication, Target: "tenant " + fakeTenant, Detail: "application " + p.in.AppName, Title: "Application", Phase: peering.BeforeConnection},
		{Action: peering.Create, Kind: peering.KindPeering, Target: p.in.VNet, Detail: "peering to " + t.Network.Name, Title: "Peering", Phase: peering.AfterInactive},
	}}, nil
}

func (p *fakeProvider) Ensure(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	if s.Cloud != "fake" {
		return "", errors.New("the observation's Cloud did not reach Ensure")
	}
	p.ensured = append(p.ensured, c.Title)
	if c.Kind == peering.KindApplication {
		az := *s.Peer.Azure
		az.AppObjectID = fakeAppID
		s.Peer.Azure = &az
	}
	return "done", nil
}

func (p *fakeProvider) Remove(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	return "", errors.New("connect never removes")
}

// run parses argv as `dfpeer azure connect` would and runs it against fake.
func run(t *testing.T, e *cmdtest.Env, fake *fakeAzure, argv ...string) (*azure.ConnectOptions, error) {
	t.Helper()
	if e.F.Globals.Timeout == 0 {
		e.F.Globals.Timeout = time.Minute // the root command's default
	}
	var got *azure.ConnectOptions
	cmd := azure.NewCmdConnect(e.F, func(ctx context.Context, o *azure.ConnectOptions) error {
		got = o
		if fake == nil {
			return nil
		}
		o.Azure = func(context.Context, azprov.Config) (azure.Azure, error) { return fake, nil }
		return azure.ConnectRun(ctx, o)
	})
	cmd.SetArgs(argv)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return got, err
}

func TestNewCmdConnectFlags(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	e.F.Globals.Yes = true
	o, err := run(t, e, nil, "--network", "net-0004", "--subscription", fakeSub, "--resource-group", "rg-a", "--vnet", "vnet-a",
		"--app-name", "my app", "--use-remote-gateways", "--port", "6380", "--name", "c1", "--no-wait")
	if err != nil {
		t.Fatal(err)
	}
	if o.Network != "net-0004" || o.Subscription != fakeSub || o.ResourceGroup != "rg-a" || o.VNet != "vnet-a" || o.AppName != "my app" ||
		!o.AppNameGiven || !o.UseRemoteGateways || o.Port != 6380 || o.Name != "c1" || !o.NoWait {
		t.Errorf("options %+v", o)
	}
	if o.Azure == nil {
		t.Error("NewCmdConnect left the Azure constructor unset")
	}
	o, err = run(t, e, nil, "--network", "net-0004", "--vnet", "vnet-a")
	if err != nil || o.AppNameGiven || o.Port != 6379 {
		t.Errorf("defaults: %+v %v", o, err)
	}
	if _, err := run(t, e, nil, "--network", "net-0004", "--vnet", "vnet-a", "--app-name", ""); err == nil || !strings.Contains(err.Error(), "for --app-name") {
		t.Errorf("empty --app-name: %v", err)
	}
}

// Interactive: the prompts offer the fake's subscriptions and VNets, the
// choices reach the provider's inputs, the changes are ensured in phase
// order around the Dragonfly connection, which names the application.
func TestConnectRunInteractiveWithFakeProvider(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	p := prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-0004").
		ExpectSelect("Azure subscription", fakeSub).
		ExpectSelect("Virtual network to peer", "/subscriptions/"+fakeSub+"/resourceGroups/rg-a/providers/Microsoft.Network/virtualNetworks/vnet-a").
		ExpectInput("Connection name", "").
		ExpectConfirm("Make these changes?", true)
	e.Prompter = p
	fake := &fakeAzure{}
	if _, err := run(t, e, fake, "--no-wait"); err != nil {
		t.Fatalf("%v\n%s", err, e.ErrOut)
	}
	if opts := p.Seen["Azure subscription"]; len(opts) != 2 || !strings.Contains(opts[0].Label, "prod") {
		t.Errorf("subscription choices %+v", opts)
	}
	if opts := p.Seen["Virtual network to peer"]; len(opts) != 2 || !strings.Contains(opts[0].Label, "vnet-a  rg-a  East US  10.1.0.0/16") {
		t.Errorf("VNet choices %+v", opts)
	}
	in := fake.prov.in
	if in.SubscriptionID != fakeSub || in.ResourceGroup != "rg-a" || in.VNet != "vnet-a" || in.Region != "eastus" ||
		in.AppName != "dfpeer-vnet-a" || in.AppNameGiven || in.Port != 6379 || !in.NoWait || in.ConnectionName != "vnet-a-dup" {
		t.Errorf("provider inputs %+v", in)
	}
	if got := strings.Join(fake.prov.ensured, ","); got != "Application,Peering" {
		t.Errorf("ensured %s", got)
	}
	conns := e.DF.Connections()
	if len(conns) != 1 || conns[0].Config.Peer.Azure == nil || conns[0].Config.Peer.Azure.AppObjectID != fakeAppID || conns[0].Config.Peer.VPCID != "vnet-a" {
		t.Fatalf("connections %+v", conns)
	}
	if !strings.Contains(e.ErrOut.String(), "create  application: application dfpeer-vnet-a") {
		t.Errorf("the plan was not shown:\n%s", e.ErrOut)
	}
}

// A refusal from Observe comes back typed, before any change: nothing is
// ensured and no connection is created.
func TestConnectRunRefusalChangesNothing(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	e.F.Globals.Yes = true
	fake := &fakeAzure{refuse: problem.Refuse("vnet", "vnet-a", "pick another VNet", "its address prefix overlaps")}
	_, err := run(t, e, fake, "--network", "net-0004", "--subscription", fakeSub, "--vnet", "vnet-a")
	var r *problem.Refusal
	if !errors.As(err, &r) || r.Input != "vnet" || err.Error() != "--vnet vnet-a: its address prefix overlaps; pick another VNet" {
		t.Fatalf("err %v", err)
	}
	if len(fake.prov.ensured) != 0 || len(e.DF.Connections()) != 0 {
		t.Errorf("ensured %v, connections %+v", fake.prov.ensured, e.DF.Connections())
	}
}
