package gcpsim

import (
	"fmt"
	"strings"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// dfPeering remembers where CreatePeering put Dragonfly's side.
type dfPeering struct {
	project, network string
	peerProject      string
	peerNetwork      string
}

// PeeringName is the name Dragonfly's side of a connection's peering gets
// (and the peer ID the Dragonfly API reports): "dfcloud-" and the
// connection ID, made RFC 1035 and cut to 63 characters.
func PeeringName(connectionID string) string {
	var b strings.Builder
	b.WriteString("dfcloud-")
	for _, r := range strings.ToLower(connectionID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := b.String()
	if len(name) > 63 {
		name = name[:63]
	}
	return strings.TrimRight(name, "-")
}

// CreatePeering implements simcloud.Cloud: it adds, on Dragonfly's network
// (project Network.VPCAccountID, network Network.VPCResourceID), a peering
// towards the customer's network projects/{Peer.AccountID}/global/networks/{Peer.VPCID}.
// It applies at once (Dragonfly's backend is not what is under test) but
// with the API's checks: both networks must exist, the name and the peer
// must be new on the network, and if the customer's side is already there
// the ranges must not overlap. Repeating it for a connection is a no-op.
func (s *Sim) CreatePeering(req simcloud.PeeringRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	name := PeeringName(req.ConnectionID)
	dfProject, dfNetwork := req.Network.VPCAccountID, req.Network.VPCResourceID
	n := s.network(dfProject, dfNetwork)
	if n == nil {
		return "", errNotFound(networkPath(dfProject, dfNetwork))
	}
	peerProject, peerNetwork := req.Peer.AccountID, req.Peer.VPCID
	if strings.Contains(peerNetwork, "/") {
		if pj, nn, ok := parseNetworkRef(peerNetwork, peerProject); ok {
			peerProject, peerNetwork = pj, nn
		}
	}
	if s.network(peerProject, peerNetwork) == nil {
		return "", errNotFound(networkPath(peerProject, peerNetwork))
	}
	if cur := n.peeringNamed(name); cur != nil {
		if cur.peerProject == peerProject && cur.peerNetwork == peerNetwork {
			s.dfPeerings[name] = dfPeering{dfProject, dfNetwork, peerProject, peerNetwork}
			return name, nil
		}
	}
	pe := &peering{
		name: name, peerProject: peerProject, peerNetwork: peerNetwork,
		exportPublic: true, stackType: "IPV4_ONLY", updateStrategy: "INDEPENDENT",
	}
	if err := s.commitPeering(n, pe, s.now()); err != nil {
		return "", err
	}
	s.dfPeerings[name] = dfPeering{dfProject, dfNetwork, peerProject, peerNetwork}
	return name, nil
}

// PeeringStatus implements simcloud.Cloud.
func (s *Sim) PeeringStatus(peerID string) simcloud.PeeringStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	rec, ok := s.dfPeerings[peerID]
	if !ok {
		return simcloud.PeeringStatus{Failed: fmt.Sprintf("peering %q is unknown", peerID)}
	}
	n := s.network(rec.project, rec.network)
	if n == nil {
		return simcloud.PeeringStatus{Failed: errNotFound(networkPath(rec.project, rec.network)).Error()}
	}
	pe := n.peeringNamed(peerID)
	switch {
	case pe == nil:
		return simcloud.PeeringStatus{Failed: fmt.Sprintf("The peering '%s' no longer exists on network '%s'", peerID, networkPath(rec.project, rec.network))}
	case pe.state == "ACTIVE":
		return simcloud.PeeringStatus{Established: true}
	case pe.wasActive:
		return simcloud.PeeringStatus{Gone: true}
	}
	return simcloud.PeeringStatus{}
}

// DeletePeering implements simcloud.Cloud: it removes Dragonfly's side, at
// once; what is already gone is not an error.
func (s *Sim) DeletePeering(peerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	rec, ok := s.dfPeerings[peerID]
	if !ok {
		return nil
	}
	delete(s.dfPeerings, peerID)
	if n := s.network(rec.project, rec.network); n != nil && n.removePeering(peerID) {
		s.refreshPeerings(s.now(), networkKey(rec.project, rec.network), networkKey(rec.peerProject, rec.peerNetwork))
	}
	return nil
}
