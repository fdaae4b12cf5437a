package dfcloudsim

import (
	"errors"
	"fmt"
	"sync"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

// ManualCloud is a simcloud.Cloud whose peerings change only when a test
// says so. CreatePeering returns "peer-1", "peer-2", … (the same ID again
// for a connection it already peered); SetEstablished, SetFailed and
// SetGone change what PeeringStatus reports.
type ManualCloud struct {
	provider string

	mu        sync.Mutex
	n         int
	byConn    map[string]string
	peerings  map[string]*manualPeering
	createErr string
	requests  []simcloud.PeeringRequest
}

type manualPeering struct {
	status  simcloud.PeeringStatus
	deleted bool
}

// NewManualCloud returns a ManualCloud for provider ("aws", "gcp" or
// "azure").
func NewManualCloud(provider string) *ManualCloud {
	return &ManualCloud{provider: provider, byConn: map[string]string{}, peerings: map[string]*manualPeering{}}
}

// Provider implements simcloud.Cloud.
func (m *ManualCloud) Provider() string { return m.provider }

// CreatePeering implements simcloud.Cloud.
func (m *ManualCloud) CreatePeering(req simcloud.PeeringRequest) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, req)
	if m.createErr != "" {
		return "", errors.New(m.createErr)
	}
	if id, ok := m.byConn[req.ConnectionID]; ok {
		return id, nil
	}
	m.n++
	id := fmt.Sprintf("peer-%d", m.n)
	m.byConn[req.ConnectionID] = id
	m.peerings[id] = &manualPeering{}
	return id, nil
}

// PeeringStatus implements simcloud.Cloud. An unknown ID reports nothing.
func (m *ManualCloud) PeeringStatus(peerID string) simcloud.PeeringStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.peerings[peerID]; ok {
		return p.status
	}
	return simcloud.PeeringStatus{}
}

// DeletePeering implements simcloud.Cloud.
func (m *ManualCloud) DeletePeering(peerID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.peerings[peerID]; ok {
		p.deleted = true
	}
	return nil
}

// SetEstablished says whether the customer's half of a peering exists.
func (m *ManualCloud) SetEstablished(peerID string, established bool) {
	m.update(peerID, func(p *manualPeering) { p.status.Established = established })
}

// SetFailed makes the peering fail with msg.
func (m *ManualCloud) SetFailed(peerID, msg string) {
	m.update(peerID, func(p *manualPeering) { p.status.Failed = msg })
}

// SetGone says the customer deleted their half of an established peering.
func (m *ManualCloud) SetGone(peerID string, gone bool) {
	m.update(peerID, func(p *manualPeering) { p.status.Gone = gone })
}

// FailCreate makes every later CreatePeering fail with msg ("" to stop).
func (m *ManualCloud) FailCreate(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.createErr = msg
}

// Requests returns every CreatePeering request received, in order.
func (m *ManualCloud) Requests() []simcloud.PeeringRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]simcloud.PeeringRequest(nil), m.requests...)
}

// Deleted reports whether DeletePeering was called for peerID.
func (m *ManualCloud) Deleted(peerID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.peerings[peerID]
	return ok && p.deleted
}

func (m *ManualCloud) update(peerID string, fn func(*manualPeering)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.peerings[peerID]
	if !ok {
		p = &manualPeering{}
		m.peerings[peerID] = p
	}
	fn(p)
}

var _ simcloud.Cloud = (*ManualCloud)(nil)
