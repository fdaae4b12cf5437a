package azure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	azprov "github.com/dragonflydb/dfpeer/internal/provider/azure"
	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// quiet is a Reporter that keeps nothing.
type quiet struct{}

func (quiet) Start(string)  {}
func (quiet) Update(string) {}
func (quiet) Done(string)   {}
func (quiet) Fail(error)    {}
func (quiet) Info(string)   {}

// provider builds the Azure provider as connect does, against the sandbox.
func provider(t *testing.T, e *cmdtest.Env, name string) *azprov.Provider {
	t.Helper()
	c, err := azprov.NewClient(context.Background(), azprov.Config{Sandbox: e.SB.Endpoints.Azure, MaxBackoff: 20 * time.Millisecond, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return azprov.NewProvider(c, azprov.Inputs{SubscriptionID: sandbox.AzureSubscriptionID, ResourceGroup: sandbox.DemoAzureRG, VNet: sandbox.DemoAzureVNet,
		AppName: appName, Port: 6379, ConnectionName: name, Timeout: time.Minute})
}

// connect runs `dfpeer azure connect` in the sandbox and returns its
// result, the network and the connection.
func connect(t *testing.T, e *cmdtest.Env) (peering.Result, *dfcloud.Network, *dfcloud.Connection) {
	t.Helper()
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	res := cmdtest.Result(t, e.Out.Bytes())
	api, err := e.F.DFCloud()
	if err != nil {
		t.Fatal(err)
	}
	net, err := api.GetNetwork(context.Background(), res.NetworkID)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := api.GetConnection(context.Background(), res.ConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	return res, net, conn
}

func observe(t *testing.T, p *azprov.Provider, net *dfcloud.Network, name string, existing *dfcloud.Connection) *peering.Observation {
	t.Helper()
	ctx := context.Background()
	peer, err := p.Peer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := p.Observe(ctx, peering.Target{Network: net, Name: name, Peer: peer, Existing: existing})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// After connect, Observe sees every resource as dfpeer's and as wanted;
// Remove of each (in reverse order) takes them all down but Dragonfly's
// service principal and a rule that is not dfpeer's; Observe then finds
// them absent, and a second Remove pass is a no-op.
func TestRemoveEveryChangeAfterConnect(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	webNSG := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + sandbox.DemoAzureWebNSG
	// Related (it admits the Dragonfly CIDR on the port) but not dfpeer's.
	if err := e.SB.Azure.AddSecurityRule(webNSG, "team-allow-redis", azuresim.SecurityRuleSpec{Priority: 200, Direction: "Inbound", Access: "Allow", Protocol: "Tcp",
		SourceAddressPrefix: demoCIDR, SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "6379", Description: "team rule"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, net, conn := connect(t, e)
	p := provider(t, e, res.Name)
	obs := observe(t, p, net, res.Name, conn)

	kinds := map[peering.Kind]int{}
	for _, c := range obs.Changes {
		kinds[c.Kind]++
		switch {
		case c.Action == peering.Wait:
		case c.Kind == peering.KindFirewallRule && strings.Contains(c.Target, sandbox.DemoAzureWebNSG):
			if c.Found != peering.NotOurs || !strings.Contains(c.Reason, "team-allow-redis") {
				t.Errorf("the team's rule: %+v", c)
			}
		case c.Found != peering.AsWanted || c.ID == "" || (c.Action != peering.Unchanged && c.Action != peering.Adopt):
			t.Errorf("after connect: %s %s %q found %s, ID %q", c.Action, c.Kind, c.Detail, c.Found, c.ID)
		}
	}
	if kinds[peering.KindApplication] != 1 || kinds[peering.KindServicePrincipal] != 2 || kinds[peering.KindRoleAssignment] != 3 ||
		kinds[peering.KindRoleDefinition] != 1 || kinds[peering.KindPeering] != 2 || kinds[peering.KindFirewallRule] != 2 {
		t.Errorf("kinds observed %v", kinds)
	}

	st := &peering.State{Network: net, Report: quiet{}, Cloud: obs.Cloud, Result: &peering.Result{Name: res.Name}}
	removeAll := func(changes []peering.Change) map[string]string {
		notes := map[string]string{}
		for i := len(changes) - 1; i >= 0; i-- {
			c := changes[i]
			note, err := p.Remove(ctx, st, c)
			if err != nil {
				t.Fatalf("remove %s %s: %v", c.Kind, c.Detail, err)
			}
			notes[string(c.Kind)+" "+c.Detail] = note
		}
		return notes
	}
	notes := removeAll(obs.Changes)
	for what, note := range notes {
		if strings.Contains(what, "Dragonfly Cloud's service principal") || strings.Contains(what, "no rule needed") {
			if !strings.HasPrefix(note, "kept") {
				t.Errorf("%s: %s, want kept", what, note)
			}
		}
	}

	s := azSnapshot(t, e)
	for _, a := range s.Applications {
		if a.DisplayName == appName {
			t.Errorf("application left: %+v", a)
		}
	}
	if s.spOf(sandbox.AzureTenantID, azuresim.DefaultDragonflyAppID) == "" {
		t.Error("Dragonfly Cloud's service principal was removed")
	}
	for _, rd := range s.CustomRoleDefinitions {
		if rd.RoleName == "dfcloud-peering-role" {
			t.Errorf("custom role left: %+v", rd)
		}
	}
	for _, ra := range s.RoleAssignments {
		if strings.EqualFold(ra.Scope, sandbox.DemoAzureVNetID) {
			t.Errorf("role assignment left on the VNet: %+v", ra)
		}
	}
	for _, v := range s.VirtualNetworks {
		if v.ID == sandbox.DemoAzureVNetID && len(v.Peerings) != 0 {
			t.Errorf("peerings left: %+v", v.Peerings)
		}
	}
	team := false
	for _, n := range s.NetworkSecurityGroups {
		for _, r := range n.SecurityRules {
			if strings.HasPrefix(r.Properties.Description, "dfpeer:") {
				t.Errorf("%s: dfpeer rule left: %+v", n.ID, r)
			}
			team = team || r.Name == "team-allow-redis"
		}
	}
	if !team {
		t.Error("the team's rule was removed")
	}

	// Everything dfpeer made is now absent (what it keeps aside).
	again := observe(t, p, net, res.Name, nil)
	for _, c := range again.Changes {
		kept := c.Kind == peering.KindServicePrincipal && c.Want != nil && strings.Contains(c.Detail, "Dragonfly") ||
			c.Kind == peering.KindFirewallRule && c.Found == peering.NotOurs
		if !kept && c.Found != peering.Absent {
			t.Errorf("after remove: %s %s %q found %s", c.Action, c.Kind, c.Detail, c.Found)
		}
	}
	before := state(e)
	st.Cloud = again.Cloud
	removeAll(again.Changes)
	if after := state(e); string(after) != string(before) {
		t.Error("removing what is gone changed the simulators")
	}
}

// An assignment that gives the application Network Contributor but that
// dfpeer did not make (on the resource group, by someone else) is
// classified not ours, and Remove leaves it.
func TestRemoveKeepsAnAssignmentNotOurs(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	ctx := context.Background()
	res, net, _ := connect(t, e)
	p := provider(t, e, res.Name)
	networkContributorOf := func(obs *peering.Observation) peering.Change {
		for _, c := range obs.Changes {
			if c.Kind == peering.KindRoleAssignment && strings.HasPrefix(c.Detail, "Network Contributor") {
				return c
			}
		}
		t.Fatal("no Network Contributor change")
		return peering.Change{}
	}
	obs := observe(t, p, net, res.Name, nil)
	ours := networkContributorOf(obs)
	if ours.Found != peering.AsWanted {
		t.Fatalf("dfpeer's own assignment: %+v", ours)
	}
	st := &peering.State{Network: net, Report: quiet{}, Cloud: obs.Cloud, Result: &peering.Result{Name: res.Name}}
	if note, err := p.Remove(ctx, st, ours); err != nil || note != "removed" {
		t.Fatalf("remove ours: %q %v", note, err)
	}
	sp := azSnapshot(t, e).spOf(sandbox.AzureTenantID, appIDOf(t, e))
	rg := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG
	if _, err := e.SB.Azure.AssignRole(rg, sp, "Network Contributor"); err != nil {
		t.Fatal(err)
	}
	obs = observe(t, p, net, res.Name, nil)
	theirs := networkContributorOf(obs)
	if theirs.Found != peering.NotOurs || theirs.Action != peering.Unchanged || !strings.Contains(theirs.Reason, "granted on "+rg) {
		t.Fatalf("someone else's assignment: %+v", theirs)
	}
	before := state(e)
	st.Cloud = obs.Cloud
	if note, err := p.Remove(ctx, st, theirs); err != nil || !strings.HasPrefix(note, "kept") {
		t.Errorf("remove theirs: %q %v", note, err)
	}
	if string(state(e)) != string(before) {
		t.Error("Remove changed the simulators for an assignment that is not dfpeer's")
	}
}

func appIDOf(t *testing.T, e *cmdtest.Env) string {
	t.Helper()
	for _, a := range azSnapshot(t, e).Applications {
		if a.DisplayName == appName {
			return a.AppID
		}
	}
	t.Fatal("no application")
	return ""
}
