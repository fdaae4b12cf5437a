package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// sandboxState is every simulator's state: a refusal changes none.
func sandboxState(e *cmdtest.Env) []byte {
	var b []byte
	for _, s := range [][]byte{e.SB.DF.Snapshot(), e.SB.AWS.Snapshot(), e.SB.GCP.Snapshot(), e.SB.Azure.Snapshot()} {
		b = append(append(b, s...), '\n')
	}
	return peeringtest.Timeless(b)
}

// servers are the sandbox's simulators, to count the calls a refusal made.
func servers(e *cmdtest.Env) []*simhttp.Server {
	return []*simhttp.Server{e.SB.DF.HTTP(), e.SB.AWS.HTTP(), e.SB.GCP.HTTP(), e.SB.Azure.HTTP()}
}

func callCount(e *cmdtest.Env) int {
	n := 0
	for _, s := range servers(e) {
		n += len(s.Calls())
	}
	return n
}

const (
	awsVPC   = "vpc-0a1b2c3d4e5f60001"
	hugeSize = 100_000
)

var (
	awsConnect   = []string{"aws", "connect", "--network", "demo-aws", "--vpc-id", awsVPC, "--yes", "--no-input"}
	gcpConnect   = []string{"gcp", "connect", "--network", "demo-gcp", "--vpc", "app-network", "--yes", "--no-input"}
	azureConnect = []string{"azure", "connect", "--network", "demo-azure", "--vnet", "app-vnet", "--yes", "--no-input"}
)

func with(base []string, extra ...string) []string {
	return append(append([]string{}, base...), extra...)
}

// replace returns base with flag's value set to v.
func replace(base []string, flag, v string) []string {
	out := append([]string{}, base...)
	for i := range out {
		if out[i] == flag {
			out[i+1] = v
		}
	}
	return out
}

