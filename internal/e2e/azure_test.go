package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// azureEnv adds what a user of a custom cloud sets: the Azure CLI's
// ARM_CLOUD_METADATA_URL, a service principal for DefaultAzureCredential,
// the default subscription, and SSL_CERT_FILE trusting the simulator's CA.
func azureEnv(t *testing.T, sb *sandbox.Sandbox) []string {
	ca := filepath.Join(t.TempDir(), "azure-ca.pem")
	if err := sb.AzureServer.WriteCAFile(ca); err != nil {
		t.Fatal(err)
	}
	a := sb.Endpoints.Azure
	return append(env(t, sb),
		"ARM_CLOUD_METADATA_URL="+a.MetadataURL,
		"AZURE_TENANT_ID="+a.TenantID,
		"AZURE_CLIENT_ID="+a.ClientID,
		"AZURE_CLIENT_SECRET="+a.ClientSecret,
		"AZURE_SUBSCRIPTION_ID="+a.SubscriptionID,
		"SSL_CERT_FILE="+ca,
		// The simulator honours role assignments at once-ish; dfpeer's
		// 30 s guard for real Azure would only slow the test.
		"DFPEER_AZURE_ROLE_SETTLE=100ms",
	)
}

// TestAzureInteractiveConnectInPTY answers the real huh forms in a
// terminal, with the SDK configured the way a user would (environment,
// metadata URL, CA file) rather than by --sandbox: pick the network, keep
// the default subscription, pick the VNet, keep the name, confirm.
func TestAzureInteractiveConnectInPTY(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	tm := startPTY(t, azureEnv(t, sb), "azure", "connect")
	tm.expect("Dragonfly Cloud network")
	tm.expect("demo-azure")
	tm.send("\r")
	tm.expect("Azure subscription")
	tm.expect("acme-staging")
	tm.send("\r")
	tm.expect("Virtual network to peer")
	tm.expect("legacy-vnet")
	tm.send("\r")
	tm.expect("Connection name")
	tm.send("\r")
	tm.expect("Make these changes?")
	tm.send("\r")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, tm.buf.String())
	}
	conns := sb.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" || conns[0].Config.Name != "app-vnet-demo-azure" || conns[0].Config.Peer.AccountID != sandbox.AzureSubscriptionID {
		t.Fatalf("connections %+v", conns)
	}
	info, ok := sb.Azure.Peering(sandbox.DemoAzureVNetID, "app-vnet-dfcloud-peering")
	if !ok || info.PeeringState != "Connected" {
		t.Fatalf("peering %+v %v", info, ok)
	}
	app, ok := sb.Azure.Application(conns[0].Config.Peer.Azure.AppObjectID)
	if !ok || app.DisplayName != "dfpeer-app-vnet" || len(app.PasswordKeyIDs) != 0 {
		t.Fatalf("application %+v %v", app, ok)
	}
	tm.mu.Lock()
	screen := tm.buf.String()
	tm.mu.Unlock()
	if strings.Contains(screen, sandbox.AzureClientSecret) {
		t.Error("the client secret reached the terminal")
	}
}

// Without usable Azure credentials the run stops before any change, with
// exit 4 and a hint on how to sign in. AZURE_TOKEN_CREDENTIALS keeps the
// credential chain to the environment: no managed-identity probe leaves
// the machine.
func TestAzureMissingCredentials(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	var environ []string
	for _, kv := range azureEnv(t, sb) {
		if !strings.HasPrefix(kv, "AZURE_CLIENT_") && !strings.HasPrefix(kv, "AZURE_TENANT_ID=") {
			environ = append(environ, kv)
		}
	}
	environ = append(environ, "AZURE_TOKEN_CREDENTIALS=EnvironmentCredential")
	before := sb.Azure.Snapshot()
	cmd := exec.Command(binary, "azure", "connect", "--network", "demo-azure", "--vnet", "app-vnet", "--yes")
	cmd.Env = environ
	var stderr syncBuffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 4 {
		t.Fatalf("want exit 4, got %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "az login") {
		t.Errorf("no sign-in hint:\n%s", stderr.String())
	}
	if string(before) != string(sb.Azure.Snapshot()) {
		t.Error("a run without credentials changed the Azure state")
	}
}

// `dfpeer sandbox serve` prints the Azure variables too, with a CA file
// another dfpeer trusts through SSL_CERT_FILE; the file goes when the
// sandbox stops.
func TestAzureFromSandboxServeExports(t *testing.T) {
	srv := serveSandbox(t)
	environ := srv.environ(t, "AZURE_TOKEN_CREDENTIALS=EnvironmentCredential")
	caFile := srv.exports["SSL_CERT_FILE"]
	out := srv.out
	for _, k := range []string{"ARM_CLOUD_METADATA_URL=", "AZURE_CLIENT_ID=", "AZURE_SUBSCRIPTION_ID="} {
		if !strings.Contains(out, k) {
			t.Errorf("the exports lack %s:\n%s", k, out)
		}
	}
	if _, err := os.Stat(caFile); err != nil {
		t.Fatalf("SSL_CERT_FILE %q: %v", caFile, err)
	}
	client := exec.Command(binary, "azure", "connect", "--network", "demo-azure", "--vnet", "app-vnet", "--dry-run", "-o", "json")
	client.Env = environ
	got, err := client.Output()
	if err != nil {
		t.Fatalf("dry run against the served sandbox: %v\n%s", err, got)
	}
	var plan struct {
		Changes []struct{ Action, Kind string }
	}
	if err := json.Unmarshal(got, &plan); err != nil || len(plan.Changes) < 8 {
		t.Fatalf("plan %s: %v", got, err)
	}
	srv.stop(t)
	if _, err := os.Stat(caFile); !os.IsNotExist(err) {
		t.Errorf("the CA file outlived the sandbox: %v", err)
	}
}
