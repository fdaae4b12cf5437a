package azure_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/azure"
	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	azprov "github.com/dragonflydb/dfpeer/internal/provider/azure"
	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// withPorts is the signed-in Azure whose providers open several ports,
// as a repeatable --port will ask (issue 13 item 6); the command layer
// does not take it yet, so the test sets Inputs.Ports itself.
type withPorts struct {
	azure.Azure
	ports []int
}

func (w withPorts) Provider(in azprov.Inputs) peering.Provider {
	in.Ports = w.ports
	return w.Azure.Provider(in)
}

// runPorts runs an azure verb against the sandbox with Inputs.Ports set.
func runPorts(t *testing.T, e *cmdtest.Env, newCmd func(*cmdutil.Factory, func(context.Context, *azure.ConnectOptions) error) *cobra.Command, ports []int, argv ...string) error {
	t.Helper()
	if e.F.Globals.Timeout == 0 {
		e.F.Globals.Timeout = time.Minute
	}
	e.F.Globals.Yes = true
	cmd := newCmd(e.F, func(ctx context.Context, o *azure.ConnectOptions) error {
		o.Azure = func(ctx context.Context, cfg azprov.Config) (azure.Azure, error) {
			a, err := azure.SignIn(ctx, cfg)
			return withPorts{a, ports}, err
		}
		return azure.ConnectRun(ctx, o)
	})
	cmd.SetArgs(argv)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cmd.ExecuteContext(ctx)
}

// dfpeerRules lists dfpeer's NSG rules as "nsg/name ports".
func dfpeerRules(t *testing.T, e *cmdtest.Env) map[string]string {
	out := map[string]string{}
	for _, n := range azSnapshot(t, e).NetworkSecurityGroups {
		for _, r := range n.SecurityRules {
			if strings.HasPrefix(r.Properties.Description, "dfpeer:") {
				ports := r.Properties.DestinationPortRanges
				if r.Properties.DestinationPortRange != "" {
					ports = []string{r.Properties.DestinationPortRange}
				}
				slices.Sort(ports)
				out[n.ID[strings.LastIndex(n.ID, "/")+1:]+"/"+r.Name] = strings.Join(ports, ",")
			}
		}
	}
	return out
}

// TestSeveralPorts (issue 13 item 6): with ports 6379 and 6371 the
// firewall step makes one rule per NSG allowing the ports a deny blocks —
// dfpeer's existing 6379 rule in app-nsg widened, a new one in web-nsg —
// status checks them, and disconnect removes them.
func TestSeveralPorts(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	for _, nsg := range []string{sandbox.DemoAzureAppNSG, sandbox.DemoAzureWebNSG} {
		id := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + nsg
		if err := e.SB.Azure.AddSecurityRule(id, "deny-memcached", azuresim.SecurityRuleSpec{Priority: 310, Direction: "Inbound", Access: "Deny", Protocol: "Tcp",
			SourceAddressPrefix: "*", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "6371"}); err != nil {
			t.Fatal(err)
		}
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect with 6379: exit %d\n%s", code, e.ErrOut)
	}
	name := "dfpeer-app-vnet-demo-azure"
	if got := dfpeerRules(t, e); len(got) != 1 || got[sandbox.DemoAzureAppNSG+"/"+name] != "6379" {
		t.Fatalf("rules after connect with 6379: %v", got)
	}
	ports := []int{6379, 6371}
	find := []string{"--network", "demo-azure", "--vnet", sandbox.DemoAzureVNet}
	if err := runPorts(t, e, azure.NewCmdConnect, ports, find...); err != nil {
		t.Fatalf("connect with 6379 and 6371: %v\n%s", err, e.ErrOut)
	}
	want := map[string]string{sandbox.DemoAzureAppNSG + "/" + name: "6371,6379", sandbox.DemoAzureWebNSG + "/" + name: "6371"}
	if got := dfpeerRules(t, e); len(got) != len(want) || got[sandbox.DemoAzureAppNSG+"/"+name] != want[sandbox.DemoAzureAppNSG+"/"+name] ||
		got[sandbox.DemoAzureWebNSG+"/"+name] != want[sandbox.DemoAzureWebNSG+"/"+name] {
		t.Fatalf("rules: %v, want %v", got, want)
	}
	e.Out.Reset()
	if err := runPorts(t, e, azure.NewCmdStatus, ports, find...); err != nil || !strings.Contains(e.Out.String(), "allow inbound TCP 6379, 6371 from "+demoCIDR+" (rule "+name+")") {
		t.Fatalf("status with both ports: %v\n%s\n%s", err, e.Out, e.ErrOut)
	}
	// A deny added for 6371 in web-nsg ahead of dfpeer's rule: status
	// with both ports fails (exit 5), naming web-nsg.
	web := "/subscriptions/" + sandbox.AzureSubscriptionID + "/resourceGroups/" + sandbox.DemoAzureRG + "/providers/Microsoft.Network/networkSecurityGroups/" + sandbox.DemoAzureWebNSG
	if err := e.SB.Azure.AddSecurityRule(web, "deny-memcached-first", azuresim.SecurityRuleSpec{Priority: 110, Direction: "Inbound", Access: "Deny", Protocol: "Tcp",
		SourceAddressPrefix: "*", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "6371"}); err != nil {
		t.Fatal(err)
	}
	e.Out.Reset()
	err := runPorts(t, e, azure.NewCmdStatus, ports, find...)
	if cmdutil.ExitCode(err) != 5 || !strings.Contains(e.Out.String(), "deny-memcached-first") {
		t.Fatalf("status after a deny for 6371: %v (exit %d)\n%s", err, cmdutil.ExitCode(err), e.Out)
	}
	if err := runPorts(t, e, azure.NewCmdConnect, ports, find...); err != nil {
		t.Fatalf("repair: %v\n%s", err, e.ErrOut)
	}
	if got := dfpeerRules(t, e); len(got) != 2 || got[sandbox.DemoAzureWebNSG+"/"+name] != "6371" {
		t.Fatalf("rules after the repair: %v", got)
	}
	// With 6379 alone the plain status is healthy too (the widened rule
	// still allows it).
	if code, h := e.Status(verb("status")...); code != 0 {
		t.Fatalf("status: exit %d %q", code, cmdtest.Failed(h))
	}
	if err := runPorts(t, e, azure.NewCmdDisconnect, ports, find...); err != nil {
		t.Fatalf("disconnect: %v\n%s", err, e.ErrOut)
	}
	if got := dfpeerRules(t, e); len(got) != 0 {
		t.Fatalf("rules left after disconnect: %v", got)
	}
}
