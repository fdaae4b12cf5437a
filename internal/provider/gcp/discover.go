package gcp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dragonflydb/dfpeer/internal/problem"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
)

// VPC is what the prompts and the pre-flight need of a VPC network.
type VPC struct {
	Name     string
	SelfLink string
	// Mode is "auto", "custom" or "legacy" (no subnets: cannot peer).
	Mode     string
	Subnets  []Subnet
	Peerings []*computepb.NetworkPeering
}

// Subnet is one subnetwork with its ranges.
type Subnet struct {
	Name      string
	Region    string
	CIDR      string
	Secondary []Range
}

// Range is a named secondary range.
type Range struct {
	Name string
	CIDR string
}

// OwnedRange is one address range of the VPC and what allocates it, for
// overlap messages.
type OwnedRange struct {
	CIDR  string
	Owner string // "subnet app-us-central1 in us-central1", "secondary range pods of subnet …"
}

// Ranges lists every primary and secondary range of the VPC's subnets.
func (v VPC) Ranges() []OwnedRange {
	var out []OwnedRange
	for _, s := range v.Subnets {
		out = append(out, OwnedRange{CIDR: s.CIDR, Owner: fmt.Sprintf("subnet %s in %s", s.Name, s.Region)})
		for _, r := range s.Secondary {
			out = append(out, OwnedRange{CIDR: r.CIDR, Owner: fmt.Sprintf("secondary range %s of subnet %s in %s", r.Name, s.Name, s.Region)})
		}
	}
	return out
}

// Label is the VPC as the select shows it: name, mode and ranges.
func (v VPC) Label() string {
	var ranges []string
	for _, s := range v.Subnets {
		ranges = append(ranges, s.CIDR)
		for _, r := range s.Secondary {
			ranges = append(ranges, r.CIDR+" ("+r.Name+")")
		}
	}
	shown := ranges
	if len(shown) > 4 {
		shown = append(append([]string(nil), shown[:4]...), fmt.Sprintf("+%d more", len(ranges)-4))
	}
	desc := strings.Join(shown, ", ")
	if desc == "" {
		desc = "no subnets"
	}
	return fmt.Sprintf("%s  %s  %s", v.Name, v.Mode, desc)
}

func mode(n *computepb.Network) string {
	switch {
	case n.GetIPv4Range() != "":
		return "legacy"
	case n.GetAutoCreateSubnetworks():
		return "auto"
	}
	return "custom"
}

// NetworkRef splits a network reference (full URL or
// projects/P/global/networks/N) into project and name.
func NetworkRef(ref string) (project, name string, ok bool) {
	if i := strings.Index(ref, "/projects/"); i >= 0 {
		ref = ref[i+1:]
	}
	parts := strings.Split(strings.Trim(ref, "/"), "/")
	if len(parts) != 5 || parts[0] != "projects" || parts[2] != "global" || parts[3] != "networks" || parts[1] == "" || parts[4] == "" {
		return "", "", false
	}
	return parts[1], parts[4], true
}

// VPCs lists the project's networks with their subnets, sorted by name.
func (c *Client) VPCs(ctx context.Context) ([]VPC, error) {
	nets, err := c.networks(ctx)
	if err != nil {
		return nil, err
	}
	subnets, err := c.subnets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VPC, 0, len(nets))
	for _, n := range nets {
		out = append(out, toVPC(n, subnets))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NetworkNames lists the names of the project's networks, for messages.
func (c *Client) NetworkNames(ctx context.Context) ([]string, error) {
	nets, err := c.networks(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(nets))
	for i, n := range nets {
		names[i] = n.GetName()
	}
	sort.Strings(names)
	return names, nil
}

// GetVPC reads one network and its subnets; found is false when the
// network does not exist.
func (c *Client) GetVPC(ctx context.Context, name string) (vpc VPC, found bool, err error) {
	n, err := c.getNetwork(ctx, name)
	if err != nil || n == nil {
		return VPC{}, false, err
	}
	subnets, err := c.subnets(ctx)
	if err != nil {
		return VPC{}, false, err
	}
	return toVPC(n, subnets), true, nil
}

// getNetwork reads a network; nil without error when it does not exist.
func (c *Client) getNetwork(ctx context.Context, name string) (*computepb.Network, error) {
	var n *computepb.Network
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		n, err = c.Networks.Get(ctx, &computepb.GetNetworkRequest{Project: c.Project, Network: name})
		return err
	})
	if statusCode(err) == 404 && !projectMissing(err, c.Project) {
		return nil, nil
	}
	if err != nil {
		return nil, c.classifyProject(fmt.Sprintf("reading network %s (compute.networks.get)", name), err)
	}
	return n, nil
}

