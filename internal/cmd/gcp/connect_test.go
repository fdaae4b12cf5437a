package gcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
	"github.com/dragonflydb/dfpeer/internal/sim/gcpsim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

const (
	demoCIDR    = "192.168.0.0/16"
	project     = sandbox.GCPProject
	vpc         = sandbox.DemoGCPNetwork
	defaultName = "app-network-demo-gcp"
	ruleName    = "dfpeer-app-network-demo-gcp"
)

var connectArgs = []string{"gcp", "connect", "--network", "demo-gcp", "--vpc", vpc, "--yes", "--no-input"}

func args(extra ...string) []string { return cmdtest.With(connectArgs, extra...) }

// stateDetailsTime is the instant Compute writes into a peering's
// stateDetails ("[2026-…-08:00]: Connected."): when, not what.
var stateDetailsTime = regexp.MustCompile(`\[\d{4}-\d\d-\d\dT[^\]]*\]`)

func state(e *cmdtest.Env) []byte {
	return stateDetailsTime.ReplaceAll(e.State(e.SB.GCP.Snapshot()), []byte("[<time>]"))
}

// peeringsBetween returns the peerings of project/network towards
// peerProject/peerNetwork.
func peeringsBetween(t *testing.T, sim *gcpsim.Sim, proj, network, peerProject, peerNetwork string) []*computepb.NetworkPeering {
	t.Helper()
	n, ok := sim.Network(proj, network)
	if !ok {
		t.Fatalf("network %s/%s is gone", proj, network)
	}
	var out []*computepb.NetworkPeering
	for _, pe := range n.GetPeerings() {
		if p, nn, ok := gcpprov.NetworkRef(pe.GetNetwork()); ok && p == peerProject && nn == peerNetwork {
			out = append(out, pe)
		}
	}
	return out
}

// assertConnected checks the simulators' final state: one active
// connection; exactly one peering each way, both ACTIVE; one firewall rule
// for the Dragonfly CIDR, with exactly that source and port, and nothing
// open to the world.
func assertConnected(t *testing.T, e *cmdtest.Env, port int, targetTags []string) {
	t.Helper()
	conns := e.SB.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" {
		t.Fatalf("want one active connection, got %+v", conns)
	}
	ours := peeringsBetween(t, e.SB.GCP, project, vpc, sandbox.DragonflyGCPProject, sandbox.DragonflyGCPNetwork)
	theirs := peeringsBetween(t, e.SB.GCP, sandbox.DragonflyGCPProject, sandbox.DragonflyGCPNetwork, project, vpc)
	if len(ours) != 1 || ours[0].GetState() != "ACTIVE" || !ours[0].GetExchangeSubnetRoutes() {
		t.Errorf("customer side: want one ACTIVE peering to Dragonfly, got %v", ours)
	}
	if len(theirs) != 1 || theirs[0].GetState() != "ACTIVE" || theirs[0].GetName() != conns[0].PeerConnectionID {
		t.Errorf("Dragonfly side: want one ACTIVE peering %s, got %v", conns[0].PeerConnectionID, theirs)
	}
	n := 0
	for _, fw := range e.SB.GCP.Firewalls(project) {
		for _, r := range fw.GetSourceRanges() {
			if r == "0.0.0.0/0" || r == "::/0" {
				t.Errorf("rule open to the world: %v", fw)
			}
		}
		if !slices.Contains(fw.GetSourceRanges(), demoCIDR) {
			continue
		}
		n++
		want := fmt.Sprint(port)
		a := fw.GetAllowed()
		if fw.GetDirection() != "INGRESS" || len(fw.GetSourceRanges()) != 1 || len(a) != 1 || a[0].GetIPProtocol() != "tcp" ||
			!slices.Equal(a[0].GetPorts(), []string{want}) || !strings.Contains(fw.GetDescription(), "dfpeer") ||
			!strings.HasSuffix(fw.GetNetwork(), "/global/networks/"+vpc) || !slices.Equal(fw.GetTargetTags(), targetTags) {
			t.Errorf("rule %v", fw)
		}
	}
	if n != 1 {
		t.Errorf("%d firewall rules from %s, want 1", n, demoCIDR)
	}
}

