package dfcloudsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

func TestAuth(t *testing.T) {
	h := newHarness(t, Options{})
	tests := []struct {
		name   string
		header string
		want   int
		msg    string
	}{
		{"missing", "", 401, "missing API key"},
		{"wrong key", "Bearer not-the-key", 401, "invalid API key"},
		{"wrong scheme", "Basic " + testKey, 401, "malformed Authorization"},
		{"no key", "Bearer ", 401, "malformed Authorization"},
		{"right key", "Bearer " + testKey, 200, ""},
		{"scheme is case-insensitive", "bearer " + testKey, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.rawAuth("GET", "/v1/networks", tt.header)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d (body %s)", r.status, tt.want, r.body)
			}
			if tt.msg != "" && !strings.Contains(r.errorText(), tt.msg) {
				t.Errorf("error %q, want it to contain %q", r.errorText(), tt.msg)
			}
			if strings.Contains(r.body, "not-the-key") || strings.Contains(r.body, testKey) {
				t.Errorf("response echoes a key: %s", r.body)
			}
		})
	}
	// Auth is checked before routing: an unknown path without a key is 401.
	if r := h.rawAuth("GET", "/v1/nope", ""); r.status != 401 {
		t.Errorf("unknown path without key: %d, want 401", r.status)
	}
}

func TestEmptyConfiguredKeyAcceptsNothing(t *testing.T) {
	// No key configured means every key is wrong, not every key right.
	s := New(Options{})
	if msg, ok := s.authorize(mustRequest(t, "Bearer anything")); ok {
		t.Fatalf("authorized with no configured key (%s)", msg)
	}
}

func TestRoutingAndMethods(t *testing.T) {
	h := newHarness(t, Options{})
	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{"PATCH", "/v1/networks", 405, "GET, POST"},
		{"DELETE", "/v1/networks", 405, "GET, POST"},
		{"POST", "/v1/networks/net-aws", 405, "GET, PUT, DELETE"},
		{"PUT", "/v1/connections", 405, "GET, POST"},
		{"PUT", "/v1/connections/conn-1", 405, "GET, DELETE"},
		{"GET", "/v1/datastores", 404, ""},
		{"GET", "/v1/networks/nope", 404, ""},
		{"GET", "/v1/connections/nope", 404, ""},
		{"DELETE", "/v1/connections/nope", 404, ""},
		{"GET", "/v1/networks/a/b", 404, ""},
	}
	for _, tt := range tests {
		r := h.request(tt.method, tt.path, "")
		if r.status != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, r.status, tt.want)
		}
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
		if r.errorText() == "" {
			t.Errorf("%s %s: no {\"error\":...} body: %s", tt.method, tt.path, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, ct)
		}
	}
	if r := h.request("GET", "/v1/connections/nope", ""); r.errorText() != "connection nope not found" {
		t.Errorf("404 message %q", r.errorText())
	}
}

func TestStrictJSON(t *testing.T) {
	h := newHarness(t, Options{})
	tests := []struct {
		name, body, msg string
	}{
		{"unknown field", `{"name":"c1","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-01234567"},"color":"red"}`, `unknown field "color"`},
		{"unknown nested field", `{"name":"c1","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-01234567","vpc":"x"}}`, `unknown field "vpc"`},
		{"malformed", `{"name":`, "invalid JSON body"},
		{"empty", ``, "request body is empty"},
		{"trailing data", `{"name":"c1"} {"x":1}`, "unexpected data after the object"},
		{"wrong type", `{"name":5}`, `field "name" has the wrong type`},
		{"array", `[]`, "invalid JSON body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.request("POST", "/v1/connections", tt.body)
			if r.status != 400 || !strings.Contains(r.errorText(), tt.msg) {
				t.Fatalf("got %d %q, want 400 containing %q", r.status, r.errorText(), tt.msg)
			}
		})
	}
	if r := h.request("POST", "/v1/networks", `{"name":"n","location":{"provider":"aws","region":"us-east-1","zone":"a"},"cidr_block":"10.0.0.0/16"}`); r.status != 400 {
		t.Errorf("network create with unknown field: %d", r.status)
	}
	if len(h.sim.Connections()) != 0 {
		t.Errorf("a refused request created a connection")
	}
}

