package gcpsim

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
)

// seedHub makes Dragonfly's network df-net (192.168.0.0/16) already peered
// both ways with cust-a (10.0.0.0/20), and customer networks that do or do
// not overlap cust-a or df-net.
func (e *env) seedHub(t *testing.T) {
	t.Helper()
	must(t, e.sim.AddNetwork("df-prod", NetworkSpec{Name: "df-net", Subnets: []SubnetSpec{
		{Name: "df-sub", Region: "us-central1", CIDR: "192.168.0.0/16"}}}))
	for _, n := range []struct{ name, cidr string }{
		{"cust-a", "10.0.0.0/20"},
		{"cust-b", "10.0.8.0/24"}, // inside cust-a
		{"cust-c", "10.50.0.0/16"},
		{"legacy", "192.168.7.0/24"}, // inside df-net
	} {
		must(t, e.sim.AddNetwork("cust-proj", NetworkSpec{Name: n.name, Subnets: []SubnetSpec{
			{Name: n.name + "-sub", Region: "europe-west1", CIDR: n.cidr}}}))
	}
	must(t, e.sim.AddPeering("df-prod", "df-net", PeeringSpec{Name: "to-a", PeerProject: "cust-proj", PeerNetwork: "cust-a"}))
	must(t, e.sim.AddPeering("cust-proj", "cust-a", PeeringSpec{Name: "to-df", PeerProject: "df-prod", PeerNetwork: "df-net"}))
}

func (e *env) addPeering(t *testing.T, project, network, name, peer string) *computepb.Operation {
	t.Helper()
	op, err := e.networks.AddPeering(context.Background(), &computepb.AddPeeringNetworkRequest{Project: project, Network: network,
		NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr(name), Network: ptr(peer), ExchangeSubnetRoutes: ptr(true)}}})
	must(t, err)
	e.finish()
	// A failed operation is read back, not returned by Poll as an error.
	return e.getOp(t, project, op.Proto().GetName())
}

func opErrorMessage(op *computepb.Operation) string {
	if errs := op.GetError().GetErrors(); len(errs) > 0 {
		return errs[0].GetCode() + ": " + errs[0].GetMessage()
	}
	return ""
}

// Compute refuses a peering whose subnet routes would overlap routes
// already exchanged over another active peering, in both directions of
// the hub: a second customer network overlapping the first one peered
// with Dragonfly, and a customer network whose other peer overlaps
// Dragonfly's ranges.
func TestPeeringRefusedWhenRoutesOverlapAnotherPeering(t *testing.T) {
	e := newEnv(t, Options{Delays: Delays{Operation: opDelay}})
	e.seedHub(t)

	// Dragonfly's side towards cust-b first (INACTIVE, nothing exchanged
	// yet), then the customer's side, which would activate it.
	if op := e.addPeering(t, "df-prod", "df-net", "to-b", "projects/cust-proj/global/networks/cust-b"); opErrorMessage(op) != "" {
		t.Fatalf("Dragonfly's side: %s", opErrorMessage(op))
	}
	op := e.addPeering(t, "cust-proj", "cust-b", "to-df", "projects/df-prod/global/networks/df-net")
	want := "INVALID_USAGE: An IP range in the local network (10.0.8.0/24) overlaps with an IP range (10.0.0.0/20) of an active peer (projects/cust-proj/global/networks/cust-a) of the peer network."
	if got := opErrorMessage(op); got != want {
		t.Errorf("cust-b → df-net:\n got %q\nwant %q", got, want)
	}
	if e.peering(t, "cust-proj", "cust-b", "to-df") != nil {
		t.Error("the refused peering was added")
	}

	// The same pair the other way round: the customer's side first.
	must(t, e.sim.RemovePeering("df-prod", "df-net", "to-b"))
	if op := e.addPeering(t, "cust-proj", "cust-b", "to-df", "projects/df-prod/global/networks/df-net"); opErrorMessage(op) != "" {
		t.Fatalf("customer's side: %s", opErrorMessage(op))
	}
	op = e.addPeering(t, "df-prod", "df-net", "to-b", "projects/cust-proj/global/networks/cust-b")
	want = "INVALID_USAGE: An IP range in the peer network (10.0.8.0/24) overlaps with an IP range (10.0.0.0/20) of an active peer (projects/cust-proj/global/networks/cust-a) of the local network."
	if got := opErrorMessage(op); got != want {
		t.Errorf("df-net → cust-b:\n got %q\nwant %q", got, want)
	}

	// A customer network already peered with something overlapping
	// Dragonfly's range.
	must(t, e.sim.AddPeering("cust-proj", "cust-c", PeeringSpec{Name: "to-legacy", PeerNetwork: "legacy"}))
	must(t, e.sim.AddPeering("cust-proj", "legacy", PeeringSpec{Name: "to-c", PeerNetwork: "cust-c"}))
	e.addPeering(t, "df-prod", "df-net", "to-c", "projects/cust-proj/global/networks/cust-c")
	op = e.addPeering(t, "cust-proj", "cust-c", "to-df", "projects/df-prod/global/networks/df-net")
	want = "INVALID_USAGE: An IP range in the peer network (192.168.0.0/16) overlaps with an IP range (192.168.7.0/24) of an active peer (projects/cust-proj/global/networks/legacy) of the local network."
	if got := opErrorMessage(op); got != want {
		t.Errorf("cust-c → df-net:\n got %q\nwant %q", got, want)
	}

	// Once the other peering is gone (its routes no longer exchanged),
	// the same peering goes through.
	must(t, e.sim.RemovePeering("cust-proj", "legacy", "to-c"))
	if op := e.addPeering(t, "cust-proj", "cust-c", "to-df", "projects/df-prod/global/networks/df-net"); opErrorMessage(op) != "" {
		t.Fatalf("after the legacy peering went INACTIVE: %s", opErrorMessage(op))
	}
	if pe := e.peering(t, "cust-proj", "cust-c", "to-df"); pe == nil || pe.GetState() != "ACTIVE" {
		t.Errorf("cust-c → df-net = %v, want ACTIVE", pe)
	}
}

