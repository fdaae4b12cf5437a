package azuresim

import "github.com/dragonflydb/dfpeer/internal/sim/simstate"

// Fields of Sim that are wiring, not state. The token signing key is
// state: a token issued before a restart stays valid after it, as Entra's
// would.
var runtimeFields = []string{"opts", "http", "mu"}

// SaveState returns the whole state for LoadState in a later process:
// tenants, applications and their credentials (hashes only), principals,
// subscriptions, networks, security groups, roles and assignments (with
// the absolute times they take effect, so propagation resumes), operations
// and the ID generator's position.
//
// A long-running operation's effect is code and cannot be saved, so
// operations still InProgress complete first: saved state is what Azure
// would show once they finish. Call it when the process is done with the
// simulator.
func (s *Sim) SaveState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	for _, id := range s.opOrder {
		if op := s.ops[id]; op.status == "InProgress" {
			op.status = "Succeeded"
			if op.complete != nil {
				op.complete()
			}
		}
	}
	return simstate.Encode(s, runtimeFields...)
}

// LoadState replaces the state with one SaveState returned.
func (s *Sim) LoadState(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return simstate.Decode(data, s, runtimeFields...)
}
