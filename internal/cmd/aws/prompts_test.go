package aws_test

import (
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	"github.com/dragonflydb/dfpeer/internal/sim/awssim"
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

// Dragonfly's network is the hub of its peerings: a second VPC whose range
// overlaps a VPC already connected to the same network is refused before
// anything is made, naming the other connection. The first connection
// sent its CIDR block (peer.cidr_block) for exactly this.
func TestOverlapWithAnotherConnectionOfTheNetwork(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	if c := e.SB.DF.Connections(); len(c) != 1 || c[0].Config.Peer.CIDRBlock != "10.0.0.0/16" {
		t.Fatalf("the connection does not carry the VPC's CIDR: %+v", c)
	}
	twin, err := e.SB.AWS.AddVPC(sandbox.AWSAccount, sandbox.AWSRegion, awssim.VPCSpec{CIDRs: []string{"10.0.128.0/17"}, Name: "twin-vpc"})
	if err != nil {
		t.Fatal(err)
	}
	before := state(e)
	e.ErrOut.Reset()
	if code := e.Run("aws", "connect", "--network", "demo-aws", "--vpc-id", twin.VPCID, "--yes", "--no-input"); code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, e.ErrOut)
	}
	if msg := e.ErrOut.String(); !strings.Contains(msg, "10.0.128.0/17 overlaps 10.0.0.0/16 of connection app-vpc-demo-aws") {
		t.Errorf("refusal does not name the overlap and the connection:\n%s", msg)
	}
	if string(before) != string(state(e)) {
		t.Fatalf("the refusal changed state:\n%s", cmdtest.Diff(before, state(e)))
	}
}
