package gcpsim

import (
	"sort"

	"github.com/dragonflydb/dfpeer/internal/sim/simstate"
)

// Fields of Sim that are wiring, not state.
var runtimeFields = []string{"opts", "http", "mu"}

// SaveState returns the whole state for LoadState in a later process:
// projects, networks, peerings, firewalls, operations, the generator of
// IDs and operation names (so they continue without repeating), and
// Dragonfly's peerings.
//
// An operation's effect is code and cannot be saved, so operations not yet
// DONE are completed first, with the times they were due: saved state is
// what the project will look like once they finish, as it would on Google's
// side after the caller went away. Call it when the process is done with
// the simulator.
func (s *Sim) SaveState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var due []*operation
	for _, op := range s.ops {
		if !op.done {
			due = append(due, op)
		}
	}
	sort.SliceStable(due, func(i, j int) bool {
		if !due[i].doneAt.Equal(due[j].doneAt) {
			return due[i].doneAt.Before(due[j].doneAt)
		}
		return due[i].seq < due[j].seq
	})
	for _, op := range due {
		op.err = op.apply(op.doneAt)
		op.done = true
	}
	return simstate.Encode(s, runtimeFields...)
}

// LoadState replaces the state with one SaveState returned.
func (s *Sim) LoadState(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return simstate.Decode(data, s, runtimeFields...)
}
