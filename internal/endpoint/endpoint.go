// Package endpoint decides where dfpeer's clients connect: the checks an
// endpoint URL must pass before a secret is sent to it, and the sandbox's
// endpoints that point every client at the simulators. It is a leaf the
// command layer, the providers and the sandbox share.
package endpoint

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Rule says what a URL that receives a secret must look like.
type Rule struct {
	// Setting names where the value came from ("api-url",
	// "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"), for the refusal.
	Setting string
	// Example is a valid value, shown when the value is not a URL.
	Example string
	// Secret is what would leak over plain http ("the API key").
	Secret string
	// HTTPSOnly refuses http even to loopback (a login endpoint: azidentity
	// refuses it).
	HTTPSOnly bool
	// AllowQuery accepts a query string (a metadata document's
	// api-version); user info and fragments are still refused.
	AllowQuery bool
}

// Check parses raw as an absolute URL for a service that receives a
// secret: https, or plain http to a loopback address; no user info, query
// or fragment (a key pasted there must not travel, nor be echoed). A
// refusal is a *problem.Refusal naming r.Setting; it shows the URL without
// those parts.
func Check(raw string, r Rule) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, problem.Refuse(r.Setting, "", "", "want an absolute URL such as %s", r.Example)
	}
	shown := Shown(u)
	if u.User != nil || (u.RawQuery != "" && !r.AllowQuery) || u.Fragment != "" {
		return nil, problem.Refuse(r.Setting, shown, "", "user info, a query or a fragment is not allowed; %s is sent as a header", r.Secret)
	}
	if u.Scheme == "http" {
		if r.HTTPSOnly {
			return nil, problem.Refuse(r.Setting, shown, "", "must use https: it receives %s", r.Secret)
		}
		if !IsLoopback(u.Hostname()) {
			return nil, problem.Refuse(r.Setting, fmt.Sprintf("%q", shown), "use https, or "+r.Secret+" would travel in clear text",
				"plain http is only allowed for loopback addresses (127.0.0.1, ::1, localhost)")
		}
	}
	if p := u.Port(); p != "" {
		if n, err := net.LookupPort("tcp", p); err != nil || n < 1 || n > 65535 {
			return nil, problem.Refuse(r.Setting, shown, "", "port %s is not a TCP port (1-65535)", p)
		}
	}
	return u, nil
}

// Shown is u without user info, query and fragment: safe to print.
func Shown(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Sandbox points every client at the simulators instead of the real
// services. Nil fields mean "the real thing".
type Sandbox struct {
	DFCloudURL string
	DFCloudKey string
	AWS        *AWS
	GCP        *GCP
	Azure      *Azure
}

// AWS points the AWS SDK at a simulator.
type AWS struct {
	URL             string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
}

// GCP points the Compute client at a simulator.
type GCP struct {
	URL     string // base such as http://127.0.0.1:PORT/compute/v1/
	Token   string
	Project string
}

// Azure points the Azure SDK at a simulator.
type Azure struct {
	MetadataURL    string
	TenantID       string
	ClientID       string
	ClientSecret   string
	SubscriptionID string
	Transport      http.RoundTripper // trusts the simulator's CA
	// RolePropagation is how long the simulated RBAC takes to honour a
	// new role assignment: dfpeer lets Dragonfly's settle that long.
	RolePropagation time.Duration
}
