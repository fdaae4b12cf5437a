package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/endpoint"
	"github.com/dragonflydb/dfpeer/internal/httplog"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Globals are the root command's flags, filled by cobra before any command
// runs.
type Globals struct {
	Output     string // "text" or "json"
	NoInput    bool
	Yes        bool
	Timeout    time.Duration
	Verbose    bool
	APIURL     string
	APIKeyFile string
	Sandbox    bool
}

// JSON reports whether -o json was asked for.
func (g *Globals) JSON() bool { return g.Output == "json" }

// Endpoints redirect every client to the sandbox's simulators; the
// structs live in the endpoint package, shared with providers and sandbox.
type (
	Endpoints      = endpoint.Sandbox
	AWSEndpoints   = endpoint.AWS
	GCPEndpoints   = endpoint.GCP
	AzureEndpoints = endpoint.Azure
)

// Factory is the bag of lazily built dependencies commands draw from.
// Nothing is built until a command asks, so --help and flag errors never
// read credentials or open the network.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Globals   *Globals
	// Getenv reads the environment (tests substitute a map).
	Getenv func(string) string
	// Now is the clock.
	Now func() time.Time
	// Prompter asks questions; only used when IOStreams.CanPrompt().
	Prompter func() prompt.Prompter
	// HTTPClient is shared by every client so --verbose sees all calls.
	HTTPClient func() *http.Client
	// Endpoints returns the sandbox's endpoints, or nil outside --sandbox.
	Endpoints func() (*Endpoints, error)
	// DFCloud returns the Dragonfly Cloud API client.
	DFCloud func() (*dfcloud.Client, error)

	// Tuning for tests: zero values mean the production defaults.
	Tuning Tuning
}

// Tuning holds knobs tests turn so runs take milliseconds, never flags.
type Tuning struct {
	Poll       dfcloud.WaitOptions // status polling
	MaxBackoff time.Duration       // caps cloud SDK retry backoff
}

// NewFactory wires the real dependencies. startSandbox is called (once) when
// --sandbox is set.
func NewFactory(ios *iostreams.IOStreams, startSandbox func() (*Endpoints, error)) *Factory {
	f := &Factory{
		IOStreams: ios,
		Globals:   &Globals{Output: "text"},
		Getenv:    os.Getenv,
		Now:       time.Now,
	}
	// One prompter for the process: in line mode (TERM=dumb) it owns the
	// reading of stdin.
	huh := &prompt.Huh{In: ios.In, Out: ios.ErrOut, Color: ios.ErrColorScheme().Enabled(), Plain: ios.IsDumbTerminal()}
	f.Prompter = func() prompt.Prompter { return huh }
	var httpClient *http.Client
	f.HTTPClient = func() *http.Client {
		if httpClient == nil {
			httpClient = f.newHTTPClient(nil)
		}
		return httpClient
	}
	var endpoints *Endpoints
	f.Endpoints = func() (*Endpoints, error) {
		if !f.Globals.Sandbox {
			return nil, nil
		}
		if endpoints == nil {
			e, err := startSandbox()
			if err != nil {
				return nil, fmt.Errorf("starting the sandbox: %w", err)
			}
			endpoints = e
		}
		return endpoints, nil
	}
	f.DFCloud = func() (*dfcloud.Client, error) { return DFCloudClient(f) }
	return f
}

// NewHTTPClient returns a client over base (nil: the default transport)
// that logs each call when --verbose is set.
func (f *Factory) newHTTPClient(base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	if f.Globals.Verbose {
		base = httplog.Wrap(base, f.IOStreams.ErrOut)
	}
	return &http.Client{Transport: base}
}

// VerboseLog is where --verbose lines go, or nil without --verbose.
func (f *Factory) VerboseLog() io.Writer {
	if !f.Globals.Verbose {
		return nil
	}
	return f.IOStreams.ErrOut
}

// WrapTransport adds --verbose logging to a transport built elsewhere (an
// SDK's own, or one trusting the sandbox's CA).
func (f *Factory) WrapTransport(base http.RoundTripper) http.RoundTripper {
	return f.newHTTPClient(base).Transport
}

