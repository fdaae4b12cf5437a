package gcpsim

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// NetworkSpec seeds a VPC network.
type NetworkSpec struct {
	Name string
	// AutoCreateSubnetworks makes an auto mode network; without Subnets it
	// gets Compute's auto mode subnetworks (10.128.0.0/9 plan).
	AutoCreateSubnetworks bool
	Subnets               []SubnetSpec
	RoutingMode           string // REGIONAL (default) or GLOBAL
	MTU                   int32  // default 1460
}

// SubnetSpec seeds a subnetwork.
type SubnetSpec struct {
	Name      string
	Region    string
	CIDR      string
	Secondary map[string]string // range name → CIDR
}

// PeeringSpec seeds one side of a peering, as if added through the API.
type PeeringSpec struct {
	Name               string
	PeerProject        string
	PeerNetwork        string
	ImportCustomRoutes bool
	ExportCustomRoutes bool
}

// AddNetwork creates a network (and its project, if new) immediately.
func (s *Sim) AddNetwork(projectID string, spec NetworkSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if !nameRE.MatchString(spec.Name) {
		return fmt.Errorf("gcpsim: network name %q is not RFC 1035", spec.Name)
	}
	p := s.addProject(projectID)
	if p.networks[spec.Name] != nil {
		return errAlreadyExists(networkPath(projectID, spec.Name))
	}
	n := &network{
		project: projectID, name: spec.Name, id: s.newID(), created: s.now(),
		auto: spec.AutoCreateSubnetworks, routingMode: orDefault(spec.RoutingMode, "REGIONAL"), mtu: spec.MTU,
	}
	if n.mtu == 0 {
		n.mtu = 1460
	}
	if n.routingMode != "REGIONAL" && n.routingMode != "GLOBAL" {
		return fmt.Errorf("gcpsim: routing mode %q is neither REGIONAL nor GLOBAL", n.routingMode)
	}
	specs := spec.Subnets
	if spec.AutoCreateSubnetworks && len(specs) == 0 {
		specs = autoModeSubnets(spec.Name)
	}
	for _, ss := range specs {
		sn, err := s.newSubnet(n, ss)
		if err != nil {
			return err
		}
		n.subnets = append(n.subnets, sn)
	}
	p.networks[spec.Name] = n
	// Peerings elsewhere may have been waiting for this network.
	s.refreshPeerings(s.now(), s.peeringsTowards(projectID, spec.Name)...)
	return nil
}

func (s *Sim) newSubnet(n *network, ss SubnetSpec) (*subnet, error) {
	if !nameRE.MatchString(ss.Name) {
		return nil, fmt.Errorf("gcpsim: subnetwork name %q is not RFC 1035", ss.Name)
	}
	if !knownRegion(ss.Region) {
		return nil, fmt.Errorf("gcpsim: unknown region %q", ss.Region)
	}
	cidr, ok := parseSubnetCIDR(ss.CIDR)
	if !ok {
		return nil, fmt.Errorf("gcpsim: subnetwork %s: %q is not an IPv4 network range (/8 to /29)", ss.Name, ss.CIDR)
	}
	sn := &subnet{name: ss.Name, region: ss.Region, cidr: cidr, id: s.newID(), created: s.now()}
	names := make([]string, 0, len(ss.Secondary))
	for k := range ss.Secondary {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c, ok := parseSubnetCIDR(ss.Secondary[k])
		if !ok || !nameRE.MatchString(k) {
			return nil, fmt.Errorf("gcpsim: subnetwork %s: bad secondary range %s=%s", ss.Name, k, ss.Secondary[k])
		}
		sn.secondary = append(sn.secondary, secondaryRange{name: k, cidr: c})
	}
	// Ranges within one network never overlap in Compute.
	for _, other := range n.subnets {
		if other.name == sn.name && other.region == sn.region {
			return nil, errAlreadyExists(subnetPath(n.project, sn.region, sn.name))
		}
		for _, a := range other.ranges() {
			for _, b := range sn.ranges() {
				if a.Overlaps(b) {
					return nil, fmt.Errorf("gcpsim: subnetwork %s range %s overlaps %s of %s", sn.name, b, a, other.name)
				}
			}
		}
	}
	return sn, nil
}

// RemoveNetwork deletes a network out of band (peerings towards it fall
// back to INACTIVE), to model a network vanishing under a connection.
func (s *Sim) RemoveNetwork(projectID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p := s.projects[projectID]
	if p == nil || p.networks[name] == nil {
		return errNotFound(networkPath(projectID, name))
	}
	delete(p.networks, name)
	s.refreshPeerings(s.now(), s.peeringsTowards(projectID, name)...)
	return nil
}

