package gcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	computeapi "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
	"github.com/dragonflydb/dfpeer/internal/sim/gcpsim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// compute is a Compute client on the sandbox: the cloud's own API, through
// which the tests break things as a user would.
func compute(t *testing.T, e *cmdtest.Env) *gcpprov.Client {
	t.Helper()
	c, err := gcpprov.NewClient(context.Background(), gcpprov.Config{Sandbox: e.SB.Endpoints.GCP, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connected runs connect and checks status is healthy.
func connected(t *testing.T, extra ...string) *cmdtest.Env {
	t.Helper()
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args(extra...)...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	if code, h := e.Status(verb("status")...); code != 0 || !h.Healthy {
		t.Fatalf("after connect: exit %d %q", code, cmdtest.Failed(h))
	}
	return e
}

// broken runs status after something broke: exit 5, not healthy, a
// failed check with id whose message holds each of want, and no
// mutating call to either simulator.
func broken(t *testing.T, e *cmdtest.Env, id string, want ...string) peering.Check {
	t.Helper()
	writes := len(cmdtest.MutatingCalls(e.SB.GCP.HTTP(), e.SB.DF.HTTP()))
	code, h := e.Status(verb("status")...)
	if got := len(cmdtest.MutatingCalls(e.SB.GCP.HTTP(), e.SB.DF.HTTP())); got != writes {
		t.Fatalf("status made %d mutating calls", got-writes)
	}
	if code != 5 || h.Healthy {
		t.Fatalf("status: exit %d, healthy %v, want 5\n%s", code, h.Healthy, e.ErrOut)
	}
	for _, c := range h.Checks {
		if c.ID != id || c.Status != peering.Fail {
			continue
		}
		for _, w := range want {
			if !strings.Contains(c.Message+" | fix: "+c.Fix, w) {
				t.Errorf("check %s lacks %q: %s | fix: %s", id, w, c.Message, c.Fix)
			}
		}
		return c
	}
	t.Fatalf("no failed check %s; failed: %q", id, cmdtest.Failed(h))
	return peering.Check{}
}

func healthy(t *testing.T, e *cmdtest.Env) {
	t.Helper()
	if code, h := e.Status(verb("status")...); code != 0 || !h.Healthy {
		t.Fatalf("status: exit %d %q", code, cmdtest.Failed(h))
	}
}

// must waits for a Compute operation and fails the test on any error.
func must(t *testing.T, op *computeapi.Operation, err error) {
	t.Helper()
	if err == nil {
		err = op.Wait(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
}

func denyRule(name, direction string, priority int32, ranges ...string) *computepb.Firewall {
	fw := &computepb.Firewall{Name: proto.String(name), Network: proto.String("global/networks/" + vpc), Direction: proto.String(direction),
		Priority: proto.Int32(priority), Denied: []*computepb.Denied{{IPProtocol: proto.String("tcp"), Ports: []string{"6379"}}}}
	if direction == "EGRESS" {
		fw.DestinationRanges = ranges
	} else {
		fw.SourceRanges = ranges
	}
	return fw
}

// rulesNamed counts the project's firewall rules named name.
func rulesNamed(e *cmdtest.Env, name string) int {
	n := 0
	for _, fw := range e.SB.GCP.Firewalls(project) {
		if fw.GetName() == name {
			n++
		}
	}
	return n
}

// The rule dfpeer made deleted through Compute: status fails it, connect
// adds it again, once.
func TestStatusRuleDeleted(t *testing.T) {
	e := connected(t)
	c := compute(t, e)
	op, err := c.Firewalls.Delete(context.Background(), &computepb.DeleteFirewallRequest{Project: project, Firewall: ruleName})
	must(t, op, err)
	broken(t, e, "firewall_rule:"+ruleName, "missing", ruleName, "gcp connect")
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
	}
	healthy(t, e)
	if n := rulesNamed(e, ruleName); n != 1 {
		t.Fatalf("%d rules named %s after the repair", n, ruleName)
	}
}

// Deny rules added through Compute that outrank dfpeer's allow (ingress)
// or block the way out (egress): status fails each, naming it, with the
// change to make; connect only warns (they are not dfpeer's); once they
// are gone status is healthy again.
func TestStatusDenyRules(t *testing.T) {
	e := connected(t)
	c := compute(t, e)
	ctx := context.Background()
	for _, fw := range []*computepb.Firewall{denyRule("block-dragonfly", "INGRESS", 900, demoCIDR), denyRule("no-egress", "EGRESS", 800, "0.0.0.0/0")} {
		op, err := c.Firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: project, FirewallResource: fw})
		must(t, op, err)
	}
	broken(t, e, "firewall_rule:block-dragonfly", "block-dragonfly (priority 900) denies TCP 6379 from "+demoCIDR, "fix: lower its priority or narrow its sources")
	broken(t, e, "firewall_rule:no-egress", "no-egress (priority 800) denies TCP 6379 to 0.0.0.0/0", "fix: add an egress rule allowing TCP 6379 to "+demoCIDR+" with a priority below 800")
	e.ErrOut.Reset()
	if code := e.Run(args()...); code != 0 || !strings.Contains(e.ErrOut.String(), "warning: ingress rule block-dragonfly") {
		t.Fatalf("connect with deny rules: exit %d\n%s", code, e.ErrOut)
	}
	for _, name := range []string{"block-dragonfly", "no-egress"} {
		op, err := c.Firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: project, Firewall: name})
		must(t, op, err)
	}
	healthy(t, e)
}