// TestEveryRefusal runs each bad input of issue 12 (and the older ones)
// against the full sandbox: exit 2, one error line naming the flag,
// argument or variable, nothing on stdout, no credential, no simulator
// changed, and, unless the refusal needs to look something up first, not
// a single API call.
func TestEveryRefusal(t *testing.T) {
	huge := strings.Repeat("n", hugeSize)
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		args     func(t *testing.T) []string
		contains string
		lookups  bool // reads the API before refusing (never writes)
	}{
		// 1. Usage: unknown commands and arguments.
		{name: "unknown command", args: static("frobnicate"), contains: `unknown command "frobnicate" for "dfpeer"`},
		{name: "extra argument", args: static("networks", "list", "extra"), contains: `dfpeer networks list takes no arguments, got "extra"`},
		{name: "unknown subcommand of connections", args: static("connections", "remove", "conn-1", "--yes"), contains: `unknown command "remove" for "dfpeer connections"; did you mean "delete"?`},
		{name: "aws typo", args: static("aws", "conect", "--yes", "--no-input"), contains: `unknown command "conect" for "dfpeer aws"; did you mean "connect"?`},
		{name: "gcp typo", args: static("gcp", "conect"), contains: `did you mean "connect"?`},
		{name: "azure typo", args: static("azure", "connnect"), contains: `did you mean "connect"?`},
		{name: "group without command", args: static("networks"), contains: "dfpeer networks needs a command: get, list"},
		{name: "root without command", args: static(), contains: "dfpeer needs a command"},
		{name: "unknown help topic", args: static("help", "frobnicate"), contains: `unknown help topic "frobnicate"`},
		{name: "help of an unknown subcommand", args: static("help", "aws", "conect"), contains: `unknown help topic "aws conect"`},
		{name: "completion of an unknown shell", args: static("completion", "tcsh"), contains: `unknown command "tcsh" for "dfpeer completion"`},
		{name: "missing argument", args: static("connections", "get"), contains: "give one connection ID"},
		{name: "two arguments", args: static("connections", "get", "a", "b"), contains: "takes 1 argument(s), got 2"},
		{name: "version takes none", args: static("version", "now"), contains: `unknown command "now" for "dfpeer version"`},
		{name: "unknown flag", args: static("networks", "list", "--bogus"), contains: "unknown flag: --bogus"},
		{name: "bad output", args: static("networks", "list", "-o", "yaml"), contains: "--output: want text or json"},
		{name: "wait without --for", args: static("connections", "wait", "conn-1"), contains: "--for is required"},
		{name: "wait bad --for", args: static("connections", "wait", "conn-1", "--for", "gone"), contains: "want inactive, active or deleted"},
		{name: "delete needs --yes", args: static("connections", "delete", "conn-1", "--no-input"), contains: "--yes is required"},

		// 2. Empty and blank IDs.
		{name: "get empty ID", args: static("connections", "get", ""), contains: "connection ID argument is empty"},
		{name: "get blank ID", args: static("connections", "get", " \t "), contains: "connection ID argument is empty"},
		{name: "wait empty ID", args: static("connections", "wait", "", "--for", "active"), contains: "connection ID argument is empty"},
		{name: "delete empty ID", args: static("connections", "delete", "", "--yes"), contains: "connection ID argument is empty"},
		{name: "ID with an escape", args: static("connections", "get", "conn-1\x1b[2J"), contains: `connection ID argument: it contains control characters`},
		{name: "networks get blank", args: static("networks", "get", " "), contains: "NETWORK argument is empty"},
		{name: "connections list blank --network", args: static("connections", "list", "--network", " "), contains: "--network is empty"},
		{name: "aws blank --network", args: static(replace(awsConnect, "--network", " ")...), contains: "--network is empty"},
		{name: "gcp blank --network", args: static(replace(gcpConnect, "--network", "\t")...), contains: "--network is empty"},
		{name: "azure blank --network", args: static(replace(azureConnect, "--network", "  ")...), contains: "--network is empty"},

		// 3. Settings, before the first request. The sandbox ignores the
		// Dragonfly variables, so these run without it (see below); the
		// AWS ones are checked whenever --sandbox is not given.
		{name: "AWS_REGION", vars: map[string]string{"AWS_REGION": "Moon_1"}, args: static(awsConnect...), contains: `invalid value "Moon_1" for AWS_REGION`},
		{name: "AWS_DEFAULT_REGION", vars: map[string]string{"AWS_DEFAULT_REGION": "moon"}, args: static(awsConnect...), contains: "AWS_DEFAULT_REGION"},
		{name: "AWS_ENDPOINT_URL ftp", vars: map[string]string{"AWS_ENDPOINT_URL": "ftp://example.com/ec2"}, args: static(awsConnect...), contains: "AWS_ENDPOINT_URL: want an absolute https:// URL"},
		{name: "AWS_ENDPOINT_URL_EC2", vars: map[string]string{"AWS_ENDPOINT_URL_EC2": "ftp://example.com"}, args: static(awsConnect...), contains: "AWS_ENDPOINT_URL_EC2"},
		{name: "AWS_ENDPOINT_URL_STS port", vars: map[string]string{"AWS_ENDPOINT_URL_STS": "https://localhost:99999"}, args: static(awsConnect...), contains: `AWS_ENDPOINT_URL_STS https://localhost:99999: port "99999" is out of range`},
		{name: "AWS_ENDPOINT_URL secret in query", vars: map[string]string{"AWS_ENDPOINT_URL": "https://ec2.example.com/?X-Amz-Security-Token=sekrit-token-123"}, args: static(awsConnect...), contains: "AWS_ENDPOINT_URL https://ec2.example.com/: user info, a query or a fragment is not allowed"},

		// 7. Long values are cut in the message.
		{name: "huge --name", args: static(with(awsConnect, "--name", huge)...), contains: "for --name: want 1-63 letters"},
		{name: "huge --for", args: static("connections", "wait", "conn-1", "--for", huge), contains: "for --for: want inactive, active or deleted"},
		{name: "huge --network", args: static(replace(awsConnect, "--network", huge)...), contains: "no network has this ID or name (valid names:", lookups: true},
		{name: "huge NETWORK", args: static("networks", "get", huge), contains: "no network has this ID or name", lookups: true},

		// 8. Smaller ones.
		{name: "octal --port", args: static(with(awsConnect, "--port", "010")...), contains: `invalid argument "010" for "--port" flag: want a decimal TCP port`},
		{name: "hex --port", args: static(with(gcpConnect, "--port", "0x1F")...), contains: `invalid argument "0x1F" for "--port" flag`},
		{name: "--port out of range", args: static(with(azureConnect, "--port", "70000")...), contains: "invalid value 70000 for --port"},
		{name: "empty --api-key-file", args: static("networks", "list", "--api-key-file", ""), contains: "--api-key-file is empty"},
		{name: "empty --api-url", args: static("networks", "list", "--api-url", ""), contains: "--api-url is empty"},
		{name: "--sandbox with --api-url", args: static("--sandbox", "networks", "list", "--api-url", "https://api.example.com"), contains: "--sandbox cannot be combined with --api-url"},
		{name: "--sandbox with --api-key-file", args: func(t *testing.T) []string {
			return []string{"--sandbox", "networks", "list", "--api-key-file", keyFile(t, "k\n")}
		}, contains: "--sandbox cannot be combined with --api-key-file"},
		{name: "network of another cloud", args: static(replace(awsConnect, "--network", "demo-azure")...), contains: "is an Azure network; 'dfpeer aws connect' needs an active AWS network", lookups: true},
		{name: "network of another cloud (gcp)", args: static(replace(azureConnect, "--network", "demo-gcp")...), contains: "is a GCP network; 'dfpeer azure connect' needs an active Azure network", lookups: true},

		// Older refusals keep their shape.
		{name: "aws missing --vpc-id", args: static("aws", "connect", "--no-input", "--yes", "--network", "demo-aws"), contains: "--vpc-id is required"},
		{name: "aws bad --vpc-id", args: static(replace(awsConnect, "--vpc-id", "vpc-xyz")...), contains: "--vpc-id"},
		{name: "aws needs --yes", args: static("aws", "connect", "--no-input", "--network", "demo-aws", "--vpc-id", awsVPC), contains: "--yes is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := cmdtest.NewSandbox(t, sandbox.Options{})
			for k, v := range tc.vars {
				e.Vars[k] = v
			}
			args := tc.args(t)
			calls := callCount(e)
			line := cmdtest.CheckRefusal(t, e, sandboxState, args, tc.contains)
			if n := utf8.RuneCountInString(line); n > 700 {
				t.Errorf("error line of %d characters", n)
			}
			if n := callCount(e) - calls; n != 0 && !tc.lookups {
				t.Errorf("%d API calls before refusing", n)
			}
			if e.ErrOut.Len() > 0 && strings.Count(strings.TrimSpace(e.ErrOut.String()), "\n") > 1 {
				t.Errorf("more than the error and a usage hint:\n%.1000s", e.ErrOut)
			}
		})
	}
}

