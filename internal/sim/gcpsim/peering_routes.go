package gcpsim

import (
	"net/http"
	"net/netip"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// routeOwner is one range a network exchanges as a subnet route: the
// range, its subnet's region and the network that owns it.
type routeOwner struct {
	cidr   netip.Prefix
	region string
	net    *network
}

func (n *network) subnetRoutes() []routeOwner {
	var out []routeOwner
	for _, sn := range n.subnets {
		for _, r := range sn.ranges() {
			out = append(out, routeOwner{cidr: r, region: sn.region, net: n})
		}
	}
	return out
}

// importedRoutes are the subnet routes n already imports over its ACTIVE
// peerings, except the one towards skip (the peering being added).
func (s *Sim) importedRoutes(n *network, skip *network) []routeOwner {
	var out []routeOwner
	for _, pe := range n.peerings {
		if pe.state != "ACTIVE" {
			continue
		}
		other := s.network(pe.peerProject, pe.peerNetwork)
		if other == nil || other == skip {
			continue
		}
		out = append(out, other.subnetRoutes()...)
	}
	return out
}

// overlapViaPeers is the hub rule: when local and peer connect, each
// imports the other's subnet routes, which must not overlap the routes it
// already imports over its other active peerings. A network peered with
// two networks that overlap each other would not know where to send.
func (s *Sim) overlapViaPeers(local, peer *network) *apiError {
	for _, pr := range peer.subnetRoutes() {
		for _, ir := range s.importedRoutes(local, peer) {
			if pr.cidr.Overlaps(ir.cidr) {
				return errPeeringOverlapActivePeer("peer", pr.cidr.String(), ir.cidr.String(), networkPath(ir.net.project, ir.net.name), "local")
			}
		}
	}
	for _, lr := range local.subnetRoutes() {
		for _, ir := range s.importedRoutes(peer, local) {
			if lr.cidr.Overlaps(ir.cidr) {
				return errPeeringOverlapActivePeer("local", lr.cidr.String(), ir.cidr.String(), networkPath(ir.net.project, ir.net.name), "peer")
			}
		}
	}
	return nil
}

// listPeeringRoutes implements networks.listPeeringRoutes: the subnet
// routes exchanged over one peering, INCOMING (imported from the peer) or
// OUTGOING (exported to it). An INACTIVE peering exchanges nothing.
// Subnet routes are global, so region (which gcloud always sends) only
// has to name a region; it does not narrow them.
func (s *Sim) listPeeringRoutes(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	path := networkPath(pp["project"], pp["network"])
	p, n, ok := s.addressedNetwork(w, pp, "compute.networks.listPeeringRoutes")
	if !ok {
		return
	}
	q := r.URL.Query()
	name := q.Get("peeringName")
	if name == "" {
		writeError(w, errRequired("peeringName"))
		return
	}
	// Unverified default: gcloud always sends a direction.
	dir := q.Get("direction")
	switch dir {
	case "":
		dir = "INCOMING"
	case "INCOMING", "OUTGOING":
	default:
		writeError(w, errInvalid("direction", dir, "Must be one of [INCOMING, OUTGOING]."))
		return
	}
	if region := q.Get("region"); region != "" && !knownRegion(region) {
		writeError(w, errNotFound("projects/"+p.id+"/regions/"+region))
		return
	}
	pe := n.peeringNamed(name)
	if pe == nil {
		writeError(w, errNotFound(path+"/peerings/"+name))
		return
	}
	var items []*computepb.ExchangedPeeringRoute
	if peer := s.network(pe.peerProject, pe.peerNetwork); pe.state == "ACTIVE" && peer != nil {
		from := peer
		if dir == "OUTGOING" {
			from = n
		}
		for _, rt := range from.subnetRoutes() {
			items = append(items, &computepb.ExchangedPeeringRoute{
				DestRange:     proto.String(rt.cidr.String()),
				Type:          proto.String("SUBNET_PEERING_ROUTE"),
				NextHopRegion: proto.String(rt.region),
				Priority:      proto.Uint32(0),
				// Overlapping subnet routes are refused when peering, so
				// every exchanged subnet route is accepted.
				Imported: proto.Bool(true),
			})
		}
	}
	page, next, lerr := listPage(r, items)
	if lerr != nil {
		writeError(w, lerr)
		return
	}
	writeProto(w, &computepb.ExchangedPeeringRoutesList{
		Kind:          proto.String("compute#exchangedPeeringRoutesList"),
		Id:            proto.String(path + "/listPeeringRoutes"),
		SelfLink:      proto.String(linkBase + path + "/listPeeringRoutes"),
		Items:         page,
		NextPageToken: next,
	})
}
