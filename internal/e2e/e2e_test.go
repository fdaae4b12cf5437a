// Package e2e drives the built dfpeer binary: under a pseudo-terminal for
// the interactive forms, with signals for cancellation, and with the
// standard SDK environment variables pointing at the simulators.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dfpeer-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "dfpeer")
	// Every run below sets its own environment; should one inherit this
	// process's, the sandbox state must still never land in the real
	// user's state directory.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	build := exec.Command("go", "build", "-o", binary, "./cmd/dfpeer")
	build.Dir = cmdtest.Root()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dfpeer:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env points the binary at sb through the variables a user would set: the
// Dragonfly ones and the AWS SDK's own, with no AWS config files.
func env(t testing.TB, sb *sandbox.Sandbox) []string {
	home := t.TempDir()
	e := sb.Endpoints
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TERM=xterm-256color",
		"DFCLOUD_API_URL=" + e.DFCloudURL,
		"DFCLOUD_API_KEY=" + e.DFCloudKey,
		"AWS_ENDPOINT_URL=" + e.AWS.URL,
		"AWS_ACCESS_KEY_ID=" + e.AWS.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + e.AWS.SecretAccessKey,
		"AWS_REGION=" + e.AWS.Region,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
	}
}

// term is a program running under a pseudo-terminal.
type term struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer
	mark int
	done chan error
	// drained is closed once the pty has been read to its end.
	drained chan struct{}
}

func startPTY(t *testing.T, environ []string, args ...string) *term {
	return startPTYWith(t, ptyOptions{}, environ, args...)
}

// ptyOptions change the terminal: its size (default 120x40) and where
// stdout goes (default the terminal).
type ptyOptions struct {
	cols, rows uint16
	stdout     *os.File
}

func startPTYWith(t *testing.T, o ptyOptions, environ []string, args ...string) *term {
	cmd := exec.Command(binary, args...)
	cmd.Env = environ
	if o.cols == 0 {
		o.cols, o.rows = 120, 40
	}
	if o.stdout != nil {
		cmd.Stdout = o.stdout // pty.Start only fills the streams left nil
	}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: o.rows, Cols: o.cols})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, f: f, cmd: cmd, done: make(chan error, 1), drained: make(chan struct{})}
	go func() {
		defer close(tm.drained)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			if n > 0 {
				chunk := b[:n]
				// Answer the terminal queries the TUI library makes
				// (background colour, cursor position) as a terminal would.
				if bytes.Contains(chunk, []byte("\x1b]11;?")) {
					f.Write([]byte("\x1b]11;rgb:0000/0000/0000\x1b\\"))
				}
				if bytes.Contains(chunk, []byte("\x1b[6n")) {
					f.Write([]byte("\x1b[1;1R"))
				}
				tm.mu.Lock()
				tm.buf.Write(chunk)
				tm.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { tm.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); f.Close() })
	return tm
}

// expect waits for s to appear after the last match.
func (tm *term) expect(s string) {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tm.mu.Lock()
		out := tm.buf.String()
		tm.mu.Unlock()
		if i := strings.Index(out[tm.mark:], s); i >= 0 {
			tm.mark += i + len(s)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.t.Fatalf("timed out waiting for %q; screen so far:\n%s", s, tm.buf.String())
}

func (tm *term) send(s string) {
	tm.t.Helper()
	time.Sleep(150 * time.Millisecond) // let the form settle before typing
	if _, err := tm.f.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

func (tm *term) wait() int {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		// The process is gone, but its last output may still be in the
		// pty: read it to the end (EIO) before anyone looks at the screen.
		select {
		case <-tm.drained:
		case <-time.After(5 * time.Second):
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			tm.t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		tm.mu.Lock()
		defer tm.mu.Unlock()
		tm.t.Fatalf("dfpeer did not exit; screen:\n%s", tm.buf.String())
		return -1
	}
}

// TestInteractiveConnectInPTY answers the real huh forms in a terminal:
// pick the network, the VPC, keep the default route tables and security
// group, keep the default name, confirm.
func TestInteractiveConnectInPTY(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	tm := startPTY(t, env(t, sb), "aws", "connect")
	tm.expect("Dragonfly Cloud network")
	tm.expect("demo-aws")
	tm.send("\r")
	tm.expect("VPC to peer")
	tm.expect("app-vpc")
	tm.send("\r")
	tm.expect("Route tables to add the route to")
	tm.send("\r")
	tm.expect("Security groups to open TCP 6379 in")
	tm.send("\r")
	tm.expect("Connection name")
	tm.send("\r")
	tm.expect("Make these changes?")
	tm.send("\r")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, tm.buf.String())
	}
	conns := sb.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" || conns[0].Config.Name != "app-vpc-demo-aws" {
		t.Fatalf("connections %+v", conns)
	}
	for id, ok := range routedTo(sb, conns[0].PeerConnectionID, sb.Demo.AWSApp.MainRouteTableID, sb.Demo.AWSPrivateRT) {
		if !ok {
			routes, _ := sb.AWS.RouteTable(id)
			t.Errorf("no route to the peering in %s: %+v", id, routes)
		}
	}
	rules, _ := sb.AWS.SecurityGroup(sb.Demo.AWSApp.DefaultSecurityGroupID)
	n := 0
	for _, r := range rules {
		if !r.Egress && r.CIDR == "192.168.0.0/16" && r.FromPort == 6379 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d rules for the network in the default group: %+v", n, rules)
	}
}

// Ctrl-C during the wait exits 130, says a re-run resumes, and the re-run
// converges.
func TestInterruptAndResume(t *testing.T) {
	d := sandbox.Delays{Provision: 200 * time.Millisecond, Activate: 3 * time.Second, AWSProvisioning: 100 * time.Millisecond, Delete: time.Millisecond}
	sb, err := sandbox.Start(sandbox.Options{Fast: true, Delays: &d})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	args := []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC, "--yes"}
	cmd := exec.Command(binary, args...)
	cmd.Env = env(t, sb)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "Waiting for the connection to become active") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Errorf("no resume hint:\n%s", stderr.String())
	}
	again := exec.Command(binary, append(args, "-o", "json")...)
	again.Env = env(t, sb)
	out, err := again.Output()
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	var res struct{ Status string }
	if err := json.Unmarshal(out, &res); err != nil || res.Status != "active" {
		t.Fatalf("re-run result %s: %v", out, err)
	}
	if n := len(sb.DF.Connections()); n != 1 {
		t.Fatalf("%d connections after resume", n)
	}
}

// `dfpeer --sandbox connections list -o json` works on a machine with no
// credentials at all.
func TestSandboxNeedsNothing(t *testing.T) {
	cmd := exec.Command(binary, "--sandbox", "connections", "list", "-o", "json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if !json.Valid(out) {
		t.Fatalf("not JSON: %s", out)
	}
	cmd = exec.Command(binary, "--sandbox", "networks", "list")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err = cmd.Output()
	if err != nil || !strings.Contains(string(out), "demo-aws") {
		t.Fatalf("%v: %s", err, out)
	}
}

// syncBuffer is a bytes.Buffer a child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// BenchmarkHelpStartup measures `dfpeer --help` as a user runs it: process
// start, package initialisation, cobra.
func BenchmarkHelpStartup(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := exec.Command(binary, "--help").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// served is a running `dfpeer sandbox serve` and the exports it printed.
type served struct {
	cmd     *exec.Cmd
	errOut  *syncBuffer
	out     string
	exports map[string]string
}

func serveSandbox(t *testing.T) *served {
	t.Helper()
	s := &served{cmd: exec.Command(binary, "sandbox", "serve", "--port", "0"), errOut: &syncBuffer{}, exports: map[string]string{}}
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var out syncBuffer
	s.cmd.Stdout, s.cmd.Stderr = &out, s.errOut
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.errOut.String(), "Sandbox serving on") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.out = out.String()
	for _, line := range strings.Split(strings.TrimSpace(s.out), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			t.Fatalf("not an export line: %q", line)
		}
		k, quoted, _ := strings.Cut(kv, "=")
		v, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("export %s: value %s is not quoted: %v", k, quoted, err)
		}
		s.exports[k] = v
	}
	return s
}

// environ is a client's environment: PATH, a fresh HOME, extra, and the
// exports.
func (s *served) environ(t *testing.T, extra ...string) []string {
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extra...)
	for k, v := range s.exports {
		env = append(env, k+"="+v)
	}
	return env
}

// stop interrupts the server as Ctrl-C would; it must exit cleanly.
func (s *served) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGINT)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGINT: %v\n%s", err, s.errOut.String())
	}
}

// `dfpeer sandbox serve` prints exports that point another dfpeer (and the
// SDKs) at it, and stops cleanly on Ctrl-C.
func TestSandboxServe(t *testing.T) {
	srv := serveSandbox(t)
	client := exec.Command(binary, "networks", "list", "-o", "json")
	client.Env = srv.environ(t)
	got, err := client.Output()
	if err != nil || !strings.Contains(string(got), "net-aws-demo-0001") {
		t.Fatalf("client against the served sandbox: %v\n%s", err, got)
	}
	srv.stop(t)
}

// routedTo says, for each table, whether it routes the demo network's CIDR
// to the peering pcx.
func routedTo(sb *sandbox.Sandbox, pcx string, tables ...string) map[string]bool {
	out := map[string]bool{}
	for _, id := range tables {
		routes, _ := sb.AWS.RouteTable(id)
		out[id] = false
		for _, r := range routes {
			out[id] = out[id] || (r.Destination == "192.168.0.0/16" && r.Target == pcx)
		}
	}
	return out
}
