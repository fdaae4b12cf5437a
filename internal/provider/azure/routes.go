package azure

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/dragonflydb/dfpeer/internal/peering"
)

// KindRouteTable is status's check that no route table on the VNet's
// subnets takes the Dragonfly network's traffic away from the peering.
const KindRouteTable peering.Kind = "route_table"

// observeRoutes checks, for status, the route tables of the VNet's
// subnets. A user-defined route wins over the peering's system route
// for the addresses it covers when it is at least as specific (Azure
// picks the longest prefix, and a user route over a system route of the
// same prefix); one to None drops the traffic, one to a virtual appliance
// sends it elsewhere. Broader routes (0.0.0.0/0 to a firewall) lose to
// the peering's route and do not matter.
func (p *Provider) observeRoutes(ctx context.Context, cl *resolved, cidr string) ([]peering.Change, error) {
	net, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("network CIDR %q: %w", cidr, err)
	}
	subnetsOf := map[string][]string{}
	var order []string
	for _, sn := range cl.vnet.Subnets {
		if sn.RouteTable == "" {
			continue
		}
		key := strings.ToLower(sn.RouteTable)
		if subnetsOf[key] == nil {
			order = append(order, sn.RouteTable)
		}
		subnetsOf[key] = append(subnetsOf[key], sn.Name)
	}
	var out []peering.Change
	for _, rtID := range order {
		id, err := arm.ParseResourceID(rtID)
		if err != nil {
			return nil, fmt.Errorf("route table ID %q: %w", rtID, err)
		}
		sc, err := p.c.sub(id.SubscriptionID)
		if err != nil {
			return nil, err
		}
		resp, err := sc.routeTables.Get(ctx, id.ResourceGroupName, id.Name, nil)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, classify("reading route table "+id.Name, err)
		}
		subnets := strings.Join(subnetsOf[strings.ToLower(rtID)], ", ")
		c := peering.Change{Action: peering.Verify, Kind: KindRouteTable, Target: rtID, ID: id.Name, Found: peering.AsWanted,
			Title:  "Routes of " + id.Name,
			Detail: fmt.Sprintf("route table %s (subnets %s) leaves %s to the peering", id.Name, subnets, cidr)}
		var bad []string
		if props := resp.Properties; props != nil {
			for _, r := range props.Routes {
				if r.Properties == nil || r.Properties.AddressPrefix == nil || r.Properties.NextHopType == nil {
					continue
				}
				hop := string(*r.Properties.NextHopType)
				if hop != "None" && hop != "VirtualAppliance" {
					continue
				}
				pre, err := netip.ParsePrefix(*r.Properties.AddressPrefix)
				if err != nil || pre.Bits() < net.Bits() || !net.Overlaps(pre) {
					continue
				}
				to := "None (dropped)"
				if hop == "VirtualAppliance" {
					to = "a virtual appliance at " + str(r.Properties.NextHopIPAddress)
				}
				bad = append(bad, fmt.Sprintf("route %s sends %s to %s", str(r.Name), pre, to))
				if c.Reason == "" {
					c.Reason = fmt.Sprintf("delete that route (az network route-table route delete -g %s --route-table-name %s -n %s), or let the appliance forward %s",
						id.ResourceGroupName, id.Name, str(r.Name), cidr)
				}
			}
		}
		if len(bad) > 0 {
			c.Found = peering.Different
			c.Detail = fmt.Sprintf("route table %s (subnets %s): %s, not through the peering", id.Name, subnets, strings.Join(bad, "; "))
		}
		out = append(out, c)
	}
	return out, nil
}
