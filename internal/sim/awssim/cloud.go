package awssim

import (
	"errors"
	"fmt"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// ConnectionTag is the tag Dragonfly's side puts on the peerings it
// requests, naming the Dragonfly connection; it makes CreatePeering
// idempotent and lets a test find a connection's peering.
const ConnectionTag = "dfcloud:connection-id"

// CreatePeering implements simcloud.Cloud: Dragonfly's VPC (which must exist
// here) requests a peering to the customer's VPC. Like AWS, it creates the
// request even if the customer's VPC does not exist or overlaps; such a
// request is failed at once and PeeringStatus reports it.
func (s *Sim) CreatePeering(req simcloud.PeeringRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advance(now)
	if id, ok := s.byConn[req.ConnectionID]; ok && req.ConnectionID != "" {
		return id, nil
	}
	n := req.Network
	if n.Provider != "" && n.Provider != "aws" {
		return "", fmt.Errorf("awssim: network %s is on %s, not aws", n.ID, n.Provider)
	}
	if aerr := vpcKind.checkShape(n.VPCResourceID); aerr != nil {
		return "", aerr
	}
	dfVPC, ok := s.vpcOf(n.VPCAccountID, n.Region, n.VPCResourceID)
	if !ok {
		return "", vpcKind.notFound(n.VPCResourceID)
	}
	region := req.Peer.Region
	if region == "" {
		region = n.Region
	}
	t := tags{}
	if req.ConnectionID != "" {
		t[ConnectionTag] = req.ConnectionID
	}
	if req.Name != "" {
		t["Name"] = req.Name
	}
	p, aerr := s.createPeering(dfVPC, req.Peer.AccountID, req.Peer.VPCID, region, t, now, false)
	if aerr != nil {
		return "", aerr
	}
	p.ConnectionID = req.ConnectionID
	if req.ConnectionID != "" {
		s.byConn[req.ConnectionID] = p.ID
	}
	return p.ID, nil
}

// PeeringStatus implements simcloud.Cloud.
func (s *Sim) PeeringStatus(peerID string) simcloud.PeeringStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	p, ok := s.pcxs[peerID]
	if !ok {
		return simcloud.PeeringStatus{Failed: fmt.Sprintf("The vpcPeeringConnection ID '%s' does not exist", peerID)}
	}
	switch p.State {
	case stateActive:
		return simcloud.PeeringStatus{Established: true}
	case stateFailed, stateRejected, stateExpired:
		return simcloud.PeeringStatus{Failed: p.Message}
	case stateDeleted:
		if p.WasActive {
			return simcloud.PeeringStatus{Gone: true}
		}
		return simcloud.PeeringStatus{Failed: p.Message}
	}
	return simcloud.PeeringStatus{}
}

// DeletePeering implements simcloud.Cloud: Dragonfly (the requester)
// deletes the peering. Routes through it become blackholes. Deleting a
// peering that is gone or can no longer be deleted is not an error.
func (s *Sim) DeletePeering(peerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advance(now)
	p, ok := s.pcxs[peerID]
	if !ok {
		return nil
	}
	switch p.State {
	case statePending, stateProvisioning, stateActive:
		p.State, p.Message, p.DeletedBy, p.ChangedAt = stateDeleted, "Deleted by "+p.Requester.Account, p.Requester.Account, now
	}
	return nil
}

// PeeringInfo is a peering as a test sees it.
type PeeringInfo struct {
	ID               string
	State            string
	Message          string
	RequesterAccount string
	RequesterRegion  string
	RequesterVPCID   string
	AccepterAccount  string
	AccepterRegion   string
	AccepterVPCID    string
	ConnectionID     string
	// RequesterTags are the tags the requester's account sees.
	RequesterTags map[string]string
}

func (p *peering) info() PeeringInfo {
	t := map[string]string{}
	for k, v := range p.tagsFor(p.Requester.Account) {
		t[k] = v
	}
	return PeeringInfo{ID: p.ID, State: p.State, Message: p.Message,
		RequesterAccount: p.Requester.Account, RequesterRegion: p.Requester.Region, RequesterVPCID: p.Requester.VPCID,
		AccepterAccount: p.Accepter.Account, AccepterRegion: p.Accepter.Region, AccepterVPCID: p.Accepter.VPCID,
		ConnectionID: p.ConnectionID, RequesterTags: t}
}

// Peering returns a peering by ID, whoever can see it.
func (s *Sim) Peering(id string) (PeeringInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	p, ok := s.pcxs[id]
	if !ok {
		return PeeringInfo{}, false
	}
	return p.info(), true
}

// PeeringForConnection returns the peering CreatePeering made for a
// Dragonfly connection.
func (s *Sim) PeeringForConnection(connectionID string) (PeeringInfo, bool) {
	s.mu.Lock()
	id, ok := s.byConn[connectionID]
	s.mu.Unlock()
	if !ok {
		return PeeringInfo{}, false
	}
	return s.Peering(id)
}

// The customer-side shortcuts below apply the same rules as the API, acting
// as the accepter account in the accepter region; tests use them to play a
// customer who acts in the console rather than through dfpeer.

// AcceptPeering accepts a pending peering as its accepter.
func (s *Sim) AcceptPeering(id string) error {
	return s.asAccepter(id, s.acceptPeering)
}

// RejectPeering rejects a pending peering as its accepter.
func (s *Sim) RejectPeering(id string) error {
	return s.asAccepter(id, s.rejectPeering)
}

// DeletePeeringAs deletes a peering as accountID (the requester or the
// accepter), in that side's region.
func (s *Sim) DeletePeeringAs(accountID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advance(now)
	p, ok := s.pcxs[id]
	if !ok {
		return pcxKind.notFound(id)
	}
	region := p.Requester.Region
	if accountID == p.Accepter.Account {
		region = p.Accepter.Region
	}
	_, aerr := s.deletePeering(accountID, region, id, now, false)
	return asError(aerr)
}

func (s *Sim) asAccepter(id string, op func(account, region, id string, now time.Time, dryRun bool) (*peering, *apiError)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advance(now)
	p, ok := s.pcxs[id]
	if !ok {
		return pcxKind.notFound(id)
	}
	_, aerr := op(p.Accepter.Account, p.Accepter.Region, id, now, false)
	return asError(aerr)
}

// asError keeps a nil *apiError from becoming a non-nil error.
func asError(aerr *apiError) error {
	if aerr == nil {
		return nil
	}
	return aerr
}

// ErrorCode returns the AWS error code of an error returned by the seeding
// and shortcut methods, or "" if it has none.
func ErrorCode(err error) string {
	var aerr *apiError
	if errors.As(err, &aerr) {
		return aerr.code
	}
	return ""
}
