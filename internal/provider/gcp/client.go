// Package gcp is the GCP side of dfpeer: it discovers the project's VPC
// networks and their subnet ranges for the prompts, checks them before any
// change, and adds the VPC network peering towards Dragonfly's network and
// an ingress firewall rule, each step check-then-act; it removes them
// again where they are provably dfpeer's. It is the only package that
// imports the Compute Engine SDK.
package gcp

import (
	"context"
	crand "crypto/rand"
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

	"github.com/dragonflydb/dfpeer/internal/endpoint"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// NetworksAPI is the part of the Compute networks client dfpeer calls.
// Keeping the four interfaces narrow keeps `dfpeer gcp permissions`
// honest: every method here is in Permissions (permissions.go).
type NetworksAPI interface {
	Get(ctx context.Context, req *computepb.GetNetworkRequest, opts ...gax.CallOption) (*computepb.Network, error)
	List(ctx context.Context, req *computepb.ListNetworksRequest, opts ...gax.CallOption) *compute.NetworkIterator
	AddPeering(ctx context.Context, req *computepb.AddPeeringNetworkRequest, opts ...gax.CallOption) (*compute.Operation, error)
	RemovePeering(ctx context.Context, req *computepb.RemovePeeringNetworkRequest, opts ...gax.CallOption) (*compute.Operation, error)
	ListPeeringRoutes(ctx context.Context, req *computepb.ListPeeringRoutesNetworksRequest, opts ...gax.CallOption) *compute.ExchangedPeeringRouteIterator
}

// FirewallsAPI is the part of the firewalls client dfpeer calls.
type FirewallsAPI interface {
	Get(ctx context.Context, req *computepb.GetFirewallRequest, opts ...gax.CallOption) (*computepb.Firewall, error)
	List(ctx context.Context, req *computepb.ListFirewallsRequest, opts ...gax.CallOption) *compute.FirewallIterator
	Insert(ctx context.Context, req *computepb.InsertFirewallRequest, opts ...gax.CallOption) (*compute.Operation, error)
	Delete(ctx context.Context, req *computepb.DeleteFirewallRequest, opts ...gax.CallOption) (*compute.Operation, error)
	Update(ctx context.Context, req *computepb.UpdateFirewallRequest, opts ...gax.CallOption) (*compute.Operation, error)
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
	Sandbox *endpoint.GCP
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

	maxBackoff time.Duration
	closer     []func() error
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
				return nil, &problem.AuthError{Err: &problem.HintError{
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
	cl := &Client{Project: project, ProjectSource: source, maxBackoff: c.MaxBackoff}
	if cl.maxBackoff <= 0 {
		cl.maxBackoff = defaultMaxBackoff
	}
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
	u, err := endpoint.Check(raw, endpoint.Rule{Setting: what, Example: "https://compute.googleapis.com/compute/v1/", Secret: "the access token"})
	if err != nil {
		return "", err
	}
	shown := endpoint.Shown(u)
	path := strings.TrimRight(u.Path, "/")
	switch {
	case path == "":
	case strings.HasSuffix(path, "/compute/v1"):
		path = strings.TrimSuffix(path, "/compute/v1")
	default:
		return "", problem.Refusef("%s %s: want the Compute v1 root, ending in /compute/v1/ (e.g. https://compute.googleapis.com/compute/v1/)", what, shown)
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

// Timing of retries and waits. Waits start fast because a Compute
// operation often finishes within a second, and the SDK's own
// Operation.Wait would sleep a full second before its first look.
const (
	firstBackoff      = 50 * time.Millisecond
	defaultMaxBackoff = 8 * time.Second
	pollMaxBackoff    = time.Second
	// maxAttempts bounds retries of throttling and server errors per call.
	maxAttempts = 10
	// attemptTimeout bounds one HTTP call, so a connection that hangs is
	// retried rather than waited on forever. operations.wait itself
	// answers within two minutes.
	attemptTimeout = 3 * time.Minute
	// peeringBusyBudget bounds how long dfpeer waits for another peering
	// operation on either network (often Dragonfly's own) to finish.
	peeringBusyBudget = 10 * time.Minute
)

// timeoutHint follows every GCP wait that runs out of time.
const timeoutHint = "Every step is safe to repeat: run the same command again (with a longer --timeout) to resume."

// retryer is a gax.Retryer for what the Compute client leaves to its
// caller: rate limits (403 rateLimitExceeded), 429, 5xx, broken or hung
// connections. It honours Retry-After and gives up after maxAttempts.
type retryer struct {
	bo       *gax.Backoff
	attempts int
}

func (r *retryer) Retry(err error) (time.Duration, bool) {
	r.attempts++
	var h hungError
	if r.attempts >= maxAttempts || !(errors.As(err, &h) || transient(err)) {
		return 0, false
	}
	d := r.bo.Pause()
	if ra := retryAfter(err); ra > d {
		d = min(ra, 30*time.Second)
	}
	return d, true
}

// hungError is an attempt cut off by attemptTimeout while the caller's
// context was still live: worth another try.
type hungError struct{ err error }

func (e hungError) Error() string { return e.err.Error() }
func (e hungError) Unwrap() error { return e.err }

// do runs fn through gax's retry loop (the one the Google clients use for
// their own retries) with the retryer above. Mutations are safe to repeat
// because they carry a requestId.
func (c *Client) do(ctx context.Context, fn func(context.Context) error) error {
	r := &retryer{bo: &gax.Backoff{Initial: min(firstBackoff, c.maxBackoff), Max: c.maxBackoff, Multiplier: 2}}
	err := gax.Invoke(ctx, func(ctx context.Context, _ gax.CallSettings) error {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		err := fn(actx)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			return hungError{err}
		}
		return err
	}, gax.WithRetry(func() gax.Retryer { return r }))
	var h hungError
	if errors.As(err, &h) {
		return h.err
	}
	return err
}

// wait polls check through internal/poll: first looks after 50 ms,
// backing off to o.Max (default a second, capped by Config.MaxBackoff),
// for at most o.Timeout. A call still running when the time is up is cut
// off, and that too is a *problem.TimeoutError (exit 3).
func (c *Client) wait(ctx context.Context, o poll.Options, check func(context.Context) (bool, error)) error {
	if o.Max <= 0 {
		o.Max = pollMaxBackoff
	}
	o.Max = min(o.Max, c.maxBackoff)
	o.Initial, o.Multiplier = min(firstBackoff, o.Max), 2
	if o.Hint == "" {
		o.Hint = timeoutHint
	}
	if o.Timeout <= 0 {
		return poll.Until(ctx, o, check)
	}
	tctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	err := poll.Until(tctx, o, check)
	var te *problem.TimeoutError
	if err != nil && ctx.Err() == nil && tctx.Err() != nil && !errors.As(err, &te) {
		return &problem.TimeoutError{Err: fmt.Errorf("timed out after %s waiting for %s: %w", o.Timeout, o.What, err), Hint: o.Hint}
	}
	return err
}

// waitOperation waits until the global operation is DONE, through the
// operations.wait long poll (one call usually does), looking again when
// Compute answers early. A finished operation's error is an
// *operationError.
func (c *Client) waitOperation(ctx context.Context, op *computepb.Operation, timeout time.Duration) (*computepb.Operation, error) {
	err := c.wait(ctx, poll.Options{Timeout: timeout, What: "operation " + op.GetName() + " to be DONE"}, func(ctx context.Context) (bool, error) {
		if op.GetStatus() == computepb.Operation_DONE {
			return true, nil
		}
		name := op.GetName()
		var next *computepb.Operation
		err := c.do(ctx, func(ctx context.Context) error {
			var err error
			next, err = c.Operations.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: c.Project, Operation: name})
			return err
		})
		if err != nil {
			return false, classify(fmt.Sprintf("waiting for operation %s (compute.globalOperations.get)", name), err)
		}
		op = next
		return op.GetStatus() == computepb.Operation_DONE, nil
	})
	if err != nil {
		return op, err
	}
	if op.GetError() != nil && len(op.GetError().GetErrors()) > 0 {
		return op, &operationError{op: op}
	}
	return op, nil
}

// newRequestID returns a random UUID (version 4) for Compute's requestId:
// a mutation repeated with the same ID is done once.
func newRequestID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// startRemoval starts a delete through the retry loop. What is gone
// already (404) needs no operation: nil, nil. Busy is returned as it is,
// for untilNotBusy; anything else is classified as step.
func (c *Client) startRemoval(ctx context.Context, step string, call func(context.Context) (*compute.Operation, error)) (*computepb.Operation, error) {
	var op *computepb.Operation
	err := c.do(ctx, func(ctx context.Context) error {
		o, err := call(ctx)
		if err != nil {
			return err
		}
		op = o.Proto()
		return nil
	})
	switch {
	case statusCode(err) == 404:
		return nil, nil // removed meanwhile
	case busy(err):
		return nil, err
	case err != nil:
		return nil, classify(step, err)
	}
	return op, nil
}
