package awssim

import "github.com/dragonflydb/dfpeer/internal/sim/simstate"

// Fields of Sim that are wiring, not state.
var runtimeFields = []string{"opts", "http", "mu"}

// SaveState returns the whole state for LoadState in a later process:
// accounts and their access keys, every resource, peerings with their
// absolute timestamps (provisioning and expiry resume from them), and the
// ID generator's position, so IDs continue without repeating.
func (s *Sim) SaveState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	return simstate.Encode(s, runtimeFields...)
}

// LoadState replaces the state with one SaveState returned.
func (s *Sim) LoadState(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return simstate.Decode(data, s, runtimeFields...)
}