func listRoutes(t *testing.T, e *env, project, network, peering, direction string) ([]string, error) {
	t.Helper()
	it := e.networks.ListPeeringRoutes(context.Background(), &computepb.ListPeeringRoutesNetworksRequest{
		Project: project, Network: network, PeeringName: ptr(peering), Direction: ptr(direction), Region: ptr("us-central1")})
	var out []string
	for {
		r, err := it.Next()
		if err == iterator.Done {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("%s %s %s %d %t", r.GetDestRange(), r.GetType(), r.GetNextHopRegion(), r.GetPriority(), r.GetImported()))
	}
}

// networks.listPeeringRoutes lets a network's owner read what it imports
// over a peering (INCOMING) and what it exports (OUTGOING).
func TestListPeeringRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	must(t, e.sim.AddPeering("cust-proj", "cust-net", PeeringSpec{Name: "to-df", PeerProject: "df-prod", PeerNetwork: "df-net"}))

	// INACTIVE: nothing is exchanged yet.
	got, err := listRoutes(t, e, "cust-proj", "cust-net", "to-df", "INCOMING")
	must(t, err)
	if len(got) != 0 {
		t.Errorf("INACTIVE peering exchanges %v", got)
	}

	must(t, e.sim.AddPeering("df-prod", "df-net", PeeringSpec{Name: "to-cust", PeerProject: "cust-proj", PeerNetwork: "cust-net"}))
	got, err = listRoutes(t, e, "cust-proj", "cust-net", "to-df", "INCOMING")
	must(t, err)
	if want := "192.168.0.0/16 SUBNET_PEERING_ROUTE us-central1 0 true"; strings.Join(got, "|") != want {
		t.Errorf("INCOMING = %q, want %q", got, want)
	}
	got, err = listRoutes(t, e, "cust-proj", "cust-net", "to-df", "OUTGOING")
	must(t, err)
	want := "10.0.0.0/20 SUBNET_PEERING_ROUTE us-central1 0 true|10.4.0.0/14 SUBNET_PEERING_ROUTE us-central1 0 true|10.10.0.0/20 SUBNET_PEERING_ROUTE europe-west1 0 true"
	if strings.Join(got, "|") != want {
		t.Errorf("OUTGOING = %q\nwant %q", got, want)
	}
	// What one side exports the other imports.
	got, err = listRoutes(t, e, "df-prod", "df-net", "to-cust", "INCOMING")
	must(t, err)
	if strings.Join(got, "|") != want {
		t.Errorf("Dragonfly's INCOMING = %q\nwant %q", got, want)
	}

	_, err = listRoutes(t, e, "cust-proj", "cust-net", "nope", "INCOMING")
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/networks/cust-net/peerings/nope' was not found")
	_, err = listRoutes(t, e, "cust-proj", "cust-net", "to-df", "SIDEWAYS")
	wantAPIError(t, err, 400, "invalid", "Invalid value for field 'direction': 'SIDEWAYS'. Must be one of [INCOMING, OUTGOING].")
	_, err = listRoutes(t, e, "cust-proj", "ghost", "to-df", "INCOMING")
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/networks/ghost' was not found")
	e.sim.Deny("cust-proj", "compute.networks.listPeeringRoutes")
	_, err = listRoutes(t, e, "cust-proj", "cust-net", "to-df", "INCOMING")
	wantAPIError(t, err, 403, "forbidden", "")
}
