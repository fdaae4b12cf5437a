package azuresim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Fixed identities of the test world.
const (
	custTenant   = "11111111-1111-4111-8111-111111111111"
	custSub      = "22222222-2222-4222-8222-222222222222"
	dfSub        = "33333333-3333-4333-8333-333333333333"
	userAppID    = "44444444-4444-4444-8444-444444444444"
	userSecret   = "user-Secret~value-0123456789abcdef"
	readerAppID  = "55555555-5555-4555-8555-555555555555"
	readerSecret = "reader-Secret~value-0123456789abcd"
	custRG       = "cust-rg"
	custVNetName = "cust-vnet"
	dfRG         = "df-rg"
	dfVNetName   = "df-vnet"
	graphScope   = "https://graph.microsoft.com/.default"
	propagation  = 10 * time.Minute
)

// testClock is real time plus an offset tests can push forward, so that
// short operation delays elapse by themselves while long propagation
// delays are skipped with Advance.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type env struct {
	t      *testing.T
	sim    *Sim
	srv    *TLSServer
	clock  *testClock
	userSP string // object ID of the signed-in user's service principal (customer tenant)
	custV  string // customer VNet ID
	dfV    string // Dragonfly VNet ID
}

// newEnv seeds a customer tenant (with a subscription, a VNet with an NSG
// on its subnet, an Owner identity with Graph rights and a Reader
// identity) and Dragonfly's tenant with its VNet.
func newEnv(t *testing.T) *env {
	t.Helper()
	clock := &testClock{}
	sim := New(Options{
		Delays: Delays{Operation: 30 * time.Millisecond, RoleAssignmentPropagation: propagation, CredentialPropagation: propagation},
		Now:    clock.Now,
		Seed:   7,
	})
	srv, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e := &env{t: t, sim: sim, srv: srv, clock: clock}

	sim.AddTenant(DefaultDragonflyTenantID)
	sim.AddSubscription(DefaultDragonflyTenantID, dfSub, "dragonfly")
	sim.AddResourceGroup(dfSub, dfRG, "eastus")
	e.dfV = must(sim.AddVNet(dfSub, dfRG, VNetSpec{Name: dfVNetName, AddressPrefixes: []string{"192.168.0.0/16"}}))

	sim.AddTenant(custTenant)
	sim.AddSubscription(custTenant, custSub, "customer")
	sim.AddResourceGroup(custSub, custRG, "eastus")
	must(sim.AddNSG(custSub, custRG, "cust-nsg"))
	e.custV = must(sim.AddVNet(custSub, custRG, VNetSpec{Name: custVNetName, AddressPrefixes: []string{"10.0.0.0/16"},
		Subnets: []SubnetSpec{{Name: "default", AddressPrefix: "10.0.0.0/24", NSG: "cust-nsg"}}}))
	e.userSP = sim.AddServicePrincipalWithSecret(custTenant, userAppID, "dfpeer user", userSecret, "Application.ReadWrite.All")
	must(sim.AssignRole("/subscriptions/"+custSub, e.userSP, "Owner"))
	reader := sim.AddServicePrincipalWithSecret(custTenant, readerAppID, "reader", readerSecret)
	must(sim.AssignRole("/subscriptions/"+custSub, reader, "Reader"))
	return e
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var fastRetry = policy.RetryOptions{MaxRetries: 3, RetryDelay: 5 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond}

func (e *env) cloudConfig() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: e.srv.URL + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: e.srv.URL, Audience: "https://management.azure.com"},
		},
	}
}

func (e *env) clientOptions() policy.ClientOptions {
	return policy.ClientOptions{Cloud: e.cloudConfig(), Transport: e.srv.Client(), Retry: fastRetry}
}

// cred is a client-secret credential against the simulator.
func (e *env) cred(tenant, appID, secret string, additionalTenants ...string) azcore.TokenCredential {
	e.t.Helper()
	c, err := azidentity.NewClientSecretCredential(tenant, appID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:              e.clientOptions(),
		DisableInstanceDiscovery:   true,
		AdditionallyAllowedTenants: additionalTenants,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) userCred() azcore.TokenCredential { return e.cred(custTenant, userAppID, userSecret) }

func (e *env) armOptions(aux ...string) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: e.clientOptions(), AuxiliaryTenants: aux}
}

// rawARM sends a request through an ARM pipeline and decodes the answer.
func (e *env) rawARM(cred azcore.TokenCredential, method, path string) (*http.Response, map[string]any) {
	e.t.Helper()
	c, err := arm.NewClient("azuresimtest", "v0.0.1", cred, e.armOptions())
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := runtime.NewRequest(context.Background(), method, e.srv.URL+path)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := c.Pipeline().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, decode(e.t, resp)
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return m
}

// graphClient is a small Graph client on azcore's pipeline, as dfpeer has.
type graphClient struct {
	t    *testing.T
	pl   runtime.Pipeline
	base string
}

func (e *env) graph(cred azcore.TokenCredential) *graphClient {
	return &graphClient{t: e.t, pl: e.graphPipeline(cred, graphScope), base: e.sim.GraphURL(e.srv.URL)}
}

func (e *env) graphPipeline(cred azcore.TokenCredential, scope string) runtime.Pipeline {
	return runtime.NewPipeline("azuresimtest", "v0.0.1", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{scope}, nil)},
	}, &policy.ClientOptions{Transport: e.srv.Client(), Retry: fastRetry})
}

func (g *graphClient) do(method, path string, body any) (int, map[string]any) {
	g.t.Helper()
	req, err := runtime.NewRequest(context.Background(), method, g.base+path)
	if err != nil {
		g.t.Fatal(err)
	}
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			g.t.Fatal(err)
		}
	}
	resp, err := g.pl.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp.StatusCode, decode(g.t, resp)
}

// errCode returns the Azure error code of an SDK error.
func errCode(t *testing.T, err error) (int, string, string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want an *azcore.ResponseError, got %v", err)
	}
	return re.StatusCode, re.ErrorCode, err.Error()
}

func graphErrCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func wantContains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("want %q in:\n%s", sub, s)
		}
	}
}
