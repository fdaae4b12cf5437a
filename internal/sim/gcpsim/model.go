package gcpsim

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// Compute writes every link with this prefix, whatever host was called.
const linkBase = "https://www.googleapis.com/compute/v1/"

// nameRE is RFC 1035 as Compute spells it in its error messages.
const nameRegex = "(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)"

var nameRE = regexp.MustCompile("^" + nameRegex + "$")

type project struct {
	id        string
	number    uint64
	numericID uint64
	created   time.Time
	networks  map[string]*network
	firewalls map[string]*computepb.Firewall
	quotas    map[string]float64 // metric → limit
}

type network struct {
	project     string
	name        string
	id          uint64
	created     time.Time
	auto        bool
	routingMode string
	mtu         int32
	subnets     []*subnet
	peerings    []*peering // in creation order, as Compute lists them
}

type subnet struct {
	name      string
	region    string
	cidr      netip.Prefix
	secondary []secondaryRange
	id        uint64
	created   time.Time
}

type secondaryRange struct {
	name string
	cidr netip.Prefix
}

type peering struct {
	name                       string
	peerProject, peerNetwork   string
	state, stateDetails        string
	importCustom, exportCustom bool
	exportPublic, importPublic bool
	stackType, updateStrategy  string
	// wasActive remembers that the peering was once established, so that
	// its falling back to INACTIVE reads as "the peer went away".
	wasActive bool
}

func networkPath(project, name string) string {
	return "projects/" + project + "/global/networks/" + name
}

func firewallPath(project, name string) string {
	return "projects/" + project + "/global/firewalls/" + name
}

func subnetPath(project, region, name string) string {
	return "projects/" + project + "/regions/" + region + "/subnetworks/" + name
}

func operationPath(project, name string) string {
	return "projects/" + project + "/global/operations/" + name
}

func networkKey(project, name string) string { return project + "/" + name }

// parseNetworkRef reads a network reference as Compute accepts one: a full
// URL (any host, compute/v1 or another version), "projects/p/global/networks/n",
// or "global/networks/n" in defaultProject.
func parseNetworkRef(ref, defaultProject string) (projectID, name string, ok bool) {
	rest := ref
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
		slash := strings.Index(rest, "/")
		if slash < 0 {
			return "", "", false
		}
		rest = rest[slash+1:]
		// compute/<version>/…
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) < 3 || parts[0] != "compute" {
			return "", "", false
		}
		rest = parts[2]
	}
	rest = strings.TrimPrefix(rest, "/")
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 5 && parts[0] == "projects" && parts[2] == "global" && parts[3] == "networks":
		projectID, name = parts[1], parts[4]
	case len(parts) == 3 && parts[0] == "global" && parts[1] == "networks":
		projectID, name = defaultProject, parts[2]
	default:
		return "", "", false
	}
	if projectID == "" || name == "" {
		return "", "", false
	}
	return projectID, name, true
}

func (s *Sim) network(projectID, name string) *network {
	if p := s.projects[projectID]; p != nil {
		return p.networks[name]
	}
	return nil
}

func (n *network) peeringNamed(name string) *peering {
	for _, pe := range n.peerings {
		if pe.name == name {
			return pe
		}
	}
	return nil
}

func (n *network) peeringTo(projectID, name string) *peering {
	for _, pe := range n.peerings {
		if pe.peerProject == projectID && pe.peerNetwork == name {
			return pe
		}
	}
	return nil
}

func (n *network) removePeering(name string) bool {
	for i, pe := range n.peerings {
		if pe.name == name {
			n.peerings = append(n.peerings[:i:i], n.peerings[i+1:]...)
			return true
		}
	}
	return false
}

// refreshPeerings recomputes the state of every peering on the given
// networks and on the networks they point at: a peering is ACTIVE exactly
// when the peer network exists and has a peering pointing back.
func (s *Sim) refreshPeerings(at time.Time, keys ...string) {
	seen := map[string]bool{}
	var todo []*network
	add := func(n *network) {
		if n != nil && !seen[networkKey(n.project, n.name)] {
			seen[networkKey(n.project, n.name)] = true
			todo = append(todo, n)
		}
	}
	for _, k := range keys {
		p, n, _ := strings.Cut(k, "/")
		add(s.network(p, n))
	}
	for i := 0; i < len(todo); i++ {
		for _, pe := range todo[i].peerings {
			add(s.network(pe.peerProject, pe.peerNetwork))
		}
	}
	for _, n := range todo {
		for _, pe := range n.peerings {
			peer := s.network(pe.peerProject, pe.peerNetwork)
			active := peer != nil && peer.peeringTo(n.project, n.name) != nil
			switch {
			case active && pe.state != "ACTIVE":
				pe.state, pe.stateDetails, pe.wasActive = "ACTIVE", stateDetails(at, "Connected."), true
			case !active && pe.state != "INACTIVE":
				pe.state, pe.stateDetails = "INACTIVE", stateDetails(at, "Waiting for peer network to connect.")
			}
		}
	}
}

