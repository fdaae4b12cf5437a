package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// At a terminal, disconnect lists what it will remove (and keep) before it
// asks, and removes only after a yes.
func TestDisconnectConfirmationNamesWhatGoes(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	environ := env(t, sb)
	find := []string{"--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC}
	connect := exec.Command(binary, append([]string{"aws", "connect", "--yes", "--no-input"}, find...)...)
	connect.Env = environ
	if out, err := connect.CombinedOutput(); err != nil {
		t.Fatalf("connect: %v\n%s", err, out)
	}

	tm := startPTY(t, environ, append([]string{"aws", "disconnect"}, find...)...)
	tm.expect("remove  firewall rule:")
	tm.expect("remove  route:")
	tm.expect("remove  connection:")
	tm.expect("Remove these?")
	if c := sb.DF.Connections(); len(c) != 1 || c[0].Status != "active" {
		t.Fatalf("something was removed before the answer: %+v", c)
	}
	tm.send("y")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.output())
	}
	if c := sb.DF.Connections(); len(c) != 1 || c[0].Status != "deleted" {
		t.Fatalf("connections after yes: %+v", c)
	}
	if !strings.Contains(tm.output(), "Disconnected") {
		t.Errorf("no summary:\n%s", tm.output())
	}
}
