package peering

import (
	"context"
	"errors"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Step and LegacyProvider are the shape providers had before the typed
// model: a Preflight that resolves into the provider, then closures. They
// remain only while providers move to Observe/Ensure/Remove; FromLegacy
// adapts one.
type Step struct {
	Title string
	Phase Phase
	Run   func(ctx context.Context, s *State) (note string, err error)
}

// LegacyProvider is a provider in the old shape.
type LegacyProvider interface {
	Name() string
	Peer(ctx context.Context) (dfcloud.Peer, error)
	Preflight(ctx context.Context, net *dfcloud.Network, existing *dfcloud.Connection) ([]Change, error)
	Steps(net *dfcloud.Network) []Step
}

// FromLegacy adapts a LegacyProvider: its plan lines are shown, its steps
// are applied as quiet changes.
func FromLegacy(lp LegacyProvider) Provider { return legacy{lp} }

type legacy struct{ lp LegacyProvider }

const shownOnly Phase = -1

func (l legacy) Name() string                                   { return l.lp.Name() }
func (l legacy) Peer(ctx context.Context) (dfcloud.Peer, error) { return l.lp.Peer(ctx) }

func (l legacy) Observe(ctx context.Context, t Target) (*Observation, error) {
	shown, err := l.lp.Preflight(ctx, t.Network, t.Existing)
	if err != nil {
		return nil, err
	}
	obs := &Observation{}
	for _, c := range shown {
		c.Phase = shownOnly
		obs.Changes = append(obs.Changes, c)
	}
	for _, s := range l.lp.Steps(t.Network) {
		obs.Changes = append(obs.Changes, Change{Title: s.Title, Phase: s.Phase, Quiet: true, Want: s})
	}
	return obs, nil
}

func (l legacy) Ensure(ctx context.Context, s *State, c Change) (string, error) {
	return c.Want.(Step).Run(ctx, s)
}

func (l legacy) Remove(ctx context.Context, s *State, c Change) (string, error) {
	return "", errors.New("remove is not supported by a legacy provider")
}
