// Package httplog implements --verbose: one line per HTTP call (method,
// URL, status, duration) on stderr, for every client dfpeer builds — the
// Dragonfly API client and the cloud SDKs alike.
//
// It never prints headers or bodies, and it blanks query parameters that
// can carry credentials (presigned URLs, tokens), so the output is safe to
// paste into an issue.
package httplog

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Transport logs each round trip to W before returning it.
type Transport struct {
	Base http.RoundTripper
	W    io.Writer
	mu   sync.Mutex
}

// Wrap returns base wrapped in a logging transport writing to w.
func Wrap(base http.RoundTripper, w io.Writer) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{Base: base, W: w}
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.Base.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Millisecond)
	var status string
	if err != nil {
		status = ErrorStatus(err)
	} else {
		status = fmt.Sprint(resp.StatusCode)
	}
	t.mu.Lock()
	Line(t.W, req.Method, req.URL, status, elapsed)
	t.mu.Unlock()
	return resp, err
}

// Line writes one call in the --verbose format. SDKs that must keep their
// own HTTP client (the AWS SDK adds CA bundles to it) log through this
// from a middleware instead of the Transport.
func Line(w io.Writer, method string, u *url.URL, status string, elapsed time.Duration) {
	fmt.Fprintf(w, "* %s %s %s %s\n", method, RedactURL(u), status, elapsed.Round(time.Millisecond))
}

// ErrorStatus is how a failed round trip is shown in place of a status.
func ErrorStatus(err error) string { return "error: " + errorKind(err) }

// errorKind keeps transport errors short and free of anything echoed back.
func errorKind(err error) string {
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "EOF", "timeout", "context canceled", "deadline exceeded", "certificate"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	return "transport failure"
}

var secretParams = []string{"key", "token", "secret", "signature", "sig", "password", "code", "credential", "x-amz-security-token", "x-amz-signature", "x-amz-credential", "client_secret", "access_token"}

// RedactURL returns u as a string with credential-like query values and
// any userinfo replaced by "REDACTED".
func RedactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	q := c.Query()
	changed := false
	for name := range q {
		lower := strings.ToLower(name)
		for _, s := range secretParams {
			if strings.Contains(lower, s) {
				q[name] = []string{"REDACTED"}
				changed = true
				break
			}
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}