func static(args ...string) func(*testing.T) []string {
	return func(*testing.T) []string { return args }
}

// TestSettingsRefusedBeforeFirstRequest covers the Dragonfly settings,
// which --sandbox replaces: each is refused naming the variable or flag,
// with no request made and the key never echoed.
func TestSettingsRefusedBeforeFirstRequest(t *testing.T) {
	const keyA, keyB = "dfc-secret-first-line", "dfc-secret-second-line"
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		args     func(t *testing.T) []string
		contains string
	}{
		{"url port out of range", map[string]string{"DFCLOUD_API_URL": "https://localhost:99999"}, static("networks", "list"), `DFCLOUD_API_URL https://localhost:99999: port "99999" is out of range`},
		{"url port zero", nil, static("networks", "list", "--api-url", "https://localhost:0"), `--api-url https://localhost:0: port "0" is out of range`},
		{"url empty port", map[string]string{"DFCLOUD_API_URL": "https://api.example.com:"}, static("networks", "list"), "DFCLOUD_API_URL https://api.example.com:: the port is empty"},
		{"url ftp", map[string]string{"DFCLOUD_API_URL": "ftp://api.example.com"}, static("networks", "list"), "DFCLOUD_API_URL: want an absolute https:// URL"},
		{"key with newline", map[string]string{"DFCLOUD_API_KEY": keyA + "\n" + keyB}, static("networks", "list"), "DFCLOUD_API_KEY: the API key contains a control character"},
		{"key with NUL", map[string]string{"DFCLOUD_API_KEY": keyA + "\x00"}, static("connections", "list"), "DFCLOUD_API_KEY: the API key contains a control character"},
		{"key with escape", map[string]string{"DFCLOUD_API_KEY": keyA + "\x1b[2J"}, static("networks", "get", "prod"), "DFCLOUD_API_KEY: the API key contains a control character"},
		{"key not ASCII", map[string]string{"DFCLOUD_API_KEY": keyA + "é"}, static("networks", "list"), "DFCLOUD_API_KEY: the API key contains a non-ASCII character"},
		{"key file of two lines", map[string]string{"DFCLOUD_API_KEY": ""}, func(t *testing.T) []string {
			return []string{"networks", "list", "--api-key-file", keyFile(t, keyA+"\n"+keyB+"\n")}
		}, "--api-key-file"},
		{"key on stdin of two lines", map[string]string{"DFCLOUD_API_KEY": ""}, static("networks", "list", "--api-key-file", "-"), "--api-key-file -: the API key contains a control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := cmdtest.New(t, cmdtest.Options{})
			for k, v := range tc.vars {
				e.Vars[k] = v
			}
			e.In.WriteString(keyA + "\n" + keyB + "\n")
			state := func(e *cmdtest.Env) []byte { return e.DF.Snapshot() }
			cmdtest.CheckRefusal(t, e, state, tc.args(t), tc.contains)
			if n := len(e.DF.HTTP().Calls()); n != 0 {
				t.Errorf("%d requests made before refusing", n)
			}
			all := e.Out.String() + e.ErrOut.String()
			if strings.Contains(all, "dfc-secret") {
				t.Errorf("the key was echoed: %s", all)
			}
		})
	}

	// A single trailing newline in a key file is fine.
	e := cmdtest.New(t, cmdtest.Options{})
	e.Vars["DFCLOUD_API_KEY"] = ""
	if code := e.Run("networks", "list", "--api-key-file", keyFile(t, cmdtest.APIKey+"\n")); code != 0 {
		t.Fatalf("key file with a trailing newline: exit %d: %s", code, e.ErrOut)
	}
}

// Help is printed on stdout when asked for, and exits 0.
func TestHelpOnlyWhenAsked(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"aws", "--help"}, {"help", "aws", "connect"}, {"connections", "delete", "-h"}, {"help"}} {
		e := cmdtest.New(t, cmdtest.Options{})
		if code := e.Run(args...); code != 0 || !strings.Contains(e.Out.String(), "Usage:") || e.ErrOut.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %.200q, stderr %q", args, code, e.Out, e.ErrOut)
		}
	}
}

// keyFile writes an API key file (mode 0600) for --api-key-file.
func keyFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
