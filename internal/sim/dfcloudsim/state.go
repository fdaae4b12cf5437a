package dfcloudsim

import (
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// Status details the simulator reports. The real texts are not documented;
// these only need to be helpful and stable.
const (
	detailGone = "the peering connection was deleted on the peer's side"
)

// advanceLocked brings every network and connection up to now. Networks and
// connections are visited in creation order so that calls into the clouds
// (which number their peerings) happen in a reproducible order.
func (s *Sim) advanceLocked(now time.Time) {
	for _, id := range s.netOrder {
		s.advanceNetwork(s.networks[id], now)
	}
	for _, id := range s.conOrder {
		c := s.conns[id]
		// A connection can take more than one step at once (pending ->
		// inactive -> active when the cloud already reports the peering
		// established and Activate is zero); a few rounds are plenty.
		for range 4 {
			if !s.stepConnection(c, now) {
				break
			}
		}
	}
}

func (s *Sim) advanceNetwork(n *network, now time.Time) {
	if !n.auto || now.Before(n.since.Add(s.opts.Delays.Network)) {
		return
	}
	switch n.wire.Status {
	case NetworkPending:
		n.wire.Status = NetworkActive
		if n.wire.VPC == nil {
			n.wire.VPC = dragonflyVPC(n.wire)
		}
		n.since = now
	case NetworkDeleting:
		n.wire.Status = NetworkDeleted
		n.since = now
	}
}

// stepConnection makes at most one state transition and reports whether it
// made one.
func (s *Sim) stepConnection(c *connection, now time.Time) bool {
	cloud := s.clouds[c.provider]
	switch c.wire.Status {
	case ConnPending:
		if now.Before(c.since.Add(s.opts.Delays.Provision)) {
			return false
		}
		if cloud == nil {
			c.wire.PeerConnectionID = syntheticPeerID(c.provider, c.wire.ConnectionID)
			s.setStatus(c, ConnInactive, "", now)
			return true
		}
		peerID, err := cloud.CreatePeering(s.peeringRequest(c))
		if err != nil {
			s.setStatus(c, ConnFailed, err.Error(), now)
			return true
		}
		c.wire.PeerConnectionID = peerID
		s.setStatus(c, ConnInactive, "", now)
		return true

	case ConnInactive:
		if cloud == nil || c.wire.PeerConnectionID == "" {
			return false
		}
		st := cloud.PeeringStatus(c.wire.PeerConnectionID)
		switch {
		case st.Failed != "":
			s.setStatus(c, ConnFailed, st.Failed, now)
			return true
		case st.Established:
			if c.establishedAt.IsZero() {
				c.establishedAt = now
			}
			if now.Before(c.establishedAt.Add(s.opts.Delays.Activate)) {
				return false
			}
			s.setStatus(c, ConnActive, "", now)
			return true
		default:
			// The customer's half went away before we turned active:
			// start counting again when it is back.
			c.establishedAt = time.Time{}
			return false
		}

	case ConnActive:
		if cloud == nil || c.wire.PeerConnectionID == "" {
			return false
		}
		st := cloud.PeeringStatus(c.wire.PeerConnectionID)
		switch {
		case st.Gone:
			s.setStatus(c, ConnIrrecoverable, detailGone, now)
			return true
		case st.Failed != "":
			s.setStatus(c, ConnFailed, st.Failed, now)
			return true
		}
		return false

	case ConnDeleting:
		if now.Before(c.since.Add(s.opts.Delays.Delete)) {
			return false
		}
		s.setStatus(c, ConnDeleted, "", now)
		return true
	}
	return false
}

func (s *Sim) setStatus(c *connection, status, detail string, now time.Time) {
	c.wire.Status = status
	c.wire.StatusDetail = detail
	c.since = now
	c.establishedAt = time.Time{}
}

// startDelete moves a connection to deleting and removes Dragonfly's half
// of the peering. It is a no-op on a connection already deleting.
func (s *Sim) startDelete(c *connection, now time.Time) {
	if c.wire.Status == ConnDeleting || c.wire.Status == ConnDeleted {
		return
	}
	detail := ""
	if cloud := s.clouds[c.provider]; cloud != nil && c.wire.PeerConnectionID != "" {
		if err := cloud.DeletePeering(c.wire.PeerConnectionID); err != nil {
			// The service would retry in the background; keep the reason
			// visible and carry on.
			detail = err.Error()
		}
	}
	s.setStatus(c, ConnDeleting, detail, now)
}

func (s *Sim) peeringRequest(c *connection) simcloud.PeeringRequest {
	req := simcloud.PeeringRequest{
		ConnectionID: c.wire.ConnectionID,
		Name:         c.wire.Config.Name,
		Peer: simcloud.Peer{
			AccountID: c.wire.Config.Peer.AccountID,
			VPCID:     c.wire.Config.Peer.VPCID,
			Region:    c.wire.Config.Peer.Region,
			CIDRBlock: c.wire.Config.Peer.CIDRBlock,
		},
	}
	if az := c.wire.Config.Peer.Azure; az != nil {
		req.Peer.Azure = &simcloud.AzurePeer{
			ResourceGroup:     az.ResourceGroup,
			TenantID:          az.TenantID,
			AppObjectID:       az.AppObjectID,
			UseRemoteGateways: az.UseRemoteGateways,
		}
	}
	if n, ok := s.networks[c.wire.Config.NetworkID]; ok {
		req.Network = simcloud.Network{
			ID:       n.wire.NetworkID,
			Name:     n.wire.Name,
			Provider: n.wire.Location.Provider,
			Region:   n.wire.Location.Region,
			CIDR:     n.wire.CIDRBlock,
		}
		if n.wire.VPC != nil {
			req.Network.VPCResourceID = n.wire.VPC.ResourceID
			req.Network.VPCAccountID = n.wire.VPC.AccountID
		}
	}
	return req
}
