package azuresim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

// TestVNetAddressSpaceUpdate: a VNet PUT through the SDK changes the
// address space; one that leaves a subnet outside it is refused as Azure
// does (NetcfgSubnetRangeOutsideVnet).
func TestVNetAddressSpaceUpdate(t *testing.T) {
	e := newEnv(t)
	client := must(armnetwork.NewVirtualNetworksClient(custSub, e.userCred(), e.armOptions()))
	got := must(client.Get(ctxb, custRG, custVNetName, nil)).VirtualNetwork
	got.Properties.AddressSpace.AddressPrefixes = append(got.Properties.AddressSpace.AddressPrefixes, to.Ptr("10.1.0.0/16"))
	poller := must(client.BeginCreateOrUpdate(ctxb, custRG, custVNetName, got, nil))
	res := must(poller.PollUntilDone(ctxb, fastPoll()))
	if p := res.Properties.AddressSpace.AddressPrefixes; len(p) != 2 || *p[1] != "10.1.0.0/16" {
		t.Fatalf("address space after the update: %v", p)
	}
	got.Properties.AddressSpace.AddressPrefixes = []*string{to.Ptr("10.1.0.0/16")}
	_, err := client.BeginCreateOrUpdate(ctxb, custRG, custVNetName, got, nil)
	if status, code, msg := errCode(t, err); status != http.StatusBadRequest || code != "NetcfgSubnetRangeOutsideVnet" || !strings.Contains(msg, "Subnet 'default'") {
		t.Fatalf("shrinking past a subnet: %d %s %s", status, code, msg)
	}
}

// TestGatewayAndRouteTables: a VNet with a gateway shows it as an IP
// configuration of its GatewaySubnet (and needs one); route tables show
// their routes and subnets, and routes are written through the SDK with
// RouteNextHopType's values only.
func TestGatewayAndRouteTables(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sim.AddVNet(custSub, custRG, VNetSpec{Name: "no-gw-subnet", AddressPrefixes: []string{"10.9.0.0/16"}, HasGateway: true}); err == nil {
		t.Fatal("a gateway without a GatewaySubnet was accepted")
	}
	rt := must(e.sim.AddRouteTable(custSub, custRG, "routes"))
	must(e.sim.AddVNet(custSub, custRG, VNetSpec{Name: "hub", AddressPrefixes: []string{"10.8.0.0/16"}, HasGateway: true,
		Subnets: []SubnetSpec{{Name: "app", AddressPrefix: "10.8.1.0/24", RouteTable: "routes"}, {Name: GatewaySubnet, AddressPrefix: "10.8.255.0/27"}}}))
	vnets := must(armnetwork.NewVirtualNetworksClient(custSub, e.userCred(), e.armOptions()))
	hub := must(vnets.Get(ctxb, custRG, "hub", nil)).VirtualNetwork
	var gw, table string
	for _, sn := range hub.Properties.Subnets {
		for _, ipc := range sn.Properties.IPConfigurations {
			gw = *sn.Name + " " + *ipc.ID
		}
		if sn.Properties.RouteTable != nil {
			table = *sn.Name + " " + *sn.Properties.RouteTable.ID
		}
	}
	if !strings.HasPrefix(gw, GatewaySubnet+" ") || !strings.Contains(gw, "/virtualNetworkGateways/hub-gw/ipConfigurations/") {
		t.Errorf("gateway IP configuration: %q", gw)
	}
	if table != "app "+rt {
		t.Errorf("route table of subnet app: %q, want %q", table, rt)
	}

	routes := must(armnetwork.NewRoutesClient(custSub, e.userCred(), e.armOptions()))
	poller := must(routes.BeginCreateOrUpdate(ctxb, custRG, "routes", "drop", armnetwork.Route{Properties: &armnetwork.RoutePropertiesFormat{
		AddressPrefix: to.Ptr("192.168.0.0/16"), NextHopType: to.Ptr(armnetwork.RouteNextHopTypeNone)}}, nil))
	must(poller.PollUntilDone(ctxb, fastPoll()))
	tables := must(armnetwork.NewRouteTablesClient(custSub, e.userCred(), e.armOptions()))
	got := must(tables.Get(ctxb, custRG, "routes", nil)).RouteTable
	if r := got.Properties.Routes; len(r) != 1 || *r[0].Name != "drop" || *r[0].Properties.NextHopType != armnetwork.RouteNextHopTypeNone ||
		*r[0].Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded {
		t.Errorf("routes %+v", r)
	}
	if s := got.Properties.Subnets; len(s) != 1 || !strings.HasSuffix(*s[0].ID, "/subnets/app") {
		t.Errorf("subnets of the route table %+v", s)
	}
	_, err := routes.BeginCreateOrUpdate(ctxb, custRG, "routes", "bad", armnetwork.Route{Properties: &armnetwork.RoutePropertiesFormat{
		AddressPrefix: to.Ptr("10.0.0.0/8"), NextHopType: to.Ptr(armnetwork.RouteNextHopType("Null"))}}, nil)
	if status, code, _ := errCode(t, err); status != http.StatusBadRequest || code != "InvalidRequestFormat" {
		t.Errorf("next hop Null: %d %s", status, code)
	}
	del := must(routes.BeginDelete(ctxb, custRG, "routes", "drop", nil))
	must(del.PollUntilDone(ctxb, fastPoll()))
	if r := must(tables.Get(ctxb, custRG, "routes", nil)).Properties.Routes; len(r) != 0 {
		t.Errorf("routes after the delete: %d", len(r))
	}
}