func TestGCPConnectEndToEndAndRerun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	res := cmdtest.Result(t, e.Out.Bytes())
	if res.Status != "active" || res.Provider != "gcp" || !strings.HasPrefix(res.PeerConnectionID, "dfcloud-") || len(res.Routes) != 0 || len(res.FirewallRules) != 1 {
		t.Fatalf("result %+v", res)
	}
	if fr := res.FirewallRules[0]; fr != (peering.FirewallRule{Target: vpc, Name: ruleName, Protocol: "tcp", Port: 6379, Source: demoCIDR, AppliesTo: "every instance", Action: "created"}) {
		t.Errorf("firewall rule %+v", fr)
	}
	assertConnected(t, e, 6379, nil)
	if pe := peeringsBetween(t, e.SB.GCP, project, vpc, sandbox.DragonflyGCPProject, sandbox.DragonflyGCPNetwork); pe[0].GetName() != ruleName ||
		pe[0].GetImportCustomRoutes() || pe[0].GetExportCustomRoutes() {
		t.Errorf("peering %v", pe[0])
	}
	if !strings.Contains(e.ErrOut.String(), "Add VPC peering "+ruleName) {
		t.Errorf("no progress on stderr: %s", e.ErrOut)
	}
	if !bytes.Contains(e.Out.Bytes(), []byte(`"firewall_rules"`)) || bytes.Contains(e.Out.Bytes(), []byte(`"routes"`)) {
		t.Errorf("JSON schema: %s", e.Out)
	}

	// Re-run: nothing changes, nothing is written, everything "unchanged".
	before := state(e)
	e.SB.GCP.HTTP().ResetLog()
	e.SB.DF.HTTP().ResetLog()
	e.Out.Reset()
	e.ErrOut.Reset()
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, e.ErrOut)
	}
	again := cmdtest.Result(t, e.Out.Bytes())
	if again.ConnectionID != res.ConnectionID || again.Status != "active" {
		t.Fatalf("re-run: %+v vs %+v", again, res)
	}
	if again.FirewallRules[0].Action != "unchanged" {
		t.Errorf("re-run: rule %+v", again.FirewallRules[0])
	}
	if !strings.Contains(e.ErrOut.String(), "already present (ACTIVE)") {
		t.Errorf("re-run did not recognise the peering:\n%s", e.ErrOut)
	}
	if !bytes.Equal(before, state(e)) {
		t.Errorf("re-run changed the simulators' state")
	}
	if m := cmdtest.MutatingCalls(e.SB.GCP.HTTP(), e.SB.DF.HTTP()); len(m) != 0 {
		t.Errorf("re-run made mutating calls: %v", m)
	}
}

func TestGCPConnectSummaryTextWithTags(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("--port", "6380", "--firewall-target-tags", "cache-clients,web", "--import-custom-routes")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	out := e.Out.String()
	for _, want := range []string{"is active", "Peering:  dfpeer-app-network-demo-gcp (yours); dfcloud-", "Firewall: " + ruleName + " in " + vpc + ": allow tcp 6380 from 192.168.0.0/16 to instances tagged cache-clients, web (created)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(e.ErrOut.String(), "Next: create a datastore") {
		t.Errorf("no next step hint: %s", e.ErrOut)
	}
	assertConnected(t, e, 6380, []string{"cache-clients", "web"})
	pe := peeringsBetween(t, e.SB.GCP, project, vpc, sandbox.DragonflyGCPProject, sandbox.DragonflyGCPNetwork)[0]
	if !pe.GetImportCustomRoutes() || pe.GetExportCustomRoutes() {
		t.Errorf("custom routes: %v", pe)
	}
	// A re-run without the flags keeps what the first run chose.
	e.SB.GCP.HTTP().ResetLog()
	if code := e.Run(args("--port", "6380")...); code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, e.ErrOut)
	}
	if m := cmdtest.MutatingCalls(e.SB.GCP.HTTP()); len(m) != 0 {
		t.Errorf("re-run made mutating calls: %v", m)
	}
}

// An existing peering to Dragonfly's network under another name is adopted
// (said in the plan), not duplicated.
func TestGCPConnectAdoptsExistingPeering(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	addManualPeering(t, e)
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	if !strings.Contains(e.ErrOut.String(), "adopt   peering: existing peering manual-dragonfly") {
		t.Errorf("plan does not say it adopts the peering:\n%s", e.ErrOut)
	}
	assertConnected(t, e, 6379, nil)
	if e.SB.GCP.HTTP().Count("networks.addPeering") != 0 {
		t.Errorf("addPeering was called")
	}
}

