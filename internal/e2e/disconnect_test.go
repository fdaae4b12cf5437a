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

// The questions of one step are one form: at the connection name,
// Shift+Tab goes back to the route tables, where an answer can be revised
// before the plan.
func TestFormGoesBack(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	tm := startPTY(t, env(t, sb), "aws", "connect")
	tm.expect("Dragonfly Cloud network")
	tm.send("\r")
	tm.expect("VPC to peer")
	tm.send("\r")
	tm.expect("Route tables to add the route to")
	tm.send("\r") // both tables, the defaults
	tm.send("\r") // the default group
	tm.expect("Connection name")
	tm.send("\x1b[Z") // Shift+Tab: back to the security groups
	tm.send("\x1b[Z") // and to the route tables
	tm.send("\x1b[B") // the second table (the main one is first)
	tm.send(" ")      // untick it
	tm.send("\r")
	tm.send("\r")
	tm.send("\r")
	tm.expect("Make these changes?")
	tm.send("\r")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, tm.output())
	}
	conns := sb.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" {
		t.Fatalf("connections %+v", conns)
	}
	routed := routedTo(sb, conns[0].PeerConnectionID, sb.Demo.AWSApp.MainRouteTableID, sb.Demo.AWSPrivateRT)
	if !routed[sb.Demo.AWSApp.MainRouteTableID] || routed[sb.Demo.AWSPrivateRT] {
		t.Fatalf("the revised answer was not kept: routed %v\n%s", routed, tm.output())
	}
}
