package azure

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

// subscriptionsAPIVersion is the Microsoft.Resources version dfpeer reads
// subscriptions with (armsubscriptions is not worth a module for two GETs).
const subscriptionsAPIVersion = "2022-12-01"

// Subscription is what the prompts show of a subscription.
type Subscription struct {
	ID       string `json:"subscriptionId"`
	Name     string `json:"displayName"`
	TenantID string `json:"tenantId"`
	State    string `json:"state"`
}

// rawARM is a pipeline for the few ARM calls without an SDK client.
func (c *Client) rawARM() (*arm.Client, error) {
	return arm.NewClient("dfpeer", c.moduleVersion(), c.cred, c.armOptions())
}

func (c *Client) armGet(ctx context.Context, rawURL string, out any) error {
	cl, err := c.rawARM()
	if err != nil {
		return err
	}
	req, err := runtime.NewRequest(ctx, http.MethodGet, rawURL)
	if err != nil {
		return err
	}
	if !strings.Contains(rawURL, "api-version=") {
		q := req.Raw().URL.Query()
		q.Set("api-version", subscriptionsAPIVersion)
		req.Raw().URL.RawQuery = q.Encode()
	}
	resp, err := cl.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

// Subscriptions lists the subscriptions the signed-in identity can see,
// enabled ones only, sorted by name.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	var out []Subscription
	next := c.Endpoints.ARM + "/subscriptions"
	for next != "" {
		var page struct {
			Value    []Subscription `json:"value"`
			NextLink string         `json:"nextLink"`
		}
		if err := c.armGet(ctx, next, &page); err != nil {
			return nil, classify("listing subscriptions", err)
		}
		for _, s := range page.Value {
			if s.State == "" || s.State == "Enabled" {
				out = append(out, s)
			}
		}
		next = page.NextLink
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Subscription reads one subscription; nil when it does not exist or is
// not visible to the signed-in identity.
func (c *Client) Subscription(ctx context.Context, id string) (*Subscription, error) {
	var s Subscription
	err := c.armGet(ctx, c.Endpoints.ARM+"/subscriptions/"+id, &s)
	if err != nil {
		code, status := errorCode(err)
		// ARM answers 404 for an unknown subscription and 403 for one
		// the identity has no role in: both mean "not yours to use".
		if status == http.StatusNotFound || code == "SubscriptionNotFound" || code == "AuthorizationFailed" {
			return nil, nil
		}
		return nil, classify("reading subscription "+id, err)
	}
	return &s, nil
}

// VNet is a virtual network, as far as dfpeer needs it.
type VNet struct {
	ID            string
	Name          string
	ResourceGroup string
	Location      string
	Prefixes      []string
	Subnets       []Subnet
	Peerings      []Peering
	// Gateway is the VNet's virtual network gateway (a VPN or
	// ExpressRoute gateway in its GatewaySubnet), "" when it has none.
	Gateway string
}

// Subnet is a subnet and its network security group.
type Subnet struct {
	Name       string
	Prefix     string
	NSGID      string
	RouteTable string // the route table's resource ID, or ""
}

// Peering is one peering of a virtual network.
type Peering struct {
	Name                      string
	RemoteID                  string
	State                     string // Initiated | Connected | Disconnected
	ProvisioningState         string
	AllowVirtualNetworkAccess bool
	AllowGatewayTransit       bool
	UseRemoteGateways         bool
	// SyncLevel is peeringSyncLevel: FullyInSync, or LocalNotInSync /
	// RemoteNotInSync / LocalAndRemoteNotInSync after an address-space
	// change.
	SyncLevel string
	// RemotePrefixes is the remote VNet's address space as the peering
	// knows it.
	RemotePrefixes []string
}

func toVNet(v *armnetwork.VirtualNetwork) VNet {
	out := VNet{ID: str(v.ID), Name: str(v.Name), Location: str(v.Location)}
	if id, err := arm.ParseResourceID(out.ID); err == nil {
		out.ResourceGroup = id.ResourceGroupName
	}
	p := v.Properties
	if p == nil {
		return out
	}
	if p.AddressSpace != nil {
		for _, pre := range p.AddressSpace.AddressPrefixes {
			out.Prefixes = append(out.Prefixes, str(pre))
		}
	}
	for _, sn := range p.Subnets {
		s := Subnet{Name: str(sn.Name)}
		if sp := sn.Properties; sp != nil {
			s.Prefix = str(sp.AddressPrefix)
			if s.Prefix == "" && len(sp.AddressPrefixes) > 0 {
				s.Prefix = str(sp.AddressPrefixes[0])
			}
			if sp.NetworkSecurityGroup != nil {
				s.NSGID = str(sp.NetworkSecurityGroup.ID)
			}
			if sp.RouteTable != nil {
				s.RouteTable = str(sp.RouteTable.ID)
			}
			// A gateway shows as an IP configuration of the subnet it
			// lives in: the VNet's read tells whether there is one.
			for _, ipc := range sp.IPConfigurations {
				id := str(ipc.ID)
				lid := strings.ToLower(id)
				if out.Gateway != "" || !strings.Contains(lid, "/providers/microsoft.network/virtualnetworkgateways/") {
					continue
				}
				out.Gateway = id
				if i := strings.Index(lid, "/ipconfigurations/"); i > 0 {
					out.Gateway = id[:i]
				}
			}
		}
		out.Subnets = append(out.Subnets, s)
	}
	for _, pe := range p.VirtualNetworkPeerings {
		out.Peerings = append(out.Peerings, toPeering(pe))
	}
	return out
}

func toPeering(pe *armnetwork.VirtualNetworkPeering) Peering {
	out := Peering{Name: str(pe.Name)}
	if pp := pe.Properties; pp != nil {
		if pp.RemoteVirtualNetwork != nil {
			out.RemoteID = str(pp.RemoteVirtualNetwork.ID)
		}
		if pp.PeeringState != nil {
			out.State = string(*pp.PeeringState)
		}
		if pp.ProvisioningState != nil {
			out.ProvisioningState = string(*pp.ProvisioningState)
		}
		out.AllowVirtualNetworkAccess = pp.AllowVirtualNetworkAccess == nil || *pp.AllowVirtualNetworkAccess
		out.UseRemoteGateways = pp.UseRemoteGateways != nil && *pp.UseRemoteGateways
		out.AllowGatewayTransit = pp.AllowGatewayTransit != nil && *pp.AllowGatewayTransit
		if pp.PeeringSyncLevel != nil {
			out.SyncLevel = string(*pp.PeeringSyncLevel)
		}
		if pp.RemoteAddressSpace != nil {
			for _, pre := range pp.RemoteAddressSpace.AddressPrefixes {
				out.RemotePrefixes = append(out.RemotePrefixes, str(pre))
			}
		}
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// VNets lists the subscription's virtual networks (of one resource group
// when rg is set), sorted by name then resource group.
func (c *Client) VNets(ctx context.Context, subscription, rg string) ([]VNet, error) {
	sc, err := c.sub(subscription)
	if err != nil {
		return nil, err
	}
	var out []VNet
	add := func(vs []*armnetwork.VirtualNetwork) {
		for _, v := range vs {
			out = append(out, toVNet(v))
		}
	}
	if rg != "" {
		pager := sc.vnets.NewListPager(rg, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, classify("listing virtual networks of resource group "+rg, err)
			}
			add(page.Value)
		}
	} else {
		pager := sc.vnets.NewListAllPager(nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, classify("listing virtual networks of subscription "+subscription, err)
			}
			add(page.Value)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !strings.EqualFold(out[i].Name, out[j].Name) {
			return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
		}
		return strings.ToLower(out[i].ResourceGroup) < strings.ToLower(out[j].ResourceGroup)
	})
	return out, nil
}

// GetVNet reads one virtual network; nil when it (or its resource group)
// does not exist.
func (c *Client) GetVNet(ctx context.Context, subscription, rg, name string) (*VNet, error) {
	sc, err := c.sub(subscription)
	if err != nil {
		return nil, err
	}
	resp, err := sc.vnets.Get(ctx, rg, name, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, classify("reading virtual network "+name, err)
	}
	v := toVNet(&resp.VirtualNetwork)
	return &v, nil
}
