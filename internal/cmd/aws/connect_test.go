package aws_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

const demoCIDR = "192.168.0.0/16"

var connectArgs = []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input"}

func args(extra ...string) []string { return cmdtest.With(connectArgs, extra...) }

func state(e *cmdtest.Env) []byte { return e.State(e.SB.AWS.Snapshot()) }

// assertConnected checks the simulators' final state: one active
// connection, one route per table to the peering, one rule per group with
// exactly the network CIDR and port, nothing open to the world.
func assertConnected(t *testing.T, e *cmdtest.Env, tables, groups []string) {
	t.Helper()
	conns := e.SB.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" {
		t.Fatalf("want one active connection, got %+v", conns)
	}
	pcx := conns[0].PeerConnectionID
	for _, id := range tables {
		routes, _ := e.SB.AWS.RouteTable(id)
		n := 0
		for _, r := range routes {
			if r.Destination == demoCIDR {
				n++
				if r.Target != pcx || r.State != "active" {
					t.Errorf("%s: route %+v, want → %s active", id, r, pcx)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d routes for %s, want 1: %+v", id, n, demoCIDR, routes)
		}
	}
	for _, id := range groups {
		rules, _ := e.SB.AWS.SecurityGroup(id)
		n := 0
		for _, r := range rules {
			if r.Egress {
				continue
			}
			if r.CIDR == "0.0.0.0/0" || r.CIDR == "::/0" {
				t.Errorf("%s: ingress open to the world: %+v", id, r)
			}
			if r.CIDR == demoCIDR {
				n++
				if r.Protocol != "tcp" || r.FromPort != 6379 || r.ToPort != 6379 || !strings.Contains(r.Description, "dfpeer") {
					t.Errorf("%s: rule %+v", id, r)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d rules from %s, want 1: %+v", id, n, demoCIDR, rules)
		}
	}
}

func TestConnectEndToEndAndRerun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	res := cmdtest.Result(t, e.Out.Bytes())
	if res.Status != "active" || !strings.HasPrefix(res.PeerConnectionID, "pcx-") || len(res.Routes) != 2 || len(res.FirewallRules) != 1 {
		t.Fatalf("result %+v", res)
	}
	for _, r := range append(res.Routes, peering.Route{Action: res.FirewallRules[0].Action}) {
		if r.Action != "created" {
			t.Errorf("first run: %+v not created", r)
		}
	}
	demo := e.SB.Demo
	assertConnected(t, e, []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT}, []string{demo.AWSApp.DefaultSecurityGroupID})
	if !strings.Contains(e.ErrOut.String(), "Accept the VPC peering") {
		t.Errorf("no progress on stderr: %s", e.ErrOut)
	}

	// Re-run: nothing changes, nothing is written, everything "unchanged".
	before := state(e)
	e.SB.AWS.HTTP().ResetLog()
	e.SB.DF.HTTP().ResetLog()
	e.Out.Reset()
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, e.ErrOut)
	}
	again := cmdtest.Result(t, e.Out.Bytes())
	if again.ConnectionID != res.ConnectionID {
		t.Fatalf("re-run used another connection: %s vs %s", again.ConnectionID, res.ConnectionID)
	}
	for _, r := range again.Routes {
		if r.Action != "unchanged" {
			t.Errorf("re-run: route %+v", r)
		}
	}
	if again.FirewallRules[0].Action != "unchanged" {
		t.Errorf("re-run: rule %+v", again.FirewallRules[0])
	}
	if !bytes.Equal(before, state(e)) {
		t.Errorf("re-run changed the simulators' state")
	}
	if m := cmdtest.MutatingCalls(e.SB.AWS.HTTP(), e.SB.DF.HTTP()); len(m) != 0 {
		t.Errorf("re-run made mutating calls: %v", m)
	}
}

