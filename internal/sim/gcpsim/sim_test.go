package gcpsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/option"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, Options{Tokens: []string{"good-token"}})
	e.seedPair(t)
	ctx := context.Background()
	req := &computepb.GetNetworkRequest{Project: "cust-proj", Network: "cust-net"}

	anon, err := compute.NewNetworksRESTClient(ctx, option.WithEndpoint(e.url), option.WithoutAuthentication())
	must(t, err)
	defer anon.Close()
	_, err = anon.Get(ctx, req)
	wantAPIError(t, err, 401, "required", "")
	if gerr := apiErr(t, err); !strings.HasPrefix(gerr.Message, "Request is missing required authentication credential.") {
		t.Errorf("401 message = %q", gerr.Message)
	}

	wrong, err := compute.NewNetworksRESTClient(ctx, clientOptions(e.url, "bad-token")...)
	must(t, err)
	defer wrong.Close()
	_, err = wrong.Get(ctx, req)
	wantAPIError(t, err, 401, "authError", "")
	if strings.Contains(apiErr(t, err).Body, "bad-token") {
		t.Error("the rejected token is echoed back")
	}

	good, err := compute.NewNetworksRESTClient(ctx, clientOptions(e.url, "good-token")...)
	must(t, err)
	defer good.Close()
	_, err = good.Get(ctx, req)
	must(t, err)

	// Without Options.Tokens any bearer token is fine (newEnv's clients).
	open := newEnv(t, Options{})
	open.seedPair(t)
	_, err = open.networks.Get(ctx, req)
	must(t, err)

	// IAM denial, and unknown projects.
	open.sim.Deny("cust-proj", "compute.networks.get")
	_, err = open.networks.Get(ctx, req)
	wantAPIError(t, err, 403, "forbidden", "Required 'compute.networks.get' permission for 'projects/cust-proj/global/networks/cust-net'")
	_, err = open.networks.Get(ctx, &computepb.GetNetworkRequest{Project: "ghost", Network: "n"})
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/ghost' was not found")
}

func TestInjectedFaults(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	req := &computepb.GetNetworkRequest{Project: "cust-proj", Network: "cust-net"}

	e.sim.HTTP().FailNext(simhttp.Throttle, 1)
	_, err := e.networks.Get(ctx, req)
	wantAPIError(t, err, 403, "rateLimitExceeded", "")
	gerr := apiErr(t, err)
	if !strings.HasPrefix(gerr.Message, "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'compute.googleapis.com'") {
		t.Errorf("throttle message = %q", gerr.Message)
	}
	if !strings.Contains(gerr.Body, `"domain": "usageLimits"`) {
		t.Errorf("throttle body = %s", gerr.Body)
	}

	// A 503 on a read is retried by the client, transparently.
	e.sim.HTTP().ResetLog()
	e.sim.HTTP().FailNext(simhttp.ServerError, 1)
	_, err = e.networks.Get(ctx, req)
	must(t, err)
	calls := e.sim.HTTP().Calls()
	if len(calls) != 2 || calls[0].Status != 503 || calls[1].Status != 200 || calls[0].Op != "networks.get" {
		t.Errorf("calls = %+v", calls)
	}

	// Mutations are classified as such, wait is not.
	_, err = e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "p", "projects/df-prod/global/networks/df-net"))
	must(t, err)
	var sawAdd bool
	for _, c := range e.sim.HTTP().Calls() {
		if c.Op == "networks.addPeering" {
			sawAdd = c.Mutating
		}
	}
	if !sawAdd {
		t.Error("addPeering not logged as mutating")
	}
	if _, m := classify(httptest.NewRequest("POST", "/compute/v1/projects/p/global/operations/op/wait", nil), nil); m {
		t.Error("globalOperations.wait classified as mutating")
	}
}

func TestWaitCapAndCancellation(t *testing.T) {
	e := newEnv(t, Options{Delays: Delays{Operation: time.Hour}, WaitCap: 50 * time.Millisecond, Now: time.Now})
	e.seedPair(t)
	ctx := context.Background()
	op, err := e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "p", "projects/df-prod/global/networks/df-net"))
	must(t, err)

	start := time.Now()
	got, err := e.ops.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: "cust-proj", Operation: op.Name()})
	must(t, err)
	if got.GetStatus() == computepb.Operation_DONE || time.Since(start) > 5*time.Second {
		t.Errorf("wait past cap: %v after %v", got.GetStatus(), time.Since(start))
	}

	long := newEnv(t, Options{Delays: Delays{Operation: time.Hour}, Now: time.Now})
	long.seedPair(t)
	op, err = long.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "p", "projects/df-prod/global/networks/df-net"))
	must(t, err)
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = long.ops.Wait(cctx, &computepb.WaitGlobalOperationRequest{Project: "cust-proj", Operation: op.Name()})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled wait: err=%v after %v", err, time.Since(start))
	}

	_, err = long.ops.Get(ctx, &computepb.GetGlobalOperationRequest{Project: "cust-proj", Operation: "operation-nope"})
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/operations/operation-nope' was not found")
}

