package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/internal/sim/awssim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

const demoCIDR = "192.168.0.0/16"

// world is a fast sandbox with the SDK client and the Dragonfly client
// pointed at it.
type world struct {
	sb  *sandbox.Sandbox
	c   *Client
	api *dfcloud.Client
	net *dfcloud.Network
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ctx := context.Background()
	c, err := NewClient(ctx, Config{Sandbox: sb.Endpoints.AWS, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	api, err := dfcloud.New(sb.Endpoints.DFCloudURL, sb.Endpoints.DFCloudKey)
	if err != nil {
		t.Fatal(err)
	}
	nets, err := api.ListNetworks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{sb: sb, c: c, api: api}
	for i := range nets {
		if nets[i].Name == "demo-aws" {
			w.net = &nets[i]
		}
	}
	if w.net == nil || w.net.CIDRBlock != demoCIDR {
		t.Fatalf("no demo-aws network with %s: %+v", demoCIDR, nets)
	}
	return w
}

// connect runs the whole connect flow with the provider, as the command does.
func (w *world) connect(t *testing.T, in Inputs, name string) *peering.Plan {
	t.Helper()
	ctx := context.Background()
	o := peering.Options{API: w.api, Provider: NewProvider(w.c, in), Network: w.net, Name: name, NameGiven: true,
		Report: progress.NewPlain(&strings.Builder{}, time.Now), Timeout: 30 * time.Second,
		Poll: dfcloud.WaitOptions{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}}
	plan, err := peering.MakePlan(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peering.Apply(ctx, o, plan); err != nil {
		t.Fatal(err)
	}
	return plan
}

// observe makes a teardown observation of the connection (nil: gone).
func (w *world) observe(t *testing.T, p *Provider, name string, conn *dfcloud.Connection) *peering.Observation {
	t.Helper()
	peer, err := p.Peer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	obs, err := p.Observe(context.Background(), peering.Target{Network: w.net, Name: name, Peer: peer, Existing: conn})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func (w *world) removeAll(t *testing.T, p *Provider, obs *peering.Observation) map[string]string {
	t.Helper()
	st := &peering.State{Network: w.net, Result: &peering.Result{}, Cloud: obs.Cloud}
	notes := map[string]string{}
	for _, c := range obs.Changes {
		note, err := p.Remove(context.Background(), st, c)
		if err != nil {
			t.Fatalf("remove %s %s: %v", c.Kind, c.ID, err)
		}
		notes[string(c.Kind)+" "+c.ID+" "+c.Detail] = note
	}
	return notes
}

func find(changes []peering.Change, kind peering.Kind, id string) []peering.Change {
	var out []peering.Change
	for _, c := range changes {
		if c.Kind == kind && c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

// Connect, then observe for teardown and remove every change: dfpeer's
// routes and rule go, the look-alikes seeded beside them (a route to the
// CIDR through a gateway, a rule from the CIDR with another description)
// are classified NotOurs and stay, and a second pass finds nothing to do.
func TestRemoveTakesDownOnlyWhatIsOurs(t *testing.T) {
	w := newWorld(t)
	demo, aws := w.sb.Demo, w.sb.AWS
	other, err := aws.AddRouteTable(sandbox.AWSAccount, sandbox.AWSRegion, demo.AWSApp.VPCID, "not-ours")
	if err != nil {
		t.Fatal(err)
	}
	if err := aws.AddRoute(other, demoCIDR, "igw-0123456789abcdef0"); err != nil {
		t.Fatal(err)
	}
	if _, err := aws.AddIngressRule(demo.AWSServersSG, awssim.RuleSpec{Protocol: "tcp", FromPort: 6379, ToPort: 6379, CIDR: demoCIDR, Description: "app team"}); err != nil {
		t.Fatal(err)
	}
	groups := []string{demo.AWSApp.DefaultSecurityGroupID, demo.AWSServersSG}
	plan := w.connect(t, Inputs{VPCID: sandbox.DemoAWSVPC, SecurityGroups: groups, Port: 6379}, "t1")
	// connect leaves the look-alike rule as it is: it already lets the
	// traffic in, and it is not dfpeer's.
	if c := find(plan.Changes, "firewall_rule", demo.AWSServersSG); len(c) != 1 || c[0].Found != peering.NotOurs || c[0].Action != peering.Unchanged {
		t.Fatalf("servers group in the connect plan: %+v", c)
	}
	conns, err := w.api.ListConnections(context.Background())
	if err != nil || len(conns) != 1 {
		t.Fatalf("connections %+v %v", conns, err)
	}
	conn := &conns[0]
	tables := []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT}

	p := NewProvider(w.c, Inputs{VPCID: sandbox.DemoAWSVPC, Port: 6379, Teardown: true})
	obs := w.observe(t, p, "t1", conn)
	for _, id := range tables {
		if c := find(obs.Changes, "route", id); len(c) != 1 || c[0].Found != peering.AsWanted || c[0].Action != peering.Remove {
			t.Errorf("route in %s: %+v", id, c)
		}
	}
	if c := find(obs.Changes, "route", other); len(c) != 1 || c[0].Found != peering.NotOurs || c[0].Action != peering.Keep || !strings.Contains(c[0].Reason, "igw-0123456789abcdef0") {
		t.Errorf("look-alike route: %+v", c)
	}
	if c := find(obs.Changes, "firewall_rule", demo.AWSApp.DefaultSecurityGroupID); len(c) != 1 || c[0].Found != peering.AsWanted || c[0].Action != peering.Remove {
		t.Errorf("dfpeer's rule: %+v", c)
	}
	if c := find(obs.Changes, "firewall_rule", demo.AWSServersSG); len(c) != 1 || c[0].Found != peering.NotOurs || c[0].Action != peering.Keep {
		t.Errorf("look-alike rule: %+v", c)
	}

	aws.HTTP().ResetLog()
	w.removeAll(t, p, obs)
	deletes := map[string]int{}
	for _, call := range aws.HTTP().Calls() {
		if strings.HasPrefix(call.Op, "Delete") || strings.HasPrefix(call.Op, "Revoke") || strings.HasPrefix(call.Op, "Reject") {
			deletes[call.Op]++
		}
	}
	if deletes["DeleteRoute"] != 2 || deletes["RevokeSecurityGroupIngress"] != 1 || len(deletes) != 2 {
		t.Errorf("mutating calls of remove: %v", deletes)
	}
	for _, id := range tables {
		routes, _ := aws.RouteTable(id)
		for _, r := range routes {
			if r.Destination == demoCIDR {
				t.Errorf("%s still routes %s: %+v", id, demoCIDR, r)
			}
		}
	}
	if routes, _ := aws.RouteTable(other); !hasRoute(routes, demoCIDR, "igw-0123456789abcdef0") {
		t.Errorf("the look-alike route was touched: %+v", routes)
	}
	rules, _ := aws.SecurityGroup(demo.AWSServersSG)
	if n := countRules(rules, "app team"); n != 1 {
		t.Errorf("the look-alike rule was touched: %+v", rules)
	}
	if rules, _ := aws.SecurityGroup(demo.AWSApp.DefaultSecurityGroupID); countRules(rules, ruleDescription("t1")) != 0 {
		t.Errorf("dfpeer's rule is still there: %+v", rules)
	}

	// Removing again, from the old observation, is not an error and
	// changes nothing.
	before := aws.Snapshot()
	for key, note := range w.removeAll(t, p, obs) {
		if strings.Contains(key, "route") && !strings.Contains(key, other) && note != "already gone" {
			t.Errorf("second remove of %s: %q", key, note)
		}
	}
	if string(before) != string(aws.Snapshot()) {
		t.Error("a second remove changed the simulator")
	}

	// Observed again, only the look-alikes (and Dragonfly's peering, which
	// the connection's deletion takes) are left; connect would create
	// everything anew.
	for _, c := range w.observe(t, p, "t1", conn).Changes {
		if c.Kind != peering.KindPeering && c.Found != peering.NotOurs {
			t.Errorf("left after remove: %+v", c)
		}
	}
	again := w.observe(t, NewProvider(w.c, Inputs{VPCID: sandbox.DemoAWSVPC, SecurityGroups: []string{demo.AWSApp.DefaultSecurityGroupID}, Port: 6379}), "t1", conn)
	for _, c := range again.Changes {
		if c.Kind != peering.KindPeering && (c.Found != peering.Absent || c.Action != peering.Create) {
			t.Errorf("connect would not recreate %+v", c)
		}
	}
}

// After Dragonfly deleted the connection and its peering, the routes an
// earlier run left are blackholes: a teardown without a connection still
// finds them as dfpeer's and removes them.
func TestRemoveBlackholeRoutesAfterTheConnectionIsGone(t *testing.T) {
	w := newWorld(t)
	demo, aws := w.sb.Demo, w.sb.AWS
	w.connect(t, Inputs{VPCID: sandbox.DemoAWSVPC, Port: 6379}, "t2")
	conns, err := w.api.ListConnections(context.Background())
	if err != nil || len(conns) != 1 {
		t.Fatalf("connections %+v %v", conns, err)
	}
	if err := aws.DeletePeering(conns[0].PeerConnectionID); err != nil {
		t.Fatal(err)
	}
	p := NewProvider(w.c, Inputs{VPCID: sandbox.DemoAWSVPC, Port: 6379, Teardown: true})
	obs := w.observe(t, p, "t2", nil)
	for _, id := range []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT} {
		if c := find(obs.Changes, "route", id); len(c) != 1 || c[0].Found != peering.Different || c[0].Action != peering.Remove || !strings.Contains(c[0].Reason, "blackhole") {
			t.Errorf("blackhole route in %s: %+v", id, c)
		}
	}
	if c := find(obs.Changes, "peering", ""); len(c) != 1 || c[0].Found != peering.Absent {
		t.Errorf("peering without a connection: %+v", c)
	}
	w.removeAll(t, p, obs)
	for _, c := range w.observe(t, p, "t2", nil).Changes {
		if c.Found != peering.Absent {
			t.Errorf("left after remove: %+v", c)
		}
	}
}

func hasRoute(routes []awssim.RouteInfo, cidr, target string) bool {
	for _, r := range routes {
		if r.Destination == cidr && r.Target == target {
			return true
		}
	}
	return false
}

func countRules(rules []awssim.RuleInfo, description string) int {
	n := 0
	for _, r := range rules {
		if !r.Egress && r.CIDR == demoCIDR && r.Description == description {
			n++
		}
	}
	return n
}
