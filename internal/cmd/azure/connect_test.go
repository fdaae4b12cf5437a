package azure_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmd/azure"
	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

const (
	appName            = "dfpeer-" + sandbox.DemoAzureVNet
	networkContributor = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	peerAction         = "Microsoft.Network/virtualNetworks/peer/action"
)

// assertConnected checks the simulators' final state: the application
// (multi-tenant, no secret left) and its service principal, Dragonfly's
// service principal, the custom role, exactly the two role assignments on
// the VNet, one Connected peering to Dragonfly's VNet, the allow rule only
// in the NSG whose custom rule denied the traffic, one active connection
// naming the application.
func assertConnected(t *testing.T, e *cmdtest.Env) {
	t.Helper()
	conns := e.SB.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" {
		t.Fatalf("want one active connection, got %+v", conns)
	}
	s := azSnapshot(t, e)
	var appID string
	for _, a := range s.Applications {
		if a.DisplayName != appName {
			continue
		}
		if appID != "" {
			t.Errorf("two applications named %s", appName)
		}
		appID = a.AppID
		if a.SignInAudience != "AzureADMultipleOrgs" || a.TenantID != sandbox.AzureTenantID {
			t.Errorf("application %+v", a)
		}
		if len(a.PasswordCredentials) != 0 {
			t.Errorf("client secrets left on the application: %+v", a.PasswordCredentials)
		}
	}
	if appID == "" {
		t.Fatalf("no application %s", appName)
	}
	if az := conns[0].Config.Peer.Azure; az == nil || az.AppObjectID != appID || az.TenantID != sandbox.AzureTenantID || az.ResourceGroup != sandbox.DemoAzureRG {
		t.Errorf("connection's azure peer %+v, want app %s", az, appID)
	}
	ourSP, dfSP := s.spOf(sandbox.AzureTenantID, appID), s.spOf(sandbox.AzureTenantID, azuresim.DefaultDragonflyAppID)
	if ourSP == "" || dfSP == "" {
		t.Fatalf("service principals: ours %q, Dragonfly's %q", ourSP, dfSP)
	}
	var roleGUID string
	for _, rd := range s.CustomRoleDefinitions {
		if rd.RoleName == "dfcloud-peering-role" {
			if roleGUID != "" {
				t.Error("two dfcloud-peering-role definitions")
			}
			roleGUID = rd.ID
			if len(rd.Actions) != 1 || rd.Actions[0] != peerAction || len(rd.AssignableScopes) != 1 || rd.AssignableScopes[0] != "/subscriptions/"+sandbox.AzureSubscriptionID {
				t.Errorf("custom role %+v", rd)
			}
		}
	}
	if roleGUID == "" {
		t.Fatal("no dfcloud-peering-role")
	}
	onVNet := map[string]string{}
	for _, ra := range s.RoleAssignments {
		if strings.EqualFold(ra.Scope, sandbox.DemoAzureVNetID) {
			if _, dup := onVNet[ra.PrincipalID]; dup {
				t.Errorf("two role assignments of %s on the VNet", ra.PrincipalID)
			}
			onVNet[ra.PrincipalID] = ra.RoleDefinition
		}
	}
	if len(onVNet) != 2 || onVNet[ourSP] != networkContributor || onVNet[dfSP] != roleGUID {
		t.Errorf("role assignments on the VNet %v; want Network Contributor for %s and %s for %s", onVNet, ourSP, roleGUID, dfSP)
	}
	for _, v := range s.VirtualNetworks {
		if v.ID != sandbox.DemoAzureVNetID {
			continue
		}
		if len(v.Peerings) != 1 {
			t.Fatalf("app-vnet peerings %+v", v.Peerings)
		}
		p := v.Peerings[0]
		if p.Name != sandbox.DemoAzureVNet+"-dfcloud-peering" || !strings.EqualFold(p.RemoteVirtualNetwork, sandbox.DragonflyAzureVNetID) ||
			p.PeeringState != "Connected" || p.ProvisioningState != "Succeeded" || !p.AllowVirtualNetworkAccess || p.UseRemoteGateways {
			t.Errorf("peering %+v", p)
		}
	}
	for _, n := range s.NetworkSecurityGroups {
		ours := 0
		for _, r := range n.SecurityRules {
			if !strings.HasPrefix(r.Properties.Description, "dfpeer:") {
				continue
			}
			ours++
			pr := r.Properties
			if pr.Access != "Allow" || pr.Direction != "Inbound" || pr.Protocol != "Tcp" || pr.SourceAddressPrefix != demoCIDR ||
				pr.DestinationPortRange != "6379" || pr.Priority >= sandbox.DemoAzureDenyPriority || r.ProvisioningState != "Succeeded" {
				t.Errorf("%s: rule %+v", n.ID, r)
			}
		}
		want := 0
		if strings.HasSuffix(n.ID, "/"+sandbox.DemoAzureAppNSG) {
			want = 1
		}
		if ours != want {
			t.Errorf("%s: %d dfpeer rules, want %d", n.ID, ours, want)
		}
	}
}