// classifyProject explains a missing project in terms of --project.
func (c *Client) classifyProject(step string, err error) error {
	if projectMissing(err, c.Project) {
		return problem.RefuseErr(&errGCP{step: step, err: fmt.Errorf("project %s does not exist or is not visible to these credentials (from %s; choose another with --project): %w", c.Project, c.ProjectSource, err)})
	}
	return classify(step, err)
}

func projectMissing(err error, project string) bool {
	return statusCode(err) == 404 && strings.Contains(err.Error(), "'projects/"+project+"'")
}

// subnets lists every subnetwork of the project in one aggregated call,
// keyed by network ("project/name").
func (c *Client) subnets(ctx context.Context) (map[string][]Subnet, error) {
	pairs, err := listAll(ctx, c, fmt.Sprintf("listing the subnetworks of project %s (compute.subnetworks.list)", c.Project),
		func(ctx context.Context) iter[compute.SubnetworksScopedListPair] {
			return c.Subnetworks.AggregatedList(ctx, &computepb.AggregatedListSubnetworksRequest{Project: c.Project})
		})
	if err != nil {
		return nil, err
	}
	out := map[string][]Subnet{}
	for _, pair := range pairs {
		for _, s := range pair.Value.GetSubnetworks() {
			p, n, ok := NetworkRef(s.GetNetwork())
			if !ok {
				continue
			}
			sub := Subnet{Name: s.GetName(), Region: lastSegment(s.GetRegion()), CIDR: s.GetIpCidrRange()}
			for _, r := range s.GetSecondaryIpRanges() {
				sub.Secondary = append(sub.Secondary, Range{Name: r.GetRangeName(), CIDR: r.GetIpCidrRange()})
			}
			out[p+"/"+n] = append(out[p+"/"+n], sub)
		}
	}
	for k := range out {
		sort.Slice(out[k], func(i, j int) bool {
			a, b := out[k][i], out[k][j]
			if a.Region != b.Region {
				return a.Region < b.Region
			}
			return a.Name < b.Name
		})
	}
	return out, nil
}

func toVPC(n *computepb.Network, subnets map[string][]Subnet) VPC {
	v := VPC{Name: n.GetName(), SelfLink: n.GetSelfLink(), Mode: mode(n), Peerings: n.GetPeerings()}
	p, name, ok := NetworkRef(n.GetSelfLink())
	if !ok {
		return v
	}
	v.Subnets = subnets[p+"/"+name]
	return v
}

// FirewallRules lists the project's firewall rules, whatever their network:
// rule names are unique per project.
func (c *Client) FirewallRules(ctx context.Context) ([]*computepb.Firewall, error) {
	return listAll(ctx, c, fmt.Sprintf("listing the firewall rules of project %s (compute.firewalls.list)", c.Project),
		func(ctx context.Context) iter[*computepb.Firewall] {
			return c.Firewalls.List(ctx, &computepb.ListFirewallsRequest{Project: c.Project})
		})
}

// networks lists the project's networks.
func (c *Client) networks(ctx context.Context) ([]*computepb.Network, error) {
	return listAll(ctx, c, fmt.Sprintf("listing the VPC networks of project %s (compute.networks.list)", c.Project),
		func(ctx context.Context) iter[*computepb.Network] {
			return c.Networks.List(ctx, &computepb.ListNetworksRequest{Project: c.Project})
		})
}

// iter is what the Compute clients' list iterators have in common.
type iter[T any] interface {
	Next() (T, error)
}

// listAll drains a list inside the retry loop, so that a retried listing
// starts again from its first page; step names it in errors.
func listAll[T any](ctx context.Context, c *Client, step string, list func(context.Context) iter[T]) ([]T, error) {
	var out []T
	err := c.do(ctx, func(ctx context.Context) error {
		out = nil
		it := list(ctx)
		for {
			v, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			out = append(out, v)
		}
	})
	if err != nil {
		return nil, classify(step, err)
	}
	return out, nil
}

func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func proto[T any](v T) *T { return &v }

// ImportedRoutes lists the routes network imports over its peering named
// peeringName (direction INCOMING). Compute wants a region: subnet routes
// are global and listed whatever it is; dynamic routes are those of that
// region.
func (c *Client) ImportedRoutes(ctx context.Context, network, peeringName, region string) ([]*computepb.ExchangedPeeringRoute, error) {
	return listAll(ctx, c, fmt.Sprintf("listing the routes network %s imports over peering %s (compute.networks.listPeeringRoutes)", network, peeringName),
		func(ctx context.Context) iter[*computepb.ExchangedPeeringRoute] {
			return c.Networks.ListPeeringRoutes(ctx, &computepb.ListPeeringRoutesNetworksRequest{Project: c.Project, Network: network,
				PeeringName: proto(peeringName), Direction: proto("INCOMING"), Region: proto(region)})
		})
}