func TestRequestIDReplay(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	insert := func(id string) (*compute.Operation, error) {
		return e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", RequestId: ptr(id),
			FirewallResource: ingressRule("allow-df")})
	}
	id := "6f1c1a3e-9b4d-4c55-8d0e-2a8e5f1b7c90"
	op1, err := insert(id)
	must(t, err)
	op2, err := insert(id)
	must(t, err)
	if op1.Name() != op2.Name() {
		t.Errorf("replayed request got a new operation: %s vs %s", op1.Name(), op2.Name())
	}
	_, err = insert("6f1c1a3e-9b4d-4c55-8d0e-2a8e5f1b7c91")
	wantAPIError(t, err, 409, "alreadyExists", "")
	_, err = insert("not-a-uuid")
	wantAPIError(t, err, 400, "invalid", "")
}

func TestSubnetworks(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()

	it := e.subnets.List(ctx, &computepb.ListSubnetworksRequest{Project: "cust-proj", Region: "us-central1"})
	sn, err := it.Next()
	must(t, err)
	if sn.GetName() != "app" || sn.GetIpCidrRange() != "10.0.0.0/20" || sn.GetGatewayAddress() != "10.0.0.1" ||
		sn.GetNetwork() != "https://www.googleapis.com/compute/v1/projects/cust-proj/global/networks/cust-net" ||
		len(sn.GetSecondaryIpRanges()) != 1 || sn.GetSecondaryIpRanges()[0].GetIpCidrRange() != "10.4.0.0/14" {
		t.Errorf("subnetwork = %v", sn)
	}

	agg := e.subnets.AggregatedList(ctx, &computepb.AggregatedListSubnetworksRequest{Project: "cust-proj"})
	var found []string
	warnings := 0
	for {
		pair, err := agg.Next()
		if err != nil {
			break
		}
		for _, s := range pair.Value.GetSubnetworks() {
			found = append(found, pair.Key+"/"+s.GetName())
		}
		if pair.Value.GetWarning().GetCode() == "NO_RESULTS_ON_PAGE" {
			warnings++
		}
	}
	if strings.Join(found, ",") != "regions/europe-west1/eu,regions/us-central1/app" || warnings != len(regions)-2 {
		t.Errorf("aggregated = %v, %d empty scopes", found, warnings)
	}

	it = e.subnets.List(ctx, &computepb.ListSubnetworksRequest{Project: "cust-proj", Region: "mars-north1"})
	_, err = it.Next()
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/regions/mars-north1' was not found")

	proj, err := e.projects.Get(ctx, &computepb.GetProjectRequest{Project: "cust-proj"})
	must(t, err)
	var networks *computepb.Quota
	for _, q := range proj.GetQuotas() {
		if q.GetMetric() == "NETWORKS" {
			networks = q
		}
	}
	if proj.GetName() != "cust-proj" || networks.GetUsage() != 1 || networks.GetLimit() != 15 {
		t.Errorf("project = %v", proj)
	}
}

func TestSnapshotDeterminism(t *testing.T) {
	run := func() []byte {
		e := newEnv(t, Options{Seed: 42})
		e.seedPair(t)
		ctx := context.Background()
		_, err := e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-df", "projects/df-prod/global/networks/df-net"))
		must(t, err)
		_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
		must(t, err)
		before := e.sim.Snapshot()
		e.clock.Advance(time.Minute)
		_, err = e.networks.Get(ctx, &computepb.GetNetworkRequest{Project: "cust-proj", Network: "cust-net"})
		must(t, err)
		_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
		wantAPIError(t, err, 409, "alreadyExists", "")
		after := e.sim.Snapshot()
		if !bytes.Equal(before, after) {
			t.Errorf("reads, refused writes or time changed the snapshot:\n%s\n---\n%s", before, after)
		}
		return after
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Errorf("same seed and calls, different snapshots:\n%s\n---\n%s", a, b)
	}
	var parsed map[string]any
	if err := json.Unmarshal(a, &parsed); err != nil || len(parsed["projects"].([]any)) != 2 {
		t.Errorf("snapshot is not the expected JSON: %v", err)
	}
	if !bytes.Contains(a, []byte(`"allow-df"`)) || !bytes.Contains(a, []byte(`"to-df"`)) {
		t.Errorf("snapshot misses state:\n%s", a)
	}
}

