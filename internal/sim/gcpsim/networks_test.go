package gcpsim

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
)

func TestNetworkGetAndList(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	must(t, e.sim.AddNetwork("cust-proj", NetworkSpec{Name: "auto", AutoCreateSubnetworks: true}))
	ctx := context.Background()

	n, err := e.networks.Get(ctx, &computepb.GetNetworkRequest{Project: "cust-proj", Network: "cust-net"})
	must(t, err)
	if got, want := n.GetSelfLink(), "https://www.googleapis.com/compute/v1/projects/cust-proj/global/networks/cust-net"; got != want {
		t.Errorf("selfLink = %q, want %q", got, want)
	}
	if n.GetKind() != "compute#network" || n.GetId() == 0 || n.GetAutoCreateSubnetworks() {
		t.Errorf("kind/id/auto = %q/%d/%v", n.GetKind(), n.GetId(), n.GetAutoCreateSubnetworks())
	}
	if got := n.GetSubnetworks(); len(got) != 2 || got[0] != "https://www.googleapis.com/compute/v1/projects/cust-proj/regions/us-central1/subnetworks/app" {
		t.Errorf("subnetworks = %v", got)
	}
	if n.GetRoutingConfig().GetRoutingMode() != "REGIONAL" {
		t.Errorf("routingConfig = %v", n.GetRoutingConfig())
	}

	auto, err := e.networks.Get(ctx, &computepb.GetNetworkRequest{Project: "cust-proj", Network: "auto"})
	must(t, err)
	if !auto.GetAutoCreateSubnetworks() || len(auto.GetSubnetworks()) != len(autoModeRanges) {
		t.Errorf("auto network: auto=%v, %d subnetworks", auto.GetAutoCreateSubnetworks(), len(auto.GetSubnetworks()))
	}

	var names []string
	it := e.networks.List(ctx, &computepb.ListNetworksRequest{Project: "cust-proj", MaxResults: ptr(uint32(1))})
	for {
		n, err := it.Next()
		if err == iterator.Done {
			break
		}
		must(t, err)
		names = append(names, n.GetName())
	}
	if strings.Join(names, ",") != "auto,cust-net" {
		t.Errorf("list (one per page) = %v", names)
	}
	// Two pages of one: the iterator followed nextPageToken.
	if c := e.sim.HTTP().Count("networks.list"); c < 2 {
		t.Errorf("networks.list calls = %d, want paging", c)
	}

	_, err = e.networks.Get(ctx, &computepb.GetNetworkRequest{Project: "cust-proj", Network: "nope"})
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/networks/nope' was not found")

	it = e.networks.List(ctx, &computepb.ListNetworksRequest{Project: "cust-proj", Filter: ptr(`name = "auto"`)})
	n, err = it.Next()
	must(t, err)
	if n.GetName() != "auto" {
		t.Errorf("filtered list gave %q", n.GetName())
	}
	if _, err := it.Next(); err != iterator.Done {
		t.Errorf("filter kept more than one network: %v", err)
	}
}

func addPeeringReq(project, network, name, peer string) *computepb.AddPeeringNetworkRequest {
	return &computepb.AddPeeringNetworkRequest{
		Project: project, Network: network,
		NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{
			NetworkPeering: &computepb.NetworkPeering{
				Name: ptr(name), Network: ptr(peer), ExchangeSubnetRoutes: ptr(true), ImportCustomRoutes: ptr(true),
			},
		},
	}
}

