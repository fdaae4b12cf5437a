package dfcloudsim

import "github.com/dragonflydb/dfpeer/internal/sim/simstate"

// Fields of Sim that are wiring, not state: they come from Options each
// time a process starts.
var runtimeFields = []string{"opts", "clouds", "http", "handler", "mu"}

// SaveState returns the whole state (every network and connection, with
// the absolute times their current status began) for LoadState in a later
// process. The state is first brought up to now, which may call the
// registered clouds: save them after this.
func (s *Sim) SaveState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	return simstate.Encode(s, runtimeFields...)
}

// LoadState replaces the state with one SaveState returned. Timers resume
// from the saved times: a connection saved pending turns inactive once
// Delays.Provision has passed since it was created, whichever process is
// running by then.
func (s *Sim) LoadState(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return simstate.Decode(data, s, runtimeFields...)
}