func TestConnectEndToEndAndRerun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	res := cmdtest.Result(t, e.Out.Bytes())
	if res.Status != "active" || res.Provider != "azure" || !strings.HasPrefix(res.PeerConnectionID, "dfcloud-") || len(res.FirewallRules) != 1 {
		t.Fatalf("result %+v", res)
	}
	if fr := res.FirewallRules[0]; fr.Action != "created" || fr.Target != sandbox.DemoAzureAppNSG || fr.Port != 6379 || fr.Source != demoCIDR {
		t.Errorf("firewall rule %+v", fr)
	}
	assertConnected(t, e)
	for _, want := range []string{"Application " + appName, "Let Dragonfly Cloud's role take effect", "VNet peering app-vnet-dfcloud-peering"} {
		if !strings.Contains(e.ErrOut.String(), want) {
			t.Errorf("no %q in the progress:\n%s", want, e.ErrOut)
		}
	}

	// Re-run: everything is found, nothing is written, the rule is
	// reported unchanged.
	before := state(e)
	e.SB.Azure.HTTP().ResetLog()
	e.SB.DF.HTTP().ResetLog()
	e.Out.Reset()
	e.ErrOut.Reset()
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, e.ErrOut)
	}
	again := cmdtest.Result(t, e.Out.Bytes())
	if again.ConnectionID != res.ConnectionID || len(again.FirewallRules) != 1 || again.FirewallRules[0].Action != "unchanged" {
		t.Fatalf("re-run result %+v", again)
	}
	if !bytes.Equal(before, state(e)) {
		t.Errorf("the re-run changed the simulators' state")
	}
	if m := cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP()); len(m) != 0 {
		t.Errorf("the re-run made mutating calls: %v", m)
	}
	if e.SB.Azure.HTTP().Count("Applications_AddPassword") != 0 {
		t.Error("the re-run added a client secret although the peering exists")
	}
}

func TestConnectSummaryText(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("--name", "az-prod")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	out := e.Out.String()
	for _, want := range []string{"Connection az-prod", "is active", "Peering:  app-vnet-dfcloud-peering (yours); dfcloud-", "Firewall: dfpeer-az-prod in app-nsg: allow tcp 6379 from 192.168.0.0/16 (created)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(e.ErrOut.String(), "Next: create a datastore") {
		t.Errorf("no next step hint: %s", e.ErrOut)
	}

	// The custom deny rule only concerns 6379: on another port the
	// default rules let the traffic in and no rule is added anywhere.
	e = cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("--port", "6380")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	if strings.Contains(e.Out.String(), "Firewall:") {
		t.Errorf("a rule was added for a port nothing denies:\n%s", e.Out)
	}
	for _, n := range azSnapshot(t, e).NetworkSecurityGroups {
		for _, r := range n.SecurityRules {
			if strings.HasPrefix(r.Properties.Description, "dfpeer:") {
				t.Errorf("%s: unneeded rule %+v", n.ID, r)
			}
		}
	}
}

