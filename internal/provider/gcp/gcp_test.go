package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/googleapi"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

func TestGCPComputeBase(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"http://127.0.0.1:8080/compute/v1/", "http://127.0.0.1:8080", ""},
		{"http://localhost:8080/compute/v1", "http://localhost:8080", ""},
		{"https://compute.googleapis.com/compute/v1/", "https://compute.googleapis.com", ""},
		{"https://proxy.example.com/google/compute/v1/", "https://proxy.example.com/google", ""},
		{"https://compute.example.com", "https://compute.example.com", ""},
		{"http://10.0.0.1/compute/v1/", "", "plain http is only allowed for loopback"},
		{"https://compute.example.com/compute/beta/", "", "want the Compute v1 root"},
		{"compute.googleapis.com", "", "want an absolute URL"},
		{"https://user:pw@compute.example.com/compute/v1/", "", "user info, a query or a fragment is not allowed"},
	} {
		got, err := computeBase(tc.in, EndpointEnv)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("%s: got %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var fe *problem.Refusal
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), EndpointEnv) {
			t.Errorf("%s: got %v, want a FlagError naming %s and saying %q", tc.in, err, EndpointEnv, tc.err)
		}
		if strings.Contains(fmt.Sprint(err), "pw@") {
			t.Errorf("%s: the error echoes user info: %v", tc.in, err)
		}
	}
}

func TestGCPGcloudProject(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CLOUDSDK_CONFIG": dir}
	getenv := func(k string) string { return env[k] }
	if p, _ := GcloudProject(getenv); p != "" {
		t.Fatalf("empty config gave %q", p)
	}
	os.MkdirAll(filepath.Join(dir, "configurations"), 0o755)
	os.WriteFile(filepath.Join(dir, "configurations", "config_default"), []byte("[core]\nproject = default-proj\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "configurations", "config_work"), []byte("[compute]\nproject = not-this\n[core]\naccount = me@example.com\nproject=work-proj\n"), 0o644)
	if p, where := GcloudProject(getenv); p != "default-proj" || where != "gcloud configuration default" {
		t.Errorf("default: %q from %q", p, where)
	}
	os.WriteFile(filepath.Join(dir, "active_config"), []byte("work\n"), 0o644)
	if p, _ := GcloudProject(getenv); p != "work-proj" {
		t.Errorf("active config: %q", p)
	}
	env["CLOUDSDK_ACTIVE_CONFIG_NAME"] = "default"
	if p, _ := GcloudProject(getenv); p != "default-proj" {
		t.Errorf("CLOUDSDK_ACTIVE_CONFIG_NAME: %q", p)
	}
	// Without CLOUDSDK_CONFIG, ~/.config/gcloud.
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".config", "gcloud", "configurations"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "gcloud", "configurations", "config_default"), []byte("[core]\nproject = home-proj\n"), 0o644)
	if p, _ := GcloudProject(func(k string) string { return map[string]string{"HOME": home}[k] }); p != "home-proj" {
		t.Errorf("HOME: %q", p)
	}
}

