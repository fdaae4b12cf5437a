// Package cmdtest runs dfpeer commands in-process for tests: a Factory
// whose streams are buffers, whose environment is a map, and whose
// Dragonfly API is a simulator on an httptest server.
package cmdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/app"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// APIKey is the test key; tests grep output for it.
const APIKey = "dfc-test-key-9f8e7d6c5b4a"

var update = flag.Bool("update", false, "rewrite golden files")

// Env is one test's world.
type Env struct {
	T      testing.TB
	F      *cmdutil.Factory
	IO     *iostreams.IOStreams
	In     *bytes.Buffer
	Out    *bytes.Buffer
	ErrOut *bytes.Buffer
	Vars   map[string]string
	DF     *dfcloudsim.Sim
	DFURL  string
	// SB is the sandbox of NewSandbox.
	SB *sandbox.Sandbox
	// Prompter, when set, answers prompts (the streams must claim a TTY).
	Prompter prompt.Prompter
}

// Options tune New.
type Options struct {
	Delays dfcloudsim.Delays
	Clouds []simcloud.Cloud
}

// New starts a Dragonfly simulator seeded from testdata/networks.json and a
// Factory pointed at it.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	n := 0
	sim := dfcloudsim.New(dfcloudsim.Options{APIKey: APIKey, Delays: o.Delays, Clouds: o.Clouds,
		IDs: func(prefix string) string { n++; return fmt.Sprintf("%s-%04d", prefix, n) }})
	fixture, err := os.ReadFile(filepath.Join(Root(), "testdata", "networks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.LoadNetworks(bytes.NewReader(fixture)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)

	ios, in, out, errOut := iostreams.Test()
	e := &Env{T: t, IO: ios, In: in, Out: out, ErrOut: errOut, DF: sim, DFURL: srv.URL,
		Vars: map[string]string{"DFCLOUD_API_URL": srv.URL, "DFCLOUD_API_KEY": APIKey}}
	e.F = cmdutil.NewFactory(ios, func() (*cmdutil.Endpoints, error) {
		return nil, fmt.Errorf("no sandbox in this test")
	})
	e.F.Getenv = func(k string) string { return e.Vars[k] }
	e.F.Tuning = fastTuning
	e.F.Prompter = e.prompter
	return e
}

// NewSandbox starts a fast sandbox (every simulator, demo data,
// deterministic IDs) and a Factory whose clients all point at it, as
// --sandbox does.
func NewSandbox(t testing.TB, o sandbox.Options) *Env {
	t.Helper()
	o.Fast = true
	sb, err := sandbox.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ios, in, out, errOut := iostreams.Test()
	e := &Env{T: t, IO: ios, In: in, Out: out, ErrOut: errOut, DF: sb.DF, DFURL: sb.URL, SB: sb, Vars: map[string]string{}}
	e.F = cmdutil.NewFactory(ios, func() (*cmdutil.Endpoints, error) { return sb.Endpoints, nil })
	e.F.Endpoints = func() (*cmdutil.Endpoints, error) { return sb.Endpoints, nil }
	e.F.Getenv = func(k string) string { return e.Vars[k] }
	e.F.Tuning = fastTuning
	e.F.Prompter = e.prompter
	return e
}

// fastTuning makes polling and SDK retries quick.
var fastTuning = cmdutil.Tuning{
	Poll:       dfcloud.WaitOptions{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond},
	MaxBackoff: 20 * time.Millisecond,
}

func (e *Env) prompter() prompt.Prompter {
	if e.Prompter == nil {
		// Commands may hold a prompter they never use; only a question
		// asked without a scripted answer is a failure.
		return prompttest.New(e.T)
	}
	return e.Prompter
}

// Run executes dfpeer with args and returns the exit code.
func (e *Env) Run(args ...string) int {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.RunContext(ctx, args...)
}

// RunContext is Run with the caller's context (to interrupt it).
func (e *Env) RunContext(ctx context.Context, args ...string) int {
	return app.Run(ctx, e.F, args)
}

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Golden compares got with testdata/golden/name, or rewrites it with
// -update.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join(Root(), "testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (-update rewrites it)\n--- want\n%s\n--- got\n%s", name, want, got)
	}
}

