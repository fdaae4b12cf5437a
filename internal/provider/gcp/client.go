// Package gcp is the GCP side of dfpeer: it discovers the project's VPC
// networks and their subnet ranges for the prompts, checks them before any
// change, and adds the VPC network peering towards Dragonfly's network and
// an ingress firewall rule, each step check-then-act. It is the only
// package that imports the Compute Engine SDK.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

// NetworksAPI is the part of the Compute networks client dfpeer calls.
// Keeping the four interfaces narrow keeps `dfpeer gcp permissions`
// honest: every method here is in Permissions.
type NetworksAPI interface {
	Get(ctx context.Context, req *computepb.GetNetworkRequest, opts ...gax.CallOption) (*computepb.Network, error)
	List(ctx context.Context, req *computepb.ListNetworksRequest, opts ...gax.CallOption) *compute.NetworkIterator
	AddPeering(ctx context.Context, req *computepb.AddPeeringNetworkRequest, opts ...gax.CallOption) (*compute.Operation, error)
}

// FirewallsAPI is the part of the firewalls client dfpeer calls.
type FirewallsAPI interface {
	Get(ctx context.Context, req *computepb.GetFirewallRequest, opts ...gax.CallOption) (*computepb.Firewall, error)
	List(ctx context.Context, req *computepb.ListFirewallsRequest, opts ...gax.CallOption) *compute.FirewallIterator
	Insert(ctx context.Context, req *computepb.InsertFirewallRequest, opts ...gax.CallOption) (*compute.Operation, error)
}

// SubnetworksAPI is the part of the subnetworks client dfpeer calls.
type SubnetworksAPI interface {
	AggregatedList(ctx context.Context, req *computepb.AggregatedListSubnetworksRequest, opts ...gax.CallOption) *compute.SubnetworksScopedListPairIterator
}

// OperationsAPI is the part of the global operations client dfpeer calls.
type OperationsAPI interface {
	Wait(ctx context.Context, req *computepb.WaitGlobalOperationRequest, opts ...gax.CallOption) (*computepb.Operation, error)
}

// EndpointEnv is gcloud's own override of the Compute endpoint, which
// dfpeer honours too.
const EndpointEnv = "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"

// TokenEnv carries a raw OAuth access token, as for the Terraform Google
// provider; it takes precedence over Application Default Credentials.
const TokenEnv = "GOOGLE_OAUTH_ACCESS_TOKEN"

// computeScope is what the token must allow.
const computeScope = "https://www.googleapis.com/auth/compute"

// Config says how to reach Compute Engine.
type Config struct {
	Project string // --project; empty: ADC's, GOOGLE_CLOUD_PROJECT, gcloud's
	// Sandbox, when set, points every client at the simulator with its
	// token and project, and ignores the user's Google configuration.
	Sandbox *cmdutil.GCPEndpoints
	// Getenv reads the environment (tests substitute a map).
	Getenv func(string) string
	// WrapTransport adds --verbose logging around the transport the
	// clients use; nil leaves it alone.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// MaxBackoff caps dfpeer's retry backoff (tests make it tiny).
	MaxBackoff time.Duration
	// Detect finds Application Default Credentials; nil means the Google
	// auth library's own search. Tests replace it.
	Detect func(*credentials.DetectOptions) (*auth.Credentials, error)
}

// Client is the Compute clients bound to one project.
type Client struct {
	Networks    NetworksAPI
	Firewalls   FirewallsAPI
	Subnetworks SubnetworksAPI
	Operations  OperationsAPI
	Project     string
	// ProjectSource says where Project came from, for messages.
	ProjectSource string

	retry  retryPolicy
	closer []func() error
}

