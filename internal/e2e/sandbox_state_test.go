package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// stateRun runs `dfpeer args…` with the sandbox state under stateHome (as
// XDG_STATE_HOME) and fast simulator delays.
func stateRun(t *testing.T, stateHome string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + stateHome, sandbox.FastEnv + "=1"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func mustStateRun(t *testing.T, stateHome string, args ...string) string {
	t.Helper()
	out, errOut, err := stateRun(t, stateHome, args...)
	if err != nil {
		t.Fatalf("dfpeer %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// listed is `dfpeer --sandbox connections list -o json` in a new process,
// as name → status.
func listed(t *testing.T, stateHome string) map[string]string {
	t.Helper()
	var conns []dfcloud.Connection
	if err := json.Unmarshal([]byte(mustStateRun(t, stateHome, "--sandbox", "connections", "list", "-o", "json")), &conns); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range conns {
		out[c.Config.Name] = string(c.Status)
	}
	return out
}

var (
	awsConnect   = []string{"--sandbox", "aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input"}
	gcpConnect   = []string{"--sandbox", "gcp", "connect", "--network", "demo-gcp", "--vpc", sandbox.DemoGCPNetwork, "--yes", "--no-input"}
	azureConnect = []string{"--sandbox", "azure", "connect", "--network", "demo-azure", "--vnet", sandbox.DemoAzureVNet, "--yes", "--no-input"}
)

// A connection made by one `--sandbox` process is there for the next, in
// the state file under XDG_STATE_HOME; `sandbox reset` forgets it.
func TestSandboxRemembersConnections(t *testing.T) {
	home := t.TempDir()
	mustStateRun(t, home, awsConnect...)
	if got := listed(t, home); got["app-vpc-demo-aws"] != "active" || len(got) != 1 {
		t.Fatalf("second process lists %v, want app-vpc-demo-aws active", got)
	}
	file := filepath.Join(home, "dfpeer", "sandbox.json")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no state file where the README says: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	// A re-run finds what the first run did and changes nothing.
	mustStateRun(t, home, awsConnect...)
	if got := listed(t, home); len(got) != 1 {
		t.Fatalf("re-run made %v", got)
	}

	_, errOut, err := stateRun(t, home, "sandbox", "reset")
	if err != nil || !strings.Contains(errOut, "removed "+file) {
		t.Fatalf("reset: %v: %s", err, errOut)
	}
	if got := listed(t, home); len(got) != 0 {
		t.Fatalf("after reset the sandbox lists %v", got)
	}
	// The demo starts over: the same connect works again from scratch.
	mustStateRun(t, home, awsConnect...)
	if got := listed(t, home); got["app-vpc-demo-aws"] != "active" {
		t.Fatalf("connect after reset: %v", got)
	}
}

// GCP and Azure connections, each from its own process, survive too, and
// a connection deleted by one process is gone for the next.
func TestSandboxRemembersGCPAndAzure(t *testing.T) {
	home := t.TempDir()
	mustStateRun(t, home, gcpConnect...)
	mustStateRun(t, home, azureConnect...)
	got := listed(t, home)
	if got["app-network-demo-gcp"] != "active" || got["app-vnet-demo-azure"] != "active" || len(got) != 2 {
		t.Fatalf("lists %v, want the GCP and Azure connections active", got)
	}
	// Re-runs find the peerings and rules the earlier processes made.
	mustStateRun(t, home, gcpConnect...)
	mustStateRun(t, home, azureConnect...)
	if got := listed(t, home); len(got) != 2 {
		t.Fatalf("re-runs made %v", got)
	}

	var conns []dfcloud.Connection
	if err := json.Unmarshal([]byte(mustStateRun(t, home, "--sandbox", "connections", "list", "-o", "json")), &conns); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if c.Config.Name == "app-network-demo-gcp" {
			mustStateRun(t, home, "--sandbox", "connections", "delete", c.ConnectionID, "--yes", "--no-input")
		}
	}
	if got := listed(t, home); len(got) != 1 || got["app-vnet-demo-azure"] != "active" {
		t.Fatalf("after deleting the GCP connection: %v", got)
	}
}

// Concurrent `--sandbox` processes take turns on the state: every one's
// changes are in the file afterwards, and the file is whole.
func TestSandboxConcurrentProcesses(t *testing.T) {
	home := t.TempDir()
	mustStateRun(t, home, awsConnect...)
	var conns []dfcloud.Connection
	if err := json.Unmarshal([]byte(mustStateRun(t, home, "--sandbox", "connections", "list", "-o", "json")), &conns); err != nil || len(conns) != 1 {
		t.Fatalf("%v %v", err, conns)
	}
	runs := [][]string{
		gcpConnect,
		azureConnect,
		{"--sandbox", "connections", "delete", conns[0].ConnectionID, "--yes", "--no-input"},
		{"--sandbox", "connections", "list"},
	}
	var wg sync.WaitGroup
	errs := make([]string, len(runs))
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, err := stateRun(t, home, args...)
			if err != nil {
				errs[i] = strings.Join(args, " ") + ": " + err.Error() + "\n" + out + errOut
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	got := listed(t, home)
	if got["app-network-demo-gcp"] != "active" || got["app-vnet-demo-azure"] != "active" || len(got) != 2 {
		t.Fatalf("after the concurrent runs: %v, want GCP and Azure active and AWS deleted", got)
	}
	var file struct {
		Version int `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(home, "dfpeer", "sandbox.json"))
	if err != nil || json.Unmarshal(b, &file) != nil || file.Version != 1 {
		t.Fatalf("state file: %v, version %d", err, file.Version)
	}
	entries, _ := os.ReadDir(filepath.Join(home, "dfpeer"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "sandbox.json sandbox.lock" {
		t.Errorf("state directory holds %v, want the state and the lock only", names)
	}
}

// While `sandbox serve` holds the state, `--sandbox` says so at once
// instead of waiting forever; --fresh serves without touching it.
func TestSandboxServeHoldsState(t *testing.T) {
	home := t.TempDir()
	mustStateRun(t, home, awsConnect...)
	srv := exec.Command(binary, "sandbox", "serve", "--port", "0")
	srv.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + home}
	errOut := &syncBuffer{}
	srv.Stderr = errOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitFor(t, func() bool { return strings.Contains(errOut.String(), "Sandbox serving") }, errOut)
	if !strings.Contains(errOut.String(), filepath.Join(home, "dfpeer", "sandbox.json")) {
		t.Errorf("serve does not say which state it serves: %s", errOut)
	}
	_, stderr, err := stateRun(t, home, "--sandbox", "connections", "list")
	if code := exitCode(err); code != 1 || !strings.Contains(stderr, `in use by "dfpeer sandbox serve"`) {
		t.Errorf("--sandbox while served: exit %d: %s", code, stderr)
	}
	fresh := exec.Command(binary, "sandbox", "serve", "--fresh", "--port", "0")
	fresh.Env = srv.Env
	freshErr := &syncBuffer{}
	fresh.Stderr = freshErr
	if err := fresh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Process.Kill(); fresh.Wait() })
	waitFor(t, func() bool { return strings.Contains(freshErr.String(), "Sandbox serving") }, freshErr)
	fresh.Process.Signal(os.Interrupt)
	fresh.Wait()

	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	if got := listed(t, home); got["app-vpc-demo-aws"] != "active" || len(got) != 1 {
		t.Fatalf("after serve and serve --fresh: %v, want the remembered connection only", got)
	}
}

func waitFor(t *testing.T, ok func() bool, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; stderr so far:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// Ctrl-C in the middle of a `--sandbox` connect keeps what was done, so
// the hint to run the same command again is true: the re-run resumes with
// the same connection instead of making a second one.
func TestSandboxInterruptedConnectResumes(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(binary, awsConnect...)
	// Real delays: Dragonfly's side takes seconds, time to interrupt.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + home}
	errOut := &syncBuffer{}
	cmd.Stderr = errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, func() bool { return strings.Contains(errOut.String(), "Waiting for Dragonfly's side") }, errOut)
	cmd.Process.Signal(os.Interrupt)
	if code := exitCode(cmd.Wait()); code != 130 {
		t.Fatalf("interrupted connect: exit %d, want 130\n%s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "run the same command again") {
		t.Errorf("no resume hint:\n%s", errOut)
	}
	if got := listed(t, home); len(got) != 1 {
		t.Fatalf("after the interruption the sandbox lists %v, want the one connection created", got)
	}
	mustStateRun(t, home, awsConnect...)
	if got := listed(t, home); len(got) != 1 || got["app-vpc-demo-aws"] != "active" {
		t.Fatalf("after the re-run: %v, want the same connection, active", got)
	}
}

// BenchmarkSandboxRememberedStartup measures `dfpeer --sandbox connections
// list` with a remembered state holding a connection on each cloud: lock,
// load, serve one request, save.
func BenchmarkSandboxRememberedStartup(b *testing.B) {
	home := b.TempDir()
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "XDG_STATE_HOME=" + home, sandbox.FastEnv + "=1"}
	for _, args := range [][]string{awsConnect, gcpConnect, azureConnect} {
		cmd := exec.Command(binary, args...)
		cmd.Env = environ
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(binary, "--sandbox", "connections", "list")
		cmd.Env = environ
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