func TestCloudPeering(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	req := simcloud.PeeringRequest{
		ConnectionID: "Conn_123",
		Network:      simcloud.Network{Provider: "gcp", VPCAccountID: "df-prod", VPCResourceID: "df-net"},
		Peer:         simcloud.Peer{AccountID: "cust-proj", VPCID: "cust-net"},
	}
	id, err := e.sim.CreatePeering(req)
	must(t, err)
	if id != "dfcloud-conn-123" {
		t.Errorf("peer ID = %q", id)
	}
	again, err := e.sim.CreatePeering(req)
	if err != nil || again != id {
		t.Errorf("repeat CreatePeering = %q, %v", again, err)
	}
	if n, _ := e.sim.Network("df-prod", "df-net"); len(n.GetPeerings()) != 1 {
		t.Errorf("peerings after repeat = %v", n.GetPeerings())
	}
	if st := e.sim.PeeringStatus(id); st != (simcloud.PeeringStatus{}) {
		t.Errorf("status before customer = %+v", st)
	}

	_, err = e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-dragonfly", "projects/df-prod/global/networks/df-net"))
	must(t, err)
	if st := e.sim.PeeringStatus(id); !st.Established {
		t.Errorf("status after customer = %+v", st)
	}
	if pe := e.peering(t, "df-prod", "df-net", id); pe.GetState() != "ACTIVE" {
		t.Errorf("dragonfly side = %v", pe)
	}

	_, err = e.networks.RemovePeering(ctx, &computepb.RemovePeeringNetworkRequest{Project: "cust-proj", Network: "cust-net",
		NetworksRemovePeeringRequestResource: &computepb.NetworksRemovePeeringRequest{Name: ptr("to-dragonfly")}})
	must(t, err)
	if st := e.sim.PeeringStatus(id); !st.Gone || st.Established {
		t.Errorf("status after customer removal = %+v", st)
	}

	must(t, e.sim.DeletePeering(id))
	must(t, e.sim.DeletePeering(id))
	if n, _ := e.sim.Network("df-prod", "df-net"); len(n.GetPeerings()) != 0 {
		t.Errorf("peerings after delete = %v", n.GetPeerings())
	}

	_, err = e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "c2", Network: req.Network,
		Peer: simcloud.Peer{AccountID: "cust-proj", VPCID: "missing"}})
	if err == nil || err.Error() != "The resource 'projects/cust-proj/global/networks/missing' was not found" {
		t.Errorf("missing customer network: %v", err)
	}

	id3, err := e.sim.CreatePeering(simcloud.PeeringRequest{ConnectionID: "c3", Network: req.Network, Peer: req.Peer})
	must(t, err)
	must(t, e.sim.RemoveNetwork("df-prod", "df-net"))
	if st := e.sim.PeeringStatus(id3); st.Failed == "" {
		t.Errorf("status with Dragonfly's network gone = %+v", st)
	}
	if long := PeeringName(strings.Repeat("x", 100)); len(long) > 63 || !nameRE.MatchString(long) {
		t.Errorf("long name %q", long)
	}
}

func TestWireDetails(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	do := func(method, path, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, body := do("POST", "/compute/v1/projects/cust-proj/global/firewalls", `{"name":"x","bogus":1}`)
	if resp.StatusCode != 400 || !strings.Contains(body, `Unknown name \"bogus\" at 'resource': Cannot find field.`) {
		t.Errorf("unknown field: %d %s", resp.StatusCode, body)
	}
	resp, body = do("GET", "/compute/v1/projects/cust-proj/global/nothing", "")
	if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
	// Legacy addPeering with snake_case names, as older clients send.
	resp, body = do("POST", "/compute/v1/projects/cust-proj/global/networks/cust-net/addPeering",
		`{"name":"legacy","peer_network":"https://compute.googleapis.com/compute/v1/projects/df-prod/global/networks/df-net","auto_create_routes":true}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"status": "DONE"`) || !strings.Contains(body, `"id": "`) {
		t.Errorf("legacy addPeering: %d %s", resp.StatusCode, body)
	}
	resp, body = do("GET", "/compute/v1/projects/cust-proj/global/networks?maxResults=501", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "maxResults") {
		t.Errorf("maxResults 501: %d %s", resp.StatusCode, body)
	}
}