// NewClient finds the credentials, the project and the endpoint, and
// builds the REST clients. It makes no API call (ADC on a GCE VM may ask
// the metadata server for the project).
func NewClient(ctx context.Context, c Config) (*Client, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	base := ""
	var token func(context.Context) (string, error)
	var creds *auth.Credentials
	if s := c.Sandbox; s != nil {
		u, err := computeBase(s.URL, "the sandbox's Compute URL")
		if err != nil {
			return nil, err
		}
		base = u
		token = staticToken(s.Token)
	} else {
		if raw := getenv(EndpointEnv); raw != "" {
			u, err := computeBase(raw, EndpointEnv)
			if err != nil {
				return nil, err
			}
			base = u
		}
		if t := strings.TrimSpace(getenv(TokenEnv)); t != "" {
			token = staticToken(t)
		} else {
			detect := c.Detect
			if detect == nil {
				detect = credentials.DetectDefault
			}
			var err error
			creds, err = detect(&credentials.DetectOptions{Scopes: []string{computeScope}})
			if err != nil {
				return nil, &cmdutil.AuthError{Err: &cmdutil.HintError{
					Err:  fmt.Errorf("no usable Google Cloud credentials: %w", err),
					Hint: "Log in with 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS to a key file, or set " + TokenEnv + " (or try --sandbox).",
				}}
			}
			token = func(ctx context.Context) (string, error) {
				t, err := creds.Token(ctx)
				if err != nil {
					return "", err
				}
				return t.Value, nil
			}
		}
	}

	project, source, err := resolveProject(ctx, c, creds, getenv)
	if err != nil {
		return nil, err
	}

	var transport http.RoundTripper = http.DefaultTransport
	if c.WrapTransport != nil {
		transport = c.WrapTransport(transport)
	}
	hc := &http.Client{Transport: &bearer{token: token, base: transport}}
	opts := []option.ClientOption{option.WithHTTPClient(hc)}
	if base != "" {
		opts = append(opts, option.WithEndpoint(base))
	}
	cl := &Client{Project: project, ProjectSource: source, retry: newRetryPolicy(c.MaxBackoff)}
	nc, err := compute.NewNetworksRESTClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Compute networks client: %w", err)
	}
	fc, err := compute.NewFirewallsRESTClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Compute firewalls client: %w", err)
	}
	sc, err := compute.NewSubnetworksRESTClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Compute subnetworks client: %w", err)
	}
	oc, err := compute.NewGlobalOperationsRESTClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the Compute operations client: %w", err)
	}
	// dfpeer retries itself (throttling is a 403 the SDK does not retry,
	// and a peering operation in progress is a 400): one retry layer with
	// one backoff, instead of two stacked ones.
	nc.CallOptions = &compute.NetworksCallOptions{}
	fc.CallOptions = &compute.FirewallsCallOptions{}
	sc.CallOptions = &compute.SubnetworksCallOptions{}
	oc.CallOptions = &compute.GlobalOperationsCallOptions{}
	cl.Networks, cl.Firewalls, cl.Subnetworks, cl.Operations = nc, fc, sc, oc
	cl.closer = []func() error{nc.Close, fc.Close, sc.Close, oc.Close}
	return cl, nil
}

// Close releases the clients.
func (c *Client) Close() error {
	var errs []error
	for _, f := range c.closer {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}

// computeBase turns a Compute base URL as gcloud spells it
// (https://compute.googleapis.com/compute/v1/) into the endpoint the REST
// clients want: they append /compute/v1/projects/… themselves. Plain http
// is only accepted for loopback: the bearer token would travel in clear.
func computeBase(raw, what string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", cmdutil.FlagErrorf("%s: want an absolute URL such as https://compute.googleapis.com/compute/v1/", what)
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", cmdutil.FlagErrorf("%s %s: user info, a query or a fragment is not allowed", what, shown)
	}
	if u.Scheme == "http" && !cmdutil.IsLoopback(u.Hostname()) {
		return "", cmdutil.FlagErrorf("%s %q: plain http is only allowed for loopback addresses (127.0.0.1, ::1, localhost); use https, or the access token would travel in clear text", what, shown)
	}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case path == "":
	case strings.HasSuffix(path, "/compute/v1"):
		path = strings.TrimSuffix(path, "/compute/v1")
	default:
		return "", cmdutil.FlagErrorf("%s %s: want the Compute v1 root, ending in /compute/v1/ (e.g. https://compute.googleapis.com/compute/v1/)", what, shown)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}).String(), nil
}

func staticToken(t string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return t, nil }
}

// bearer adds the access token to every request. It sits outside the
// --verbose transport so the log shows each call the SDK makes, and the
// token never reaches the log (httplog prints no headers).
type bearer struct {
	token func(context.Context) (string, error)
	base  http.RoundTripper
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.token(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &tokenError{err: err}
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return b.base.RoundTrip(r)
}

// tokenError is a failure to obtain an access token (expired login,
// revoked key): an authentication problem, not a Compute one.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "getting a Google access token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }
