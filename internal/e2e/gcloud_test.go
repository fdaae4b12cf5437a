package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The Google Cloud CLI, a client nobody here wrote, against 'dfpeer
// sandbox serve': 'peerings create --async' goes through Compute's batch
// endpoint, 'peerings list-routes' reads networks.listPeeringRoutes.
func TestGcloudAgainstSandboxServe(t *testing.T) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		t.Skip("gcloud is not installed")
	}
	srv := serveSandbox(t)
	env := srv.environ(t,
		"CLOUDSDK_CONFIG="+t.TempDir(),
		"CLOUDSDK_AUTH_ACCESS_TOKEN="+srv.exports["GOOGLE_OAUTH_ACCESS_TOKEN"],
		"CLOUDSDK_CORE_PROJECT="+srv.exports["GOOGLE_CLOUD_PROJECT"],
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1",
	)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(gcloud, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("compute", "networks", "peerings", "create", "to-dragonfly", "--network", "app-network",
		"--peer-project", "dragonfly-prod-peering", "--peer-network", "dfcloud-net-demo", "--async")
	if err != nil || !strings.Contains(out, "operation-") {
		t.Fatalf("peerings create --async (batch endpoint): %v\n%s", err, out)
	}
	// Dragonfly's side, once the customer's operation no longer holds the
	// two networks.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err = run("compute", "networks", "peerings", "create", "to-customer", "--project", "dragonfly-prod-peering",
			"--network", "dfcloud-net-demo", "--peer-project", "acme-app", "--peer-network", "app-network")
		if err == nil || !strings.Contains(out, "peering operation in progress") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the other side: %v\n%s", err, out)
	}
	out, err = run("compute", "networks", "peerings", "list-routes", "to-dragonfly", "--network", "app-network",
		"--region", "us-central1", "--direction", "INCOMING", "--format", "value(destRange,type,nextHopRegion)")
	if err != nil || strings.TrimSpace(out) != "192.168.0.0/16\tSUBNET_PEERING_ROUTE\tus-central1" {
		t.Fatalf("list-routes INCOMING: %v\n%q", err, out)
	}
	srv.stop(t)
}