func TestPeeringActivatesWhenBothSidesExist(t *testing.T) {
	e := newEnv(t, Options{Delays: Delays{Operation: opDelay}})
	e.seedPair(t)
	ctx := context.Background()

	op, err := e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-df",
		"https://www.googleapis.com/compute/v1/projects/df-prod/global/networks/df-net"))
	must(t, err)
	p := op.Proto()
	if p.GetStatus() != computepb.Operation_PENDING || p.GetOperationType() != "addPeering" || p.GetKind() != "compute#operation" ||
		!strings.HasPrefix(p.GetName(), "operation-") ||
		p.GetTargetLink() != "https://www.googleapis.com/compute/v1/projects/cust-proj/global/networks/cust-net" {
		t.Fatalf("operation = %v", p)
	}
	if e.peering(t, "cust-proj", "cust-net", "to-df") != nil {
		t.Fatal("peering visible before the operation is DONE")
	}
	e.clock.Advance(opDelay / 2)
	if st := e.getOp(t, "cust-proj", op.Name()).GetStatus(); st != computepb.Operation_RUNNING {
		t.Fatalf("status at half time = %v, want RUNNING", st)
	}
	e.clock.Advance(opDelay / 2)
	must(t, op.Poll(ctx))
	if !op.Done() {
		t.Fatalf("operation not done: %v", op.Proto())
	}
	pe := e.peering(t, "cust-proj", "cust-net", "to-df")
	if pe.GetState() != "INACTIVE" || !strings.HasSuffix(pe.GetStateDetails(), "]: Waiting for peer network to connect.") {
		t.Fatalf("one-sided peering = %v", pe)
	}
	if !pe.GetImportCustomRoutes() || pe.GetExportCustomRoutes() || !pe.GetExchangeSubnetRoutes() {
		t.Errorf("route options not stored: %v", pe)
	}

	// The other side, in the legacy request form, with a partial URL.
	op2, err := e.networks.AddPeering(ctx, &computepb.AddPeeringNetworkRequest{
		Project: "df-prod", Network: "df-net",
		NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{
			Name: ptr("to-cust"), PeerNetwork: ptr("projects/cust-proj/global/networks/cust-net"), AutoCreateRoutes: ptr(true),
		},
	})
	must(t, err)
	// The wait endpoint returns once the clock passes the delay.
	go func() { e.clock.Advance(opDelay) }()
	done, err := e.ops.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: "df-prod", Operation: op2.Name()})
	must(t, err)
	if done.GetStatus() != computepb.Operation_DONE || done.GetError() != nil {
		t.Fatalf("wait = %v", done)
	}
	for _, side := range [][3]string{{"cust-proj", "cust-net", "to-df"}, {"df-prod", "df-net", "to-cust"}} {
		pe := e.peering(t, side[0], side[1], side[2])
		if pe.GetState() != "ACTIVE" || !strings.HasSuffix(pe.GetStateDetails(), "]: Connected.") {
			t.Errorf("%s: %v", side[2], pe)
		}
	}

	// Removing one side makes the other INACTIVE again.
	rm, err := e.networks.RemovePeering(ctx, &computepb.RemovePeeringNetworkRequest{
		Project: "cust-proj", Network: "cust-net",
		NetworksRemovePeeringRequestResource: &computepb.NetworksRemovePeeringRequest{Name: ptr("to-df")},
	})
	must(t, err)
	e.finish()
	must(t, rm.Poll(ctx))
	if e.peering(t, "cust-proj", "cust-net", "to-df") != nil {
		t.Error("removed peering still listed")
	}
	if st := e.peering(t, "df-prod", "df-net", "to-cust").GetState(); st != "INACTIVE" {
		t.Errorf("remaining side = %s, want INACTIVE", st)
	}
}

func TestConcurrentPeeringOperationRefused(t *testing.T) {
	e := newEnv(t, Options{Delays: Delays{Operation: opDelay}})
	e.seedPair(t)
	ctx := context.Background()
	_, err := e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-df", "projects/df-prod/global/networks/df-net"))
	must(t, err)

	// The peer network's side while the first operation runs.
	_, err = e.networks.AddPeering(ctx, addPeeringReq("df-prod", "df-net", "to-cust", "projects/cust-proj/global/networks/cust-net"))
	wantAPIError(t, err, 400, "badRequest", "There is a peering operation in progress on the local or peer network. Try again later.")

	e.finish()
	op, err := e.networks.AddPeering(ctx, addPeeringReq("df-prod", "df-net", "to-cust", "projects/cust-proj/global/networks/cust-net"))
	must(t, err)
	e.finish()
	must(t, op.Poll(ctx))
	if st := e.peering(t, "df-prod", "df-net", "to-cust").GetState(); st != "ACTIVE" {
		t.Errorf("retried peering = %s", st)
	}
}