func TestGCPNewClientProjectAndCredentials(t *testing.T) {
	noADC := func(*credentials.DetectOptions) (*auth.Credentials, error) {
		return nil, errors.New("credentials: could not find default credentials")
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", "") // the auth library reads it too
	env := map[string]string{"CLOUDSDK_CONFIG": t.TempDir()}
	cfg := Config{Getenv: func(k string) string { return env[k] }, Detect: noADC}

	_, err := NewClient(context.Background(), cfg)
	var authErr *cmdutil.AuthError
	var hint *cmdutil.HintError
	if !errors.As(err, &authErr) || !errors.As(err, &hint) || !strings.Contains(hint.Hint, "gcloud auth application-default login") {
		t.Fatalf("no credentials: %v", err)
	}
	if cmdutil.ExitCode(err) != cmdutil.ExitAuth {
		t.Errorf("exit %d", cmdutil.ExitCode(err))
	}

	// ADC with a project: it wins over the environment.
	withProject := func(*credentials.DetectOptions) (*auth.Credentials, error) {
		return auth.NewCredentials(&auth.CredentialsOptions{
			TokenProvider:     staticProvider("adc-token"),
			ProjectIDProvider: auth.CredentialsPropertyFunc(func(context.Context) (string, error) { return "adc-project", nil }),
		}), nil
	}
	env["GOOGLE_CLOUD_PROJECT"] = "env-project"
	c, err := NewClient(context.Background(), Config{Getenv: cfg.Getenv, Detect: withProject})
	if err != nil || c.Project != "adc-project" || c.ProjectSource != "Application Default Credentials" {
		t.Fatalf("ADC project: %v %+v", err, c)
	}
	// A raw token skips ADC; the project comes from the environment.
	env[TokenEnv] = "raw-token"
	c, err = NewClient(context.Background(), Config{Getenv: cfg.Getenv, Detect: noADC})
	if err != nil || c.Project != "env-project" {
		t.Fatalf("token + GOOGLE_CLOUD_PROJECT: %v %+v", err, c)
	}
	// --project wins; nothing at all is a FlagError naming --project.
	if c, err = NewClient(context.Background(), Config{Getenv: cfg.Getenv, Project: "flag-project"}); err != nil || c.Project != "flag-project" {
		t.Fatalf("--project: %v %+v", err, c)
	}
	delete(env, "GOOGLE_CLOUD_PROJECT")
	_, err = NewClient(context.Background(), Config{Getenv: cfg.Getenv})
	var flagErr *problem.Refusal
	if !errors.As(err, &flagErr) || !strings.Contains(err.Error(), "--project") {
		t.Fatalf("no project: %v", err)
	}
	env["GOOGLE_CLOUD_PROJECT"] = "Not A Project"
	if _, err = NewClient(context.Background(), Config{Getenv: cfg.Getenv}); !errors.As(err, &flagErr) || !strings.Contains(err.Error(), "GOOGLE_CLOUD_PROJECT") {
		t.Fatalf("bad project: %v", err)
	}
}

type staticProvider string

func (s staticProvider) Token(context.Context) (*auth.Token, error) {
	return &auth.Token{Value: string(s), Type: "Bearer"}, nil
}

func TestGCPResourceName(t *testing.T) {
	for in, want := range map[string]string{
		"app-network-demo-gcp":              "dfpeer-app-network-demo-gcp",
		"Prod.Cache_1":                      "dfpeer-prod-cache-1",
		strings.Repeat("a", 63):             "dfpeer-" + strings.Repeat("a", 56),
		"x" + strings.Repeat("-", 60) + "y": "dfpeer-x",
	} {
		got := ResourceName(in)
		if got != want || !rfc1035(got) {
			t.Errorf("ResourceName(%q) = %q, want %q (RFC 1035)", in, got, want)
		}
	}
}

func rfc1035(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func TestGCPTransientAndClassify(t *testing.T) {
	gerr := func(code int, reason string) error {
		return fmt.Errorf("wrapped: %w", &googleapi.Error{Code: code, Message: "m", Errors: []googleapi.ErrorItem{{Reason: reason}}})
	}
	for _, tc := range []struct {
		err       error
		transient bool
		exit      int
	}{
		{gerr(403, "rateLimitExceeded"), true, cmdutil.ExitError},
		{gerr(429, "rateLimitExceeded"), true, cmdutil.ExitError},
		{gerr(503, "backendError"), true, cmdutil.ExitError},
		{gerr(403, "forbidden"), false, cmdutil.ExitAuth},
		{gerr(403, "quotaExceeded"), false, cmdutil.ExitError},
		{gerr(401, "authError"), false, cmdutil.ExitAuth},
		{gerr(400, "badRequest"), false, cmdutil.ExitError},
		{&tokenError{err: errors.New("invalid_grant")}, false, cmdutil.ExitAuth},
		{context.Canceled, false, cmdutil.ExitCancelled},
	} {
		if got := transient(tc.err); got != tc.transient {
			t.Errorf("transient(%v) = %t", tc.err, got)
		}
		if got := cmdutil.ExitCode(classify("step", tc.err)); got != tc.exit {
			t.Errorf("classify(%v): exit %d, want %d", tc.err, got, tc.exit)
		}
	}
	inProgress := &googleapi.Error{Code: 400, Message: "There is a peering operation in progress on the local or peer network. Try again later."}
	if !busy(inProgress) || busy(gerr(400, "invalid")) {
		t.Errorf("busy")
	}
}

// do retries transient errors with backoff up to maxAttempts, and not the
// others.
func TestGCPDoRetries(t *testing.T) {
	c := &Client{maxBackoff: time.Millisecond}
	n := 0
	err := c.do(context.Background(), func(context.Context) error {
		n++
		if n < 3 {
			return &googleapi.Error{Code: 403, Errors: []googleapi.ErrorItem{{Reason: "rateLimitExceeded"}}}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err %v after %d calls", err, n)
	}
	n = 0
	err = c.do(context.Background(), func(context.Context) error { n++; return &googleapi.Error{Code: 503} })
	if err == nil || n != maxAttempts {
		t.Fatalf("gave up after %d calls (%v), want %d", n, err, maxAttempts)
	}
	n = 0
	_ = c.do(context.Background(), func(context.Context) error { n++; return &googleapi.Error{Code: 404} })
	if n != 1 {
		t.Fatalf("a 404 was retried (%d calls)", n)
	}
}

func TestGCPBearerAddsToken(t *testing.T) {
	var got string
	rt := &bearer{token: staticToken("tok"), base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Get("Authorization")
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})}
	req, _ := http.NewRequest("GET", "http://127.0.0.1/", nil)
	if _, err := rt.RoundTrip(req); err != nil || got != "Bearer tok" || req.Header.Get("Authorization") != "" {
		t.Fatalf("header %q, err %v; the caller's request must not be modified", got, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func fw(name, dir string, prio int32) *computepb.Firewall {
	return &computepb.Firewall{Name: &name, Direction: &dir, Priority: &prio,
		Network: proto("https://www.googleapis.com/compute/v1/projects/p/global/networks/net")}
}

func TestGCPDenyWarnings(t *testing.T) {
	cidr := "192.168.0.0/16"
	denyEgress := fw("deny-egress", "EGRESS", 900)
	denyEgress.Denied = []*computepb.Denied{{IPProtocol: proto("tcp"), Ports: []string{"6000-7000"}}}
	denyEgress.DestinationRanges = []string{"192.168.0.0/24"}

	allowEgress := fw("allow-df", "EGRESS", 800)
	allowEgress.Allowed = []*computepb.Allowed{{IPProtocol: proto("tcp"), Ports: []string{"6379"}}}
	allowEgress.DestinationRanges = []string{"192.168.0.0/16"}

	denyOtherPort := fw("deny-ssh", "EGRESS", 100)
	denyOtherPort.Denied = []*computepb.Denied{{IPProtocol: proto("tcp"), Ports: []string{"22"}}}

	denyIngress := fw("deny-in", "INGRESS", 1000)
	denyIngress.Denied = []*computepb.Denied{{IPProtocol: proto("all")}}
	denyIngress.SourceRanges = []string{"0.0.0.0/0"}
	lowIngress := fw("deny-in-low", "INGRESS", 2000)
	lowIngress.Denied = denyIngress.Denied
	lowIngress.SourceRanges = denyIngress.SourceRanges

	disabled := fw("disabled", "EGRESS", 10)
	disabled.Denied = []*computepb.Denied{{IPProtocol: proto("all")}}
	disabled.Disabled = proto(true)

	other := fw("other-net", "EGRESS", 10)
	other.Denied = []*computepb.Denied{{IPProtocol: proto("all")}}
	other.Network = proto("projects/p/global/networks/elsewhere")

	warnings := func(rules ...*computepb.Firewall) []string {
		var out []string
		for _, w := range denyWarnings(rules, "net", cidr, []int{6379}, "dfpeer-x") {
			out = append(out, w.Warning())
		}
		return out
	}
	// Two ports: a rule blocking both is one warning naming both; one
	// blocking only the second names it alone.
	deny6371 := fw("deny-memcached", "INGRESS", 500)
	deny6371.Denied = []*computepb.Denied{{IPProtocol: proto("tcp"), Ports: []string{"6371"}}}
	deny6371.SourceRanges = []string{cidr}
	var two []string
	for _, w := range denyWarnings([]*computepb.Firewall{denyIngress, deny6371}, "net", cidr, []int{6379, 6371}, "dfpeer-x") {
		two = append(two, w.What)
	}
	if len(two) != 2 || !strings.Contains(two[0], "deny-memcached (priority 500) denies TCP 6371 from") || !strings.Contains(two[1], "deny-in (priority 1000) denies TCP 6379,6371 from") {
		t.Fatalf("two ports: %q", two)
	}
	w := warnings(denyEgress, denyOtherPort, denyIngress, lowIngress, disabled, other)
	if len(w) != 2 || !strings.HasPrefix(w[0], "egress rule deny-egress (priority 900) denies TCP 6379 to 192.168.0.0/24") || !strings.HasPrefix(w[1], "ingress rule deny-in (priority 1000)") {
		t.Fatalf("warnings %q", w)
	}
	// An allow rule of higher priority for the whole CIDR overrides the deny.
	w = warnings(denyEgress, allowEgress)
	if len(w) != 0 {
		t.Fatalf("overridden deny still warned: %q", w)
	}
}

func TestGCPRuleDiff(t *testing.T) {
	want := wantRule("dfpeer-x", "https://www.googleapis.com/compute/v1/projects/p/global/networks/net", "192.168.0.0/16", []int{6379}, Targets{Tags: []string{"a", "b"}}, "d")
	if d := ruleDiff(want, "net", "192.168.0.0/16", []int{6379}, Targets{Tags: []string{"b", "a"}}, true); d != "" {
		t.Errorf("identical rule differs: %s", d)
	}
	// Targets not chosen: an earlier run's are kept.
	if d := ruleDiff(want, "net", "192.168.0.0/16", []int{6379}, Targets{}, false); d != "" {
		t.Errorf("targets not given: %s", d)
	}
	if d := ruleDiff(want, "net", "192.168.0.0/16", []int{6380}, Targets{}, false); !strings.Contains(d, "it allows tcp:6379, not tcp:6380") {
		t.Errorf("port: %q", d)
	}
	// Two ports: one rule allows both, in any order; one of them is not enough.
	two := wantRule("dfpeer-x", "https://www.googleapis.com/compute/v1/projects/p/global/networks/net", "192.168.0.0/16", []int{6379, 6371}, Targets{}, "d")
	if d := ruleDiff(two, "net", "192.168.0.0/16", []int{6371, 6379}, Targets{}, false); d != "" {
		t.Errorf("same two ports differ: %s", d)
	}
	if d := ruleDiff(want, "net", "192.168.0.0/16", []int{6379, 6371}, Targets{}, false); !strings.Contains(d, "it allows tcp:6379, not tcp:6379,6371") {
		t.Errorf("one port of two: %q", d)
	}
	if d := ruleDiff(want, "other", "10.0.0.0/8", []int{6379}, Targets{ServiceAccounts: []string{"a@b.c"}}, true); strings.Count(d, ";") != 2 {
		t.Errorf("network, sources and targets: %q", d)
	}
}

// A wait that runs out of time is a TimeoutError (exit 3) with the re-run
// hint, whether it ran out between looks or during a call that hung.
func TestGCPWaitTimesOut(t *testing.T) {
	c := &Client{maxBackoff: time.Millisecond}
	looks := 0
	err := c.wait(context.Background(), poll.Options{Timeout: 30 * time.Millisecond, What: "nothing"}, func(context.Context) (bool, error) {
		looks++
		return false, nil
	})
	var te *problem.TimeoutError
	if !errors.As(err, &te) || !strings.Contains(te.Hint, "run the same command again") || cmdutil.ExitCode(err) != cmdutil.ExitTimeout || looks < 2 {
		t.Fatalf("between looks: %v after %d looks", err, looks)
	}
	err = c.wait(context.Background(), poll.Options{Timeout: 30 * time.Millisecond, What: "a hung call"}, func(ctx context.Context) (bool, error) {
		<-ctx.Done()
		return false, ctx.Err()
	})
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "waiting for a hung call") || cmdutil.ExitCode(err) != cmdutil.ExitTimeout {
		t.Fatalf("hung call: %v", err)
	}
	// The caller's cancellation stays a cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.wait(ctx, poll.Options{Timeout: time.Minute}, func(ctx context.Context) (bool, error) { return false, ctx.Err() })
	if !errors.Is(err, context.Canceled) || errors.As(err, &te) {
		t.Fatalf("cancelled: %v", err)
	}
}
