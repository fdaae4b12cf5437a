package gcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Two ports (Redis and Memcached), through the flows the commands run
// until --port may be repeated: connect opens both in dfpeer's one rule,
// status checks both (a deny rule on one of them fails it), disconnect
// removes the rule.
func TestTwoPortsOpenCheckRemove(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	ctx := context.Background()
	api, err := e.F.DFCloud()
	if err != nil {
		t.Fatal(err)
	}
	net, err := api.GetNetwork(ctx, "net-gcp-demo-0001")
	if err != nil {
		t.Fatal(err)
	}
	c, err := gcpprov.NewClient(ctx, gcpprov.Config{Sandbox: e.SB.Endpoints.GCP, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	prov := gcpprov.NewProvider(c, gcpprov.Inputs{Network: vpc, Port: 6379, Ports: []int{6379, 6371}, Timeout: time.Minute})
	poll := dfcloud.WaitOptions{Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond}
	o := peering.Options{API: api, Provider: prov, Network: net, Name: defaultName, Report: nopReporter{}, Timeout: time.Minute, Poll: poll}
	plan, err := peering.MakePlan(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := peering.Apply(ctx, o, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FirewallRules) != 2 || res.FirewallRules[0].Port != 6379 || res.FirewallRules[1].Port != 6371 {
		t.Fatalf("summary rules %+v", res.FirewallRules)
	}
	var rule *computepb.Firewall
	for _, fw := range e.SB.GCP.Firewalls(project) {
		if fw.GetName() == ruleName {
			rule = fw
		}
	}
	if rule == nil || len(rule.GetAllowed()) != 1 || strings.Join(rule.GetAllowed()[0].GetPorts(), ",") != "6379,6371" {
		t.Fatalf("rule %v", rule)
	}

	so := peering.StatusOptions{API: api, Provider: prov, Network: net, Name: defaultName, NameGiven: true, Repair: "dfpeer gcp connect", Now: time.Now, Stale: time.Hour}
	h, err := peering.Diagnose(ctx, so)
	if err != nil || !h.Healthy {
		t.Fatalf("status: %v %q", err, cmdtest.Failed(*h))
	}
	if err := e.SB.GCP.AddFirewall(project, &computepb.Firewall{Name: proto.String("deny-memcached"), Network: proto.String("global/networks/" + vpc),
		Priority: proto.Int32(500), Denied: []*computepb.Denied{{IPProtocol: proto.String("tcp"), Ports: []string{"6371"}}}, SourceRanges: []string{demoCIDR}}); err != nil {
		t.Fatal(err)
	}
	h, err = peering.Diagnose(ctx, so)
	if err != nil || h.Healthy || !strings.Contains(strings.Join(cmdtest.Failed(*h), "\n"), "firewall_rule:deny-memcached") {
		t.Fatalf("status with 6371 denied: %v %q", err, cmdtest.Failed(*h))
	}

	do := peering.DisconnectOptions{API: api, Provider: prov, Network: net, Name: defaultName, NameGiven: true, Report: nopReporter{}, Timeout: time.Minute, Poll: poll}
	rp, err := peering.MakeRemovalPlan(ctx, do)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peering.ApplyRemoval(ctx, do, rp); err != nil {
		t.Fatal(err)
	}
	if n := rulesNamed(e, ruleName); n != 0 {
		t.Fatal("disconnect left the two-port rule")
	}
	if n := rulesNamed(e, "deny-memcached"); n != 1 {
		t.Fatal("disconnect removed the customer's deny rule")
	}
}