// peeringsTowards lists the networks holding a peering to projectID/name.
func (s *Sim) peeringsTowards(projectID, name string) []string {
	var keys []string
	for _, p := range s.projects {
		for _, n := range p.networks {
			if n.peeringTo(projectID, name) != nil {
				keys = append(keys, networkKey(n.project, n.name))
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// AddPeering creates one side of a peering immediately, with the same
// checks as networks.addPeering (an overlap fails here, not later).
func (s *Sim) AddPeering(projectID, networkName string, spec PeeringSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n := s.network(projectID, networkName)
	if n == nil {
		return errNotFound(networkPath(projectID, networkName))
	}
	if !nameRE.MatchString(spec.Name) {
		return errInvalid("resource.networkPeering.name", spec.Name, "Must be a match of regex '"+nameRegex+"'")
	}
	pe := &peering{
		name: spec.Name, peerProject: orDefault(spec.PeerProject, projectID), peerNetwork: spec.PeerNetwork,
		importCustom: spec.ImportCustomRoutes, exportCustom: spec.ExportCustomRoutes,
		exportPublic: true, stackType: "IPV4_ONLY", updateStrategy: "INDEPENDENT",
	}
	if s.network(pe.peerProject, pe.peerNetwork) == nil {
		return errNotFound(networkPath(pe.peerProject, pe.peerNetwork))
	}
	if err := s.commitPeering(n, pe, s.now()); err != nil {
		return err
	}
	return nil
}

// RemovePeering deletes one side of a peering immediately, as if removed
// through the API (the other side falls back to INACTIVE).
func (s *Sim) RemovePeering(projectID, networkName, peeringName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n := s.network(projectID, networkName)
	if n == nil {
		return errNotFound(networkPath(projectID, networkName))
	}
	pe := n.peeringNamed(peeringName)
	if pe == nil {
		return errNotFound(networkPath(projectID, networkName) + "/peerings/" + peeringName)
	}
	n.removePeering(peeringName)
	s.refreshPeerings(s.now(), networkKey(n.project, n.name), networkKey(pe.peerProject, pe.peerNetwork))
	return nil
}

// checkNewPeering holds the rules a new peering must pass both when it is
// requested and when its operation completes (the world may have moved in
// between). field names the request field for error messages.
func checkNewPeering(n *network, pe *peering, field string) *apiError {
	if n.peeringNamed(pe.name) != nil {
		// Unverified wording; Compute refuses a second peering of the same name.
		return errInvalid(field+"name", pe.name,
			fmt.Sprintf("A peering with this name already exists in network '%s'.", networkPath(n.project, n.name)))
	}
	if other := n.peeringTo(pe.peerProject, pe.peerNetwork); other != nil {
		// Unverified wording; Compute allows one peering per pair of networks.
		return errInvalid(field+"network", networkPath(pe.peerProject, pe.peerNetwork),
			fmt.Sprintf("Network '%s' already has peering '%s' to this network.", networkPath(n.project, n.name), other.name))
	}
	if len(n.peerings) >= peeringsPerNetwork {
		return errQuota("PEERINGS_PER_NETWORK", peeringsPerNetwork)
	}
	return nil
}

// commitPeering adds pe to n if the rules still hold: the peer network
// exists and, when the peering is about to become ACTIVE, the two networks'
// ranges do not overlap.
func (s *Sim) commitPeering(n *network, pe *peering, at time.Time) *apiError {
	if err := checkNewPeering(n, pe, "resource.networkPeering."); err != nil {
		return err
	}
	peer := s.network(pe.peerProject, pe.peerNetwork)
	if peer == nil {
		return errNotFound(networkPath(pe.peerProject, pe.peerNetwork))
	}
	if peer.peeringTo(n.project, n.name) != nil {
		if err := overlap(n, peer); err != nil {
			return err
		}
		if err := s.overlapViaPeers(n, peer); err != nil {
			return err
		}
	}
	n.peerings = append(n.peerings, pe)
	s.refreshPeerings(at, networkKey(n.project, n.name))
	return nil
}

func (s *Sim) getNetwork(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	_, n, ok := s.addressedNetwork(w, pp, "compute.networks.get")
	if !ok {
		return
	}
	writeProto(w, n.proto())
}

func (s *Sim) listNetworks(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, err := s.projectFor(pp["project"], "compute.networks.list", "projects/"+pp["project"])
	if err != nil {
		writeError(w, err)
		return
	}
	page, next, err := listPage(r, p.networkProtos())
	if err != nil {
		writeError(w, err)
		return
	}
	base := "projects/" + p.id + "/global/networks"
	writeProto(w, &computepb.NetworkList{
		Kind:          proto.String("compute#networkList"),
		Id:            proto.String(base),
		SelfLink:      proto.String(linkBase + base),
		Items:         page,
		NextPageToken: next,
	})
}

func (p *project) networkProtos() []*computepb.Network {
	names := make([]string, 0, len(p.networks))
	for n := range p.networks {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*computepb.Network, 0, len(names))
	for _, n := range names {
		out = append(out, p.networks[n].proto())
	}
	return out
}

// Network returns the network as networks.get would, if it exists.
func (s *Sim) Network(projectID, name string) (*computepb.Network, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n := s.network(projectID, name)
	if n == nil {
		return nil, false
	}
	return n.proto(), true
}

// Networks returns a project's networks by name.
func (s *Sim) Networks(projectID string) []*computepb.Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if p := s.projects[projectID]; p != nil {
		return p.networkProtos()
	}
	return nil
}

// Subnetworks returns a project's subnetworks in all regions.
func (s *Sim) Subnetworks(projectID string) []*computepb.Subnetwork {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if p := s.projects[projectID]; p != nil {
		return p.subnetsIn("")
	}
	return nil
}

// AddSubnetwork creates a subnetwork in an existing network immediately,
// as if inserted through the API, with Compute's checks: ranges may not
// overlap the network's other ranges, nor the subnet routes it imports
// over an ACTIVE peering (Compute refuses such a range while the peering
// is up; one added while it is down is what a later status finds).
func (s *Sim) AddSubnetwork(projectID, networkName string, spec SubnetSpec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n := s.network(projectID, networkName)
	if n == nil {
		return errNotFound(networkPath(projectID, networkName))
	}
	sn, err := s.newSubnet(n, spec)
	if err != nil {
		return err
	}
	for _, ir := range s.importedRoutes(n, nil) {
		for _, r := range sn.ranges() {
			if r.Overlaps(ir.cidr) {
				return fmt.Errorf("gcpsim: subnetwork %s range %s overlaps %s, imported from active peer %s", sn.name, r, ir.cidr, networkPath(ir.net.project, ir.net.name))
			}
		}
	}
	n.subnets = append(n.subnets, sn)
	return nil
}