func TestGCPConnectRefusalsChangeNothing(t *testing.T) {
	seedRule := func(e *cmdtest.Env, fw *computepb.Firewall) {
		if err := e.SB.GCP.AddFirewall(project, fw); err != nil {
			t.Fatal(err)
		}
	}
	cmdtest.AssertRefusals(t, state, []cmdtest.Refusal{
		{"overlapping secondary range", func(e *cmdtest.Env) []string {
			return []string{"gcp", "connect", "--network", "demo-gcp", "--vpc", sandbox.DemoGCPOverlapNetwork, "--yes", "--no-input"}
		}, "--vpc legacy-network: 192.168.50.0/24 (secondary range services of subnet legacy-us-central1 in us-central1) overlaps the Dragonfly network demo-gcp CIDR 192.168.0.0/16"},
		{"unknown VPC", func(e *cmdtest.Env) []string {
			return []string{"gcp", "connect", "--network", "demo-gcp", "--vpc", "nope", "--yes", "--no-input"}
		}, "--vpc nope: no such network in project acme-app (networks there: app-network, legacy-network"},
		{"unknown project", func(e *cmdtest.Env) []string { return args("--project", "no-such-project") }, "project no-such-project does not exist"},
		{"network of another cloud", func(e *cmdtest.Env) []string {
			return []string{"gcp", "connect", "--network", "demo-aws", "--vpc", vpc, "--yes", "--no-input"}
		}, "is an AWS network"},
		{"unknown network", func(e *cmdtest.Env) []string {
			return []string{"gcp", "connect", "--network", "nope", "--vpc", vpc, "--yes", "--no-input"}
		}, "valid names: demo-aws"},
		{"rule name taken with other content", func(e *cmdtest.Env) []string {
			seedRule(e, &computepb.Firewall{Name: proto.String(ruleName), Network: proto.String("global/networks/" + vpc),
				Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"6379"}}}, SourceRanges: []string{"0.0.0.0/0"}})
			return args()
		}, "firewall rule " + ruleName + " already exists and differs from the one dfpeer would create (its sources are 0.0.0.0/0, not 192.168.0.0/16 only): " + ruleName + " (network app-network, INGRESS, priority 1000, allow tcp:6379 from 0.0.0.0/0"},
		{"rule name taken with other targets", func(e *cmdtest.Env) []string {
			seedRule(e, &computepb.Firewall{Name: proto.String(ruleName), Network: proto.String("global/networks/" + vpc),
				Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"6379"}}}, SourceRanges: []string{demoCIDR}, TargetTags: []string{"db"}})
			return args("--firewall-target-tags", "web")
		}, "it applies to instances tagged db, not instances tagged web"},
		{"route imported over another peering overlaps", func(e *cmdtest.Env) []string {
			peerShared(t, e, "192.168.200.0/24")
			return args()
		}, "--vpc app-network: route 192.168.200.0/24 imported over peering to-shared (from https://www.googleapis.com/compute/v1/projects/shared-host/global/networks/shared-services) overlaps the Dragonfly network demo-gcp CIDR 192.168.0.0/16"},
		{"peering name taken towards another network", func(e *cmdtest.Env) []string {
			if err := e.SB.GCP.AddPeering(project, vpc, gcpsim.PeeringSpec{Name: ruleName, PeerProject: project, PeerNetwork: sandbox.DemoGCPOverlapNetwork}); err != nil {
				t.Fatal(err)
			}
			return args()
		}, "network app-network already has a peering named " + ruleName},
		{"custom routes differ from the existing peering", func(e *cmdtest.Env) []string {
			if err := e.SB.GCP.AddPeering(project, vpc, gcpsim.PeeringSpec{Name: "manual", PeerProject: sandbox.DragonflyGCPProject, PeerNetwork: sandbox.DragonflyGCPNetwork, ImportCustomRoutes: true}); err != nil {
				t.Fatal(err)
			}
			return args("--import-custom-routes=false")
		}, "--import-custom-routes=false but the peering has it on"},
		{"peering limit reached", func(e *cmdtest.Env) []string {
			for i := 0; i < 25; i++ {
				name := fmt.Sprintf("other-%02d", i)
				if err := e.SB.GCP.AddNetwork("other-project", gcpsim.NetworkSpec{Name: name,
					Subnets: []gcpsim.SubnetSpec{{Name: name, Region: "us-east1", CIDR: fmt.Sprintf("172.20.%d.0/24", i)}}}); err != nil {
					t.Fatal(err)
				}
				if err := e.SB.GCP.AddPeering(project, vpc, gcpsim.PeeringSpec{Name: name, PeerProject: "other-project", PeerNetwork: name}); err != nil {
					t.Fatal(err)
				}
			}
			return args()
		}, "already has 25 peerings, Compute's limit per network"},
		{"name taken by another peer", func(e *cmdtest.Env) []string {
			if code := e.Run(args("--name", "taken")...); code != 0 {
				t.Fatalf("setup: %s", e.ErrOut)
			}
			return []string{"gcp", "connect", "--network", "demo-gcp", "--vpc", sandbox.DemoGCPOverlapNetwork, "--yes", "--no-input", "--name", "taken"}
		}, `--name "taken": network already has a connection of that name`},
		{"tags and service accounts together", func(e *cmdtest.Env) []string {
			return args("--firewall-target-tags", "web", "--firewall-target-service-accounts", "app@acme-app.iam.gserviceaccount.com")
		}, "cannot be used together"},
		{"bad project ID", func(e *cmdtest.Env) []string { return args("--project", "Acme App") }, `invalid value "Acme App" for --project`},
		{"bad network name", func(e *cmdtest.Env) []string { return args("--vpc", "App_Network") }, `invalid value "App_Network" for --vpc`},
		{"bad tag", func(e *cmdtest.Env) []string { return args("--firewall-target-tags", "Web") }, `invalid value "Web" for --firewall-target-tags`},
		{"bad service account", func(e *cmdtest.Env) []string {
			return args("--firewall-target-service-accounts", "not-an-email")
		}, `invalid value "not-an-email" for --firewall-target-service-accounts`},
		{"missing --vpc", func(e *cmdtest.Env) []string {
			return []string{"gcp", "connect", "--network", "demo-gcp", "--yes", "--no-input"}
		}, "--vpc is required when not running interactively"},
	})
}

