package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// gcpEnv adds what points gcloud (and dfpeer) at the sandbox's Compute:
// the endpoint override, a raw access token, the project, and an empty
// gcloud configuration directory.
func gcpEnv(t testing.TB, sb *sandbox.Sandbox) []string {
	e := sb.Endpoints.GCP
	return append(env(t, sb),
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE="+e.URL,
		"GOOGLE_OAUTH_ACCESS_TOKEN="+e.Token,
		"GOOGLE_CLOUD_PROJECT="+e.Project,
		"CLOUDSDK_CONFIG="+filepath.Join(t.TempDir(), "gcloud"),
	)
}

// TestGCPInteractiveConnectInPTY answers the real huh forms in a terminal:
// pick the network and the VPC network, no target tags, keep the default
// name, confirm.
func TestGCPInteractiveConnectInPTY(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	tm := startPTY(t, gcpEnv(t, sb), "gcp", "connect")
	tm.expect("Dragonfly Cloud network")
	tm.expect("demo-gcp")
	tm.send("\r")
	tm.expect("VPC network to peer (project acme-app)")
	tm.expect("app-network  custom")
	tm.expect("legacy-network  custom")
	tm.send("\r")
	tm.expect("Firewall rule target tags")
	tm.send("\r")
	tm.expect("Connection name")
	tm.send("\r")
	tm.expect("Make these changes?")
	tm.send("\r")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, tm.buf.String())
	}
	conns := sb.DF.Connections()
	if len(conns) != 1 || conns[0].Status != "active" || conns[0].Config.Name != "app-network-demo-gcp" {
		t.Fatalf("connections %+v", conns)
	}
	n, _ := sb.GCP.Network(sandbox.GCPProject, sandbox.DemoGCPNetwork)
	if pe := n.GetPeerings(); len(pe) != 1 || pe[0].GetState() != "ACTIVE" || !strings.HasSuffix(pe[0].GetNetwork(), "/projects/"+sandbox.DragonflyGCPProject+"/global/networks/"+sandbox.DragonflyGCPNetwork) {
		t.Errorf("peerings %v", pe)
	}
	rules := sb.GCP.Firewalls(sandbox.GCPProject)
	if len(rules) != 1 || rules[0].GetName() != "dfpeer-app-network-demo-gcp" || strings.Join(rules[0].GetSourceRanges(), ",") != "192.168.0.0/16" ||
		len(rules[0].GetAllowed()) != 1 || strings.Join(rules[0].GetAllowed()[0].GetPorts(), ",") != "6379" {
		t.Errorf("firewall rules %v", rules)
	}
}

// The binary, with no Google credentials at all, stops with exit 4 and the
// login hint before asking anything; a plain-http endpoint elsewhere than
// loopback is refused with exit 2, naming the variable.
func TestGCPCredentialsAndEndpointChecks(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	run := func(environ []string) (int, string) {
		cmd := exec.Command(binary, "gcp", "connect", "--network", "demo-gcp", "--vpc", "app-network", "--yes")
		cmd.Env = environ
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), stderr.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}

	var noCreds []string
	for _, kv := range gcpEnv(t, sb) {
		if !strings.HasPrefix(kv, "GOOGLE_OAUTH_ACCESS_TOKEN=") {
			noCreds = append(noCreds, kv)
		}
	}
	code, stderr := run(noCreds)
	if code != 4 || !strings.Contains(stderr, "gcloud auth application-default login") {
		t.Errorf("no credentials: exit %d\n%s", code, stderr)
	}

	// exec keeps the last of duplicate variables: this one wins.
	code, stderr = run(append(gcpEnv(t, sb), "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=http://compute.example.com/compute/v1/"))
	if code != 2 || !strings.Contains(stderr, "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE") || !strings.Contains(stderr, "loopback") {
		t.Errorf("plain http endpoint: exit %d\n%s", code, stderr)
	}
	if n := len(sb.DF.Connections()); n != 0 {
		t.Errorf("%d connections were created", n)
	}
}