func TestConnectSummaryText(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("--port", "6380", "--security-group", e.SB.Demo.AWSServersSG)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	out := e.Out.String()
	for _, want := range []string{"is active", "Peering:  pcx-", "Route:    192.168.0.0/16 in " + e.SB.Demo.AWSPrivateRT, "allow tcp 6380 from 192.168.0.0/16 (created)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(e.ErrOut.String(), "Next: create a datastore") {
		t.Errorf("no next step hint: %s", e.ErrOut)
	}
}

func TestConnectRefusalsChangeNothing(t *testing.T) {
	cmdtest.AssertRefusals(t, state, []cmdtest.Refusal{
		{"overlapping VPC", func(e *cmdtest.Env) []string {
			return []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSOverlapVPC, "--yes", "--no-input"}
		}, "overlaps the Dragonfly network"},
		{"unknown VPC", func(e *cmdtest.Env) []string {
			return []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", "vpc-0000000000000dead", "--yes", "--no-input"}
		}, "--vpc-id vpc-0000000000000dead: no such VPC"},
		{"pending network", func(e *cmdtest.Env) []string {
			return []string{"aws", "connect", "--network", "demo-aws-new", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input"}
		}, "status is pending"},
		{"network of another cloud", func(e *cmdtest.Env) []string {
			return []string{"aws", "connect", "--network", "demo-gcp", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input"}
		}, "is a GCP network"},
		{"unknown network", func(e *cmdtest.Env) []string {
			return []string{"aws", "connect", "--network", "nope", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input"}
		}, "valid names: demo-aws"},
		{"account mismatch", func(e *cmdtest.Env) []string { return args("--account-id", "999999999999") }, "does not match the account of the AWS credentials (123456789012)"},
		{"route table of another VPC", func(e *cmdtest.Env) []string {
			return args("--route-table", e.SB.Demo.AWSLegacy.MainRouteTableID)
		}, "not a route table of " + sandbox.DemoAWSVPC},
		{"security group of another VPC", func(e *cmdtest.Env) []string {
			return args("--security-group", e.SB.Demo.AWSLegacy.DefaultSecurityGroupID)
		}, "not a security group of " + sandbox.DemoAWSVPC},
		{"route already taken", func(e *cmdtest.Env) []string {
			if err := e.SB.AWS.AddRoute(e.SB.Demo.AWSPrivateRT, demoCIDR, "igw-0123456789abcdef0"); err != nil {
				t.Fatal(err)
			}
			return args()
		}, "already routes 192.168.0.0/16 to igw-0123456789abcdef0"},
		{"name taken by another peer", func(e *cmdtest.Env) []string {
			if code := e.Run("aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input", "--name", "taken"); code != 0 {
				t.Fatalf("setup: %s", e.ErrOut)
			}
			return []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSOverlapVPC, "--yes", "--no-input", "--name", "taken"}
		}, `--name "taken": network already has a connection of that name`},
	})
}

func TestConnectDryRun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	plan, counts := cmdtest.DryRunPlan(t, e, state, args())
	if counts["create connection"] != 1 || counts["accept peering"] != 1 || counts["create route"] != 2 || counts["create firewall_rule"] != 1 || len(plan.Changes) != 5 {
		t.Errorf("plan %+v", plan)
	}
	e.Out.Reset()
	if code := e.Run(args("--dry-run")...); code != 0 || !strings.Contains(e.Out.String(), "route: 192.168.0.0/16 → the peering") {
		t.Errorf("text plan: exit %d\n%s", code, e.Out)
	}
}

// Throttling and 5xx on a third of the calls, on both APIs, still converge.
func TestConnectConvergesUnderFaults(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.SB.AWS.HTTP().SetFaults(simhttp.Faults{ThrottleRate: 0.17, ErrorRate: 0.16, Seed: 7})
	e.SB.DF.HTTP().SetFaults(simhttp.Faults{ThrottleRate: 0.17, ErrorRate: 0.16, Seed: 8})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	faults := 0
	for _, s := range []*simhttp.Server{e.SB.AWS.HTTP(), e.SB.DF.HTTP()} {
		for _, c := range s.Calls() {
			if c.Fault != simhttp.NoFault {
				faults++
			}
		}
	}
	if faults < 5 {
		t.Fatalf("only %d faults were injected; the test proves nothing", faults)
	}
	demo := e.SB.Demo
	assertConnected(t, e, []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT}, []string{demo.AWSApp.DefaultSecurityGroupID})
}

func TestConnectCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return &cmdtest.FlowWorld{Env: cmdtest.NewSandbox(t, sandbox.Options{}), Args: args(), Snap: state,
			Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.AWS.HTTP() }}
	})
}

func TestConnectInteractive(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	demo := e.SB.Demo
	p := prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-aws-demo-0001").
		ExpectSelect("VPC to peer", sandbox.DemoAWSVPC).
		ExpectMultiSelect("Route tables", nil).
		ExpectMultiSelect("Security groups", []string{demo.AWSApp.DefaultSecurityGroupID, demo.AWSServersSG}).
		ExpectInput("Connection name", "").
		ExpectConfirm("Make these changes?", true)
	e.Prompter = p
	if code := e.Run("aws", "connect"); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	// Only active aws networks were offered; both VPCs were.
	if opts := p.Seen["Dragonfly Cloud network"]; len(opts) != 1 {
		t.Errorf("network choices %+v", opts)
	}
	if opts := p.Seen["VPC to peer (us-east-1)"]; len(opts) != 2 || !strings.Contains(opts[0].Label, "app-vpc") {
		t.Errorf("VPC choices %+v", opts)
	}
	assertConnected(t, e, []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT}, []string{demo.AWSApp.DefaultSecurityGroupID, demo.AWSServersSG})
	if c := e.SB.DF.Connections()[0]; c.Config.Name != "app-vpc-demo-aws" {
		t.Errorf("default name %q", c.Config.Name)
	}
}

func TestPermissionsPolicy(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run("aws", "permissions"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Statement []struct{ Action []string }
	}
	if err := json.Unmarshal(e.Out.Bytes(), &doc); err != nil || len(doc.Statement) != 1 {
		t.Fatalf("%v: %s", err, e.Out)
	}
	// Every EC2/STS action the verbs really call — connect, status,
	// connect --recreate after the peering was deleted (which repoints
	// routes), disconnect — is in the policy, and nothing else is.
	e2 := cmdtest.NewSandbox(t, sandbox.Options{})
	called := map[string]bool{}
	collect := func() {
		for _, c := range e2.SB.AWS.HTTP().Calls() {
			prefix := "ec2:"
			if c.Op == "GetCallerIdentity" {
				prefix = "sts:"
			}
			called[prefix+c.Op] = true
		}
		e2.SB.AWS.HTTP().ResetLog()
	}
	connected(t, e2)
	healthy(t, e2)
	collect()
	breakPeering(t, e2) // the customer's own call, not dfpeer's
	e2.SB.AWS.HTTP().ResetLog()
	connected(t, e2, "--recreate")
	if code := e2.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("disconnect: %s", e2.ErrOut)
	}
	collect()
	policy := map[string]bool{}
	for _, a := range doc.Statement[0].Action {
		policy[a] = true
		if !called[a] {
			t.Errorf("policy grants %s, which no verb called", a)
		}
	}
	for a := range called {
		if !policy[a] {
			t.Errorf("a verb called %s, which the policy lacks", a)
		}
	}
}

// --verbose shows every AWS and Dragonfly call, and no credential.
func TestConnectVerboseLeaksNothing(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("--verbose")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	all := e.Out.String() + e.ErrOut.String()
	for _, want := range []string{"* POST " + e.SB.URL + "/aws 200", "* GET " + e.SB.URL + "/v1/networks"} {
		if !strings.Contains(all, want) {
			t.Errorf("--verbose lacks %q:\n%s", want, all)
		}
	}
	for _, secret := range []string{sandbox.AWSSecretAccessKey, sandbox.APIKey, "Signature=", "Credential=", "Authorization"} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
}