func TestConnectRefusalsChangeNothing(t *testing.T) {
	hub := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/hub-vnet"
	addHub := func(e *cmdtest.Env) {
		if _, err := e.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "hub-vnet", AddressPrefixes: []string{"10.50.0.0/16"}, HasGateway: true,
			Subnets: []azuresim.SubnetSpec{{Name: azuresim.GatewaySubnet, AddressPrefix: "10.50.255.0/27"}}}); err != nil {
			t.Fatal(err)
		}
	}
	// identity signs in as another service principal of the customer's
	// tenant, with the given Graph permissions and Azure role.
	identity := func(e *cmdtest.Env, appID, graph, role string) {
		var perms []string
		if graph != "" {
			perms = append(perms, graph)
		}
		sp := e.SB.Azure.AddServicePrincipalWithSecret(sandbox.AzureTenantID, appID, "limited operator", "limited-secret", perms...)
		if _, err := e.SB.Azure.AssignRole("/subscriptions/"+sandbox.AzureSubscriptionID, sp, role); err != nil {
			t.Fatal(err)
		}
		withAzure(e, func(a *cmdutil.AzureEndpoints) { a.ClientID, a.ClientSecret = appID, "limited-secret" })
	}
	cmdtest.AssertRefusals(t, state, []cmdtest.Refusal{
		{"overlapping VNet", func(e *cmdtest.Env) []string {
			return []string{"azure", "connect", "--network", "demo-azure", "--vnet", sandbox.DemoAzureOverlapVNet, "--yes", "--no-input"}
		}, "overlaps the Dragonfly network"},
		{"unknown VNet", func(e *cmdtest.Env) []string {
			return []string{"azure", "connect", "--network", "demo-azure", "--vnet", "nope", "--yes", "--no-input"}
		}, "--vnet nope: no virtual network of that name"},
		{"unknown VNet in a resource group", func(e *cmdtest.Env) []string {
			return []string{"azure", "connect", "--network", "demo-azure", "--vnet", "nope", "--resource-group", sandbox.DemoAzureRG, "--yes", "--no-input"}
		}, "no such virtual network in resource group app-rg"},
		{"network of another cloud", func(e *cmdtest.Env) []string {
			return []string{"azure", "connect", "--network", "demo-aws", "--vnet", sandbox.DemoAzureVNet, "--yes", "--no-input"}
		}, "is an AWS network"},
		{"unknown subscription", func(e *cmdtest.Env) []string {
			return args("--subscription", "99999999-9999-4999-8999-999999999999", "--resource-group", sandbox.DemoAzureRG)
		}, "--subscription 99999999-9999-4999-8999-999999999999: no such subscription"},
		{"region of another VNet", func(e *cmdtest.Env) []string { return args("--region", "westeurope") }, "virtual network app-vnet is in eastus"},
		{"single-tenant application of that name", func(e *cmdtest.Env) []string {
			e.SB.Azure.AddApplication(sandbox.AzureTenantID, azuresim.AppSpec{DisplayName: "legacy-app"})
			return args("--app-name", "legacy-app")
		}, "is single-tenant (AzureADMyOrg)"},
		{"ambiguous application name", func(e *cmdtest.Env) []string {
			e.SB.Azure.AddApplication(sandbox.AzureTenantID, azuresim.AppSpec{DisplayName: "twin", MultiTenant: true})
			e.SB.Azure.AddApplication(sandbox.AzureTenantID, azuresim.AppSpec{DisplayName: "twin", MultiTenant: true})
			return args("--app-name", "twin")
		}, `--app-name "twin": 2 applications have this name`},
		{"custom role without peering", func(e *cmdtest.Env) []string {
			if _, err := e.SB.Azure.AddCustomRole(sandbox.AzureSubscriptionID, "dfcloud-peering-role", "Microsoft.Network/virtualNetworks/read"); err != nil {
				t.Fatal(err)
			}
			return args()
		}, "does not allow Microsoft.Network/virtualNetworks/peer/action"},
		// Issue 12 item 5: Dragonfly's peering would use this VNet's
		// gateway, and Azure refuses it (RemoteVnetHasNoGateways) only
		// after the identity, the roles and the connection were made.
		{"remote gateways without a gateway", func(e *cmdtest.Env) []string {
			return args("--use-remote-gateways")
		}, "--vnet app-vnet: has no virtual network gateway"},
		{"remote gateways while the VNet uses another's", func(e *cmdtest.Env) []string {
			addHub(e)
			addPeering(t, e.SB, "to-hub", hub, true)
			return args("--use-remote-gateways")
		}, "--vnet app-vnet: has no virtual network gateway"},
		// Issue 12 item 4: the subscription is refused before its VNets
		// are listed (which answered SubscriptionNotFound, exit 1, or a
		// tenant error, exit 4).
		{"unknown subscription, VNet by name", func(e *cmdtest.Env) []string {
			return args("--subscription", "99999999-9999-4999-8999-999999999999")
		}, "--subscription 99999999-9999-4999-8999-999999999999: no such subscription"},
		{"subscription of another tenant", func(e *cmdtest.Env) []string {
			e.SB.Azure.AddSubscription("77777777-7777-4777-8777-777777777777", "88888888-8888-4888-8888-888888888888", "elsewhere")
			return args("--subscription", "88888888-8888-4888-8888-888888888888")
		}, "--subscription 88888888-8888-4888-8888-888888888888: belongs to another tenant"},
		// Issue 13 item 1: Azure refuses a peering with a network that
		// overlaps one the VNet is already peered with.
		{"already peered with a network overlapping the CIDR", func(e *cmdtest.Env) []string {
			other := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/shared-vnet"
			if _, err := e.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "shared-vnet", AddressPrefixes: []string{"192.168.128.0/20"}}); err != nil {
				t.Fatal(err)
			}
			addPeering(t, e.SB, "to-shared", other, false)
			return args()
		}, "--vnet app-vnet: is already peered through to-shared with " + "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/shared-vnet, whose address prefix 192.168.128.0/20 overlaps"},
		{"peering name taken", func(e *cmdtest.Env) []string {
			addHub(e)
			addPeering(t, e.SB, "app-vnet-dfcloud-peering", hub, false)
			return args()
		}, "already has a peering named app-vnet-dfcloud-peering"},
		{"deny rule with no free priority ahead", func(e *cmdtest.Env) []string {
			nsg := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + sandbox.DemoAzureWebNSG
			if err := e.SB.Azure.AddSecurityRule(nsg, "deny-all-peers", azuresim.SecurityRuleSpec{Priority: 100, Direction: "Inbound", Access: "Deny", Protocol: "*",
				SourceAddressPrefix: "VirtualNetwork", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "*"}); err != nil {
				t.Fatal(err)
			}
			return args()
		}, "no priority between 100 and 100 is free"},
		{"no directory permission", func(e *cmdtest.Env) []string {
			identity(e, "6c6c6c6c-0000-4000-8000-000000000001", "", "Owner")
			return args()
		}, "Application.ReadWrite.All"},
		{"no right to assign roles", func(e *cmdtest.Env) []string {
			identity(e, "6c6c6c6c-0000-4000-8000-000000000002", "Application.ReadWrite.All", "Network Contributor")
			return args()
		}, "Microsoft.Authorization/roleAssignments/write"},
	})
}

