// Package azure is the Azure side of dfpeer: it signs in, discovers
// subscriptions and virtual networks for the prompts, observes everything
// before any change (Observe), and performs the console guide's steps —
// the multi-tenant application and its service principal, Dragonfly
// Cloud's service principal, the roles, the temporary client secret, the
// cross-tenant VNet peering and the NSG rules — each check-then-act
// (Ensure), or takes down what it made (Remove). One file per resource
// kind: identity.go, roles.go, secret.go, peering.go, firewall.go. It is the only package that imports the
// Azure SDK; Microsoft Graph is reached through a small typed client on
// azcore's pipeline (Graph, in this file; its calls live with the
// resources they touch) rather than msgraph-sdk-go.
package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/endpoint"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// Config says how to reach Azure.
type Config struct {
	// Getenv reads the environment (ARM_CLOUD_METADATA_URL).
	Getenv func(string) string
	// Sandbox, when set, points every client at the simulator with the
	// sandbox's service principal and ignores the user's configuration.
	Sandbox *endpoint.Azure
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

// Waits dfpeer bounds itself. azcore retries throttling and server errors
// per call; these are the waits for Azure to make a change visible.
const (
	// propagationBudget bounds retries of authorization failures that
	// follow a new role assignment: Azure documents up to ten minutes.
	propagationBudget = 10 * time.Minute
	// signInBudget bounds retries of a sign-in with a client secret just
	// added: Entra takes a few seconds, sometimes a minute, to accept it.
	signInBudget = 2 * time.Minute
	// createBudget bounds looking again and retrying a create that Graph
	// throttled or failed (azcore does not retry those: see
	// CreateApplication).
	createBudget = 2 * time.Minute
	// roleSettle is how long dfpeer lets a role assignment for
	// Dragonfly's principal settle before creating the connection, since
	// it cannot see when Dragonfly's access takes effect and Dragonfly
	// peers as soon as the connection exists. Most assignments apply
	// within seconds; a connection that fails because this one had not
	// yet is deleted and created again (RetryConnection), so this is the
	// usual case's wait, not the worst case's.
	roleSettle = 5 * time.Second
	// cleanupTimeout bounds removing the temporary secret after an
	// interruption.
	cleanupTimeout = 30 * time.Second
)

// pollOptions paces every wait dfpeer polls itself: from Poll, growing
// gently to ten times it (at most MaxBackoff), so a state change is seen
// soon after it happens without hammering ARM during a long wait.
func (c *Client) pollOptions(timeout time.Duration, what, hint string) poll.Options {
	return poll.Options{Initial: c.cfg.Poll, Max: max(c.cfg.Poll, min(10*c.cfg.Poll, c.cfg.MaxBackoff)), Multiplier: 1.5,
		Timeout: timeout, What: what, Hint: hint}
}

// retry calls fn until it succeeds or fails with an error transient does
// not accept, for at most budget; notify (may be nil) hears each retry's
// reason.
func (c *Client) retry(ctx context.Context, budget time.Duration, what string, transient func(error) bool, notify func(error), fn func() error) error {
	return poll.Until(ctx, c.pollOptions(budget, what, ""), func(ctx context.Context) (bool, error) {
		err := fn()
		switch {
		case err == nil:
			return true, nil
		case !transient(err):
			return false, err
		}
		if notify != nil {
			notify(err)
		}
		return false, poll.Retry(&errAzure{step: what, err: err})
	})
}

// pollUntilDone polls a long-running operation at dfpeer's own pace:
// azcore's PollUntilDone refuses intervals under a second outside tests,
// and most network operations finish in a few.
func pollUntilDone[T any](ctx context.Context, c *Client, p *runtime.Poller[T], what string) (T, error) {
	first := true
	err := poll.Until(ctx, c.pollOptions(0, what, ""), func(ctx context.Context) (bool, error) {
		if first || p.Done() {
			// The operation was just started: give it an interval first.
			first = false
			return p.Done(), nil
		}
		_, err := p.Poll(ctx)
		return err == nil && p.Done(), err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return p.Result(ctx)
}

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
		return nil, &problem.HintError{Err: &problem.AuthError{Err: fmt.Errorf("setting up Azure credentials: %s", describe(err))}, Hint: signInHint}
	}
	// EnableCAE as azcore's bearer policies ask: azidentity caches CAE
	// and plain tokens apart, and this one is to be reused.
	if _, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{EnableCAE: true, Scopes: []string{c.armScope()}}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &problem.HintError{
			Err:  &problem.AuthError{Err: fmt.Errorf("signing in to Azure (%s): %s", c.Endpoints.Name, describe(err))},
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
	routeTables *armnetwork.RouteTablesClient
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
	s.routeTables, err = armnetwork.NewRouteTablesClient(id, c.cred, o)
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

// child parses the ID of a VNet's peering or an NSG's rule into its
// subscription's clients, resource group, parent and name.
func (c *Client) child(resourceID string) (sc *subClients, rg, parent, name string, err error) {
	id, err := arm.ParseResourceID(resourceID)
	if err != nil || id.Parent == nil {
		return nil, "", "", "", fmt.Errorf("resource ID %q is not a child resource: %v", resourceID, err)
	}
	sc, err = c.sub(id.SubscriptionID)
	return sc, id.ResourceGroupName, id.Parent.Name, id.Name, err
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

// MetadataEnv is the Azure CLI's convention for custom and sovereign
// clouds: a URL returning the Resource Manager metadata document.
const MetadataEnv = "ARM_CLOUD_METADATA_URL"

// Public Azure, used when no metadata document is configured.
const (
	publicGraph      = "https://graph.microsoft.com"
	publicARMAud     = "https://management.azure.com"
	publicARM        = "https://management.azure.com"
	publicCloudLabel = "AzureCloud"
)

// Endpoints are where one Azure cloud lives.
type Endpoints struct {
	// Name is the cloud's name ("AzureCloud", ...), for messages.
	Name string
	// Authority is the login endpoint (https, ending in "/"); empty means
	// azidentity's own default, which honours AZURE_AUTHORITY_HOST.
	Authority string
	// ARM is the Resource Manager endpoint and ARMAudience its token
	// audience.
	ARM, ARMAudience string
	// Graph is Microsoft Graph's base URL (without /v1.0) and GraphScope
	// the scope its tokens are requested for.
	Graph, GraphScope string
	// Custom is true when the endpoints came from a metadata document:
	// the credential then must not ask the public cloud for instance
	// discovery.
	Custom bool
	// AllowHTTP is true when ARM or Graph is plain http on loopback (a
	// local simulator); azcore refuses to send tokens over http otherwise.
	AllowHTTP bool
}

// PublicEndpoints is public Azure.
func PublicEndpoints() Endpoints {
	return Endpoints{Name: publicCloudLabel, ARM: publicARM, ARMAudience: publicARMAud, Graph: publicGraph, GraphScope: publicGraph + "/.default"}
}

// cloudConfig is the azcore configuration for these endpoints; the zero
// value (public Azure, AZURE_AUTHORITY_HOST honoured) when not custom.
func (e Endpoints) cloudConfig() cloud.Configuration {
	if !e.Custom {
		return cloud.Configuration{}
	}
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: e.Authority,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: e.ARM, Audience: e.ARMAudience},
		},
	}
}

// metadataCloud is the part of a cloud in the metadata document dfpeer
// reads.
type metadataCloud struct {
	Name            string `json:"name"`
	ResourceManager string `json:"resourceManager"`
	Graph           string `json:"microsoftGraphResourceId"`
	Authentication  struct {
		LoginEndpoint string   `json:"loginEndpoint"`
		Audiences     []string `json:"audiences"`
	} `json:"authentication"`
}

// LoadEndpoints fetches the metadata document at rawURL and returns the
// cloud it describes. api-version 2022-09-01 answers with one cloud
// object, older versions with an array of clouds: from an array, the cloud
// whose Resource Manager is the document's own host is chosen (the host
// serves its own cloud), or the only one.
func LoadEndpoints(ctx context.Context, hc *http.Client, rawURL string) (Endpoints, error) {
	u, err := checkURL(rawURL, MetadataEnv, false)
	if err != nil {
		return Endpoints{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Endpoints{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Endpoints{}, fmt.Errorf("reading the cloud metadata document (%s): %w", MetadataEnv, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Endpoints{}, fmt.Errorf("reading the cloud metadata document (%s): %w", MetadataEnv, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Endpoints{}, fmt.Errorf("reading the cloud metadata document (%s): HTTP %d", MetadataEnv, resp.StatusCode)
	}
	c, err := pickCloud(body, u.Host)
	if err != nil {
		return Endpoints{}, fmt.Errorf("the cloud metadata document (%s): %w", MetadataEnv, err)
	}
	return c.endpoints()
}

func pickCloud(body []byte, host string) (metadataCloud, error) {
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		var c metadataCloud
		if err := json.Unmarshal(body, &c); err != nil {
			return c, fmt.Errorf("not a cloud metadata document: %v", err)
		}
		return c, nil
	}
	var all []metadataCloud
	if err := json.Unmarshal(body, &all); err != nil {
		return metadataCloud{}, fmt.Errorf("not a cloud metadata document: %v", err)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
		if rm, err := url.Parse(c.ResourceManager); err == nil && strings.EqualFold(rm.Host, host) {
			return c, nil
		}
	}
	if len(all) == 0 {
		return metadataCloud{}, fmt.Errorf("it lists no cloud")
	}
	return metadataCloud{}, fmt.Errorf("it lists %d clouds (%s) and none has its Resource Manager at %s; use a URL that serves one cloud (api-version=2022-09-01)",
		len(all), strings.Join(names, ", "), host)
}

func (c metadataCloud) endpoints() (Endpoints, error) {
	login, err := checkURL(c.Authentication.LoginEndpoint, "the metadata document's authentication.loginEndpoint", true)
	if err != nil {
		return Endpoints{}, err
	}
	rm, err := checkURL(c.ResourceManager, "the metadata document's resourceManager", false)
	if err != nil {
		return Endpoints{}, err
	}
	graph, err := checkURL(c.Graph, "the metadata document's microsoftGraphResourceId", false)
	if err != nil {
		return Endpoints{}, err
	}
	aud := strings.TrimRight(rm.String(), "/")
	if len(c.Authentication.Audiences) > 0 && c.Authentication.Audiences[0] != "" {
		aud = strings.TrimRight(c.Authentication.Audiences[0], "/")
	}
	name := c.Name
	if name == "" {
		name = "custom cloud"
	}
	graphBase := strings.TrimRight(graph.String(), "/")
	return Endpoints{
		Name: name,
		// MSAL reads the first path segment after the host as the tenant:
		// the authority must be a host root.
		Authority:   strings.TrimRight(login.String(), "/") + "/",
		ARM:         strings.TrimRight(rm.String(), "/"),
		ARMAudience: aud,
		Graph:       graphBase,
		GraphScope:  graphBase + "/.default",
		Custom:      true,
		AllowHTTP:   rm.Scheme == "http" || graph.Scheme == "http",
	}, nil
}

// checkURL accepts an absolute https URL, or http to a loopback host unless
// httpsOnly (azidentity refuses a login endpoint without TLS); what names
// where the URL came from.
func checkURL(raw, what string, httpsOnly bool) (*url.URL, error) {
	return endpoint.Check(raw, endpoint.Rule{Setting: what, Example: "https://management.azure.com/", Secret: "a token",
		HTTPSOnly: httpsOnly, AllowQuery: true})
}

// Graph is the handful of Microsoft Graph v1.0 calls dfpeer makes, on
// azcore's pipeline (bearer tokens, retries with Retry-After, --verbose):
// msgraph-sdk-go would nearly triple the cold build for them.
type Graph struct {
	pl   runtime.Pipeline
	base string // ".../v1.0"
}

func newGraph(cred azcore.TokenCredential, ep Endpoints, opts azcore.ClientOptions, version string) *Graph {
	pl := runtime.NewPipeline("dfpeer-graph", version, runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{ep.GraphScope},
			&policy.BearerTokenOptions{InsecureAllowCredentialWithHTTP: ep.AllowHTTP})},
	}, &opts)
	return &Graph{pl: pl, base: ep.Graph + "/v1.0"}
}

// odataString quotes s for an OData $filter.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *Graph) do(ctx context.Context, method, path string, query url.Values, body any, out any, ok ...int) error {
	req, err := runtime.NewRequest(ctx, method, g.base+path)
	if err != nil {
		return err
	}
	if query != nil {
		req.Raw().URL.RawQuery = query.Encode()
	}
	req.Raw().Header.Set("Accept", "application/json")
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			return err
		}
	}
	resp, err := g.pl.Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, ok...) {
		return runtime.NewResponseError(resp)
	}
	if out == nil {
		runtime.Drain(resp)
		return nil
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

// list is a Graph collection page. dfpeer's queries filter on a key
// (display name, app ID) and fit in one page.
type list[T any] struct {
	Value []T `json:"value"`
}