func TestGCPConnectDryRun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	plan, kinds := cmdtest.DryRunPlan(t, e, state, args())
	if kinds["create connection"] != 1 || kinds["create peering"] != 1 || kinds["create firewall_rule"] != 1 || len(plan.Changes) != 3 {
		t.Errorf("plan %+v", plan)
	}
	e.Out.Reset()
	if code := e.Run(args("--dry-run")...); code != 0 || !strings.Contains(e.Out.String(), "firewall rule: "+ruleName+": allow inbound TCP 6379 from 192.168.0.0/16 to every instance of app-network") {
		t.Errorf("text plan: exit %d\n%s", code, e.Out)
	}
}

// A deny rule that would block the traffic is reported, in the plan and
// while running, without failing the run.
func TestGCPConnectWarnsAboutDenyRules(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	deny := &computepb.Firewall{Name: proto.String("deny-all-egress"), Network: proto.String("global/networks/" + vpc),
		Direction: proto.String("EGRESS"), Priority: proto.Int32(500), Denied: []*computepb.Denied{{IPProtocol: proto.String("all")}},
		DestinationRanges: []string{"0.0.0.0/0"}}
	if err := e.SB.GCP.AddFirewall(project, deny); err != nil {
		t.Fatal(err)
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	want := "warning: egress rule deny-all-egress (priority 500) denies TCP 6379 to 0.0.0.0/0"
	if n := strings.Count(e.ErrOut.String(), want); n != 2 {
		t.Errorf("want the warning in the plan and in the step (2), got %d:\n%s", n, e.ErrOut)
	}
	assertConnected(t, e, 6379, nil)
}

// Throttling (403 rateLimitExceeded, which the Go client does not retry)
// and 503s on a third of the calls, on both APIs, still converge.
func TestGCPConnectConvergesUnderFaults(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.SB.GCP.HTTP().SetFaults(simhttp.Faults{ThrottleRate: 0.17, ErrorRate: 0.16, Seed: 7})
	e.SB.DF.HTTP().SetFaults(simhttp.Faults{ThrottleRate: 0.17, ErrorRate: 0.16, Seed: 8})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	faults := map[simhttp.Fault]int{}
	for _, c := range e.SB.GCP.HTTP().Calls() {
		faults[c.Fault]++
	}
	if faults[simhttp.Throttle] < 2 || faults[simhttp.ServerError] < 2 {
		t.Fatalf("only %v faults were injected on Compute; the test proves nothing", faults)
	}
	assertConnected(t, e, 6379, nil)
}

// A connection dropped on each mutation is retried (with the same
// requestId, so a mutation the server did act on is not repeated).
func TestGCPConnectRetriesDroppedMutations(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.SB.GCP.HTTP().SetFaults(simhttp.Faults{Only: func(op string) bool {
		return op == "networks.addPeering" || op == "firewalls.insert"
	}})
	e.SB.GCP.HTTP().FailNext(simhttp.Drop, 2)
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	drops := 0
	for _, c := range e.SB.GCP.HTTP().Calls() {
		if c.Fault == simhttp.Drop {
			drops++
		}
	}
	if drops != 2 {
		t.Fatalf("%d drops, want 2", drops)
	}
	assertConnected(t, e, 6379, nil)
}

// Compute allows one peering operation at a time across two networks: the
// run waits for the one in progress and goes on.
func TestGCPConnectRetriesPeeringInProgress(t *testing.T) {
	d := sandbox.Delays{Provision: 10 * time.Millisecond, Activate: 10 * time.Millisecond, Delete: 10 * time.Millisecond, GCPOperation: 400 * time.Millisecond}
	e := cmdtest.NewSandbox(t, sandbox.Options{Delays: &d})
	body := `{"networkPeering":{"name":"blocker","network":"projects/acme-app/global/networks/legacy-network","exchangeSubnetRoutes":true}}`
	req, _ := http.NewRequest("POST", e.SB.URL+"/compute/v1/projects/acme-app/global/networks/app-network/addPeering", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.GCPToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("starting a blocking operation: %v %v", err, resp)
	}
	resp.Body.Close()
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	busy := 0
	for _, c := range e.SB.GCP.HTTP().Calls() {
		if c.Op == "networks.addPeering" && c.Status == 400 {
			busy++
		}
	}
	if busy == 0 {
		t.Fatalf("no addPeering was refused as busy: the test proves nothing")
	}
	assertConnected(t, e, 6379, nil)
}

func TestGCPConnectCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return &cmdtest.FlowWorld{Env: cmdtest.NewSandbox(t, sandbox.Options{}), Args: args(), Snap: state,
			Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.GCP.HTTP() }}
	})
}