// Refusal is one pre-flight refusal of a connect command: a name, a setup
// that seeds what makes the run refuse and returns the arguments, and what
// stderr must say. It is an alias of an unnamed struct so that test tables
// can stay positional.
type Refusal = struct {
	Name     string
	Setup    func(e *Env) []string
	Contains string
}

// AssertRefusals runs each case on a fresh sandbox and requires what
// CheckRefusal checks: exit 2, the message on stderr as the one error line,
// nothing on stdout, no credential, and state unchanged byte for byte: a
// refused run changes nothing.
func AssertRefusals(t *testing.T, state func(*Env) []byte, cases []Refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			e := NewSandbox(t, sandbox.Options{})
			args := tc.Setup(e)
			CheckRefusal(t, e, state, args, tc.Contains)
		})
	}
}

// CheckRefusal runs args and requires a refusal: exit 2; exactly one
// "error:" line on stderr, which says contains; nothing on stdout; no Go
// panic; no credential of the environment in any output; state(e) the same
// before and after. It returns the error line.
func CheckRefusal(t *testing.T, e *Env, state func(*Env) []byte, args []string, contains string) string {
	t.Helper()
	before := state(e)
	e.Out.Reset()
	e.ErrOut.Reset()
	if code := e.Run(args...); code != cmdutil.ExitInput {
		t.Errorf("exit %d, want %d\n%s", code, cmdutil.ExitInput, e.ErrOut)
	}
	var errLines []string
	for _, l := range strings.Split(e.ErrOut.String(), "\n") {
		if strings.HasPrefix(l, "error:") {
			errLines = append(errLines, l)
		}
	}
	line := strings.Join(errLines, "\n")
	if len(errLines) != 1 {
		t.Errorf("want exactly one error: line, got %d:\n%.2000s", len(errLines), e.ErrOut)
	}
	if !strings.Contains(line, contains) {
		t.Errorf("the error line does not say %q:\n%.2000s", contains, e.ErrOut)
	}
	if e.Out.Len() != 0 {
		t.Errorf("a refusal wrote to stdout:\n%.2000s", e.Out)
	}
	all := e.Out.String() + e.ErrOut.String()
	if strings.Contains(all, "panic:") || strings.Contains(all, "goroutine ") {
		t.Errorf("panic:\n%s", all)
	}
	for _, secret := range e.Secrets() {
		if strings.Contains(all, secret) {
			t.Errorf("a credential was printed:\n%.2000s", all)
		}
	}
	if after := state(e); !bytes.Equal(before, after) {
		t.Errorf("a refused run changed the simulators' state")
	}
	return line
}

// Secrets are the credentials this Env knows of: the test API key, the
// sandbox's, and every variable whose name says it holds one. Tests require
// that none is ever printed.
func (e *Env) Secrets() []string {
	out := []string{APIKey}
	if e.SB != nil && e.SB.Endpoints != nil {
		ep := e.SB.Endpoints
		out = append(out, ep.DFCloudKey)
		if ep.AWS != nil {
			out = append(out, ep.AWS.SecretAccessKey)
		}
		if ep.GCP != nil {
			out = append(out, ep.GCP.Token)
		}
		if ep.Azure != nil {
			out = append(out, ep.Azure.ClientSecret)
		}
	}
	for k, v := range e.Vars {
		if strings.Contains(k, "KEY") || strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") {
			// Each line of a multi-line value counts on its own.
			out = append(out, strings.Split(v, "\n")...)
		}
	}
	var long []string
	for _, s := range out {
		if s = strings.TrimSpace(s); len(s) >= 8 { // short strings match by chance
			long = append(long, s)
		}
	}
	return long
}