func TestOverlappingPeeringFailsItsOperation(t *testing.T) {
	e := newEnv(t, Options{Delays: Delays{Operation: opDelay}})
	e.seedPair(t)
	must(t, e.sim.AddNetwork("df-prod", NetworkSpec{Name: "df-clash", Subnets: []SubnetSpec{
		{Name: "clash", Region: "us-east1", CIDR: "10.0.8.0/24"},
	}}))
	ctx := context.Background()
	op, err := e.networks.AddPeering(ctx, addPeeringReq("df-prod", "df-clash", "to-cust", "projects/cust-proj/global/networks/cust-net"))
	must(t, err)
	e.finish()
	must(t, op.Poll(ctx)) // one side alone is fine: nothing is exchanged yet

	op, err = e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-clash", "projects/df-prod/global/networks/df-clash"))
	must(t, err)
	e.finish()
	err = op.Poll(ctx)
	gerr := apiErr(t, err)
	want := "An IP range in the peer network (10.0.8.0/24) overlaps with an IP range in the local network (10.0.0.0/20) allocated by resource (projects/cust-proj/regions/us-central1/subnetworks/app)."
	if gerr.Code != 400 || !strings.Contains(gerr.Message, want) {
		t.Fatalf("overlap error = %d %q", gerr.Code, gerr.Message)
	}
	pr := op.Proto()
	if pr.GetStatus() != computepb.Operation_DONE || pr.GetHttpErrorStatusCode() != 400 || pr.GetHttpErrorMessage() != "BAD REQUEST" ||
		pr.GetError().GetErrors()[0].GetMessage() != want {
		t.Errorf("failed operation = %v", pr)
	}
	if e.peering(t, "cust-proj", "cust-net", "to-clash") != nil {
		t.Error("failed peering was added")
	}

	// Two auto mode networks always overlap.
	must(t, e.sim.AddNetwork("a", NetworkSpec{Name: "default", AutoCreateSubnetworks: true}))
	must(t, e.sim.AddNetwork("b", NetworkSpec{Name: "default", AutoCreateSubnetworks: true}))
	must(t, e.sim.AddPeering("a", "default", PeeringSpec{Name: "ab", PeerProject: "b", PeerNetwork: "default"}))
	if err := e.sim.AddPeering("b", "default", PeeringSpec{Name: "ba", PeerProject: "a", PeerNetwork: "default"}); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("auto mode peering: %v", err)
	}
}

