package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/prompt/prompttest"
	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// createConn makes a connection through the API, as another tool would.
func createConn(t *testing.T, e *cmdtest.Env, name, network string) *dfcloud.Connection {
	t.Helper()
	c, err := dfcloud.New(e.DFURL, cmdtest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.CreateConnection(context.Background(), dfcloud.ConnectionConfig{Name: name, NetworkID: network,
		Peer: dfcloud.Peer{AccountID: "123456789012", VPCID: "vpc-0a1b2c3d4e5f60001", Region: "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestNetworksListGolden(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		golden string
	}{
		{[]string{"networks", "list"}, "networks_list.txt"},
		{[]string{"networks", "list", "-o", "json"}, "networks_list.json"},
		{[]string{"networks", "list", "--provider", "aws"}, "networks_list_aws.txt"},
		{[]string{"networks", "get", "prod"}, "networks_get.txt"},
		{[]string{"networks", "get", "net-0003", "-o", "json"}, "networks_get.json"},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			e := cmdtest.New(t, cmdtest.Options{})
			if code := e.Run(tc.args...); code != 0 {
				t.Fatalf("exit %d, stderr: %s", code, e.ErrOut)
			}
			cmdtest.Golden(t, tc.golden, e.Out.String())
			if strings.HasSuffix(tc.golden, ".json") && !json.Valid(e.Out.Bytes()) {
				t.Errorf("not valid JSON: %s", e.Out)
			}
		})
	}
}

func TestConnectionsListAndGetGolden(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	c := createConn(t, e, "app-to-prod", "net-0001")
	if code := e.Run("connections", "list"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.ErrOut)
	}
	cmdtest.Golden(t, "connections_list.txt", e.Out.String())
	e.Out.Reset()
	if code := e.Run("connections", "list", "--network", "prod", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.ErrOut)
	}
	cmdtest.Golden(t, "connections_list.json", e.Out.String())
	e.Out.Reset()
	if code := e.Run("connections", "list", "--network", "analytics", "-o", "json"); code != 0 || strings.TrimSpace(e.Out.String()) != "[]" {
		t.Fatalf("filter by network: exit %d, out %q", code, e.Out)
	}
	e.Out.Reset()
	if code := e.Run("connections", "get", c.ConnectionID); code != 0 {
		t.Fatalf("exit %d: %s", code, e.ErrOut)
	}
	cmdtest.Golden(t, "connections_get.txt", e.Out.String())
}