// DFCloudClient builds the Dragonfly Cloud client from the sandbox, the
// flags and the environment, in that order of precedence.
func DFCloudClient(f *Factory) (*dfcloud.Client, error) {
	ep, err := f.Endpoints()
	if err != nil {
		return nil, err
	}
	apiURL, key := f.Globals.APIURL, ""
	if ep != nil {
		apiURL, key = ep.DFCloudURL, ep.DFCloudKey
	} else {
		source := "--api-url"
		if apiURL == "" {
			apiURL, source = f.Getenv("DFCLOUD_API_URL"), "DFCLOUD_API_URL"
		}
		if apiURL == "" {
			apiURL = dfcloud.DefaultBaseURL
		}
		if err := checkAPIURL(apiURL, source); err != nil {
			return nil, err
		}
		key, err = f.apiKey()
		if err != nil {
			return nil, err
		}
	}
	return dfcloud.New(apiURL, key,
		dfcloud.WithHTTPClient(f.HTTPClient()),
		dfcloud.WithUserAgent("dfpeer/"+Version))
}

func (f *Factory) apiKey() (string, error) {
	if path := f.Globals.APIKeyFile; path != "" {
		var r io.Reader
		if path == "-" {
			r = f.IOStreams.In
		} else {
			file, err := os.Open(path)
			if err != nil {
				return "", FlagErrorf("--api-key-file: %v", err)
			}
			defer file.Close()
			r = file
		}
		b, err := io.ReadAll(io.LimitReader(r, 64<<10))
		if err != nil {
			return "", FlagErrorf("--api-key-file: %v", err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", FlagErrorf("--api-key-file %s is empty: it must contain a Dragonfly Cloud API key", path)
		}
		if err := checkAPIKey(key); err != nil {
			return "", FlagErrorf("--api-key-file %s: %v", path, err)
		}
		return key, nil
	}
	if key := strings.TrimSpace(f.Getenv("DFCLOUD_API_KEY")); key != "" {
		if err := checkAPIKey(key); err != nil {
			return "", FlagErrorf("DFCLOUD_API_KEY: %v", err)
		}
		return key, nil
	}
	return "", &AuthError{Err: fmt.Errorf("no Dragonfly Cloud API key: set DFCLOUD_API_KEY or pass --api-key-file (create a key in the Dragonfly Cloud console), or try --sandbox")}
}

// CheckAPIURL refuses URLs that would send the API key in clear text: plain
// http is only accepted for loopback hosts.
//
// The URL is never echoed whole: a key pasted into a query string or user
// info must not end up in a CI log.
func CheckAPIURL(raw string) error { return checkAPIURL(raw, "--api-url") }

// checkAPIURL is CheckAPIURL naming where the URL came from (the flag or
// DFCLOUD_API_URL).
func checkAPIURL(raw, source string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return FlagErrorf("%s: want an absolute https:// URL such as %s", source, dfcloud.DefaultBaseURL)
	}
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return FlagErrorf("%s %s: user info, a query or a fragment is not allowed; the API key is sent as a header", source, shown)
	}
	if err := checkPort(u); err != nil {
		return FlagErrorf("%s %s: %v", source, shown, err)
	}
	if u.Scheme == "http" && !endpoint.IsLoopback(u.Hostname()) {
		return FlagErrorf("%s %q: plain http is only allowed for loopback addresses (127.0.0.1, ::1, localhost); use https, or the API key would travel in clear text", source, shown)
	}
	return nil
}

// checkPort refuses a port no connection can be made to (url.Parse
// accepts any digits, so https://localhost:99999 would be dialled and
// retried before failing).
func checkPort(u *url.URL) error {
	p := u.Port()
	if p == "" {
		if strings.HasSuffix(u.Host, ":") {
			return fmt.Errorf("the port is empty; want a port between 1 and 65535 or none")
		}
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is out of range; want a port between 1 and 65535", Quote(p))
	}
	return nil
}

// checkAPIKey refuses a key that cannot be sent in a header: Go's HTTP
// client would fail every attempt (after retries) with an error naming
// the Authorization header. The key itself is never part of the message.
func checkAPIKey(key string) error {
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return errors.New("the API key contains a control character (a line break, NUL or similar); it must be a single line of printable characters")
		}
		if r > 0x7e {
			return errors.New("the API key contains a non-ASCII character; Dragonfly Cloud API keys are printable ASCII")
		}
	}
	return nil
}

// Version and Commit are set at build time with -ldflags -X.
var (
	Version = "dev"
	Commit  = ""
)