func TestConnectFlagValidation(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		contains string
	}{
		{args("--subscription", "not-a-guid"), "invalid value \"not-a-guid\" for --subscription"},
		{args("--resource-group", "bad/rg"), "for --resource-group"},
		{[]string{"azure", "connect", "--network", "demo-azure", "--vnet", "-bad", "--yes", "--no-input"}, "for --vnet"},
		{args("--region", "East US"), "for --region"},
		{args("--app-name", ""), "for --app-name"},
		{args("--port", "70000"), "for --port"},
		{[]string{"azure", "connect", "--network", "demo-azure", "--no-input", "--yes"}, "--vnet is required"},
		{[]string{"azure", "connect", "--network", "demo-azure", "--vnet", "app-vnet", "--no-input"}, "--yes is required"},
	} {
		e := cmdtest.NewSandbox(t, sandbox.Options{})
		if code := e.Run(tc.args...); code != cmdutil.ExitInput || !strings.Contains(e.ErrOut.String(), tc.contains) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", tc.args, code, tc.contains, e.ErrOut)
		}
		if n := len(e.SB.Azure.HTTP().Calls()) + len(e.SB.DF.HTTP().Calls()); n != 0 {
			t.Errorf("%v: %d API calls before the flags were checked", tc.args, n)
		}
	}
}

func TestConnectDryRun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	plan, count := cmdtest.DryRunPlan(t, e, state, args())
	want := map[string]int{"create connection": 1, "create application": 1, "create service_principal": 2, "create role_assignment": 2,
		"create role_definition": 1, "create client_secret": 1, "create peering": 1, "create firewall_rule": 1, "unchanged firewall_rule": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("plan has %d %q, want %d: %+v", count[k], k, n, plan.Changes)
		}
	}
	if m := cmdtest.MutatingCalls(e.SB.Azure.HTTP(), e.SB.DF.HTTP()); len(m) != 0 {
		t.Errorf("--dry-run made mutating calls: %v", m)
	}
	e.Out.Reset()
	if code := e.Run(args("--dry-run")...); code != 0 || !strings.Contains(e.Out.String(), "at priority 299, ahead of deny rule deny-redis-from-peers (300)") {
		t.Errorf("text plan: exit %d\n%s", code, e.Out)
	}
}

