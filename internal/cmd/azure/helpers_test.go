package azure_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

const demoCIDR = "192.168.0.0/16"

var connectArgs = []string{"azure", "connect", "--network", "demo-azure", "--vnet", sandbox.DemoAzureVNet, "--yes", "--no-input"}

func args(extra ...string) []string { return cmdtest.With(connectArgs, extra...) }

// state is both simulators' comparable state.
func state(e *cmdtest.Env) []byte { return e.State(e.SB.Azure.Snapshot()) }

// azState is the part of the Azure simulator's snapshot the tests check.
type azState struct {
	Applications []struct {
		ObjectID, AppID, TenantID, DisplayName, SignInAudience string
		PasswordCredentials                                    []struct{ KeyID, DisplayName string }
	} `json:"applications"`
	ServicePrincipals []struct{ ObjectID, AppID, TenantID string } `json:"servicePrincipals"`
	VirtualNetworks   []struct {
		ID       string
		Peerings []struct {
			Name, RemoteVirtualNetwork, PeeringState, ProvisioningState       string
			AllowVirtualNetworkAccess, AllowGatewayTransit, UseRemoteGateways bool
		}
	} `json:"virtualNetworks"`
	NetworkSecurityGroups []struct {
		ID            string
		SecurityRules []struct {
			Name, ProvisioningState string
			Properties              struct {
				Description, Protocol, SourceAddressPrefix, DestinationPortRange, Access, Direction string
				Priority                                                                            int
				DestinationPortRanges                                                               []string
			}
		} `json:"securityRules"`
	} `json:"networkSecurityGroups"`
	CustomRoleDefinitions []struct {
		ID, TenantID, RoleName    string
		Actions, AssignableScopes []string
	} `json:"customRoleDefinitions"`
	RoleAssignments []struct{ Name, Scope, RoleDefinition, PrincipalID, TenantID string } `json:"roleAssignments"`
}

func azSnapshot(t *testing.T, e *cmdtest.Env) azState {
	t.Helper()
	var s azState
	if err := json.Unmarshal(e.SB.Azure.Snapshot(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s azState) spOf(tenant, appID string) string {
	for _, sp := range s.ServicePrincipals {
		if strings.EqualFold(sp.TenantID, tenant) && strings.EqualFold(sp.AppID, appID) {
			return sp.ObjectID
		}
	}
	return ""
}

// sandboxCloud points SDK clients at the sandbox's Azure simulator, as
// the sandbox's own identity: tests use it to arrange unusual states.
func sandboxClientOptions(sb *sandbox.Sandbox) policy.ClientOptions {
	return policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: sb.AzureServer.URL + "/",
			Services:                     map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: sb.AzureServer.URL, Audience: "https://management.azure.com"}},
		},
		Transport: sb.AzureServer.Client(),
	}
}

func sandboxCred(t *testing.T, sb *sandbox.Sandbox) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(sandbox.AzureTenantID, sandbox.AzureClientID, sandbox.AzureClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: sandboxClientOptions(sb), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// addPeering peers app-vnet with another VNet as the sandbox identity.
func addPeering(t *testing.T, sb *sandbox.Sandbox, name, remoteID string, useRemoteGateways bool) {
	t.Helper()
	client, err := armnetwork.NewVirtualNetworkPeeringsClient(sandbox.AzureSubscriptionID, sandboxCred(t, sb), &arm.ClientOptions{ClientOptions: sandboxClientOptions(sb)})
	if err != nil {
		t.Fatal(err)
	}
	poller, err := client.BeginCreateOrUpdate(context.Background(), sandbox.DemoAzureRG, sandbox.DemoAzureVNet, name, armnetwork.VirtualNetworkPeering{
		Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{
			RemoteVirtualNetwork:      &armnetwork.SubResource{ID: to.Ptr(remoteID)},
			AllowVirtualNetworkAccess: to.Ptr(true),
			UseRemoteGateways:         to.Ptr(useRemoteGateways),
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(context.Background(), &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// withAzure makes the Factory use another view of the sandbox's Azure:
// another signed-in identity, or a transport that watches the traffic.
func withAzure(e *cmdtest.Env, change func(a *cmdutil.AzureEndpoints)) {
	ep := *e.SB.Endpoints
	az := *ep.Azure
	change(&az)
	ep.Azure = &az
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) { return &ep, nil }
}

// secretRecorder remembers every client secret the simulator hands out,
// so that tests can look for it in dfpeer's output.
type secretRecorder struct {
	base    http.RoundTripper
	mu      sync.Mutex
	secrets []string
}

func (r *secretRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/addPassword") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if rerr != nil {
		return resp, err
	}
	var pc struct {
		SecretText string `json:"secretText"`
	}
	if json.Unmarshal(b, &pc) == nil && pc.SecretText != "" {
		r.mu.Lock()
		r.secrets = append(r.secrets, pc.SecretText)
		r.mu.Unlock()
	}
	return resp, err
}

func (r *secretRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.secrets...)
}