func interactive(t *testing.T, e *cmdtest.Env) *prompttest.Prompter {
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	p := prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-gcp-demo-0001").
		ExpectSelect("VPC network to peer", vpc).
		ExpectInput("Firewall rule target tags", "").
		ExpectInput("Connection name", "").
		ExpectConfirm("Make these changes?", true)
	e.Prompter = p
	return p
}

func TestGCPConnectInteractive(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	p := interactive(t, e)
	if code := e.Run("gcp", "connect"); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	// Only active gcp networks were offered; both VPC networks were, with
	// their mode and every range.
	if opts := p.Seen["Dragonfly Cloud network"]; len(opts) != 1 || !strings.Contains(opts[0].Label, "demo-gcp") {
		t.Errorf("network choices %+v", opts)
	}
	opts := p.Seen["VPC network to peer (project acme-app)"]
	if len(opts) != 2 || opts[0].Label != "app-network  custom  10.10.16.0/20, 10.10.0.0/20, 10.20.0.0/16 (pods)" ||
		!strings.Contains(opts[1].Label, "192.168.50.0/24 (services)") {
		t.Errorf("VPC choices %+v", opts)
	}
	assertConnected(t, e, 6379, nil)
	if c := e.SB.DF.Connections()[0]; c.Config.Name != defaultName || c.Config.Peer.AccountID != project || c.Config.Peer.VPCID != vpc || c.Config.Peer.Region != "" {
		t.Errorf("connection %+v", c.Config)
	}
}