// Throttling (429 with Retry-After) and 5xx on both APIs still converge.
func TestConnectConvergesUnderThrottling(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.SB.Azure.HTTP().SetFaults(simhttp.Faults{ThrottleRate: 0.05, ErrorRate: 0.1, RetryAfter: time.Second, Seed: 3})
	e.SB.DF.HTTP().SetFaults(simhttp.Faults{ThrottleRate: 0.1, ErrorRate: 0.1, Seed: 4})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	throttles, errors := 0, 0
	for _, c := range e.SB.Azure.HTTP().Calls() {
		switch c.Fault {
		case simhttp.Throttle:
			throttles++
		case simhttp.ServerError:
			errors++
		}
	}
	if throttles < 1 || errors < 3 {
		t.Fatalf("only %d throttles and %d server errors on Azure: the test proves little", throttles, errors)
	}
	e.SB.Azure.HTTP().SetFaults(simhttp.Faults{})
	e.SB.DF.HTTP().SetFaults(simhttp.Faults{})
	assertConnected(t, e)
}

// Interrupted after any mutating call — including between adding and
// removing the temporary secret — a re-run converges to the same state,
// with no secret left.
func TestConnectCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		return &cmdtest.FlowWorld{Env: cmdtest.NewSandbox(t, sandbox.Options{}), Args: args(), Snap: state,
			Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.Azure.HTTP() }}
	})
}

// A secret that could not be removed (the process died, Graph failed) is
// removed by the next run, which says so.
func TestLeftoverSecretRemovedByRerun(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.SB.Azure.HTTP().SetFaults(simhttp.Faults{ErrorRate: 1, Only: func(op string) bool { return op == "Applications_RemovePassword" }})
	if code := e.Run(args()...); code != cmdutil.ExitError {
		t.Fatalf("exit %d, want 1\n%s", code, e.ErrOut)
	}
	if !strings.Contains(e.ErrOut.String(), "removing the temporary client secret") || !strings.Contains(e.ErrOut.String(), "running dfpeer again removes it") {
		t.Errorf("the failure does not explain the leftover secret:\n%s", e.ErrOut)
	}
	left := 0
	for _, a := range azSnapshot(t, e).Applications {
		if a.DisplayName == appName {
			left = len(a.PasswordCredentials)
		}
	}
	if left != 1 {
		t.Fatalf("%d secrets after the failed removal, want the 1 left behind", left)
	}
	e.SB.Azure.HTTP().SetFaults(simhttp.Faults{})
	e.ErrOut.Reset()
	if code := e.Run(args("--dry-run")...); code != 0 || !strings.Contains(e.Out.String(), "temporary client secret(s) of dfpeer-app-vnet left by an interrupted run") {
		t.Errorf("the plan does not announce the removal: exit %d\n%s", code, e.Out)
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, e.ErrOut)
	}
	if !strings.Contains(e.ErrOut.String(), "removed 1 client secret(s) left by an interrupted run") {
		t.Errorf("the re-run does not say it removed the secret:\n%s", e.ErrOut)
	}
	assertConnected(t, e)
}

// After the connection is deleted, Dragonfly's side of the peering goes
// and the VNet's becomes Disconnected; connecting again replaces it.
func TestReconnectAfterDelete(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	first := cmdtest.Result(t, e.Out.Bytes())
	if code := e.Run("connections", "delete", first.ConnectionID, "--yes", "--wait"); code != 0 {
		t.Fatalf("delete: exit %d\n%s", code, e.ErrOut)
	}
	if info, _ := e.SB.Azure.Peering(sandbox.DemoAzureVNetID, "app-vnet-dfcloud-peering"); info.PeeringState != "Disconnected" {
		t.Fatalf("after the delete the VNet's side is %+v", info)
	}
	e.Out.Reset()
	if code := e.Run(args("-o", "json")...); code != 0 {
		t.Fatalf("reconnect: exit %d\n%s", code, e.ErrOut)
	}
	second := cmdtest.Result(t, e.Out.Bytes())
	if second.Status != "active" || second.ConnectionID == first.ConnectionID {
		t.Fatalf("reconnect result %+v", second)
	}
	if !strings.Contains(e.ErrOut.String(), "Remove the disconnected peering") {
		t.Errorf("no removal of the disconnected peering in the progress:\n%s", e.ErrOut)
	}
	info, _ := e.SB.Azure.Peering(sandbox.DemoAzureVNetID, "app-vnet-dfcloud-peering")
	if info.PeeringState != "Connected" {
		t.Errorf("peering after reconnect %+v", info)
	}
}

