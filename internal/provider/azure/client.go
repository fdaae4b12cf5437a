// Package azure is the Azure side of dfpeer: it signs in, discovers
// subscriptions and virtual networks for the prompts, checks everything
// before any change, and performs the console guide's steps — the
// multi-tenant application and its service principal, Dragonfly Cloud's
// service principal, the roles, the cross-tenant VNet peering and the NSG
// rules — each check-then-act. It is the only package that imports the
// Azure SDK; Microsoft Graph is reached through a small typed client on
// azcore's pipeline (graph.go) rather than msgraph-sdk-go.
package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

// Config says how to reach Azure.
type Config struct {
	// Getenv reads the environment (ARM_CLOUD_METADATA_URL).
	Getenv func(string) string
	// Sandbox, when set, points every client at the simulator with the
	// sandbox's service principal and ignores the user's configuration.
	Sandbox *cmdutil.AzureEndpoints
	// Wrap adds --verbose logging around a transport; nil leaves it as is.
	Wrap func(http.RoundTripper) http.RoundTripper
	// MaxBackoff caps retry backoff (tests make it tiny); zero means the
	// production default.
	MaxBackoff time.Duration
	// Poll is the first interval of the waits dfpeer polls itself
	// (long-running operations, propagation); zero means 200 ms.
	Poll time.Duration
	// Version is dfpeer's, for the User-Agent.
	Version string
	// RoleSettle is how long a new role assignment for Dragonfly's
	// principal is given to take effect before the connection is
	// created; zero means the sandbox's propagation delay, or 30 s.
	RoleSettle time.Duration
}

// Production timing.
const (
	defaultMaxBackoff = 15 * time.Second
	defaultPoll       = 200 * time.Millisecond
	// maxRetries: ARM and Graph throttle per tenant, and the flow must
	// converge under throttling; with exponential delays six retries span
	// about a minute and a half of a persistent failure.
	maxRetries = 6
	// maxRetryAfter is the longest Retry-After azcore honours; beyond it
	// the call fails rather than sleeping.
	maxRetryAfter = 2 * time.Minute
)

// Client is a signed-in identity and the endpoints of its cloud.
type Client struct {
	Endpoints Endpoints
	cred      azcore.TokenCredential
	transport policy.Transporter
	cfg       Config
	Graph     *Graph
	// rolePropagation is how long a new role assignment takes to be
	// honoured, as far as dfpeer can know: it cannot observe it for
	// Dragonfly's principal, so it waits this long before Dragonfly acts.
	rolePropagation time.Duration
	subs            map[string]*subClients
}

// NewClient reads the cloud's endpoints (ARM_CLOUD_METADATA_URL, or public
// Azure), builds the credential (DefaultAzureCredential: environment
// variables, workload identity, managed identity, Azure CLI; the sandbox's
// service principal under --sandbox) and signs in once, so that missing
// or rejected credentials are reported before anything else (exit 4).
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = defaultMaxBackoff
	}
	if cfg.Poll <= 0 {
		cfg.Poll = defaultPoll
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	var base http.RoundTripper
	metadataURL := cfg.Getenv(MetadataEnv)
	if s := cfg.Sandbox; s != nil {
		base, metadataURL = s.Transport, s.MetadataURL
	}
	if cfg.Wrap != nil {
		base = cfg.Wrap(base)
	}
	hc := &http.Client{Transport: base}
	if base == nil {
		hc = &http.Client{Transport: http.DefaultTransport}
	}
	c := &Client{cfg: cfg, transport: hc, subs: map[string]*subClients{}, rolePropagation: roleSettle}
	c.Endpoints = PublicEndpoints()
	if metadataURL != "" {
		ep, err := LoadEndpoints(ctx, hc, metadataURL)
		if err != nil {
			return nil, err
		}
		c.Endpoints = ep
	}

	var err error
	if s := cfg.Sandbox; s != nil {
		c.rolePropagation = s.RolePropagation
	}
	if cfg.RoleSettle > 0 {
		c.rolePropagation = cfg.RoleSettle
	}
	if s := cfg.Sandbox; s != nil {
		c.cred, err = azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: c.clientOptions(), DisableInstanceDiscovery: true,
		})
	} else {
		c.cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: c.clientOptions(), DisableInstanceDiscovery: c.Endpoints.Custom,
		})
	}
	if err != nil {
		return nil, &cmdutil.HintError{Err: &cmdutil.AuthError{Err: fmt.Errorf("setting up Azure credentials: %s", describe(err))}, Hint: signInHint}
	}
	// EnableCAE as azcore's bearer policies ask: azidentity caches CAE
	// and plain tokens apart, and this one is to be reused.
	if _, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{EnableCAE: true, Scopes: []string{c.armScope()}}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &cmdutil.HintError{
			Err:  &cmdutil.AuthError{Err: fmt.Errorf("signing in to Azure (%s): %s", c.Endpoints.Name, describe(err))},
			Hint: signInHint,
		}
	}
	c.Graph = newGraph(c.cred, c.Endpoints, c.clientOptions(), c.moduleVersion())
	return c, nil
}

