package app_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// fuzzCommands put the fuzzed value where users type values: arguments,
// flags and settings, in commands that change nothing (reads, --dry-run),
// so that the simulators' state must stay as it was whatever happens.
var fuzzCommands = []struct {
	vars map[string]string // "%" is replaced by the value
	args []string          // "%" is replaced by the value
}{
	{args: []string{"connections", "get", "%"}},
	{args: []string{"networks", "get", "%"}},
	{args: []string{"connections", "list", "--network", "%"}},
	{args: []string{"connections", "wait", "%", "--for", "active", "--timeout", "50ms"}},
	{args: []string{"connections", "wait", "conn-1", "--for", "%"}},
	{args: []string{"%"}},
	{args: []string{"networks", "%"}},
	{args: []string{"networks", "list", "--provider", "%"}},
	{args: []string{"aws", "connect", "--network", "%", "--vpc-id", awsVPC, "--dry-run", "--no-input"}},
	{args: []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", awsVPC, "--dry-run", "--no-input", "--port", "%"}},
	{args: []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", awsVPC, "--dry-run", "--no-input", "--name", "%"}},
	{args: []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", "%", "--dry-run", "--no-input"}},
	{vars: map[string]string{"AWS_REGION": "%"}, args: []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", awsVPC, "--dry-run", "--no-input"}},
	{vars: map[string]string{"AWS_ENDPOINT_URL_EC2": "%"}, args: []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", awsVPC, "--dry-run", "--no-input"}},
	{args: []string{"gcp", "connect", "--network", "demo-gcp", "--vpc", "%", "--dry-run", "--no-input"}},
	{args: []string{"azure", "connect", "--network", "demo-azure", "--vnet", "app-vnet", "--dry-run", "--no-input", "--port", "%"}},
	{args: []string{"--timeout", "%", "networks", "list"}},
	{args: []string{"-o", "%", "networks", "list"}},
}

// FuzzCLIArgs runs dfpeer with a fuzzed value in an argument, a flag or an
// AWS setting against the sandbox: whatever the value, no panic, an exit
// code of the contract, nothing changed, no raw control character in the
// output, no credential, and a refusal (exit 2) is exactly one bounded
// error line.
func FuzzCLIArgs(f *testing.F) {
	for i := range fuzzCommands {
		for _, v := range []string{"", " ", "demo-aws", "conn-1", "010", "0x1F", "Moon_1", "ftp://x", "a\x1b[2Jb", strings.Repeat("n", 2000)} {
			f.Add(uint8(i), v)
		}
	}
	e := cmdtest.NewSandbox(f, sandbox.Options{})
	before := sandboxState(e)
	secrets := e.Secrets()
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		tc := fuzzCommands[int(which)%len(fuzzCommands)]
		args := make([]string, len(tc.args))
		for i, a := range tc.args {
			args[i] = strings.ReplaceAll(a, "%", value)
		}
		e.T = t // f.Helper must not be called inside the fuzz function
		e.Vars = map[string]string{}
		for k, v := range tc.vars {
			e.Vars[k] = strings.ReplaceAll(v, "%", value)
		}
		e.Out.Reset()
		e.ErrOut.Reset()
		code := e.Run(args...)
		switch code {
		case cmdutil.ExitOK, cmdutil.ExitError, cmdutil.ExitInput, cmdutil.ExitTimeout:
		default:
			t.Fatalf("%q: exit %d\n%s", args, code, e.ErrOut)
		}
		all := e.Out.String() + e.ErrOut.String()
		for _, l := range strings.Split(all, "\n") {
			if textsafe.HasControl(l) {
				t.Fatalf("%q: raw control character in %q", args, l)
			}
		}
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Fatalf("%q: a credential was printed", args)
			}
		}
		if code == cmdutil.ExitInput {
			var errLines []string
			for _, l := range strings.Split(e.ErrOut.String(), "\n") {
				if strings.HasPrefix(l, "error:") {
					errLines = append(errLines, l)
				}
			}
			if len(errLines) != 1 || utf8.RuneCountInString(errLines[0]) > 700 {
				t.Fatalf("%q: want one bounded error line:\n%.3000s", args, e.ErrOut)
			}
		}
		if after := sandboxState(e); !bytes.Equal(before, after) {
			t.Fatalf("%q: state changed", args)
		}
	})
}