// BenchFlow measures whole runs of a connect command (args) against a
// sandbox with fixed delays d, with production polling and backoff, and
// reports the mean wall time next to floor (what those delays impose on any
// client), the overhead, and the API calls per service per run: "dfcloud"
// is counted here, count adds the cloud's services. It reports figures and
// never fails on timing.
func BenchFlow(b *testing.B, d sandbox.Delays, floor time.Duration, args []string, count func(sb *sandbox.Sandbox, calls map[string]int)) {
	b.Helper()
	var wall time.Duration
	calls := map[string]int{}
	phases := map[string]time.Duration{}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := NewSandbox(b, sandbox.Options{Delays: &d})
		e.F.Tuning = cmdutil.Tuning{}
		b.StartTimer()
		start := time.Now()
		if code := e.Run(args...); code != 0 {
			b.Fatalf("exit %d: %s", code, e.ErrOut)
		}
		end := time.Now()
		wall += end.Sub(start)
		b.StopTimer()
		for k, d := range flowPhases(start, end, e.SB) {
			phases[k] += d
		}
		calls["dfcloud"] += len(e.SB.DF.HTTP().Calls())
		count(e.SB, calls)
		e.SB.Close()
		b.StartTimer()
	}
	mean := wall / time.Duration(b.N)
	b.ReportMetric(float64(mean.Milliseconds()), "wall-ms/op")
	b.ReportMetric(float64(floor.Milliseconds()), "floor-ms")
	b.ReportMetric(float64((mean - floor).Milliseconds()), "overhead-ms/op")
	for k, n := range calls {
		b.ReportMetric(float64(n)/float64(b.N), k+"-calls/op")
	}
	for k, d := range phases {
		b.ReportMetric(float64((d / time.Duration(b.N)).Milliseconds()), k+"-ms/op")
	}
}

// flowPhases splits one connect run's wall time by the simulators' request
// logs: planning (start to the connection's create), Dragonfly's side (to
// the first change on the cloud after it), the cloud side (to the last
// change there), and the wait for active (to the end).
func flowPhases(start, end time.Time, sb *sandbox.Sandbox) map[string]time.Duration {
	var created time.Time
	for _, c := range sb.DF.HTTP().Calls() {
		if c.Op == "connections.create" && created.IsZero() {
			created = c.Time
		}
	}
	if created.IsZero() {
		return nil
	}
	var first, last time.Time
	for _, srv := range []*simhttp.Server{sb.AWS.HTTP(), sb.GCP.HTTP(), sb.Azure.HTTP()} {
		for _, c := range srv.Calls() {
			if !c.Mutating || c.Time.Before(created) {
				continue
			}
			if first.IsZero() || c.Time.Before(first) {
				first = c.Time
			}
			if t := c.Time.Add(c.Duration); t.After(last) {
				last = t
			}
		}
	}
	if first.IsZero() {
		first, last = created, created
	}
	return map[string]time.Duration{
		"phase-plan":        created.Sub(start),
		"phase-dragonfly":   first.Sub(created),
		"phase-cloud":       last.Sub(first),
		"phase-wait-active": end.Sub(last),
	}
}

// FlowWorld runs a connect command on a fresh sandbox as a
// peeringtest.World, for CrashAtEveryStep: Cloud names the cloud's
// simulator (Dragonfly's is always included), Snap the state compared.
type FlowWorld struct {
	Env   *Env
	Args  []string
	Cloud func(sb *sandbox.Sandbox) *simhttp.Server
	Snap  func(e *Env) []byte
}

// Servers are the simulators whose mutating calls are interruption points.
func (w *FlowWorld) Servers() []*simhttp.Server {
	return []*simhttp.Server{w.Env.SB.DF.HTTP(), w.Cloud(w.Env.SB)}
}

// Run runs the command once; a non-zero exit is an error carrying stderr.
func (w *FlowWorld) Run(ctx context.Context) error {
	w.Env.ErrOut.Reset()
	if code := w.Env.RunContext(ctx, w.Args...); code != 0 {
		return fmt.Errorf("exit %d: %s", code, w.Env.ErrOut)
	}
	return nil
}