func TestConnectInteractive(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	p := prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-azure-demo-0001").
		ExpectSelect("Azure subscription", sandbox.AzureSubscriptionID).
		ExpectSelect("Virtual network to peer", sandbox.DemoAzureVNetID).
		ExpectInput("Connection name", "").
		ExpectConfirm("Make these changes?", true)
	e.Prompter = p
	if code := e.Run("azure", "connect"); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	if opts := p.Seen["Dragonfly Cloud network"]; len(opts) != 1 {
		t.Errorf("network choices %+v", opts)
	}
	if opts := p.Seen["Azure subscription"]; len(opts) != 2 {
		t.Errorf("subscription choices %+v", opts)
	}
	opts := p.Seen["Virtual network to peer"]
	if len(opts) != 2 || !strings.Contains(opts[0].Label, "app-vnet  app-rg  eastus  10.1.0.0/16") {
		t.Errorf("VNet choices %+v", opts)
	}
	assertConnected(t, e)
	if c := e.SB.DF.Connections()[0]; c.Config.Name != "app-vnet-demo-azure" {
		t.Errorf("default name %q", c.Config.Name)
	}
}

func TestPermissions(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run("azure", "permissions"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Application.ReadWrite.All", "Microsoft.Authorization/roleAssignments/write", "Network Contributor", "dfcloud-peering-role"} {
		if !strings.Contains(e.Out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, e.Out)
		}
	}
	e.Out.Reset()
	if code := e.Run("azure", "permissions", "-o", "json"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Graph struct {
			ApplicationPermissions []string `json:"application_permissions"`
		} `json:"microsoft_graph"`
		RBAC struct {
			Actions []string `json:"actions"`
		} `json:"azure_rbac"`
	}
	if err := json.Unmarshal(e.Out.Bytes(), &doc); err != nil || len(doc.Graph.ApplicationPermissions) == 0 {
		t.Fatalf("%v: %s", err, e.Out)
	}
	// Every ARM operation connect, status and disconnect make as the
	// signed-in identity maps to an action in the list, and every action
	// listed is used (a disconnected peering's removal only on a
	// reconnect; route tables only by status, on a VNet that has one).
	actionOf := map[string]string{
		"Subscriptions_Get":                     "Microsoft.Resources/subscriptions/read",
		"VirtualNetworks_Get":                   "Microsoft.Network/virtualNetworks/read",
		"VirtualNetworks_ListAll":               "Microsoft.Network/virtualNetworks/read",
		"VirtualNetworkPeerings_Get":            "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/read",
		"VirtualNetworkPeerings_Delete":         "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete",
		"NetworkSecurityGroups_Get":             "Microsoft.Network/networkSecurityGroups/read",
		"SecurityRules_Get":                     "Microsoft.Network/networkSecurityGroups/securityRules/read",
		"SecurityRules_CreateOrUpdate":          "Microsoft.Network/networkSecurityGroups/securityRules/write",
		"RoleDefinitions_Get":                   "Microsoft.Authorization/roleDefinitions/read",
		"RoleDefinitions_List":                  "Microsoft.Authorization/roleDefinitions/read",
		"RoleDefinitions_CreateOrUpdate":        "Microsoft.Authorization/roleDefinitions/write",
		"RoleAssignments_ListForScope":          "Microsoft.Authorization/roleAssignments/read",
		"RoleAssignments_Create":                "Microsoft.Authorization/roleAssignments/write",
		"RoleAssignments_Delete":                "Microsoft.Authorization/roleAssignments/delete",
		"RoleDefinitions_Delete":                "Microsoft.Authorization/roleDefinitions/delete",
		"SecurityRules_Delete":                  "Microsoft.Network/networkSecurityGroups/securityRules/delete",
		"RouteTables_Get":                       "Microsoft.Network/routeTables/read",
		"Permissions_ListForScope":              "",
		"AsyncOperation_Get":                    "",
		"OperationResult_Get":                   "",
		"VirtualNetworkPeerings_CreateOrUpdate": "", // made as the application (Network Contributor)
	}
	listed := map[string]bool{}
	for _, a := range doc.RBAC.Actions {
		listed[a] = true
	}
	e2 := cmdtest.NewSandbox(t, sandbox.Options{})
	// perm-vnet: a subnet behind app-nsg (whose deny rule makes connect
	// add a rule) and a route table (which status reads).
	if _, err := e2.SB.Azure.AddRouteTable(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, "perm-routes"); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.SB.Azure.AddVNet(sandbox.AzureSubscriptionID, sandbox.DemoAzureRG, azuresim.VNetSpec{Name: "perm-vnet", AddressPrefixes: []string{"10.80.0.0/16"},
		Subnets: []azuresim.SubnetSpec{{Name: "app", AddressPrefix: "10.80.1.0/24", NSG: sandbox.DemoAzureAppNSG, RouteTable: "perm-routes"}}}); err != nil {
		t.Fatal(err)
	}
	perm := func(verb string, extra ...string) []string {
		return append([]string{"azure", verb, "--network", "demo-azure", "--vnet", "perm-vnet"}, extra...)
	}
	if code := e2.Run(perm("connect", "--yes", "--no-input", "-o", "json")...); code != 0 {
		t.Fatalf("connect: %s", e2.ErrOut)
	}
	first := cmdtest.Result(t, e2.Out.Bytes())
	if code := e2.Run("connections", "delete", first.ConnectionID, "--yes", "--wait"); code != 0 {
		t.Fatalf("delete: %s", e2.ErrOut)
	}
	for _, argv := range [][]string{perm("connect", "--yes", "--no-input"), perm("status"), perm("disconnect", "--yes", "--no-input")} {
		if code := e2.Run(argv...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", argv, code, e2.ErrOut)
		}
	}
	used := map[string]bool{}
	for _, c := range e2.SB.Azure.HTTP().Calls() {
		if !strings.Contains(c.Path, "/subscriptions") {
			continue // Graph and sign-in
		}
		action, known := actionOf[c.Op]
		if !known {
			t.Errorf("dfpeer called %s, which the test does not map to an action", c.Op)
			continue
		}
		if action == "" {
			continue
		}
		used[action] = true
		if !listed[action] {
			t.Errorf("dfpeer needed %s (%s), which 'azure permissions' does not list", action, c.Op)
		}
	}
	for a := range listed {
		if !used[a] {
			t.Errorf("'azure permissions' lists %s, which connect, status and disconnect never needed", a)
		}
	}
}