// moduleVersion is dfpeer's version in the form azcore insists on for the
// User-Agent ("v1.2.3"); development builds are v0.0.0.
func (c *Client) moduleVersion() string {
	if semverRE.MatchString(c.cfg.Version) {
		return semverRE.FindString(c.cfg.Version)
	}
	return "v0.0.0"
}

var semverRE = regexp.MustCompile(`^v\d+\.\d+\.\d+`)

const signInHint = "Sign in with 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal " +
	"(workload and managed identities work too); try 'dfpeer --sandbox azure connect' without an account."

func (c *Client) armScope() string { return c.Endpoints.ARMAudience + "/.default" }

// clientOptions are the options of every pipeline: the cloud, the
// transport (with --verbose) and retries that honour Retry-After.
func (c *Client) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:                           c.Endpoints.cloudConfig(),
		Transport:                       c.transport,
		InsecureAllowCredentialWithHTTP: c.Endpoints.AllowHTTP,
		Retry: policy.RetryOptions{
			MaxRetries: maxRetries,
			// The first delay, doubled on each retry (azcore's own
			// default is 800 ms); MaxBackoff/16 keeps tests fast.
			RetryDelay:    min(800*time.Millisecond, c.cfg.MaxBackoff/16),
			MaxRetryDelay: maxRetryAfter,
		},
		Telemetry: policy.TelemetryOptions{ApplicationID: "dfpeer/" + c.cfg.Version},
	}
}

func (c *Client) armOptions(aux ...string) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: c.clientOptions(), AuxiliaryTenants: aux}
}

// subClients are the ARM clients of one subscription.
type subClients struct {
	vnets       *armnetwork.VirtualNetworksClient
	peerings    *armnetwork.VirtualNetworkPeeringsClient
	nsgs        *armnetwork.SecurityGroupsClient
	rules       *armnetwork.SecurityRulesClient
	roleDefs    *armauthorization.RoleDefinitionsClient
	assignments *armauthorization.RoleAssignmentsClient
	permissions *armauthorization.PermissionsClient
}

func (c *Client) sub(id string) (*subClients, error) {
	if s := c.subs[id]; s != nil {
		return s, nil
	}
	o := c.armOptions()
	s := &subClients{}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	var err error
	s.vnets, err = armnetwork.NewVirtualNetworksClient(id, c.cred, o)
	add(err)
	s.peerings, err = armnetwork.NewVirtualNetworkPeeringsClient(id, c.cred, o)
	add(err)
	s.nsgs, err = armnetwork.NewSecurityGroupsClient(id, c.cred, o)
	add(err)
	s.rules, err = armnetwork.NewSecurityRulesClient(id, c.cred, o)
	add(err)
	s.roleDefs, err = armauthorization.NewRoleDefinitionsClient(c.cred, o)
	add(err)
	s.assignments, err = armauthorization.NewRoleAssignmentsClient(id, c.cred, o)
	add(err)
	s.permissions, err = armauthorization.NewPermissionsClient(id, c.cred, o)
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.subs[id] = s
	return s, nil
}

// appCredential signs in as an application with a client secret, at the
// same authority as the user, allowed to get tokens in extra tenants.
func (c *Client) appCredential(tenantID, appID, secret string, extraTenants ...string) (azcore.TokenCredential, error) {
	return azidentity.NewClientSecretCredential(tenantID, appID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:              c.clientOptions(),
		DisableInstanceDiscovery:   c.Endpoints.Custom || c.cfg.Sandbox != nil,
		AdditionallyAllowedTenants: extraTenants,
	})
}
