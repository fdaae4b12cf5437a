package gcpsim

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
)

// A subnetwork overlapping a range imported over an ACTIVE peering is
// refused; once the peering is down it is accepted, and the SDK's
// aggregated list shows it.
func TestAddSubnetworkRespectsActivePeers(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	must(t, e.sim.AddPeering("cust-proj", "cust-net", PeeringSpec{Name: "to-df", PeerProject: "df-prod", PeerNetwork: "df-net"}))
	must(t, e.sim.AddPeering("df-prod", "df-net", PeeringSpec{Name: "to-cust", PeerProject: "cust-proj", PeerNetwork: "cust-net"}))
	spec := SubnetSpec{Name: "late", Region: "us-central1", CIDR: "192.168.10.0/24"}
	if err := e.sim.AddSubnetwork("cust-proj", "cust-net", spec); err == nil || !strings.Contains(err.Error(), "active peer") {
		t.Fatalf("overlap with an active peer: %v", err)
	}
	if err := e.sim.AddSubnetwork("cust-proj", "cust-net", SubnetSpec{Name: "dup", Region: "us-central1", CIDR: "10.0.1.0/24"}); err == nil {
		t.Fatal("a range overlapping the network's own was accepted")
	}
	must(t, e.sim.RemovePeering("df-prod", "df-net", "to-cust"))
	must(t, e.sim.AddSubnetwork("cust-proj", "cust-net", spec))
	it := e.subnets.AggregatedList(context.Background(), &computepb.AggregatedListSubnetworksRequest{Project: "cust-proj"})
	seen := false
	for {
		pair, err := it.Next()
		if err != nil {
			break
		}
		for _, s := range pair.Value.GetSubnetworks() {
			if s.GetName() == "late" && s.GetIpCidrRange() == "192.168.10.0/24" {
				seen = true
			}
		}
	}
	if !seen {
		t.Fatal("the added subnetwork is not listed")
	}
}