// No client secret — the sandbox identity's nor the temporary one —
// appears in any output, --verbose included, and neither does a token.
func TestConnectNeverShowsSecrets(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	rec := &secretRecorder{base: e.SB.AzureServer.Transport()}
	withAzure(e, func(a *cmdutil.AzureEndpoints) { a.Transport = rec })
	if code := e.Run(args("--verbose", "-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	secrets := rec.all()
	if len(secrets) != 1 {
		t.Fatalf("recorded %d temporary secrets, want 1", len(secrets))
	}
	all := e.Out.String() + e.ErrOut.String()
	for _, want := range []string{"/oauth2/v2.0/token 200", "/v1.0/applications", "/virtualNetworkPeerings/app-vnet-dfcloud-peering"} {
		if !strings.Contains(all, want) {
			t.Errorf("--verbose lacks %q:\n%s", want, all)
		}
	}
	for _, secret := range append(secrets, sandbox.AzureClientSecret, sandbox.APIKey, "Bearer ", "eyJ", "client_secret", "secretText") {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	assertConnected(t, e)
}

func TestRejectedCredentials(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	withAzure(e, func(a *cmdutil.AzureEndpoints) { a.ClientSecret = "wrong" })
	before := state(e)
	if code := e.Run(args()...); code != cmdutil.ExitAuth {
		t.Fatalf("exit %d, want 4\n%s", code, e.ErrOut)
	}
	for _, want := range []string{"signing in to Azure", "AADSTS7000215", "az login"} {
		if !strings.Contains(e.ErrOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, e.ErrOut)
		}
	}
	if strings.Contains(e.ErrOut.String(), "wrong") {
		t.Error("the rejected secret is echoed")
	}
	if !bytes.Equal(before, state(e)) {
		t.Error("a refused sign-in changed state")
	}
}

// Outside the sandbox, ARM_CLOUD_METADATA_URL names the cloud; plain http
// to another host than loopback is refused before any call.
func TestMetadataURLMustBeSafe(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) {
		ep := *e.SB.Endpoints
		ep.Azure = nil // the user's own Azure configuration
		return &ep, nil
	}
	e.Vars["ARM_CLOUD_METADATA_URL"] = "http://metadata.example.com/metadata/endpoints?api-version=2022-09-01"
	if code := e.Run(args("--subscription", sandbox.AzureSubscriptionID)...); code != cmdutil.ExitInput || !strings.Contains(e.ErrOut.String(), "plain http is only allowed for loopback") {
		t.Errorf("exit %d\n%s", code, e.ErrOut)
	}
}

func TestCLIDefaultSubscription(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"HOME": home}
	getenv := func(k string) string { return vars[k] }
	if got := azure.CLIDefaultSubscription(getenv); got != "" {
		t.Errorf("no profile: %q", got)
	}
	if err := os.MkdirAll(filepath.Join(home, ".azure"), 0o755); err != nil {
		t.Fatal(err)
	}
	profile := "\xef\xbb\xbf" + `{"installationId": "x", "subscriptions": [
		{"id": "11111111-1111-4111-8111-111111111111", "isDefault": false},
		{"id": "22222222-2222-4222-8222-222222222222", "isDefault": true}]}`
	if err := os.WriteFile(filepath.Join(home, ".azure", "azureProfile.json"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := azure.CLIDefaultSubscription(getenv); got != "22222222-2222-4222-8222-222222222222" {
		t.Errorf("default from ~/.azure: %q", got)
	}
	vars["AZURE_CONFIG_DIR"] = t.TempDir()
	if got := azure.CLIDefaultSubscription(getenv); got != "" {
		t.Errorf("AZURE_CONFIG_DIR wins over HOME: %q", got)
	}
}

// The custom role's name is unique in the tenant: connecting a VNet of a
// second subscription reuses the role dfpeer made for the first and makes
// it assignable there too, instead of failing on the name.
func TestSecondSubscriptionWidensTheRole(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.SB.Azure.AddResourceGroup(sandbox.AzureStagingSubscriptionID, "staging-rg", "eastus")
	if _, err := e.SB.Azure.AddVNet(sandbox.AzureStagingSubscriptionID, "staging-rg", azuresim.VNetSpec{Name: "staging-vnet", AddressPrefixes: []string{"10.2.0.0/16"}}); err != nil {
		t.Fatal(err)
	}
	if code := e.Run("azure", "connect", "--network", "demo-azure", "--subscription", sandbox.AzureStagingSubscriptionID, "--vnet", "staging-vnet", "--yes", "--no-input"); code != 0 {
		t.Fatalf("staging: exit %d\n%s", code, e.ErrOut)
	}
	e.Out.Reset()
	if code := e.Run(args("--dry-run")...); code != 0 || !strings.Contains(e.Out.String(), "update     role definition: custom role dfcloud-peering-role: make it assignable in /subscriptions/"+sandbox.AzureSubscriptionID) {
		t.Fatalf("plan: exit %d\n%s", code, e.Out)
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("production: exit %d\n%s", code, e.ErrOut)
	}
	n := 0
	for _, rd := range azSnapshot(t, e).CustomRoleDefinitions {
		if rd.RoleName == "dfcloud-peering-role" {
			n++
			if len(rd.AssignableScopes) != 2 {
				t.Errorf("assignable scopes %v", rd.AssignableScopes)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d dfcloud-peering-role definitions, want 1", n)
	}
	for _, c := range e.SB.DF.Connections() {
		if c.Status != "active" {
			t.Errorf("connection %s is %s: %s", c.Config.Name, c.Status, c.StatusDetail)
		}
	}
}

// --no-wait stops once the Azure side is done: no wait for Connected nor
// for active.
func TestConnectNoWait(t *testing.T) {
	d := sandbox.Delays{Provision: 20 * time.Millisecond, Activate: time.Hour, Delete: time.Millisecond,
		AzureOperation: 20 * time.Millisecond, AzureRolePropagation: 20 * time.Millisecond, AzureCredentialPropagation: 20 * time.Millisecond}
	e := cmdtest.NewSandbox(t, sandbox.Options{Delays: &d})
	if code := e.Run(args("--no-wait", "-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	if res := cmdtest.Result(t, e.Out.Bytes()); res.Status != "inactive" {
		t.Errorf("status %q, want inactive (activation takes an hour here)", res.Status)
	}
	for _, no := range []string{"Wait for the peering to be Connected", "Waiting for the connection to become active"} {
		if strings.Contains(e.ErrOut.String(), no) {
			t.Errorf("--no-wait still ran %q", no)
		}
	}
	if info, _ := e.SB.Azure.Peering(sandbox.DemoAzureVNetID, "app-vnet-dfcloud-peering"); info.ProvisioningState != "Succeeded" {
		t.Errorf("peering %+v", info)
	}
}
