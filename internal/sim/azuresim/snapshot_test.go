package azuresim

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

func TestThrottling(t *testing.T) {
	e := newEnv(t)
	vnets := must(armnetwork.NewVirtualNetworksClient(custSub, e.userCred(), e.armOptions()))
	if _, err := vnets.Get(ctxb, custRG, custVNetName, nil); err != nil { // warm the token cache
		t.Fatal(err)
	}
	e.sim.HTTP().ResetLog()
	e.sim.HTTP().SetFaults(simhttp.Faults{Only: func(op string) bool { return op == "VirtualNetworks_Get" }})
	e.sim.HTTP().FailNext(simhttp.Throttle, 1)
	if _, err := vnets.Get(ctxb, custRG, custVNetName, nil); err != nil {
		t.Fatalf("azcore retries a 429: %v", err)
	}
	calls := e.sim.HTTP().Calls()
	if len(calls) != 2 || calls[0].Status != http.StatusTooManyRequests || calls[1].Status != http.StatusOK {
		t.Errorf("want a throttle then a success, got %+v", calls)
	}

	// Without retries the caller sees ARM's throttling error.
	opts := e.armOptions()
	opts.Retry = policy.RetryOptions{MaxRetries: -1}
	noRetry := must(armnetwork.NewVirtualNetworksClient(custSub, e.userCred(), opts))
	e.sim.HTTP().SetFaults(simhttp.Faults{RetryAfter: 1500 * time.Millisecond, Only: func(op string) bool { return op == "VirtualNetworks_Get" }})
	e.sim.HTTP().FailNext(simhttp.Throttle, 1)
	_, err := noRetry.Get(ctxb, custRG, custVNetName, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusTooManyRequests || re.ErrorCode != "TooManyRequests" || re.RawResponse.Header.Get("Retry-After") != "2" {
		t.Errorf("throttle without retry: %v", err)
	}

	// Graph throttles in its own envelope.
	g := e.graph(e.userCred())
	g.do(http.MethodGet, "/applications", nil) // token
	e.sim.HTTP().SetFaults(simhttp.Faults{Only: func(op string) bool { return op == "Applications_List" }})
	e.sim.HTTP().FailNext(simhttp.Throttle, 1)
	if status, _ := g.do(http.MethodGet, "/applications", nil); status != http.StatusOK {
		t.Errorf("Graph after a throttle: %d", status)
	}
	if e.sim.HTTP().Count("Applications_List") != 2 {
		t.Errorf("Applications_List answered %d times, want 2", e.sim.HTTP().Count("Applications_List"))
	}
}

func TestRequestClassification(t *testing.T) {
	e := newEnv(t)
	peerings := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, e.userCred(), e.armOptions()))
	other := must(e.sim.AddVNet(custSub, custRG, VNetSpec{Name: "other", AddressPrefixes: []string{"10.9.0.0/16"}}))
	poller := must(peerings.BeginCreateOrUpdate(ctxb, custRG, custVNetName, "p", armnetwork.VirtualNetworkPeering{
		Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{RemoteVirtualNetwork: &armnetwork.SubResource{ID: to.Ptr(other)}},
	}, nil))
	must(poller.PollUntilDone(ctxb, fastPoll()))
	var mutating []string
	for _, c := range e.sim.HTTP().Calls() {
		if c.Mutating {
			mutating = append(mutating, c.Op)
		}
	}
	if len(mutating) != 1 || mutating[0] != "VirtualNetworkPeerings_CreateOrUpdate" {
		t.Errorf("mutating calls: %v", mutating)
	}
	if e.sim.HTTP().Count("AsyncOperation_Get") == 0 || e.sim.HTTP().Count("VirtualNetworkPeerings_Get") != 1 {
		t.Errorf("the poller polls Azure-AsyncOperation then GETs the peering once: %+v", e.sim.HTTP().Calls())
	}
}

// TestSnapshot checks that snapshots are deterministic, unchanged by a
// refused command and free of secrets and tokens, and that the request
// log is free of them too.
func TestSnapshot(t *testing.T) {
	e := newEnv(t)
	g := e.graph(e.userCred())
	_, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app"})
	_, pc := g.do(http.MethodPost, "/applications/"+app["id"].(string)+"/addPassword", map[string]any{})
	secret := pc["secretText"].(string)
	token := must(e.userCred().GetToken(ctxb, armScope)).Token

	before := e.sim.Snapshot()
	if !bytes.Equal(before, e.sim.Snapshot()) {
		t.Fatal("two snapshots in a row differ")
	}
	reader := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, e.cred(custTenant, readerAppID, readerSecret), e.armOptions()))
	_, err := reader.BeginCreateOrUpdate(ctxb, custRG, custVNetName, "p", armnetwork.VirtualNetworkPeering{
		Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{RemoteVirtualNetwork: &armnetwork.SubResource{ID: to.Ptr(e.dfV)}},
	}, nil)
	if err == nil {
		t.Fatal("the reader's peering must be refused")
	}
	if after := e.sim.Snapshot(); !bytes.Equal(before, after) {
		t.Errorf("a refused command changed the state:\n%s\n---\n%s", before, after)
	}

	log := fmt.Sprintf("%+v", e.sim.HTTP().Calls())
	for _, s := range []string{userSecret, readerSecret, secret, token} {
		if strings.Contains(string(before), s) {
			t.Errorf("the snapshot contains a secret or token (%.6s…)", s)
		}
		if strings.Contains(log, s) {
			t.Errorf("the request log contains a secret or token (%.6s…)", s)
		}
	}
	if !strings.Contains(string(before), `"hint": "`+secret[:3]+`"`) {
		t.Error("the snapshot should keep Graph's hint of the new secret")
	}

	// The same seeding gives the same snapshot.
	seed := func() []byte {
		sim := New(Options{Seed: 3})
		sim.AddTenant(custTenant)
		sim.AddSubscription(custTenant, custSub, "customer")
		sim.AddResourceGroup(custSub, custRG, "eastus")
		must(sim.AddVNet(custSub, custRG, VNetSpec{Name: custVNetName, AddressPrefixes: []string{"10.0.0.0/16"}}))
		sp := sim.AddServicePrincipalWithSecret(custTenant, userAppID, "u", userSecret)
		must(sim.AssignRole("/subscriptions/"+custSub, sp, "Owner"))
		return sim.Snapshot()
	}
	if a, b := seed(), seed(); !bytes.Equal(a, b) {
		t.Errorf("same seed, different snapshots:\n%s\n---\n%s", a, b)
	}
}

// TestTransportNegotiatesHTTP2: NewTLS enables HTTP/2 because over
// HTTP/1.1 the unencoded $filter armauthorization sends would break the
// request line (TestRoleAssignmentsAndPropagation lists with one).
func TestTransportNegotiatesHTTP2(t *testing.T) {
	e := newEnv(t)
	resp := must(e.srv.Client().Get(e.srv.URL + "/metadata/endpoints?api-version=2022-09-01"))
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("the simulator's transport speaks %s, want HTTP/2", resp.Proto)
	}
}
