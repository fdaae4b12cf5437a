package dfcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/endpoint"
)

// DefaultBaseURL is the Dragonfly Cloud API.
const DefaultBaseURL = "https://api.dragonflydb.cloud"

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "dfpeer-dfcloud-go"

// maxResponse bounds how much of a response body is read: the API's objects
// are small, and a misbehaving proxy should not exhaust memory.
const maxResponse = 8 << 20

// Client calls the Dragonfly Cloud API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	apiKey    string
	http      *http.Client
	userAgent string
	retry     RetryPolicy
	sleep     func(ctx context.Context, d time.Duration) error
	now       func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, timeout). The default has a
// 30 s timeout per request.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithRetryPolicy replaces the retry policy. Zero fields take the defaults;
// MaxAttempts 1 disables retries.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) { c.retry = p.withDefaults() }
}

// WithSleep replaces how the client waits between attempts. The function
// must return ctx.Err() if the context ends first. Tests use it to make
// backoff instant and to record the delays.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// ErrInsecureURL is wrapped by New's error when the base URL would send the
// API key unencrypted to another machine.
var ErrInsecureURL = errors.New("insecure API URL")

// ErrNoAPIKey is wrapped by New's error when the API key is empty.
var ErrNoAPIKey = errors.New("no API key")

// New returns a client for the API at baseURL ("" means DefaultBaseURL),
// authenticating with apiKey.
//
// baseURL must be https, except that plain http is allowed for loopback
// hosts (localhost, 127.0.0.0/8, ::1), where a local simulator runs; any
// other http URL is refused with an error wrapping ErrInsecureURL, because
// the API key would travel in clear text. A path in baseURL is kept as a
// prefix ("http://127.0.0.1:8080/dfcloud" + "/v1/networks").
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if apiKey == "" {
		return nil, fmt.Errorf("dfcloud: %w: set DFCLOUD_API_KEY to a key created in the Dragonfly Cloud console", ErrNoAPIKey)
	}
	c := &Client{
		base:      u,
		apiKey:    apiKey,
		http:      &http.Client{Timeout: 30 * time.Second},
		userAgent: DefaultUserAgent,
		retry:     DefaultRetryPolicy,
		sleep:     sleepContext,
		now:       time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	c.http = sameOriginRedirects(c.http, u)
	return c, nil
}

// ErrRedirect is wrapped by the error of a call the server redirected to
// another origin.
var ErrRedirect = errors.New("redirect to another host refused")

// sameOriginRedirects returns a copy of hc (the caller's client is left
// alone) that follows redirects only within the API's own scheme, host and
// port. net/http forwards the Authorization header to any URL with the same
// host name, whatever its port or scheme (http://api:8080 after
// https://api); the API key must not leave for another server, and the API
// has no reason to redirect elsewhere.
func sameOriginRedirects(hc *http.Client, base *url.URL) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.EqualFold(req.URL.Scheme, base.Scheme) || !strings.EqualFold(req.URL.Host, base.Host) {
			return fmt.Errorf("dfcloud: the API answered with a redirect to %s: %w", shownURL(req.URL), ErrRedirect)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("dfcloud: stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// shownURL is u as an error may show it: without user info, query or
// fragment, any of which could hold a credential pasted by mistake.
func shownURL(u *url.URL) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	s := c.String()
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		s += " (user info, query and fragment hidden)"
	}
	return s
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the input, which may carry anything a
		// user pasted (a key in a query string): do not repeat it.
		return nil, errors.New("dfcloud: invalid API URL: cannot be parsed; want https://host[:port][/path]")
	}
	if u.User != nil {
		return nil, fmt.Errorf("dfcloud: invalid API URL %q: credentials in the URL are not supported; the API key is sent as a header", shownURL(u))
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("dfcloud: invalid API URL %q: want https://host[:port][/path]", shownURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("dfcloud: invalid API URL %q: a query or fragment is not allowed", shownURL(u))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("dfcloud: refusing %q: %w: the API key would travel in clear text; use https (plain http is only allowed for localhost)", shownURL(u), ErrInsecureURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool { return endpoint.IsLoopback(host) }

// BaseURL returns the API's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without its API key. It and Format have
// value receivers so that printing a Client value, not only a pointer,
// cannot reveal the key either.
func (c Client) String() string {
	base := ""
	if c.base != nil {
		base = c.base.String()
	}
	return fmt.Sprintf("dfcloud.Client{BaseURL: %q, APIKey: <redacted>}", base)
}

// GoString keeps the key out of %#v.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb: without it, %d or %x on a Client
// would print its fields, key included.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// do sends one API call, with retries, and decodes a 2xx body into out
// (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("dfcloud: %s %s: encode request: %w", method, path, err)
		}
	}
	idempotent := method == http.MethodGet || method == http.MethodDelete

	var lastErr error
	for attempt := 1; ; attempt++ {
		delay, retry, err := c.attempt(ctx, method, path, body, out, idempotent)
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || attempt >= c.retry.MaxAttempts || ctx.Err() != nil {
			return lastErr
		}
		if delay < 0 {
			delay = c.retry.backoff(attempt)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return fmt.Errorf("dfcloud: %s %s: %w (while retrying after: %v)", method, path, err, lastErr)
		}
	}
}