// disableRule disables dfpeer's rule with firewalls.patch, as gcloud
// compute firewall-rules update --disabled does (dfpeer's client has no
// Patch: it never changes a rule that way), and waits until it is.
func disableRule(t *testing.T, e *cmdtest.Env) {
	t.Helper()
	req, _ := http.NewRequest("PATCH", e.SB.URL+"/compute/v1/projects/"+project+"/global/firewalls/"+ruleName, strings.NewReader(`{"disabled":true}`))
	req.Header.Set("Authorization", "Bearer "+sandbox.GCPToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("disabling the rule: %v %v", err, resp)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		disabled := false
		for _, fw := range e.SB.GCP.Firewalls(project) {
			disabled = disabled || (fw.GetName() == ruleName && fw.GetDisabled())
		}
		if disabled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the rule is not disabled: the test proves nothing")
		}
	}
}

// dfpeer's rule disabled through Compute: status fails it (exit 5, not
// the refusal a differing rule of someone else's gets) and says connect
// repairs it; connect puts it back (firewalls.update), once; disconnect
// removes it.
func TestStatusRuleChanged(t *testing.T) {
	e := connected(t)
	disableRule(t, e)
	broken(t, e, "firewall_rule:"+ruleName, "it is disabled", "fix: dfpeer gcp connect")
	e.ErrOut.Reset()
	if code := e.Run(args()...); code != 0 || !strings.Contains(e.ErrOut.String(), "updated (it is disabled)") {
		t.Fatalf("repair: exit %d\n%s", code, e.ErrOut)
	}
	healthy(t, e)
	for _, fw := range e.SB.GCP.Firewalls(project) {
		if fw.GetName() == ruleName && (fw.GetDisabled() || fw.GetDescription() == "") {
			t.Fatalf("rule after the repair: %v", fw)
		}
	}
	if n := rulesNamed(e, ruleName); n != 1 {
		t.Fatalf("%d rules named %s", n, ruleName)
	}
	disableRule(t, e)
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if n := rulesNamed(e, ruleName); n != 0 {
		t.Fatalf("disconnect left dfpeer's changed rule")
	}
}

// A rule of dfpeer's name that someone else made differently: status
// fails it with the gcloud command that frees the name (connect refuses
// it, exit 2).
func TestStatusForeignRuleDiffers(t *testing.T) {
	e := connected(t)
	c := compute(t, e)
	ctx := context.Background()
	op, err := c.Firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: project, Firewall: ruleName})
	must(t, op, err)
	op, err = c.Firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: project, FirewallResource: &computepb.Firewall{
		Name: proto.String(ruleName), Network: proto.String("global/networks/" + vpc),
		Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"22"}}}, SourceRanges: []string{demoCIDR}}})
	must(t, op, err)
	broken(t, e, "firewall_rule:"+ruleName, "it allows tcp:22, not tcp:6379", "fix: "+ruleName+" (network app-network", "delete it ('gcloud compute firewall-rules delete "+ruleName+" --project "+project+"')")
	if code := e.Run(args()...); code != 2 {
		t.Fatalf("connect over a foreign rule: exit %d, want 2\n%s", code, e.ErrOut)
	}
}