// The permissions `dfpeer gcp permissions` lists are exactly those of the
// Compute methods connect (scripted and interactive), status and
// disconnect called.
func TestGCPPermissionsList(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run("gcp", "permissions", "-o", "json"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Permissions []gcpprov.Permission
		Roles       []struct{ Role string }
	}
	if err := json.Unmarshal(e.Out.Bytes(), &doc); err != nil || len(doc.Roles) == 0 {
		t.Fatalf("%v: %s", err, e.Out)
	}
	e.Out.Reset()
	if code := e.Run("gcp", "permissions"); code != 0 || !strings.Contains(e.Out.String(), "compute.networks.addPeering") || !strings.Contains(e.Out.String(), "roles/compute.networkAdmin") {
		t.Fatalf("text: exit %d\n%s", code, e.Out)
	}

	called := map[string]bool{}
	scripted := cmdtest.NewSandbox(t, sandbox.Options{})
	// Another ACTIVE peering, whose imported routes connect reads.
	peerShared(t, scripted, "10.50.0.0/16")
	if code := scripted.Run(args()...); code != 0 {
		t.Fatalf("connect: %s", scripted.ErrOut)
	}
	asked := cmdtest.NewSandbox(t, sandbox.Options{})
	interactive(t, asked)
	if code := asked.Run("gcp", "connect"); code != 0 {
		t.Fatalf("interactive connect: %s", asked.ErrOut)
	}
	// A repair (dfpeer's rule disabled by hand), status, then disconnect,
	// call the rest. The hand-made change is no call of dfpeer's.
	for _, c := range scripted.SB.GCP.HTTP().Calls() {
		called[c.Op] = true
	}
	disableRule(t, scripted)
	scripted.SB.GCP.HTTP().ResetLog()
	if code := scripted.Run(args()...); code != 0 {
		t.Fatalf("repair: exit %d\n%s", code, scripted.ErrOut)
	}
	for _, v := range []string{"status", "disconnect"} {
		if code := scripted.Run(verb(v, "--yes", "--no-input")...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", v, code, scripted.ErrOut)
		}
	}
	if len(scripted.SB.DF.Connections()) != 1 || scripted.SB.DF.Connections()[0].Status != "deleted" {
		t.Fatalf("disconnect did not delete the connection: %+v", scripted.SB.DF.Connections())
	}
	for _, env := range []*cmdtest.Env{scripted, asked} {
		for _, c := range env.SB.GCP.HTTP().Calls() {
			called[c.Op] = true
		}
	}
	listed := map[string]bool{}
	for _, p := range doc.Permissions {
		for _, m := range p.Methods {
			listed[m] = true
			if !called[m] {
				t.Errorf("%s is listed for %s, which neither connect nor removing called", p.Name, m)
			}
		}
	}
	for m := range called {
		if !listed[m] {
			t.Errorf("connect or removing called %s, for which no permission is listed", m)
		}
	}
}

// Each listed permission is really needed: the simulator denying it (as
// IAM would) stops the run with exit 4, naming it and pointing at
// `dfpeer gcp permissions`.
func TestGCPEachPermissionIsNeeded(t *testing.T) {
	for _, p := range gcpprov.Permissions {
		if p.Name == "compute.networks.list" {
			continue // only the --vpc prompt and an unknown --vpc list networks
		}
		t.Run(p.Name, func(t *testing.T) {
			e := cmdtest.NewSandbox(t, sandbox.Options{})
			if p.Repair {
				// Only repairing dfpeer's rule needs it.
				if code := e.Run(args()...); code != 0 {
					t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
				}
				disableRule(t, e)
				e.SB.GCP.Deny(project, p.Name)
				e.ErrOut.Reset()
				if code := e.Run(args()...); code != cmdutil.ExitAuth || !strings.Contains(e.ErrOut.String(), "Required '"+p.Name+"' permission") {
					t.Fatalf("repair without %s: exit %d\n%s", p.Name, code, e.ErrOut)
				}
				return
			}
			if p.Disconnect {
				// Only taking the connection down needs it.
				if code := e.Run(args()...); code != 0 {
					t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
				}
				e.SB.GCP.Deny(project, p.Name)
				_, err := removeAll(t, e)
				var hint *cmdutil.HintError
				if cmdutil.ExitCode(err) != cmdutil.ExitAuth || !strings.Contains(fmt.Sprint(err), "Required '"+p.Name+"' permission") ||
					!errors.As(err, &hint) || !strings.Contains(hint.Hint, "dfpeer gcp permissions") {
					t.Fatalf("removing without %s: %v", p.Name, err)
				}
				// The command says the same, and leaves the connection for
				// a run with the permission to finish.
				e.ErrOut.Reset()
				if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != cmdutil.ExitAuth ||
					!strings.Contains(e.ErrOut.String(), "Required '"+p.Name+"' permission") || !strings.Contains(e.ErrOut.String(), "dfpeer gcp permissions") {
					t.Fatalf("disconnect without %s: exit %d\n%s", p.Name, code, e.ErrOut)
				}
				if c := e.SB.DF.Connections()[0]; c.Status == "deleted" || c.Status == "deleting" {
					t.Fatalf("disconnect deleted the connection before the cloud side: %s", c.Status)
				}
				return
			}
			if p.Name == "compute.networks.listPeeringRoutes" {
				peerShared(t, e, "10.50.0.0/16") // only read when there are other peerings
			}
			e.SB.GCP.Deny(project, p.Name)
			code := e.Run(args()...)
			if code != cmdutil.ExitAuth {
				t.Fatalf("exit %d, want 4\n%s", code, e.ErrOut)
			}
			for _, want := range []string{"Required '" + p.Name + "' permission", "dfpeer gcp permissions"} {
				if !strings.Contains(e.ErrOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, e.ErrOut)
				}
			}
		})
	}
}