func stateDetails(at time.Time, text string) string {
	return "[" + timestamp(at) + "]: " + text
}

// overlap finds a pair of overlapping ranges between the local network and
// the peer, reported as Compute does (peer range, local range, local owner).
func overlap(local, peer *network) *apiError {
	for _, ls := range local.subnets {
		for _, lr := range ls.ranges() {
			for _, ps := range peer.subnets {
				for _, pr := range ps.ranges() {
					if lr.Overlaps(pr) {
						return errPeeringOverlap(pr.String(), lr.String(), subnetPath(local.project, ls.region, ls.name))
					}
				}
			}
		}
	}
	return nil
}

func (sn *subnet) ranges() []netip.Prefix {
	out := []netip.Prefix{sn.cidr}
	for _, r := range sn.secondary {
		out = append(out, r.cidr)
	}
	return out
}

func (n *network) proto() *computepb.Network {
	out := &computepb.Network{
		Kind:                                  proto.String("compute#network"),
		Id:                                    proto.Uint64(n.id),
		CreationTimestamp:                     proto.String(timestamp(n.created)),
		Name:                                  proto.String(n.name),
		SelfLink:                              proto.String(linkBase + networkPath(n.project, n.name)),
		SelfLinkWithId:                        proto.String(fmt.Sprintf("%sprojects/%s/global/networks/%d", linkBase, n.project, n.id)),
		AutoCreateSubnetworks:                 proto.Bool(n.auto),
		Mtu:                                   proto.Int32(n.mtu),
		NetworkFirewallPolicyEnforcementOrder: proto.String("AFTER_CLASSIC_FIREWALL"),
		RoutingConfig: &computepb.NetworkRoutingConfig{
			RoutingMode:              proto.String(n.routingMode),
			BgpBestPathSelectionMode: proto.String("LEGACY"),
		},
	}
	for _, sn := range n.subnets {
		out.Subnetworks = append(out.Subnetworks, linkBase+subnetPath(n.project, sn.region, sn.name))
	}
	for _, pe := range n.peerings {
		out.Peerings = append(out.Peerings, pe.proto())
	}
	return out
}

func (pe *peering) proto() *computepb.NetworkPeering {
	return &computepb.NetworkPeering{
		Name:                           proto.String(pe.name),
		Network:                        proto.String(linkBase + networkPath(pe.peerProject, pe.peerNetwork)),
		State:                          proto.String(pe.state),
		StateDetails:                   proto.String(pe.stateDetails),
		AutoCreateRoutes:               proto.Bool(true),
		ExchangeSubnetRoutes:           proto.Bool(true),
		ImportCustomRoutes:             proto.Bool(pe.importCustom),
		ExportCustomRoutes:             proto.Bool(pe.exportCustom),
		ExportSubnetRoutesWithPublicIp: proto.Bool(pe.exportPublic),
		ImportSubnetRoutesWithPublicIp: proto.Bool(pe.importPublic),
		PeerMtu:                        proto.Int32(1460),
		StackType:                      proto.String(pe.stackType),
		UpdateStrategy:                 proto.String(pe.updateStrategy),
	}
}

func (sn *subnet) proto(n *network) *computepb.Subnetwork {
	out := &computepb.Subnetwork{
		Kind:                  proto.String("compute#subnetwork"),
		Id:                    proto.Uint64(sn.id),
		CreationTimestamp:     proto.String(timestamp(sn.created)),
		Name:                  proto.String(sn.name),
		Network:               proto.String(linkBase + networkPath(n.project, n.name)),
		IpCidrRange:           proto.String(sn.cidr.String()),
		GatewayAddress:        proto.String(sn.cidr.Addr().Next().String()),
		Region:                proto.String(linkBase + "projects/" + n.project + "/regions/" + sn.region),
		SelfLink:              proto.String(linkBase + subnetPath(n.project, sn.region, sn.name)),
		PrivateIpGoogleAccess: proto.Bool(false),
		Fingerprint:           proto.String(fingerprint(sn.id)),
		Purpose:               proto.String("PRIVATE"),
		StackType:             proto.String("IPV4_ONLY"),
	}
	for _, r := range sn.secondary {
		out.SecondaryIpRanges = append(out.SecondaryIpRanges, &computepb.SubnetworkSecondaryRange{
			RangeName: proto.String(r.name), IpCidrRange: proto.String(r.cidr.String()),
		})
	}
	return out
}

// fingerprint derives a stable, Compute-looking fingerprint from an ID.
func fingerprint(id uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 11)
	for i := range b {
		b[i] = alphabet[id%64]
		id = id/64 + uint64(i)*7919
	}
	return string(b) + "="
}