func TestNetworkResolution(t *testing.T) {
	for _, tc := range []struct {
		ref      string
		code     int
		contains string
	}{
		{"dup", cmdutil.ExitInput, "2 networks have this name; use an ID: net-0004, net-0005"},
		{"nope", cmdutil.ExitInput, "valid names: analytics, dup, dup, prod, staging"},
		{"net-0005", 0, "westeurope"},
	} {
		e := cmdtest.New(t, cmdtest.Options{})
		code := e.Run("networks", "get", tc.ref)
		if code != tc.code || !strings.Contains(e.Out.String()+e.ErrOut.String(), tc.contains) {
			t.Errorf("get %s: exit %d, out %q err %q; want exit %d containing %q", tc.ref, code, e.Out, e.ErrOut, tc.code, tc.contains)
		}
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		vars     map[string]string
		args     []string
		code     int
		contains string
	}{
		{"wrong key", map[string]string{"DFCLOUD_API_KEY": "wrong-key-123"}, []string{"networks", "list"}, cmdutil.ExitAuth, "DFCLOUD_API_KEY"},
		{"no key", map[string]string{"DFCLOUD_API_KEY": ""}, []string{"networks", "list"}, cmdutil.ExitAuth, "no Dragonfly Cloud API key"},
		{"clear-text url", nil, []string{"networks", "list", "--api-url", "http://api.example.com"}, cmdutil.ExitInput, "plain http is only allowed for loopback"},
		{"clear-text env url", map[string]string{"DFCLOUD_API_URL": "http://10.1.2.3:8080"}, []string{"networks", "list"}, cmdutil.ExitInput, "DFCLOUD_API_URL \"http://10.1.2.3:8080\": plain http"},
		{"bad output", nil, []string{"networks", "list", "-o", "yaml"}, cmdutil.ExitInput, "--output: want text or json"},
		{"unknown connection", nil, []string{"connections", "get", "conn-9999"}, cmdutil.ExitInput, `connection "conn-9999" not found`},
		{"wait without --for", nil, []string{"connections", "wait", "conn-1"}, cmdutil.ExitInput, "--for is required"},
		{"wait bad --for", nil, []string{"connections", "wait", "conn-1", "--for", "gone"}, cmdutil.ExitInput, "want inactive, active or deleted"},
		{"unknown flag", nil, []string{"networks", "list", "--bogus"}, cmdutil.ExitInput, "unknown flag: --bogus"},
		{"missing arg", nil, []string{"networks", "get"}, cmdutil.ExitInput, "give one network ID or name"},
		{"aws connect missing network", nil, []string{"aws", "connect", "--no-input", "--yes", "--vpc-id", "vpc-0a1b2c3d4e5f60001"}, cmdutil.ExitInput, "--network is required when not running interactively"},
		{"aws connect missing vpc", nil, []string{"aws", "connect", "--no-input", "--yes", "--network", "prod"}, cmdutil.ExitInput, "--vpc-id is required when not running interactively"},
		{"aws connect needs yes", nil, []string{"aws", "connect", "--no-input", "--network", "prod", "--vpc-id", "vpc-0a1b2c3d4e5f60001"}, cmdutil.ExitInput, "--yes is required"},
		{"aws connect bad port", nil, []string{"aws", "connect", "--yes", "--network", "prod", "--vpc-id", "vpc-0a1b2c3d4e5f60001", "--port", "70000"}, cmdutil.ExitInput, "--port"},
		{"aws connect bad vpc", nil, []string{"aws", "connect", "--yes", "--network", "prod", "--vpc-id", "vpc-xyz"}, cmdutil.ExitInput, "--vpc-id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := cmdtest.New(t, cmdtest.Options{})
			for k, v := range tc.vars {
				e.Vars[k] = v
			}
			code := e.Run(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, e.ErrOut)
			}
			if !strings.Contains(e.ErrOut.String(), tc.contains) {
				t.Errorf("stderr %q does not mention %q", e.ErrOut, tc.contains)
			}
			if n := strings.Count(strings.TrimSpace(e.ErrOut.String()), "\n"); tc.code == cmdutil.ExitInput && n > 1 {
				t.Errorf("want a one-line error (plus a usage hint), got %d lines: %q", n+1, e.ErrOut)
			}
			if len(e.DF.Connections()) != 0 {
				t.Errorf("a refused command created connections: %v", e.DF.Connections())
			}
		})
	}
}

func TestDeleteNeedsYesWithoutTerminal(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	c := createConn(t, e, "keep-me", "net-0001")
	code := e.Run("connections", "delete", c.ConnectionID, "--no-input")
	if code != cmdutil.ExitInput || !strings.Contains(e.ErrOut.String(), "--yes is required") {
		t.Fatalf("exit %d, stderr %q", code, e.ErrOut)
	}
	got, _ := e.DF.Connection(c.ConnectionID)
	if got.Status == "deleting" || got.Status == "deleted" {
		t.Fatalf("connection was deleted without --yes: %s", got.Status)
	}
	if n := e.DF.HTTP().Count("connections.delete"); n != 0 {
		t.Errorf("DELETE was called %d times", n)
	}
}

func TestDeleteConfirmsOnTerminal(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{Delays: dfcloudsim.Delays{Delete: 30 * time.Millisecond}})
	c := createConn(t, e, "old", "net-0001")
	e.IO.SetStdinTTY(true)
	e.IO.SetStderrTTY(true)
	e.Prompter = prompttest.New(t).ExpectConfirm("Delete connection old", false)
	if code := e.Run("connections", "delete", c.ConnectionID); code != cmdutil.ExitCancelled {
		t.Fatalf("declined: exit %d, want 130; %s", code, e.ErrOut)
	}
	if got, _ := e.DF.Connection(c.ConnectionID); got.Status == "deleting" || got.Status == "deleted" {
		t.Fatalf("declined delete still deleted")
	}
	e.Prompter = prompttest.New(t).ExpectConfirm("Delete connection old", true)
	if code := e.Run("connections", "delete", c.ConnectionID, "--wait"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.ErrOut)
	}
	if got, _ := e.DF.Connection(c.ConnectionID); got.Status != "deleted" {
		t.Fatalf("status %s after delete --wait", got.Status)
	}
}

