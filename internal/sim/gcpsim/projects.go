package gcpsim

import (
	"fmt"
	"net/http"
	"sort"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// Default project quotas (limits) as a fresh project shows them. Network
// peerings are not among them: the 25-per-network limit is enforced on
// addPeering instead.
var defaultQuotas = map[string]float64{
	"NETWORKS":    15,
	"FIREWALLS":   200,
	"SUBNETWORKS": 275,
	"ROUTES":      250,
}

// AddProject creates an empty project (adding one twice is harmless).
func (s *Sim) AddProject(projectID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addProject(projectID)
}

func (s *Sim) addProject(projectID string) *project {
	if p := s.projects[projectID]; p != nil {
		return p
	}
	p := &project{
		id:        projectID,
		number:    100_000_000_000 + uint64(s.rng.Int63n(900_000_000_000)),
		numericID: s.newID(),
		created:   s.now(),
		networks:  map[string]*network{},
		firewalls: map[string]*computepb.Firewall{},
		quotas:    map[string]float64{},
	}
	for k, v := range defaultQuotas {
		p.quotas[k] = v
	}
	s.projects[projectID] = p
	return p
}

// SetQuota changes a project quota limit, e.g. SetQuota(p, "FIREWALLS", 1)
// to make the next firewall insert fail with quotaExceeded.
func (s *Sim) SetQuota(projectID, metric string, limit float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addProject(projectID).quotas[metric] = limit
}

// projectFor checks the caller may use permission on resource in
// projectID and that the project exists, in that order (IAM first, as
// Google does, so unknown projects do not leak their existence to callers
// denied access).
func (s *Sim) projectFor(projectID, permission, resource string) (*project, *apiError) {
	if s.denied[projectID][permission] {
		return nil, errForbidden(permission, resource)
	}
	p := s.projects[projectID]
	if p == nil {
		return nil, errNotFound("projects/" + projectID)
	}
	return p, nil
}

func (p *project) usage(metric string) float64 {
	switch metric {
	case "NETWORKS":
		return float64(len(p.networks))
	case "FIREWALLS":
		return float64(len(p.firewalls))
	case "SUBNETWORKS":
		n := 0
		for _, nw := range p.networks {
			n += len(nw.subnets)
		}
		return float64(n)
	}
	return 0
}

func (s *Sim) getProject(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, err := s.projectFor(pp["project"], "compute.projects.get", "projects/"+pp["project"])
	if err != nil {
		writeError(w, err)
		return
	}
	out := &computepb.Project{
		Kind:                  proto.String("compute#project"),
		Id:                    proto.Uint64(p.numericID),
		Name:                  proto.String(p.id),
		CreationTimestamp:     proto.String(timestamp(p.created)),
		SelfLink:              proto.String(linkBase + "projects/" + p.id),
		DefaultServiceAccount: proto.String(fmt.Sprintf("%d-compute@developer.gserviceaccount.com", p.number)),
		DefaultNetworkTier:    proto.String("PREMIUM"),
		XpnProjectStatus:      proto.String("UNSPECIFIED_XPN_PROJECT_STATUS"),
		CommonInstanceMetadata: &computepb.Metadata{
			Kind:        proto.String("compute#metadata"),
			Fingerprint: proto.String(fingerprint(p.numericID)),
		},
	}
	metrics := make([]string, 0, len(p.quotas))
	for m := range p.quotas {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	for _, m := range metrics {
		out.Quotas = append(out.Quotas, &computepb.Quota{
			Metric: proto.String(m), Limit: proto.Float64(p.quotas[m]), Usage: proto.Float64(p.usage(m)),
		})
	}
	writeProto(w, out)
}