// attempt makes one HTTP request. It returns whether the failure may be
// retried and, when the server said how long to wait, that delay (-1 means
// use the backoff).
func (c *Client) attempt(ctx context.Context, method, path string, body []byte, out any, idempotent bool) (time.Duration, bool, error) {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return -1, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return -1, false, fmt.Errorf("dfcloud: %s %s: %w", method, path, ctxErr)
		}
		err = transportError(err)
		if errors.Is(err, ErrRedirect) {
			// An answer, and one that will not change on a retry.
			return -1, false, err
		}
		// A POST that failed after connecting may have been handled:
		// repeating it could create a second connection.
		retry := idempotent || notSent(err)
		return -1, retry, fmt.Errorf("dfcloud: %s %s: %w", method, path, &networkError{err})
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if readErr != nil {
			return -1, idempotent, fmt.Errorf("dfcloud: %s %s: read response: %w", method, path, &networkError{readErr})
		}
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return -1, false, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return -1, false, fmt.Errorf("dfcloud: %s %s: decode response: %w", method, path, err)
		}
		return -1, false, nil
	}

	msg := errorMessage(data)
	if strings.Contains(msg, c.apiKey) {
		// A proxy that echoes request headers must not put the key in
		// an error message.
		msg = strings.ReplaceAll(msg, c.apiKey, "<redacted>")
	}
	apiErr := &APIError{StatusCode: resp.StatusCode, Method: method, Path: path, Message: msg}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return -1, false, &AuthError{APIError: apiErr}
	case resp.StatusCode == http.StatusTooManyRequests:
		// A rate limiter answers before the handler runs, so even a POST
		// can be repeated.
		return c.retryAfter(resp), true, apiErr
	case resp.StatusCode >= 500:
		delay := time.Duration(-1)
		if resp.StatusCode == http.StatusServiceUnavailable {
			delay = c.retryAfter(resp)
		}
		return delay, idempotent, apiErr
	}
	return -1, false, apiErr
}

func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + path
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, fmt.Errorf("dfcloud: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	return req, nil
}

// errorMessage extracts the server's {"error": "..."} text, or a short
// excerpt of a body that is not in that shape.
func errorMessage(data []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return e.Error
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 || strings.ContainsAny(s, "<{") {
		// An HTML error page or another JSON shape says nothing useful.
		return ""
	}
	return s
}

// networkError marks a failure to get any answer from the server, as
// opposed to an answer that says no.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// transportError drops net/http's *url.Error wrapper, whose text repeats the
// method and full URL, keeping the underlying cause.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// notSent reports whether err happened before the request could have been
// written to a server: failing to resolve or to connect.
func notSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// escapeID guards path parameters: an empty ID would silently turn a Get
// into a List.
func escapeID(kind, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("dfcloud: %s ID is empty", kind)
	}
	return url.PathEscape(id), nil
}
