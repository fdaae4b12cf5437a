package gcpsim

import (
	"net/http"
	"net/netip"
	"slices"
	"sort"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// regions are the Compute regions the simulator knows; a subnetwork list
// in any other region is a 404, as for a region that does not exist.
var regions = []string{
	"africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
	"asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
	"australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1",
	"europe-north2", "europe-southwest1", "europe-west1", "europe-west10", "europe-west12",
	"europe-west2", "europe-west3", "europe-west4", "europe-west6", "europe-west8",
	"europe-west9", "me-central1", "me-central2", "me-west1", "northamerica-northeast1",
	"northamerica-northeast2", "northamerica-south1", "southamerica-east1",
	"southamerica-west1", "us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
	"us-west1", "us-west2", "us-west3", "us-west4",
}

func knownRegion(r string) bool { return slices.Contains(regions, r) }

// autoModeRanges are the /20s an auto mode network gets, per region (the
// documented 10.128.0.0/9 plan). Two auto mode networks therefore always
// overlap, which is why they can never be peered.
var autoModeRanges = map[string]string{
	"us-central1":             "10.128.0.0/20",
	"europe-west1":            "10.132.0.0/20",
	"us-west1":                "10.138.0.0/20",
	"asia-east1":              "10.140.0.0/20",
	"us-east1":                "10.142.0.0/20",
	"asia-northeast1":         "10.146.0.0/20",
	"asia-southeast1":         "10.148.0.0/20",
	"us-east4":                "10.150.0.0/20",
	"australia-southeast1":    "10.152.0.0/20",
	"europe-west2":            "10.154.0.0/20",
	"europe-west3":            "10.156.0.0/20",
	"southamerica-east1":      "10.158.0.0/20",
	"asia-south1":             "10.160.0.0/20",
	"northamerica-northeast1": "10.162.0.0/20",
	"europe-west4":            "10.164.0.0/20",
	"europe-north1":           "10.166.0.0/20",
	"us-west2":                "10.168.0.0/20",
	"asia-east2":              "10.170.0.0/20",
	"europe-west6":            "10.172.0.0/20",
	"asia-northeast2":         "10.174.0.0/20",
}

func autoModeSubnets(name string) []SubnetSpec {
	var out []SubnetSpec
	for r, cidr := range autoModeRanges {
		out = append(out, SubnetSpec{Name: name, Region: r, CIDR: cidr})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// subnetsIn lists a project's subnetworks in region ("" for all), in
// network then creation order.
func (p *project) subnetsIn(region string) []*computepb.Subnetwork {
	names := make([]string, 0, len(p.networks))
	for n := range p.networks {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*computepb.Subnetwork
	for _, n := range names {
		nw := p.networks[n]
		for _, sn := range nw.subnets {
			if region == "" || sn.region == region {
				out = append(out, sn.proto(nw))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

func (s *Sim) listSubnetworks(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	region := pp["region"]
	p, err := s.projectFor(pp["project"], "compute.subnetworks.list", "projects/"+pp["project"]+"/regions/"+region)
	if err != nil {
		writeError(w, err)
		return
	}
	if !knownRegion(region) {
		writeError(w, errNotFound("projects/"+p.id+"/regions/"+region))
		return
	}
	page, next, err := listPage(r, p.subnetsIn(region))
	if err != nil {
		writeError(w, err)
		return
	}
	base := "projects/" + p.id + "/regions/" + region + "/subnetworks"
	writeProto(w, &computepb.SubnetworkList{
		Kind:          proto.String("compute#subnetworkList"),
		Id:            proto.String(base),
		SelfLink:      proto.String(linkBase + base),
		Items:         page,
		NextPageToken: next,
	})
}

func (s *Sim) getSubnetwork(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	path := subnetPath(pp["project"], pp["region"], pp["subnetwork"])
	p, err := s.projectFor(pp["project"], "compute.subnetworks.get", path)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, sn := range p.subnetsIn(pp["region"]) {
		if sn.GetName() == pp["subnetwork"] {
			writeProto(w, sn)
			return
		}
	}
	writeError(w, errNotFound(path))
}

// aggregatedSubnetworks answers with every known region as a scope, the
// empty ones carrying Compute's NO_RESULTS_ON_PAGE warning.
func (s *Sim) aggregatedSubnetworks(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, err := s.projectFor(pp["project"], "compute.subnetworks.list", "projects/"+pp["project"])
	if err != nil {
		writeError(w, err)
		return
	}
	items := map[string]*computepb.SubnetworksScopedList{}
	for _, region := range regions {
		scope := "regions/" + region
		all := p.subnetsIn(region)
		// Filters apply per scope, as Compute applies them per item.
		kept, _, ferr := listPage(withoutPaging(r), all)
		if ferr != nil {
			writeError(w, ferr)
			return
		}
		if len(kept) > 0 {
			items[scope] = &computepb.SubnetworksScopedList{Subnetworks: kept}
			continue
		}
		items[scope] = &computepb.SubnetworksScopedList{Warning: &computepb.Warning{
			Code:    proto.String("NO_RESULTS_ON_PAGE"),
			Message: proto.String("There are no results for scope '" + scope + "' on this page."),
			Data:    []*computepb.Data{{Key: proto.String("scope"), Value: proto.String(scope)}},
		}}
	}
	writeProto(w, &computepb.SubnetworkAggregatedList{
		Kind:     proto.String("compute#subnetworkAggregatedList"),
		Id:       proto.String("projects/" + p.id + "/aggregated/subnetworks"),
		SelfLink: proto.String(linkBase + "projects/" + p.id + "/aggregated/subnetworks"),
		Items:    items,
	})
}

// withoutPaging keeps a request's filter and order but drops its paging,
// for lists that are answered whole.
func withoutPaging(r *http.Request) *http.Request {
	q := r.URL.Query()
	q.Del("maxResults")
	q.Del("pageToken")
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return r2
}

func parseSubnetCIDR(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() > 29 {
		return netip.Prefix{}, false
	}
	return p, true
}