// --verbose shows every Compute and Dragonfly call, and no credential.
func TestGCPConnectVerboseLeaksNothing(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("--verbose")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	all := e.Out.String() + e.ErrOut.String()
	for _, want := range []string{
		"* POST " + e.SB.URL + "/compute/v1/projects/acme-app/global/networks/app-network/addPeering",
		"* POST " + e.SB.URL + "/compute/v1/projects/acme-app/global/firewalls",
		"* GET " + e.SB.URL + "/compute/v1/projects/acme-app/aggregated/subnetworks 200",
		"* GET " + e.SB.URL + "/v1/networks",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("--verbose lacks %q:\n%s", want, all)
		}
	}
	for _, secret := range []string{sandbox.GCPToken, sandbox.APIKey, "Authorization", "Bearer"} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
}

// outsideSandbox points the Factory at the sandbox's simulators through
// the environment, as a user would point gcloud and dfpeer at them.
func outsideSandbox(t *testing.T) *cmdtest.Env {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) { return nil, nil }
	e.Vars["DFCLOUD_API_URL"] = e.SB.URL
	e.Vars["DFCLOUD_API_KEY"] = sandbox.APIKey
	e.Vars[gcpprov.EndpointEnv] = e.SB.Endpoints.GCP.URL
	e.Vars[gcpprov.TokenEnv] = sandbox.GCPToken
	e.Vars["CLOUDSDK_CONFIG"] = t.TempDir()
	return e
}

func TestGCPConnectThroughEnvironment(t *testing.T) {
	t.Run("token, endpoint and GOOGLE_CLOUD_PROJECT", func(t *testing.T) {
		e := outsideSandbox(t)
		e.Vars["GOOGLE_CLOUD_PROJECT"] = project
		if code := e.Run(args()...); code != 0 {
			t.Fatalf("exit %d\n%s", code, e.ErrOut)
		}
		assertConnected(t, e, 6379, nil)
	})
	t.Run("gcloud's configured project", func(t *testing.T) {
		e := outsideSandbox(t)
		dir := e.Vars["CLOUDSDK_CONFIG"]
		os.MkdirAll(filepath.Join(dir, "configurations"), 0o755)
		os.WriteFile(filepath.Join(dir, "active_config"), []byte("work\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "configurations", "config_work"), []byte("[core]\naccount = me@example.com\nproject = acme-app\n"), 0o644)
		if code := e.Run(args("--dry-run")...); code != 0 || !strings.Contains(e.Out.String(), "to gcp app-network in acme-app") {
			t.Fatalf("exit %d\n%s%s", code, e.Out, e.ErrOut)
		}
	})
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		code     int
		contains string
	}{
		{"no project anywhere", nil, cmdutil.ExitInput, "--project is required"},
		{"plain http to another host", map[string]string{gcpprov.EndpointEnv: "http://compute.example.com/compute/v1/", "GOOGLE_CLOUD_PROJECT": project},
			cmdutil.ExitInput, gcpprov.EndpointEnv + ` "http://compute.example.com/compute/v1/": plain http is only allowed for loopback`},
		{"endpoint that is not the v1 root", map[string]string{gcpprov.EndpointEnv: "https://compute.example.com/storage/", "GOOGLE_CLOUD_PROJECT": project},
			cmdutil.ExitInput, "want the Compute v1 root"},
		{"rejected token", map[string]string{gcpprov.TokenEnv: "expired-token", "GOOGLE_CLOUD_PROJECT": project},
			cmdutil.ExitAuth, "gcloud auth application-default login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := outsideSandbox(t)
			for k, v := range tc.vars {
				e.Vars[k] = v
			}
			before := state(e)
			if code := e.Run(args()...); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, e.ErrOut)
			}
			if !strings.Contains(e.ErrOut.String(), tc.contains) {
				t.Errorf("stderr does not say %q:\n%s", tc.contains, e.ErrOut)
			}
			if strings.Contains(e.ErrOut.String(), "expired-token") {
				t.Errorf("the token leaked:\n%s", e.ErrOut)
			}
			if !bytes.Equal(before, state(e)) {
				t.Errorf("state changed")
			}
		})
	}
}