// Dragonfly's half of the peering gone: the customer's peering falls back
// to INACTIVE (status says so in Compute's words) and the connection
// fails; connect --recreate makes a new connection, whose peering the
// existing customer side connects to: healthy, nothing duplicated.
func TestStatusPeeringInactive(t *testing.T) {
	e := connected(t)
	conn := e.SB.DF.Connections()[0]
	if err := e.SB.GCP.DeletePeering(conn.PeerConnectionID); err != nil {
		t.Fatal(err)
	}
	peeringName := "dfpeer-" + defaultName
	broken(t, e, "peering:"+peeringName, "INACTIVE", "Waiting for peer network to connect")
	if code := e.Run(args("--recreate")...); code != 0 {
		t.Fatalf("connect --recreate: exit %d\n%s", code, e.ErrOut)
	}
	healthy(t, e)
	if pe := peeringsBetween(t, e.SB.GCP, project, vpc, sandbox.DragonflyGCPProject, sandbox.DragonflyGCPNetwork); len(pe) != 1 || pe[0].GetState() != "ACTIVE" {
		t.Fatalf("customer peerings to Dragonfly: %v", pe)
	}
	if n := rulesNamed(e, ruleName); n != 1 {
		t.Fatalf("%d rules named %s", n, ruleName)
	}
}

// A subnet range added while the peering was down overlaps the Dragonfly
// CIDR: status fails it, naming the subnet (it does not refuse with exit
// 2 as connect does).
func TestStatusOverlapAddedSince(t *testing.T) {
	e := connected(t)
	conn := e.SB.DF.Connections()[0]
	if err := e.SB.GCP.DeletePeering(conn.PeerConnectionID); err != nil {
		t.Fatal(err)
	}
	if err := e.SB.GCP.AddSubnetwork(project, vpc, gcpsim.SubnetSpec{Name: "late", Region: "us-central1", CIDR: "192.168.10.0/24"}); err != nil {
		t.Fatal(err)
	}
	broken(t, e, "subnet_range:192.168.10.0/24", "subnet late in us-central1", "overlaps the Dragonfly CIDR "+demoCIDR, "fix: peered networks need disjoint ranges")
	if code := e.Run(args("--recreate")...); code != 2 || !strings.Contains(e.ErrOut.String(), "192.168.10.0/24") {
		t.Fatalf("connect --recreate with an overlap: exit %d, want 2\n%s", code, e.ErrOut)
	}
}

// The customer's peering removed and another one of dfpeer's name added,
// towards another network: status fails it, saying how to free the name;
// disconnect keeps it (not dfpeer's) and lists it as kept.
func TestStatusPeeringNameTaken(t *testing.T) {
	e := connected(t)
	c := compute(t, e)
	ctx := context.Background()
	peeringName := "dfpeer-" + defaultName
	op, err := c.Networks.RemovePeering(ctx, &computepb.RemovePeeringNetworkRequest{Project: project, Network: vpc,
		NetworksRemovePeeringRequestResource: &computepb.NetworksRemovePeeringRequest{Name: proto.String(peeringName)}})
	must(t, op, err)
	other := "projects/" + project + "/global/networks/" + sandbox.DemoGCPOverlapNetwork
	op, err = c.Networks.AddPeering(ctx, &computepb.AddPeeringNetworkRequest{Project: project, Network: vpc,
		NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: proto.String(peeringName), Network: proto.String(other), ExchangeSubnetRoutes: proto.Bool(true)}}})
	must(t, op, err)
	broken(t, e, "peering:"+peeringName, "points at https://www.googleapis.com/compute/v1/"+other, "fix: remove it with 'gcloud compute networks peerings delete "+peeringName)

	e.Out.Reset()
	if code := e.Run(verb("disconnect", "--yes", "--no-input", "-o", "json")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	var r peering.Removal
	if err := json.Unmarshal(e.Out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, e.Out)
	}
	kept := false
	for _, k := range r.Kept {
		kept = kept || (k.Kind == peering.KindPeering && strings.Contains(k.Reason, "not Dragonfly's network"))
	}
	if !kept {
		t.Fatalf("the look-alike peering is not listed as kept: %+v", r)
	}
	if pe := peeringsBetween(t, e.SB.GCP, project, vpc, project, sandbox.DemoGCPOverlapNetwork); len(pe) != 1 {
		t.Fatalf("disconnect touched the look-alike peering: %v", pe)
	}
}

// crashWorld is a sandbox where setup already ran (its calls are not
// interruption points), and the command under test is args.
func crashWorld(t *testing.T, args []string, setup func(e *cmdtest.Env)) peeringtest.World {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	setup(e)
	e.SB.GCP.HTTP().ResetLog()
	e.SB.DF.HTTP().ResetLog()
	return &cmdtest.FlowWorld{Env: e, Args: args, Snap: state,
		Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.GCP.HTTP() }}
}

