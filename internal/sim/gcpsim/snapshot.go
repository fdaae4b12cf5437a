package gcpsim

import (
	"encoding/json"
	"sort"

	"google.golang.org/protobuf/proto"
)

// Snapshot returns the whole simulated state as deterministic JSON (sorted
// keys and names, no request log), for before/after comparisons. It
// includes operations that are not DONE yet, by name and type only: their
// PENDING/RUNNING status depends on the clock, not on what was done.
func (s *Sim) Snapshot() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()

	ids := make([]string, 0, len(s.projects))
	for id := range s.projects {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var projects []any
	for _, id := range ids {
		p := s.projects[id]
		var networks []any
		for _, np := range p.networkProtos() {
			m := toMap(np)
			// Keep the one piece of peering state the wire does not show.
			n := p.networks[np.GetName()]
			for i, pm := range asList(m["peerings"]) {
				if pmm, ok := pm.(map[string]any); ok {
					pmm["simWasActive"] = n.peerings[i].wasActive
				}
			}
			networks = append(networks, m)
		}
		projects = append(projects, map[string]any{
			"id":          p.id,
			"number":      p.number,
			"quotas":      p.quotas,
			"networks":    networks,
			"subnetworks": protoMaps(p.subnetsIn("")),
			"firewalls":   protoMaps(p.firewallProtos()),
		})
	}

	var pending []any
	for _, op := range s.ops {
		if !op.done {
			pending = append(pending, map[string]any{
				"project": op.project, "name": op.name, "operationType": op.opType, "targetLink": op.targetLink,
			})
		}
	}

	df := map[string]any{}
	for id, rec := range s.dfPeerings {
		df[id] = map[string]any{
			"network":     networkPath(rec.project, rec.network),
			"peerNetwork": networkPath(rec.peerProject, rec.peerNetwork),
		}
	}

	b, _ := json.MarshalIndent(map[string]any{
		"projects":          projects,
		"pendingOperations": pending,
		"dragonflyPeerings": df,
	}, "", "  ")
	return append(b, '\n')
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func protoMaps[T proto.Message](items []T) []any {
	out := make([]any, 0, len(items))
	for _, it := range items {
		out = append(out, toMap(it))
	}
	return out
}