// Without a token or Application Default Credentials, connect stops
// before any question or API call: exit 4 with the login hint.
func TestGCPConnectMissingCredentials(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("GCE_METADATA_HOST", "")
	e := outsideSandbox(t)
	delete(e.Vars, gcpprov.TokenEnv)
	e.Vars["GOOGLE_CLOUD_PROJECT"] = project
	e.SB.DF.HTTP().ResetLog()
	if code := e.Run(args()...); code != cmdutil.ExitAuth {
		t.Fatalf("exit %d, want 4\n%s", code, e.ErrOut)
	}
	if !strings.Contains(e.ErrOut.String(), "gcloud auth application-default login") {
		t.Errorf("no login hint:\n%s", e.ErrOut)
	}
	if n := len(e.SB.GCP.HTTP().Calls()) + len(e.SB.DF.HTTP().Calls()); n != 0 {
		t.Errorf("%d API calls before failing", n)
	}
}

// observed is the sandbox's one connection as the provider observes it
// (through the SDK, as disconnect will), with the state Remove needs.
func observed(t *testing.T, e *cmdtest.Env) (*gcpprov.Provider, *peering.Observation, *peering.State, error) {
	t.Helper()
	ctx := context.Background()
	conns := e.SB.DF.Connections()
	if len(conns) != 1 {
		t.Fatalf("want one connection, got %+v", conns)
	}
	api, err := e.F.DFCloud()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := api.GetConnection(ctx, conns[0].ConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	net, err := api.GetNetwork(ctx, conn.Config.NetworkID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gcpprov.NewClient(ctx, gcpprov.Config{Sandbox: e.SB.Endpoints.GCP, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	prov := gcpprov.NewProvider(c, gcpprov.Inputs{Network: conn.Config.Peer.VPCID, Port: 6379, Timeout: time.Minute})
	obs, err := prov.Observe(ctx, peering.Target{Network: net, Name: conn.Config.Name, Peer: conn.Config.Peer, Existing: conn})
	if err != nil {
		return nil, nil, nil, err
	}
	st := &peering.State{Network: net, Peer: conn.Config.Peer, Connection: conn, Report: nopReporter{}, Cloud: obs.Cloud, Result: &peering.Result{}}
	return prov, obs, st, nil
}

// removeAll takes the GCP side of the sandbox's one connection down as
// disconnect does: Observe, then Remove of each change, the last made
// first. It returns the notes of the removals.
func removeAll(t *testing.T, e *cmdtest.Env) ([]string, error) {
	t.Helper()
	prov, obs, st, err := observed(t, e)
	if err != nil {
		return nil, err
	}
	var notes []string
	for i := len(obs.Changes) - 1; i >= 0; i-- {
		note, err := prov.Remove(context.Background(), st, obs.Changes[i])
		if err != nil {
			return notes, err
		}
		notes = append(notes, note)
	}
	return notes, nil
}

// addManualPeering gives the VPC a peering to Dragonfly's network that
// dfpeer did not make.
func addManualPeering(t *testing.T, e *cmdtest.Env) {
	t.Helper()
	if err := e.SB.GCP.AddPeering(project, vpc, gcpsim.PeeringSpec{Name: "manual-dragonfly", PeerProject: sandbox.DragonflyGCPProject, PeerNetwork: sandbox.DragonflyGCPNetwork}); err != nil {
		t.Fatal(err)
	}
}

type nopReporter struct{}

func (nopReporter) Start(string)  {}
func (nopReporter) Update(string) {}
func (nopReporter) Done(string)   {}
func (nopReporter) Fail(error)    {}
func (nopReporter) Info(string)   {}

// peerShared peers the VPC both ways (ACTIVE) with a network of another
// project whose one subnet is cidr.
func peerShared(t *testing.T, e *cmdtest.Env, cidr string) {
	t.Helper()
	if err := e.SB.GCP.AddNetwork("shared-host", gcpsim.NetworkSpec{Name: "shared-services",
		Subnets: []gcpsim.SubnetSpec{{Name: "shared", Region: "us-east1", CIDR: cidr}}}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		e.SB.GCP.AddPeering(project, vpc, gcpsim.PeeringSpec{Name: "to-shared", PeerProject: "shared-host", PeerNetwork: "shared-services"}),
		e.SB.GCP.AddPeering("shared-host", "shared-services", gcpsim.PeeringSpec{Name: "to-app", PeerProject: project, PeerNetwork: vpc}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}