func TestAddPeeringValidation(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	must(t, e.sim.AddNetwork("df-prod", NetworkSpec{Name: "df-other"}))
	ctx := context.Background()
	_, err := e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-df", "projects/df-prod/global/networks/df-net"))
	must(t, err)

	cases := []struct {
		name   string
		req    *computepb.NetworksAddPeeringRequest
		code   int
		reason string
		msg    string
	}{
		{"same name again", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("to-df"), Network: ptr("projects/df-prod/global/networks/df-other"), ExchangeSubnetRoutes: ptr(true)}},
			400, "invalid", ""},
		{"same peer under another name", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("again"), Network: ptr("projects/df-prod/global/networks/df-net"), ExchangeSubnetRoutes: ptr(true)}},
			400, "invalid", ""},
		{"peer network missing", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("ghost"), Network: ptr("projects/df-prod/global/networks/ghost"), ExchangeSubnetRoutes: ptr(true)}},
			404, "notFound", "The resource 'projects/df-prod/global/networks/ghost' was not found"},
		{"malformed peer URL", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("bad"), Network: ptr("df-net"), ExchangeSubnetRoutes: ptr(true)}},
			400, "invalid", "Invalid value for field 'resource.networkPeering.network': 'df-net'. The URL is malformed."},
		{"bad name", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("To_DF"), Network: ptr("projects/df-prod/global/networks/df-other"), ExchangeSubnetRoutes: ptr(true)}},
			400, "invalid", "Invalid value for field 'resource.networkPeering.name': 'To_DF'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'"},
		{"exchangeSubnetRoutes missing", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("x"), Network: ptr("projects/df-prod/global/networks/df-other")}},
			400, "invalid", ""},
		{"name missing", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Network: ptr("projects/df-prod/global/networks/df-other"), ExchangeSubnetRoutes: ptr(true)}},
			400, "required", "Required field 'resource.networkPeering.name' not specified"},
		{"both forms", &computepb.NetworksAddPeeringRequest{Name: ptr("x"), NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("x"), Network: ptr("projects/df-prod/global/networks/df-other"), ExchangeSubnetRoutes: ptr(true)}},
			400, "invalid", ""},
		{"legacy without autoCreateRoutes", &computepb.NetworksAddPeeringRequest{
			Name: ptr("x"), PeerNetwork: ptr("projects/df-prod/global/networks/df-other")},
			400, "invalid", ""},
		{"itself", &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
			Name: ptr("self"), Network: ptr("global/networks/cust-net"), ExchangeSubnetRoutes: ptr(true)}},
			400, "invalid", ""},
	}
	before := e.sim.Snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.networks.AddPeering(ctx, &computepb.AddPeeringNetworkRequest{
				Project: "cust-proj", Network: "cust-net", NetworksAddPeeringRequestResource: c.req})
			wantAPIError(t, err, c.code, c.reason, c.msg)
		})
	}
	if string(e.sim.Snapshot()) != string(before) {
		t.Error("refused requests changed the state")
	}

	_, err = e.networks.RemovePeering(ctx, &computepb.RemovePeeringNetworkRequest{
		Project: "cust-proj", Network: "cust-net",
		NetworksRemovePeeringRequestResource: &computepb.NetworksRemovePeeringRequest{Name: ptr("never")}})
	wantAPIError(t, err, 404, "notFound", "")
}

func TestPeeringLimitPerNetwork(t *testing.T) {
	e := newEnv(t, Options{})
	must(t, e.sim.AddNetwork("hub", NetworkSpec{Name: "hub"}))
	for i := 0; i <= peeringsPerNetwork; i++ {
		must(t, e.sim.AddNetwork("spoke", NetworkSpec{Name: "s" + itoa(i)}))
	}
	for i := 0; i < peeringsPerNetwork; i++ {
		must(t, e.sim.AddPeering("hub", "hub", PeeringSpec{Name: "p" + itoa(i), PeerProject: "spoke", PeerNetwork: "s" + itoa(i)}))
	}
	_, err := e.networks.AddPeering(context.Background(), addPeeringReq("hub", "hub", "one-more", "projects/spoke/global/networks/s25"))
	wantAPIError(t, err, 403, "quotaExceeded", "")
}

func TestUpdatePeering(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	_, err := e.networks.AddPeering(ctx, addPeeringReq("cust-proj", "cust-net", "to-df", "projects/df-prod/global/networks/df-net"))
	must(t, err)
	op, err := e.networks.UpdatePeering(ctx, &computepb.UpdatePeeringNetworkRequest{
		Project: "cust-proj", Network: "cust-net",
		NetworksUpdatePeeringRequestResource: &computepb.NetworksUpdatePeeringRequest{
			NetworkPeering: &computepb.NetworkPeering{Name: ptr("to-df"), ExportCustomRoutes: ptr(true), ImportCustomRoutes: ptr(false)},
		},
	})
	must(t, err)
	if op.Proto().GetOperationType() != "updatePeering" || !op.Done() {
		t.Errorf("update operation = %v", op.Proto())
	}
	pe := e.peering(t, "cust-proj", "cust-net", "to-df")
	if !pe.GetExportCustomRoutes() || pe.GetImportCustomRoutes() {
		t.Errorf("updated peering = %v", pe)
	}
	_, err = e.networks.UpdatePeering(ctx, &computepb.UpdatePeeringNetworkRequest{
		Project: "cust-proj", Network: "cust-net",
		NetworksUpdatePeeringRequestResource: &computepb.NetworksUpdatePeeringRequest{
			NetworkPeering: &computepb.NetworkPeering{Name: ptr("to-df"), Network: ptr("projects/x/global/networks/y")},
		},
	})
	wantAPIError(t, err, 400, "invalid", "")
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
