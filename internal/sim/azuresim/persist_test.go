package azuresim

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

// A client secret added through Graph, saved while it is still
// propagating, loads into an identical simulator; GUIDs continue the saved
// sequence and the token signing key is kept.
func TestSaveLoadStateRoundTrip(t *testing.T) {
	e := newEnv(t)
	g := e.graph(e.userCred())
	_, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app", "signInAudience": "AzureADMultipleOrgs"})
	appID := app["appId"].(string)
	g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	status, _ := g.do(http.MethodPost, "/applications(appId='"+appID+"')/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "dfpeer"}})
	if status != http.StatusOK {
		t.Fatalf("addPassword: %d", status)
	}

	saved, err := e.sim.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(Options{Delays: e.sim.opts.Delays, Now: e.clock.Now, Seed: 7})
	if err := restored.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	if a, b := e.sim.Snapshot(), restored.Snapshot(); !bytes.Equal(a, b) {
		t.Fatalf("snapshot after load differs:\n%s\nvs\n%s", a, b)
	}
	if again, _ := restored.SaveState(); !bytes.Equal(saved, again) {
		t.Error("SaveState(LoadState(x)) != x")
	}
	orig, _ := e.sim.Application(appID)
	got, ok := restored.Application(appID)
	if !ok || !reflect.DeepEqual(orig, got) || len(got.PasswordKeyIDs) != 1 {
		t.Errorf("application after load = %+v, want %+v with one password", got, orig)
	}
	if !bytes.Equal(e.sim.key, restored.key) {
		t.Error("the token signing key changed: tokens issued before the restart would be refused")
	}
	for _, s := range []*Sim{e.sim, restored} {
		s.AddApplication(custTenant, AppSpec{DisplayName: "later"})
	}
	a, _ := e.sim.SaveState()
	b, _ := restored.SaveState()
	if !bytes.Equal(a, b) {
		t.Error("an application added after load got other IDs than in the original")
	}
}

// A security rule whose create is still InProgress when the state is saved
// is saved created: the operation's effect cannot wait for a later process.
func TestSaveStateCompletesRunningOperations(t *testing.T) {
	e := newEnv(t)
	e.sim.opts.Delays.Operation = time.Hour
	rules := must(armnetwork.NewSecurityRulesClient(custSub, e.userCred(), e.armOptions()))
	rule := armnetwork.SecurityRule{Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: to.Ptr[int32](200), Direction: to.Ptr(armnetwork.SecurityRuleDirectionInbound), Access: to.Ptr(armnetwork.SecurityRuleAccessAllow),
		Protocol: to.Ptr(armnetwork.SecurityRuleProtocolTCP), SourceAddressPrefix: to.Ptr("192.168.0.0/16"), SourcePortRange: to.Ptr("*"),
		DestinationAddressPrefix: to.Ptr("*"), DestinationPortRange: to.Ptr("6379"),
	}}
	poller, err := rules.BeginCreateOrUpdate(context.Background(), custRG, "cust-nsg", "allow-dragonfly", rule, nil)
	if err != nil {
		t.Fatal(err)
	}
	if poller.Done() {
		t.Fatal("the create finished at once; the test needs it running")
	}
	saved, err := e.sim.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(Options{Delays: e.sim.opts.Delays, Now: e.clock.Now, Seed: 7})
	if err := restored.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range restored.nsgs {
		for _, r := range n.rules {
			if r.name == "allow-dragonfly" {
				found = true
				if r.provisioning != "Succeeded" {
					t.Errorf("restored rule is %s, want Succeeded", r.provisioning)
				}
			}
		}
	}
	if !found {
		t.Fatal("the rule being created is not in the saved state")
	}
	for _, op := range restored.ops {
		if op.status == "InProgress" {
			t.Errorf("operation %s saved InProgress with no way to finish", op.id)
		}
	}
}