func TestConnectionsWait(t *testing.T) {
	cloud := dfcloudsim.NewManualCloud("aws")
	e := cmdtest.New(t, cmdtest.Options{Clouds: []simcloud.Cloud{cloud}})
	c := createConn(t, e, "w", "net-0001")

	// inactive arrives by itself; active only when the cloud says so.
	if code := e.Run("connections", "wait", c.ConnectionID, "--for", "inactive"); code != 0 {
		t.Fatalf("wait inactive: exit %d: %s", code, e.ErrOut)
	}
	if code := e.Run("connections", "wait", c.ConnectionID, "--for", "active", "--timeout", "300ms"); code != cmdutil.ExitTimeout {
		t.Fatalf("wait active without the cloud: exit %d, want 3: %s", code, e.ErrOut)
	}
	if !strings.Contains(e.ErrOut.String(), "dfpeer connections wait "+c.ConnectionID+" --for active") {
		t.Errorf("timeout gives no hint: %s", e.ErrOut)
	}
	conn, _ := e.DF.Connection(c.ConnectionID)
	go func() {
		time.Sleep(100 * time.Millisecond)
		cloud.SetEstablished(conn.PeerConnectionID, true)
	}()
	e.Out.Reset()
	if code := e.Run("connections", "wait", c.ConnectionID, "--for", "active", "-o", "json"); code != 0 {
		t.Fatalf("wait active: exit %d: %s", code, e.ErrOut)
	}
	var got dfcloud.Connection
	if err := json.Unmarshal(e.Out.Bytes(), &got); err != nil || got.Status != dfcloud.ConnectionActive {
		t.Fatalf("json %q: %v", e.Out, err)
	}

	// A terminal status ends the wait with exit 1 and the detail.
	c2 := createConn(t, e, "w2", "net-0001")
	go func() {
		time.Sleep(50 * time.Millisecond)
		e.DF.SetConnectionStatus(c2.ConnectionID, "failed", "peering rejected by AWS")
	}()
	e.ErrOut.Reset()
	if code := e.Run("connections", "wait", c2.ConnectionID, "--for", "active"); code != cmdutil.ExitError || !strings.Contains(e.ErrOut.String(), "peering rejected by AWS") {
		t.Fatalf("failed connection: exit %d, stderr %q", code, e.ErrOut)
	}
}

func TestAPIKeyFile(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	e.Vars["DFCLOUD_API_KEY"] = ""
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(cmdtest.APIKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := e.Run("networks", "list", "--api-key-file", path); code != 0 {
		t.Fatalf("key file: exit %d: %s", code, e.ErrOut)
	}
	e.In.WriteString(cmdtest.APIKey + "\n")
	if code := e.Run("networks", "list", "--api-key-file", "-"); code != 0 {
		t.Fatalf("key on stdin: exit %d: %s", code, e.ErrOut)
	}
	if code := e.Run("networks", "list", "--api-key-file", filepath.Join(t.TempDir(), "missing")); code != cmdutil.ExitInput {
		t.Fatalf("missing key file: exit %d", code)
	}
}

// The API key must never be shown: not with --verbose, not in errors.
func TestAPIKeyNeverPrinted(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	c := createConn(t, e, "secretive", "net-0001")
	runs := [][]string{
		{"networks", "list", "--verbose"},
		{"networks", "get", "nope", "--verbose"},
		{"connections", "get", c.ConnectionID, "--verbose", "-o", "json"},
		{"connections", "get", "conn-9999", "--verbose"},
		{"connections", "delete", c.ConnectionID, "--yes", "--verbose", "--no-input"},
		{"networks", "list", "--verbose", "--api-url", e.DFURL + "/?key=" + cmdtest.APIKey},
	}
	for _, args := range runs {
		e.Run(args...)
	}
	e.Vars["DFCLOUD_API_KEY"] = cmdtest.APIKey + "x" // a wrong key is still a secret
	e.Run("networks", "list", "--verbose")
	all := e.Out.String() + e.ErrOut.String()
	if !strings.Contains(all, "* GET "+e.DFURL+"/v1/networks 200") {
		t.Fatalf("--verbose did not log calls: %s", all)
	}
	if strings.Contains(all, cmdtest.APIKey) || strings.Contains(all, "Bearer") || strings.Contains(all, "Authorization") {
		t.Fatalf("the API key or its header leaked:\n%s", all)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	e := cmdtest.New(t, cmdtest.Options{})
	if code := e.Run("version", "-o", "json"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var v map[string]string
	if err := json.Unmarshal(e.Out.Bytes(), &v); err != nil || v["go_version"] == "" || v["version"] == "" {
		t.Fatalf("version json %q: %v", e.Out, err)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		e.Out.Reset()
		if code := e.Run("completion", shell); code != 0 || !strings.Contains(e.Out.String(), "dfpeer") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, e.Out.Len())
		}
	}
}