func TestConnectionValidation(t *testing.T) {
	h := newHarness(t, Options{})
	h.sim.SeedNetworks([]Network{{NetworkID: "net-pending", Name: "p", Status: NetworkPending, Location: Location{Provider: "aws", Region: "us-east-1"}, CIDRBlock: "10.99.0.0/16"}})

	const guid = "0b1f6471-1bf0-4dda-aec3-111122223333"
	azure := func(rg, tenant, app string) string {
		return `"azure":{"resource_group":"` + rg + `","tenant_id":"` + tenant + `","app_object_id":"` + app + `"}`
	}
	tests := []struct {
		name string
		body string
		msg  string // "" means accepted
	}{
		{"aws ok", awsConnBody, ""},
		{"aws 8-hex vpc, no region", `{"name":"c2","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, ""},
		{"name required", `{"network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, "name is required"},
		{"name charset", `{"name":"bad name!","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, `invalid name "bad name!"`},
		{"name too long", `{"name":"` + strings.Repeat("a", 64) + `","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, "invalid name"},
		{"network required", `{"name":"c","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, "network_id is required"},
		{"network unknown", `{"name":"c","network_id":"net-x","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, "network net-x not found"},
		{"network not active", `{"name":"c","network_id":"net-pending","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd"}}`, "network net-pending is not active (status pending)"},
		{"account required", `{"name":"c","network_id":"net-aws","peer":{"vpc_id":"vpc-0123abcd"}}`, "peer.account_id is required"},
		{"vpc required", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012"}}`, "peer.vpc_id is required"},
		{"aws account 11 digits", `{"name":"c","network_id":"net-aws","peer":{"account_id":"12345678901","vpc_id":"vpc-0123abcd"}}`, "AWS account ID is 12 digits"},
		{"aws vpc bad", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abc"}}`, "AWS VPC ID"},
		{"aws vpc uppercase", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123ABCD"}}`, "AWS VPC ID"},
		{"aws region bad", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd","region":"mars-1"}}`, `invalid peer.region "mars-1"`},
		{"cidr bad", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd","cidr_block":"10.0.0.1/16"}}`, "invalid peer.cidr_block"},
		{"cidr overlaps", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd","cidr_block":"192.168.10.0/24"}}`, "overlaps the network's cidr_block 192.168.0.0/16"},
		{"azure on aws", `{"name":"c","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd",` + azure("rg", guid, guid) + `}}`, "peer.azure is only allowed for azure networks"},
		{"empty azure on aws (provider compat)", `{"name":"c3","network_id":"net-aws","peer":{"account_id":"123456789012","vpc_id":"vpc-0123abcd","cidr_block":"",` + azure("", "", "") + `}}`, ""},
		{"gcp ok", `{"name":"g1","network_id":"net-gcp","peer":{"account_id":"my-project-123","vpc_id":"default"}}`, ""},
		{"gcp project too short", `{"name":"g","network_id":"net-gcp","peer":{"account_id":"abc","vpc_id":"default"}}`, "GCP project ID"},
		{"gcp project uppercase", `{"name":"g","network_id":"net-gcp","peer":{"account_id":"My-Project","vpc_id":"default"}}`, "GCP project ID"},
		{"gcp project trailing hyphen", `{"name":"g","network_id":"net-gcp","peer":{"account_id":"my-project-","vpc_id":"default"}}`, "GCP project ID"},
		{"gcp network bad", `{"name":"g","network_id":"net-gcp","peer":{"account_id":"my-project","vpc_id":"Default_Net"}}`, "GCP network name"},
		{"azure ok", `{"name":"a1","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet","region":"centralus",` + azure("my-rg", guid, guid) + `}}`, ""},
		{"azure subscription not guid", `{"name":"a","network_id":"net-az","peer":{"account_id":"sub-1","vpc_id":"my-vnet",` + azure("my-rg", guid, guid) + `}}`, "Azure subscription ID is a GUID"},
		{"azure vnet bad", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"v-","` + `region":"centralus",` + azure("my-rg", guid, guid) + `}}`, "Azure VNet name"},
		{"azure block missing", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet"}}`, "peer.azure is required"},
		{"azure rg missing", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet",` + azure("", guid, guid) + `}}`, "peer.azure.resource_group is required"},
		{"azure tenant missing", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet",` + azure("rg", "", guid) + `}}`, "peer.azure.tenant_id is required"},
		{"azure tenant not guid", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet",` + azure("rg", "contoso", guid) + `}}`, "Azure tenant ID is a GUID"},
		{"azure app missing", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet",` + azure("rg", guid, "") + `}}`, "peer.azure.app_object_id is required"},
		{"azure rg ends with dot", `{"name":"a","network_id":"net-az","peer":{"account_id":"` + guid + `","vpc_id":"my-vnet",` + azure("rg.", guid, guid) + `}}`, "invalid peer.azure.resource_group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.sim.Connections())
			r := h.request("POST", "/v1/connections", tt.body)
			if tt.msg == "" {
				if r.status != 200 {
					t.Fatalf("refused: %d %s", r.status, r.body)
				}
				if len(h.sim.Connections()) != before+1 {
					t.Fatalf("accepted but not stored")
				}
				return
			}
			if r.status != 400 || !strings.Contains(r.errorText(), tt.msg) {
				t.Fatalf("got %d %q, want 400 containing %q", r.status, r.errorText(), tt.msg)
			}
			if len(h.sim.Connections()) != before {
				t.Fatalf("refused but stored")
			}
		})
	}
	// An empty azure object from a provider-style client is stored as absent.
	for _, c := range h.sim.Connections() {
		if c.Config.Name == "c3" && c.Config.Peer.Azure != nil {
			t.Errorf("empty azure block kept: %+v", c.Config.Peer.Azure)
		}
	}
}

func TestDuplicateNameConflict(t *testing.T) {
	h := newHarness(t, Options{Delays: Delays{Delete: time.Second}})
	first := h.createConn(awsConnBody)
	r := h.request("POST", "/v1/connections", awsConnBody)
	if r.status != 409 || r.errorText() != `connection name "c1" already exists in network net-aws` {
		t.Fatalf("duplicate: %d %q", r.status, r.errorText())
	}
	// The same name in another network is fine.
	h.createConn(`{"name":"c1","network_id":"net-gcp","peer":{"account_id":"my-project","vpc_id":"default"}}`)
	// Once the first is deleted (not merely deleting), the name is free.
	h.mustJSON("DELETE", "/v1/connections/"+first.ConnectionID, "", 200, nil)
	if r := h.request("POST", "/v1/connections", awsConnBody); r.status != 409 {
		t.Fatalf("name reusable while deleting: %d", r.status)
	}
	h.clock.Advance(time.Second)
	if r := h.request("POST", "/v1/connections", awsConnBody); r.status != 200 {
		t.Fatalf("name not reusable after delete: %d %s", r.status, r.body)
	}
}

func TestConnectionStateMachine(t *testing.T) {
	cloud := NewManualCloud("aws")
	h := newHarness(t, Options{
		Clouds: []simcloud.Cloud{cloud},
		Delays: Delays{Provision: 2 * time.Second, Activate: 3 * time.Second, Delete: 4 * time.Second},
	})
	c := h.createConn(awsConnBody)
	if c.Status != ConnPending || c.PeerConnectionID != "" || c.ConnectionID != "conn-1" {
		t.Fatalf("created: %+v", c)
	}
	if c.Config.Name != "c1" || c.Config.Peer.VPCID != "vpc-0123456789abcdef0" || c.Config.Peer.Region != "us-west-2" {
		t.Fatalf("config not echoed: %+v", c.Config)
	}

	h.clock.Advance(time.Second)
	if got := h.getConn(c.ConnectionID); got.Status != ConnPending || len(cloud.Requests()) != 0 {
		t.Fatalf("before Provision: %s, %d cloud calls", got.Status, len(cloud.Requests()))
	}
	h.clock.Advance(time.Second)
	got := h.getConn(c.ConnectionID)
	if got.Status != ConnInactive || got.PeerConnectionID != "peer-1" {
		t.Fatalf("after Provision: %+v", got)
	}
	reqs := cloud.Requests()
	if len(reqs) != 1 {
		t.Fatalf("CreatePeering calls: %d", len(reqs))
	}
	want := simcloud.PeeringRequest{
		ConnectionID: "conn-1", Name: "c1",
		Network: simcloud.Network{ID: "net-aws", Name: "prod", Provider: "aws", Region: "us-east-1", CIDR: "192.168.0.0/16",
			VPCResourceID: dragonflyVPC(Network{NetworkID: "net-aws", Location: Location{Provider: "aws"}}).ResourceID, VPCAccountID: "210987654321"},
		Peer: simcloud.Peer{AccountID: "123456789012", VPCID: "vpc-0123456789abcdef0", Region: "us-west-2", CIDRBlock: "172.16.0.0/16"},
	}
	if reqs[0].Network != want.Network || reqs[0].Peer.AccountID != want.Peer.AccountID || reqs[0].Peer.VPCID != want.Peer.VPCID ||
		reqs[0].Peer.Region != want.Peer.Region || reqs[0].Peer.CIDRBlock != want.Peer.CIDRBlock || reqs[0].Peer.Azure != nil ||
		reqs[0].ConnectionID != want.ConnectionID || reqs[0].Name != want.Name {
		t.Fatalf("peering request:\n got %+v\nwant %+v", reqs[0], want)
	}

	// The customer accepts: active only Activate later.
	cloud.SetEstablished("peer-1", true)
	h.clock.Advance(time.Second)
	if got := h.getConn(c.ConnectionID); got.Status != ConnInactive {
		t.Fatalf("active before Activate delay: %s", got.Status)
	}
	h.clock.Advance(2 * time.Second)
	if got := h.getConn(c.ConnectionID); got.Status != ConnInactive {
		t.Fatalf("Activate counted from first observation, not acceptance: %s", got.Status)
	}
	h.clock.Advance(time.Second)
	if got := h.getConn(c.ConnectionID); got.Status != ConnActive {
		t.Fatalf("not active after Activate: %s", got.Status)
	}

	// The customer deletes their side: irrecoverable.
	cloud.SetGone("peer-1", true)
	got = h.getConn(c.ConnectionID)
	if got.Status != ConnIrrecoverable || got.StatusDetail == "" {
		t.Fatalf("after Gone: %+v", got)
	}

	// DELETE: deleting, cloud half removed, idempotent, then gone.
	var del Connection
	h.mustJSON("DELETE", "/v1/connections/"+c.ConnectionID, "", 200, &del)
	if del.Status != ConnDeleting || !cloud.Deleted("peer-1") {
		t.Fatalf("after DELETE: %s, cloud deleted %v", del.Status, cloud.Deleted("peer-1"))
	}
	h.clock.Advance(2 * time.Second)
	h.mustJSON("DELETE", "/v1/connections/"+c.ConnectionID, "", 200, &del)
	if del.Status != ConnDeleting {
		t.Fatalf("second DELETE: %s", del.Status)
	}
	var list []Connection
	h.mustJSON("GET", "/v1/connections", "", 200, &list)
	if len(list) != 1 || list[0].Status != ConnDeleting {
		t.Fatalf("list while deleting: %+v", list)
	}
	h.clock.Advance(2 * time.Second)
	if r := h.request("GET", "/v1/connections/"+c.ConnectionID, ""); r.status != 404 {
		t.Fatalf("GET deleted: %d %s", r.status, r.body)
	}
	if r := h.request("DELETE", "/v1/connections/"+c.ConnectionID, ""); r.status != 404 {
		t.Fatalf("DELETE deleted: %d", r.status)
	}
	h.mustJSON("GET", "/v1/connections", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("deleted connection listed: %+v", list)
	}
	if got, ok := h.sim.Connection(c.ConnectionID); !ok || got.Status != ConnDeleted {
		t.Fatalf("accessor: %+v %v", got, ok)
	}
}

func TestEstablishedThenWithdrawnRestartsActivate(t *testing.T) {
	cloud := NewManualCloud("aws")
	h := newHarness(t, Options{Clouds: []simcloud.Cloud{cloud}, Delays: Delays{Activate: 2 * time.Second}})
	c := h.createConn(awsConnBody)
	h.getConn(c.ConnectionID) // provisions
	cloud.SetEstablished("peer-1", true)
	h.getConn(c.ConnectionID) // first observation
	cloud.SetEstablished("peer-1", false)
	h.clock.Advance(time.Second)
	h.getConn(c.ConnectionID)
	cloud.SetEstablished("peer-1", true)
	h.clock.Advance(1500 * time.Millisecond)
	if got := h.getConn(c.ConnectionID); got.Status != ConnInactive {
		t.Fatalf("activation timer survived a withdrawal: %s", got.Status)
	}
	h.clock.Advance(2 * time.Second)
	if got := h.getConn(c.ConnectionID); got.Status != ConnActive {
		t.Fatalf("not active: %s", got.Status)
	}
}

func TestCloudFailures(t *testing.T) {
	t.Run("CreatePeering error fails the connection", func(t *testing.T) {
		cloud := NewManualCloud("aws")
		cloud.FailCreate("VpcPeeringConnectionLimitExceeded: too many peerings")
		h := newHarness(t, Options{Clouds: []simcloud.Cloud{cloud}})
		c := h.createConn(awsConnBody)
		got := h.getConn(c.ConnectionID)
		if got.Status != ConnFailed || got.StatusDetail != "VpcPeeringConnectionLimitExceeded: too many peerings" || got.PeerConnectionID != "" {
			t.Fatalf("got %+v", got)
		}
		// A failed connection can still be deleted.
		var del Connection
		h.mustJSON("DELETE", "/v1/connections/"+c.ConnectionID, "", 200, &del)
		if del.Status != ConnDeleting {
			t.Fatalf("delete failed connection: %s", del.Status)
		}
	})
	t.Run("peering fails while inactive", func(t *testing.T) {
		cloud := NewManualCloud("gcp")
		h := newHarness(t, Options{Clouds: []simcloud.Cloud{cloud}})
		c := h.createConn(`{"name":"g1","network_id":"net-gcp","peer":{"account_id":"my-project","vpc_id":"default"}}`)
		if got := h.getConn(c.ConnectionID); got.Status != ConnInactive || got.PeerConnectionID != "peer-1" {
			t.Fatalf("got %+v", got)
		}
		cloud.SetFailed("peer-1", "peer network not found")
		if got := h.getConn(c.ConnectionID); got.Status != ConnFailed || got.StatusDetail != "peer network not found" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("a cloud of another provider is not used", func(t *testing.T) {
		cloud := NewManualCloud("gcp")
		h := newHarness(t, Options{Clouds: []simcloud.Cloud{cloud}})
		c := h.createConn(awsConnBody)
		h.getConn(c.ConnectionID)
		if n := len(cloud.Requests()); n != 0 {
			t.Fatalf("gcp cloud asked to peer an aws network %d times", n)
		}
	})
}

func TestNoCloudStaysInactive(t *testing.T) {
	h := newHarness(t, Options{Delays: Delays{Provision: time.Second}})
	c := h.createConn(awsConnBody)
	g := h.createConn(`{"name":"g1","network_id":"net-gcp","peer":{"account_id":"my-project","vpc_id":"default"}}`)
	h.clock.Advance(time.Hour)
	got := h.getConn(c.ConnectionID)
	if got.Status != ConnInactive || !strings.HasPrefix(got.PeerConnectionID, "pcx-sim") {
		t.Fatalf("aws without cloud: %+v", got)
	}
	if got := h.getConn(g.ConnectionID); got.Status != ConnInactive || got.PeerConnectionID != "dfcloud-conn-2" {
		t.Fatalf("gcp without cloud: %+v", got)
	}
	// Tests move it on by hand.
	h.sim.SetConnectionStatus(c.ConnectionID, ConnActive, "")
	if got := h.getConn(c.ConnectionID); got.Status != ConnActive {
		t.Fatalf("forced active: %s", got.Status)
	}
	h.sim.SetConnectionStatus(c.ConnectionID, ConnFailed, "forced")
	if got := h.getConn(c.ConnectionID); got.Status != ConnFailed || got.StatusDetail != "forced" {
		t.Fatalf("forced failed: %+v", got)
	}
}

func TestRealClockShortDelays(t *testing.T) {
	// The default clock with the short delays other packages' tests use.
	cloud := NewManualCloud("aws")
	sim := New(Options{APIKey: testKey, Clouds: []simcloud.Cloud{cloud}, Delays: Delays{Provision: 20 * time.Millisecond, Activate: 20 * time.Millisecond}})
	sim.SeedNetworks([]Network{{NetworkID: "net-aws", Name: "prod", Location: Location{Provider: "aws", Region: "us-east-1"}, CIDRBlock: "192.168.0.0/16"}})
	h := &harness{t: t, sim: sim}
	h.srv = newServer(t, sim)
	c := h.createConn(awsConnBody)
	waitFor := func(status string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if h.getConn(c.ConnectionID).Status == status {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("never became %s", status)
	}
	waitFor(ConnInactive)
	cloud.SetEstablished("peer-1", true)
	start := time.Now()
	waitFor(ConnActive)
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("active after %v, before the Activate delay", d)
	}
}

func TestNetworks(t *testing.T) {
	h := newHarness(t, Options{Delays: Delays{Network: 10 * time.Second}})
	var n Network
	h.mustJSON("POST", "/v1/networks", `{"name":"staging","location":{"provider":"gcp","region":"europe-west4"},"cidr_block":"10.50.0.0/20"}`, 200, &n)
	if n.NetworkID != "net-1" || n.Status != NetworkPending || n.VPC != nil || n.CreatedAt != h.clock.Now().Unix() {
		t.Fatalf("created: %+v", n)
	}
	// Not peerable while pending.
	if r := h.request("POST", "/v1/connections", `{"name":"g","network_id":"net-1","peer":{"account_id":"my-project","vpc_id":"default"}}`); r.status != 400 || !strings.Contains(r.errorText(), "is not active") {
		t.Fatalf("connect to pending network: %d %s", r.status, r.body)
	}
	h.clock.Advance(10 * time.Second)
	h.mustJSON("GET", "/v1/networks/net-1", "", 200, &n)
	if n.Status != NetworkActive || n.VPC == nil || n.VPC.ResourceID == "" || n.VPC.AccountID == "" {
		t.Fatalf("after provisioning: %+v", n)
	}

	// Rename; location and CIDR are fixed.
	h.mustJSON("PUT", "/v1/networks/net-1", `{"name":"staging2","location":{"provider":"gcp","region":"europe-west4"},"cidr_block":"10.50.0.0/20"}`, 200, &n)
	if n.Name != "staging2" {
		t.Fatalf("rename: %+v", n)
	}
	if r := h.request("PUT", "/v1/networks/net-1", `{"name":"staging2","location":{"provider":"gcp","region":"europe-west4"},"cidr_block":"10.60.0.0/20"}`); r.status != 400 || !strings.Contains(r.errorText(), "cidr_block cannot be changed") {
		t.Fatalf("cidr change: %d %s", r.status, r.body)
	}
	if r := h.request("PUT", "/v1/networks/nope", `{"name":"x","location":{"provider":"gcp","region":"europe-west4"},"cidr_block":"10.60.0.0/20"}`); r.status != 404 {
		t.Fatalf("PUT unknown: %d", r.status)
	}

	// Cannot delete with a live connection.
	c := h.createConn(`{"name":"g","network_id":"net-1","peer":{"account_id":"my-project","vpc_id":"default"}}`)
	if r := h.request("DELETE", "/v1/networks/net-1", ""); r.status != 409 || !strings.Contains(r.errorText(), "still has 1 connection") {
		t.Fatalf("delete with connection: %d %s", r.status, r.body)
	}
	h.mustJSON("DELETE", "/v1/connections/"+c.ConnectionID, "", 200, nil)
	h.clock.Advance(time.Second) // Delete delay is zero: deleted on next request
	h.mustJSON("DELETE", "/v1/networks/net-1", "", 200, &n)
	if n.Status != NetworkDeleting {
		t.Fatalf("after DELETE: %s", n.Status)
	}
	h.clock.Advance(10 * time.Second)
	if r := h.request("GET", "/v1/networks/net-1", ""); r.status != 404 {
		t.Fatalf("GET deleted network: %d", r.status)
	}
	var list []Network
	h.mustJSON("GET", "/v1/networks", "", 200, &list)
	for _, n := range list {
		if n.NetworkID == "net-1" {
			t.Fatalf("deleted network listed")
		}
	}
	if len(list) != 3 {
		t.Fatalf("list: %d networks, want the 3 seeded", len(list))
	}
}

func TestNetworkValidation(t *testing.T) {
	h := newHarness(t, Options{})
	tests := []struct{ body, msg string }{
		{`{"location":{"provider":"aws","region":"us-east-1"},"cidr_block":"10.0.0.0/16"}`, "name is required"},
		{`{"name":"n","location":{"provider":"ibm","region":"us-east-1"},"cidr_block":"10.0.0.0/16"}`, `invalid location.provider "ibm"`},
		{`{"name":"n","location":{"provider":"aws"},"cidr_block":"10.0.0.0/16"}`, "location.region is required"},
		{`{"name":"n","location":{"provider":"aws","region":"us-central1"},"cidr_block":"10.0.0.0/16"}`, `invalid location.region "us-central1"`},
		{`{"name":"n","location":{"provider":"aws","region":"us-east-1"}}`, "cidr_block is required"},
		{`{"name":"n","location":{"provider":"aws","region":"us-east-1"},"cidr_block":"8.8.0.0/16"}`, "private"},
		{`{"name":"n","location":{"provider":"aws","region":"us-east-1"},"cidr_block":"10.0.0.0/8"}`, "between /16 and /24"},
		{`{"name":"n","location":{"provider":"aws","region":"us-east-1"},"cidr_block":"10.0.0.5/16"}`, "IPv4 network in CIDR notation"},
	}
	for _, tt := range tests {
		r := h.request("POST", "/v1/networks", tt.body)
		if r.status != 400 || !strings.Contains(r.errorText(), tt.msg) {
			t.Errorf("%s: got %d %q, want 400 containing %q", tt.body, r.status, r.errorText(), tt.msg)
		}
	}
	// The Terraform provider's byoc block is accepted.
	if r := h.request("POST", "/v1/networks", `{"name":"n","location":{"provider":"aws","region":"us-east-1"},"cidr_block":"10.0.0.0/16","byoc":{"account_id":""}}`); r.status != 200 {
		t.Errorf("byoc block refused: %d %s", r.status, r.body)
	}
}

func TestFaults(t *testing.T) {
	h := newHarness(t, Options{})
	h.sim.HTTP().SetFaults(simhttp.Faults{RetryAfter: 1500 * time.Millisecond})
	h.sim.HTTP().FailNext(simhttp.Throttle, 1)
	r := h.request("GET", "/v1/networks", "")
	if r.status != 429 || r.header.Get("Retry-After") != "2" || r.errorText() != "rate limit exceeded" {
		t.Fatalf("throttle: %d Retry-After=%q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	h.sim.HTTP().FailNext(simhttp.ServerError, 1)
	r = h.request("POST", "/v1/connections", awsConnBody)
	if r.status != 500 || r.errorText() != "internal error" {
		t.Fatalf("server error: %d %s", r.status, r.body)
	}
	if len(h.sim.Connections()) != 0 {
		t.Fatalf("a faulted create reached the handler")
	}
	h.createConn(awsConnBody)
	if got := h.sim.HTTP().Count("connections.create"); got != 1 {
		t.Errorf("Count(connections.create) = %d, want 1 (faulted calls excluded)", got)
	}
	var ops []string
	for _, c := range h.sim.HTTP().Calls() {
		ops = append(ops, c.Op)
	}
	want := "networks.list connections.create connections.create"
	if strings.Join(ops, " ") != want {
		t.Errorf("ops %q, want %q", strings.Join(ops, " "), want)
	}
	calls := h.sim.HTTP().Calls()
	if calls[0].Mutating || !calls[1].Mutating || calls[1].Fault != simhttp.ServerError {
		t.Errorf("classification: %+v", calls)
	}

	// Without a configured delay, a throttle carries no Retry-After.
	h.sim.HTTP().SetFaults(simhttp.Faults{})
	h.sim.HTTP().FailNext(simhttp.Throttle, 1)
	if r := h.request("GET", "/v1/networks", ""); r.status != 429 || r.header.Get("Retry-After") != "" {
		t.Fatalf("throttle without delay: %d %q", r.status, r.header.Get("Retry-After"))
	}
}

func TestClassify(t *testing.T) {
	tests := []struct{ method, path, op string }{
		{"GET", "/v1/networks", "networks.list"},
		{"GET", "/v1/networks/n1", "networks.get"},
		{"POST", "/v1/networks", "networks.create"},
		{"PUT", "/v1/networks/n1", "networks.update"},
		{"DELETE", "/v1/networks/n1", "networks.delete"},
		{"GET", "/v1/connections", "connections.list"},
		{"GET", "/v1/connections/c1", "connections.get"},
		{"POST", "/v1/connections", "connections.create"},
		{"DELETE", "/v1/connections/c1", "connections.delete"},
	}
	for _, tt := range tests {
		op, mut := classify(mustMethodRequest(t, tt.method, tt.path), nil)
		if op != tt.op || mut != (tt.method != "GET") {
			t.Errorf("%s %s: %s %v", tt.method, tt.path, op, mut)
		}
	}
}

func TestSnapshot(t *testing.T) {
	run := func() (*harness, []byte) {
		cloud := NewManualCloud("aws")
		h := newHarness(t, Options{Clouds: []simcloud.Cloud{cloud}})
		a := h.createConn(awsConnBody)
		h.createConn(`{"name":"g1","network_id":"net-gcp","peer":{"account_id":"my-project","vpc_id":"default"}}`)
		h.getConn(a.ConnectionID)
		cloud.SetEstablished("peer-1", true)
		h.getConn(a.ConnectionID)
		return h, h.sim.Snapshot()
	}
	h1, s1 := run()
	_, s2 := run()
	if string(s1) != string(s2) {
		t.Fatalf("same history, different snapshots:\n%s\n---\n%s", s1, s2)
	}
	var parsed struct {
		Networks    []Network    `json:"networks"`
		Connections []Connection `json:"connections"`
	}
	if err := json.Unmarshal(s1, &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Networks) != 3 || len(parsed.Connections) != 2 || parsed.Connections[0].Status != ConnActive {
		t.Fatalf("snapshot content: %s", s1)
	}
	if parsed.Networks[0].NetworkID != "net-aws" || parsed.Networks[1].NetworkID != "net-az" {
		t.Fatalf("networks not sorted: %s", s1)
	}

	// Reads and refused writes leave it byte-identical.
	h1.request("GET", "/v1/connections", "")
	h1.request("GET", "/v1/networks/net-aws", "")
	h1.request("POST", "/v1/connections", awsConnBody) // 409
	h1.request("POST", "/v1/connections", `{"name":"x"}`)
	h1.requestKey("DELETE", "/v1/connections/conn-1", "", "wrong-key")
	h1.sim.HTTP().FailNext(simhttp.ServerError, 1)
	h1.request("DELETE", "/v1/connections/conn-1", "")
	h1.clock.Advance(time.Hour)
	if s := h1.sim.Snapshot(); string(s) != string(s1) {
		t.Fatalf("snapshot changed without a successful write:\n%s\n---\n%s", s1, s)
	}
	if strings.Contains(string(s1), testKey) {
		t.Fatalf("snapshot holds the key")
	}
	// A successful write changes it.
	h1.mustJSON("DELETE", "/v1/connections/conn-1", "", 200, nil)
	if s := h1.sim.Snapshot(); string(s) == string(s1) {
		t.Fatalf("snapshot unchanged after a delete")
	}
}

func TestLoadNetworks(t *testing.T) {
	s := New(Options{APIKey: testKey, Now: newFakeClock().Now})
	err := s.LoadNetworks(strings.NewReader(`[
		{"network_id":"n1","name":"a","location":{"provider":"aws","region":"us-east-1"},"cidr_block":"10.0.0.0/16","vpc":{"resource_id":"vpc-0aaaaaaaaaaaaaaaa","account_id":"111122223333"}},
		{"network_id":"n2","status":"pending","name":"b","location":{"provider":"azure","region":"westeurope"},"cidr_block":"10.1.0.0/16","created_at":1700000000}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	n1, ok := s.Network("n1")
	if !ok || n1.Status != NetworkActive || n1.VPC.ResourceID != "vpc-0aaaaaaaaaaaaaaaa" || n1.CreatedAt == 0 {
		t.Fatalf("n1: %+v", n1)
	}
	n2, _ := s.Network("n2")
	if n2.Status != NetworkPending || n2.CreatedAt != 1700000000 || n2.VPC != nil {
		t.Fatalf("n2 (a seeded status stays): %+v", n2)
	}
	s.SetNetworkStatus("n2", NetworkActive)
	n2, _ = s.Network("n2")
	if n2.VPC == nil || !strings.HasPrefix(n2.VPC.AccountID, "/subscriptions/") || !strings.HasSuffix(n2.VPC.AccountID, "/resourceGroups/dfcloud-westeurope") {
		t.Fatalf("n2 activated: %+v", n2)
	}
	if err := s.LoadNetworks(strings.NewReader(`[{"network_id":"n3","nmae":"typo","location":{"provider":"aws","region":"us-east-1"}}]`)); err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Fatalf("typo accepted: %v", err)
	}
	if err := s.LoadNetworks(strings.NewReader(`[{"network_id":"n3","location":{"provider":"ibm"}}]`)); err == nil {
		t.Fatalf("unknown provider accepted")
	}
	if _, ok := s.Network("n3"); ok {
		t.Fatalf("a refused fixture was partly loaded")
	}
}