func connectOK(t *testing.T, e *cmdtest.Env) {
	t.Helper()
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
}

// disconnect interrupted after any of its mutating calls, then run again,
// ends where an uninterrupted one does.
func TestDisconnectCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return crashWorld(t, verb("disconnect", "--yes", "--no-input"), func(e *cmdtest.Env) { connectOK(t, e) })
	})
}

// connect --recreate of a connection whose Dragonfly side is gone,
// interrupted anywhere, converges as well.
func TestRecreateCrashAtEveryStep(t *testing.T) {
	// Interrupted right after connections.delete, the re-run finds the
	// old connection "deleting" and waits it out before creating the new
	// one.
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return crashWorld(t, args("--recreate"), func(e *cmdtest.Env) {
			connectOK(t, e)
			if err := e.SB.GCP.DeletePeering(e.SB.DF.Connections()[0].PeerConnectionID); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// Resources seeded before connect that look related — a rule allowing the
// port from the Dragonfly CIDR under another name, a deny rule, a peering
// of a dfpeer-like name towards another network — are exactly as they
// were after connect and disconnect: the project's state equals the one
// before connect.
func TestDisconnectLeavesLookalikes(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	for _, fw := range []*computepb.Firewall{
		{Name: proto.String("allow-dragonfly"), Network: proto.String("global/networks/" + vpc), Description: proto.String("Dragonfly Cloud"),
			Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"6379"}}}, SourceRanges: []string{demoCIDR}},
		denyRule("no-egress", "EGRESS", 800, "10.99.0.0/16"),
	} {
		if err := e.SB.GCP.AddFirewall(project, fw); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.SB.GCP.AddPeering(project, vpc, gcpsim.PeeringSpec{Name: "dfpeer-legacy", PeerNetwork: sandbox.DemoGCPOverlapNetwork}); err != nil {
		t.Fatal(err)
	}
	before := e.SB.GCP.Snapshot()
	connectOK(t, e)
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if got := e.SB.GCP.Snapshot(); string(got) != string(before) {
		t.Fatalf("disconnect did not leave the project as before connect:\n%s", cmdtest.Diff(before, got))
	}
}

// A peering added while Dragonfly's side was down imports a range
// overlapping the Dragonfly CIDR: status fails it, naming the peering and
// the range, with the gcloud command that removes it.
func TestStatusImportedRouteOverlaps(t *testing.T) {
	e := connected(t)
	if err := e.SB.GCP.DeletePeering(e.SB.DF.Connections()[0].PeerConnectionID); err != nil {
		t.Fatal(err)
	}
	peerShared(t, e, "192.168.200.0/24")
	broken(t, e, "imported_route:to-shared/192.168.200.0/24", "route 192.168.200.0/24 imported over peering to-shared", "overlaps the Dragonfly CIDR "+demoCIDR,
		"fix: Compute refuses a peering whose ranges overlap", "gcloud compute networks peerings delete to-shared --network app-network")
}

// A healthy connection's status lists what was looked at, each ok: the
// connection, the peering, the rule, the deny rules, the subnet ranges.
func TestStatusHealthyChecks(t *testing.T) {
	e := connected(t)
	_, h := e.Status(verb("status")...)
	var got []string
	for _, c := range h.Checks {
		if c.Status != peering.OK {
			t.Errorf("check %s is %s: %s", c.ID, c.Status, c.Message)
		}
		got = append(got, string(c.Side)+" "+c.ID)
	}
	want := "dragonfly connection|cloud peering:dfpeer-" + defaultName + "|cloud firewall_rule:" + ruleName + "|cloud deny_rules|cloud subnet_range"
	if strings.Join(got, "|") != want {
		t.Fatalf("checks %q\nwant %q", strings.Join(got, "|"), want)
	}
	for _, c := range h.Checks {
		if c.ID == "peering:dfpeer-"+defaultName && !strings.Contains(c.Message, "ACTIVE") {
			t.Errorf("peering check does not show its state: %s", c.Message)
		}
	}
}

// connect repairing dfpeer's disabled rule, interrupted anywhere,
// converges too.
func TestRepairCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return crashWorld(t, args(), func(e *cmdtest.Env) {
			connectOK(t, e)
			disableRule(t, e)
		})
	})
}