// State is the compared state.
func (w *FlowWorld) State() []byte { return w.Snap(w.Env) }

// MutatingCalls lists the operations that changed state on the servers.
func MutatingCalls(servers ...*simhttp.Server) []string {
	var out []string
	for _, s := range servers {
		for _, c := range s.Calls() {
			if c.Mutating {
				out = append(out, c.Op)
			}
		}
	}
	return out
}

// DryRunPlan runs args with --dry-run -o json, requires exit 0 and state
// unchanged byte for byte, and returns the plan with its changes counted by
// "action kind" (e.g. "create route").
func DryRunPlan(t *testing.T, e *Env, state func(*Env) []byte, args []string) (peering.Plan, map[string]int) {
	t.Helper()
	before := state(e)
	e.Out.Reset()
	if code := e.Run(append(append([]string{}, args...), "--dry-run", "-o", "json")...); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	var plan peering.Plan
	if err := json.Unmarshal(e.Out.Bytes(), &plan); err != nil {
		t.Fatalf("%v: %s", err, e.Out)
	}
	if !bytes.Equal(before, state(e)) {
		t.Errorf("--dry-run changed state")
	}
	counts := map[string]int{}
	for _, c := range plan.Changes {
		counts[string(c.Action)+" "+string(c.Kind)]++
	}
	return plan, counts
}

// Diff shows the lines of two snapshots that differ, for a failure
// message: "- line" only in a, "+ line" only in b.
func Diff(a, b []byte) string {
	in := func(s []byte) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(string(s), "\n") {
			m[l]++
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out strings.Builder
	for _, l := range strings.Split(string(a), "\n") {
		if mb[l] == 0 {
			fmt.Fprintf(&out, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(string(b), "\n") {
		if ma[l] == 0 {
			fmt.Fprintf(&out, "+ %s\n", l)
		}
	}
	return out.String()
}

// Status runs a status command with -o json and returns its exit code and
// report.
func (e *Env) Status(args ...string) (int, peering.Health) {
	e.T.Helper()
	e.Out.Reset()
	e.ErrOut.Reset()
	code := e.Run(append(append([]string{}, args...), "-o", "json")...)
	var h peering.Health
	if err := json.Unmarshal(e.Out.Bytes(), &h); err != nil {
		e.T.Fatalf("status -o json: %v (exit %d)\n%s\n%s", err, code, e.Out, e.ErrOut)
	}
	return code, h
}

// Failed lists a status report's failed checks as "id resource: message".
func Failed(h peering.Health) []string {
	var out []string
	for _, c := range h.Checks {
		if c.Status == peering.Fail {
			out = append(out, c.ID+" "+c.Resource+": "+c.Message)
		}
	}
	return out
}

// Result decodes a connect command's -o json summary.
func Result(t testing.TB, b []byte) peering.Result {
	t.Helper()
	var r peering.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, b)
	}
	return r
}

// State is the comparable state of Dragonfly's simulator and one cloud's
// (its snapshot), without timestamps: what a refusal or a dry run must
// leave byte for byte as it was.
func (e *Env) State(cloud []byte) []byte {
	return peeringtest.Timeless(append(append(e.SB.DF.Snapshot(), '\n'), cloud...))
}

// With is args followed by extra, in a new slice.
func With(args []string, extra ...string) []string {
	return append(append([]string{}, args...), extra...)
}

// StatusReadOnly is Status, failing the test if the run made a mutating
// call on any of the servers: status never changes anything.
func (e *Env) StatusReadOnly(servers []*simhttp.Server, args ...string) (int, peering.Health) {
	e.T.Helper()
	before := len(MutatingCalls(servers...))
	code, h := e.Status(args...)
	if after := len(MutatingCalls(servers...)); after != before {
		e.T.Fatalf("status made %d mutating calls: %v", after-before, MutatingCalls(servers...)[before:])
	}
	return code, h
}
