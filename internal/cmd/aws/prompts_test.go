package aws_test

import (
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// With --yes at a terminal, only what has no default is asked (the
// network and the VPC); route tables, groups and the name take their
// defaults. The equivalent command is shown, and re-running it asks
// nothing and changes nothing.
func TestYesAsksOnlyWhatHasNoDefault(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	e.Prompter = prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-aws-demo-0001").
		ExpectSelect("VPC to peer", sandbox.DemoAWSVPC)
	if code := e.Run("aws", "connect", "--yes"); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	demo := e.SB.Demo
	assertConnected(t, e, []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT}, []string{demo.AWSApp.DefaultSecurityGroupID})

	want := "dfpeer aws connect --network demo-aws --vpc-id " + sandbox.DemoAWSVPC
	line := ""
	for _, l := range strings.Split(e.ErrOut.String(), "\n") {
		if strings.Contains(l, want) {
			line = strings.TrimSpace(l)
		}
	}
	if line == "" || !strings.HasSuffix(line, " --yes") || !strings.Contains(line, "--name app-vpc-demo-aws") {
		t.Fatalf("no equivalent command on stderr:\n%s", e.ErrOut)
	}
	before := state(e)
	e.Prompter = prompttest.New(t) // nothing may be asked
	words := strings.Fields(line)[1:]
	if code := e.Run(words...); code != 0 {
		t.Fatalf("%s: exit %d\n%s", line, code, e.ErrOut)
	}
	if string(before) != string(state(e)) {
		t.Fatalf("re-running the equivalent command changed state:\n%s", cmdtest.Diff(before, state(e)))
	}
}

// The overlapping VPC is marked in the list; picking it anyway says why
// right away and asks again, and the run completes with the clean one.
func TestOverlappingVPCIsReaskedWhereChosen(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	p := prompttest.New(t).
		ExpectSelect("Dragonfly Cloud network", "net-aws-demo-0001").
		ExpectSelect("VPC to peer", sandbox.DemoAWSOverlapVPC).
		ExpectSelect("VPC to peer", sandbox.DemoAWSVPC)
	e.Prompter = p
	if code := e.Run("aws", "connect", "--yes"); code != 0 {
		t.Fatalf("exit %d\n%s", code, e.ErrOut)
	}
	marked := false
	for _, o := range p.Seen["VPC to peer (us-east-1)"] {
		if o.Value == sandbox.DemoAWSOverlapVPC {
			marked = strings.Contains(o.Label, "cannot peer") && strings.Contains(o.Label, "192.168.0.0/16")
		}
	}
	if !marked {
		t.Errorf("the overlapping VPC is not marked: %+v", p.Seen["VPC to peer (us-east-1)"])
	}
	said := ""
	for _, l := range strings.Split(e.ErrOut.String(), "\n") {
		if strings.Contains(l, "cannot be peered") {
			said = l
		}
	}
	if !strings.Contains(said, sandbox.DemoAWSOverlapVPC) || strings.Contains(said, "--vpc-id") {
		t.Errorf("the refusal should speak of the choice, not a flag: %q\n%s", said, e.ErrOut)
	}
	if c := e.SB.DF.Connections(); len(c) != 1 || c[0].Config.Peer.VPCID != sandbox.DemoAWSVPC {
		t.Fatalf("connections %+v", c)
	}
}
