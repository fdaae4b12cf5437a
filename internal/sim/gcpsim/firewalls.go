package gcpsim

import (
	"fmt"
	"net/http"
	"net/mail"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// Fields a client may set on a firewall; the rest are output only.
var firewallInputFields = []string{
	"allowed", "denied", "description", "destinationRanges", "direction", "disabled",
	"logConfig", "priority", "sourceRanges", "sourceServiceAccounts", "sourceTags",
	"targetServiceAccounts", "targetTags",
}

var ipProtocols = []string{"tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all"}

// AddFirewall stores a firewall rule immediately, after the same checks as
// firewalls.insert.
func (s *Sim) AddFirewall(projectID string, fw *computepb.Firewall) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p := s.projects[projectID]
	if p == nil {
		return errNotFound("projects/" + projectID)
	}
	in := proto.Clone(fw).(*computepb.Firewall)
	if err := s.normalizeFirewall(p, in); err != nil {
		return err
	}
	if p.firewalls[in.GetName()] != nil {
		return errAlreadyExists(firewallPath(projectID, in.GetName()))
	}
	s.stampFirewall(p, in, s.newID(), s.now())
	p.firewalls[in.GetName()] = in
	return nil
}

// Firewalls returns a project's firewall rules by name.
func (s *Sim) Firewalls(projectID string) []*computepb.Firewall {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if p := s.projects[projectID]; p != nil {
		return p.firewallProtos()
	}
	return nil
}

func (p *project) firewallProtos() []*computepb.Firewall {
	names := make([]string, 0, len(p.firewalls))
	for n := range p.firewalls {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*computepb.Firewall, 0, len(names))
	for _, n := range names {
		out = append(out, proto.Clone(p.firewalls[n]).(*computepb.Firewall))
	}
	return out
}

func (s *Sim) stampFirewall(p *project, fw *computepb.Firewall, id uint64, at time.Time) {
	fw.Kind = proto.String("compute#firewall")
	fw.Id = proto.Uint64(id)
	fw.CreationTimestamp = proto.String(timestamp(at))
	fw.SelfLink = proto.String(linkBase + firewallPath(p.id, fw.GetName()))
}

// normalizeFirewall validates a firewall as Compute does and fills in its
// defaults (network, direction, priority, logging). Output-only fields in
// the input are dropped.
func (s *Sim) normalizeFirewall(p *project, fw *computepb.Firewall) *apiError {
	fw.Kind, fw.Id, fw.CreationTimestamp, fw.SelfLink, fw.Params = nil, nil, nil, nil, nil
	if fw.GetName() == "" {
		return errRequired("resource.name")
	}
	if !nameRE.MatchString(fw.GetName()) {
		return errInvalid("resource.name", fw.GetName(), "Must be a match of regex '"+nameRegex+"'")
	}
	ref := fw.GetNetwork()
	if ref == "" {
		ref = "global/networks/default"
	}
	pj, nn, ok := parseFirewallNetwork(ref, p.id)
	if !ok {
		return errInvalid("resource.network", ref, "The URL is malformed.")
	}
	if pj != p.id {
		return errInvalid("resource.network", ref, "Cross-project references for this resource are not allowed.")
	}
	if p.networks[nn] == nil {
		// Compute answers a missing network as a missing resource, naming it.
		return errNotFound(networkPath(pj, nn))
	}
	fw.Network = proto.String(linkBase + networkPath(pj, nn))

	dir := fw.GetDirection()
	switch dir {
	case "":
		dir = "INGRESS"
	case "INGRESS", "EGRESS":
	default:
		return errInvalid("resource.direction", dir, "Must be one of [EGRESS, INGRESS].")
	}
	fw.Direction = proto.String(dir)
	if fw.Priority == nil {
		fw.Priority = proto.Int32(1000)
	}
	if pr := fw.GetPriority(); pr < 0 || pr > 65535 {
		return errInvalid("resource.priority", strconv.Itoa(int(pr)), "Must be between 0 and 65535 inclusive.")
	}

	switch {
	case len(fw.Allowed) > 0 && len(fw.Denied) > 0:
		return errInvalid("resource.denied", "", "A firewall rule may specify allowed or denied, not both.")
	case len(fw.Allowed) == 0 && len(fw.Denied) == 0:
		return errRequired("resource.allowed")
	}
	for i, a := range fw.Allowed {
		prot, err := checkRule(fmt.Sprintf("resource.allowed[%d]", i), a.IPProtocol, a.Ports)
		if err != nil {
			return err
		}
		a.IPProtocol = &prot
	}
	for i, d := range fw.Denied {
		prot, err := checkRule(fmt.Sprintf("resource.denied[%d]", i), d.IPProtocol, d.Ports)
		if err != nil {
			return err
		}
		d.IPProtocol = &prot
	}

	for i, r := range fw.SourceRanges {
		if !validRange(r) {
			return errInvalid(fmt.Sprintf("resource.sourceRanges[%d]", i), r, "Must be a valid IPv4 or IPv6 CIDR range.")
		}
	}
	for i, r := range fw.DestinationRanges {
		if !validRange(r) {
			return errInvalid(fmt.Sprintf("resource.destinationRanges[%d]", i), r, "Must be a valid IPv4 or IPv6 CIDR range.")
		}
	}
	for _, f := range []struct {
		name string
		tags []string
	}{{"sourceTags", fw.SourceTags}, {"targetTags", fw.TargetTags}} {
		for i, t := range f.tags {
			if !nameRE.MatchString(t) {
				return errInvalid(fmt.Sprintf("resource.%s[%d]", f.name, i), t, "Must be a match of regex '"+nameRegex+"'")
			}
		}
	}
	for _, f := range []struct {
		name string
		sas  []string
	}{{"sourceServiceAccounts", fw.SourceServiceAccounts}, {"targetServiceAccounts", fw.TargetServiceAccounts}} {
		if len(f.sas) > 10 {
			return &apiError{code: 413, reason: "fieldSizeTooLarge", opCode: "FIELD_SIZE_TOO_LARGE",
				message: fmt.Sprintf("Value for field 'resource.%s' is too large: maximum size 10 element(s); actual size %d.", f.name, len(f.sas))}
		}
		for i, sa := range f.sas {
			if a, err := mail.ParseAddress(sa); err != nil || a.Address != sa {
				return errInvalid(fmt.Sprintf("resource.%s[%d]", f.name, i), sa, "Service accounts must be valid RFC 822 email addresses.")
			}
		}
	}
	// The API reference: targetServiceAccounts cannot be used at the same
	// time as targetTags or sourceTags; sourceServiceAccounts cannot be
	// used at the same time as sourceTags or targetTags.
	if len(fw.TargetServiceAccounts) > 0 && (len(fw.TargetTags) > 0 || len(fw.SourceTags) > 0) {
		return errInvalid("resource.targetServiceAccounts", "", "targetServiceAccounts cannot be used at the same time as targetTags or sourceTags.")
	}
	if len(fw.SourceServiceAccounts) > 0 && (len(fw.SourceTags) > 0 || len(fw.TargetTags) > 0) {
		return errInvalid("resource.sourceServiceAccounts", "", "sourceServiceAccounts cannot be used at the same time as sourceTags or targetTags.")
	}
	if dir == "EGRESS" {
		if len(fw.SourceTags) > 0 {
			return errInvalid("resource.sourceTags", "", "sourceTags cannot be specified for an EGRESS firewall rule.")
		}
		if len(fw.SourceServiceAccounts) > 0 {
			return errInvalid("resource.sourceServiceAccounts", "", "sourceServiceAccounts cannot be specified for an EGRESS firewall rule.")
		}
		if len(fw.DestinationRanges) == 0 {
			fw.DestinationRanges = []string{"0.0.0.0/0"}
		}
	} else if len(fw.SourceRanges) == 0 && len(fw.SourceTags) == 0 && len(fw.SourceServiceAccounts) == 0 {
		// An ingress rule needs a source (Terraform's documentation of the
		// API says one of the three is required).
		return errInvalid("resource.sourceRanges", "", "At least one of sourceRanges, sourceTags or sourceServiceAccounts must be specified for an INGRESS firewall rule.")
	}
	if fw.LogConfig == nil {
		fw.LogConfig = &computepb.FirewallLogConfig{Enable: proto.Bool(false)}
	}
	if fw.Disabled == nil {
		fw.Disabled = proto.Bool(false)
	}
	if fw.Description == nil {
		fw.Description = proto.String("")
	}
	return nil
}

// checkRule validates one allowed/denied entry and returns its protocol in
// Compute's lower-case spelling.
func checkRule(field string, ipProtocol *string, ports []string) (string, *apiError) {
	if ipProtocol == nil || *ipProtocol == "" {
		return "", errRequired(field + ".IPProtocol")
	}
	p := strings.ToLower(*ipProtocol)
	known := false
	for _, k := range ipProtocols {
		known = known || p == k
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		known = true
	}
	if !known {
		return "", errInvalid(field+".IPProtocol", *ipProtocol,
			"Must be one of [tcp, udp, icmp, esp, ah, sctp, ipip, all] or an IP protocol number between 0 and 255.")
	}
	portsOK := p == "tcp" || p == "udp" || p == "sctp" || p == "6" || p == "17" || p == "132"
	for i, port := range ports {
		f := fmt.Sprintf("%s.ports[%d]", field, i)
		if !portsOK {
			return "", errInvalid(f, port, "Ports may only be specified on rules whose protocol is one of [TCP, UDP, SCTP].")
		}
		lo, hi, isRange := strings.Cut(port, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b > 65535 || a > b {
			return "", errInvalid(f, port, "Must be a port number or a range of port numbers between 0 and 65535, such as 80 or 8000-9000.")
		}
	}
	return p, nil
}

// networkNotReady is Options.NotReadyWhilePeering: a firewall change on a
// network that a running peering operation holds is refused.
func (s *Sim) networkNotReady(projectID, networkRef string) *apiError {
	if !s.opts.NotReadyWhilePeering {
		return nil
	}
	pj, nn, ok := parseFirewallNetwork(networkRef, projectID)
	if ok && s.peeringBusy(networkKey(pj, nn)) {
		return errNotReady(networkPath(pj, nn))
	}
	return nil
}

// parseFirewallNetwork reads a firewall's network field: whatever
// parseNetworkRef accepts, or a bare network name, which Compute resolves
// in the firewall's own project.
func parseFirewallNetwork(ref, projectID string) (string, string, bool) {
	if nameRE.MatchString(ref) {
		return projectID, ref, true
	}
	return parseNetworkRef(ref, projectID)
}

func validRange(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

func (s *Sim) firewallProject(w http.ResponseWriter, pp params, permission string) (*project, string, bool) {
	path := firewallPath(pp["project"], pp["firewall"])
	if pp["firewall"] == "" {
		path = "projects/" + pp["project"] + "/global/firewalls"
	}
	p, err := s.projectFor(pp["project"], permission, path)
	if err != nil {
		writeError(w, err)
		return nil, "", false
	}
	return p, path, true
}

func (s *Sim) getFirewall(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, path, ok := s.firewallProject(w, pp, "compute.firewalls.get")
	if !ok {
		return
	}
	fw := p.firewalls[pp["firewall"]]
	if fw == nil {
		writeError(w, errNotFound(path))
		return
	}
	writeProto(w, fw)
}

func (s *Sim) listFirewalls(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, _, ok := s.firewallProject(w, pp, "compute.firewalls.list")
	if !ok {
		return
	}
	page, next, err := listPage(r, p.firewallProtos())
	if err != nil {
		writeError(w, err)
		return
	}
	base := "projects/" + p.id + "/global/firewalls"
	writeProto(w, &computepb.FirewallList{
		Kind:          proto.String("compute#firewallList"),
		Id:            proto.String(base),
		SelfLink:      proto.String(linkBase + base),
		Items:         page,
		NextPageToken: next,
	})
}

func (s *Sim) insertFirewall(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, _, ok := s.firewallProject(w, pp, "compute.firewalls.create")
	if !ok {
		return
	}
	if prev, err := s.replayed(p.id, r); err != nil || prev != nil {
		if err != nil {
			writeError(w, err)
		} else {
			writeProto(w, prev.proto(s.now()))
		}
		return
	}
	var fw computepb.Firewall
	if _, err := decodeBody(r, &fw); err != nil {
		writeError(w, err)
		return
	}
	if err := s.normalizeFirewall(p, &fw); err != nil {
		writeError(w, err)
		return
	}
	// Creating a rule also needs the right to change the network's policy.
	if _, nn, _ := parseNetworkRef(fw.GetNetwork(), p.id); s.denied[p.id]["compute.networks.updatePolicy"] {
		writeError(w, errForbidden("compute.networks.updatePolicy", networkPath(p.id, nn)))
		return
	}
	if err := s.networkNotReady(p.id, fw.GetNetwork()); err != nil {
		writeError(w, err)
		return
	}
	name := fw.GetName()
	path := firewallPath(p.id, name)
	if p.firewalls[name] != nil || s.firewallBusy(p.id, name) != nil {
		writeError(w, errAlreadyExists(path))
		return
	}
	if limit := p.quotas["FIREWALLS"]; p.usage("FIREWALLS") >= limit {
		writeError(w, errQuota("FIREWALLS", limit))
		return
	}
	id := s.newID()
	op := s.startOperation(p.id, "insert", linkBase+path, id, func(at time.Time) *apiError {
		if p.firewalls[name] != nil {
			return errAlreadyExists(path)
		}
		s.stampFirewall(p, &fw, id, at)
		p.firewalls[name] = &fw
		return nil
	})
	op.firewall = name
	s.accept(w, r, op)
}

// patchFirewall merges the fields present in the body into the rule (a
// present empty list clears it), then validates the result as a whole.
func (s *Sim) patchFirewall(w http.ResponseWriter, r *http.Request, pp params) {
	s.changeFirewall(w, r, pp, "patch")
}

// updateFirewall replaces every settable field with the body's.
func (s *Sim) updateFirewall(w http.ResponseWriter, r *http.Request, pp params) {
	s.changeFirewall(w, r, pp, "update")
}

func (s *Sim) changeFirewall(w http.ResponseWriter, r *http.Request, pp params, opType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, path, ok := s.firewallProject(w, pp, "compute.firewalls.update")
	if !ok {
		return
	}
	if prev, err := s.replayed(p.id, r); err != nil || prev != nil {
		if err != nil {
			writeError(w, err)
		} else {
			writeProto(w, prev.proto(s.now()))
		}
		return
	}
	cur := p.firewalls[pp["firewall"]]
	if cur == nil {
		writeError(w, errNotFound(path))
		return
	}
	if s.firewallBusy(p.id, cur.GetName()) != nil {
		writeError(w, errNotReady(path))
		return
	}
	var in computepb.Firewall
	present, err := decodeBody(r, &in)
	if err != nil {
		writeError(w, err)
		return
	}
	if in.Name != nil && in.GetName() != cur.GetName() {
		writeError(w, errInvalid("resource.name", in.GetName(), "The name of a firewall rule cannot be changed."))
		return
	}
	if in.Network != nil {
		pj, nn, okRef := parseFirewallNetwork(in.GetNetwork(), p.id)
		if cpj, cnn, _ := parseNetworkRef(cur.GetNetwork(), p.id); !okRef || pj != cpj || nn != cnn {
			writeError(w, errInvalid("resource.network", in.GetNetwork(), "The network of a firewall rule cannot be changed."))
			return
		}
	}
	next := proto.Clone(cur).(*computepb.Firewall)
	dst, src := next.ProtoReflect(), in.ProtoReflect()
	fields := dst.Descriptor().Fields()
	for _, name := range firewallInputFields {
		fd := fields.ByJSONName(name)
		if opType == "patch" && !present[name] {
			continue
		}
		if src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		} else {
			dst.Clear(fd)
		}
	}
	if in.Direction != nil && in.GetDirection() != cur.GetDirection() {
		writeError(w, errInvalid("resource.direction", in.GetDirection(), "The direction of a firewall rule cannot be changed."))
		return
	}
	if err := s.normalizeFirewall(p, next); err != nil {
		writeError(w, err)
		return
	}
	if err := s.networkNotReady(p.id, next.GetNetwork()); err != nil {
		writeError(w, err)
		return
	}
	name := cur.GetName()
	id := cur.GetId()
	op := s.startOperation(p.id, opType, linkBase+path, id, func(at time.Time) *apiError {
		old := p.firewalls[name]
		if old == nil {
			return errNotFound(path)
		}
		next.Kind, next.Id, next.CreationTimestamp, next.SelfLink = old.Kind, old.Id, old.CreationTimestamp, old.SelfLink
		p.firewalls[name] = next
		return nil
	})
	op.firewall = name
	s.accept(w, r, op)
}

func (s *Sim) deleteFirewall(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p, path, ok := s.firewallProject(w, pp, "compute.firewalls.delete")
	if !ok {
		return
	}
	if prev, err := s.replayed(p.id, r); err != nil || prev != nil {
		if err != nil {
			writeError(w, err)
		} else {
			writeProto(w, prev.proto(s.now()))
		}
		return
	}
	cur := p.firewalls[pp["firewall"]]
	if cur == nil {
		writeError(w, errNotFound(path))
		return
	}
	if s.firewallBusy(p.id, cur.GetName()) != nil {
		writeError(w, errNotReady(path))
		return
	}
	if err := s.networkNotReady(p.id, cur.GetNetwork()); err != nil {
		writeError(w, err)
		return
	}
	name := cur.GetName()
	op := s.startOperation(p.id, "delete", linkBase+path, cur.GetId(), func(time.Time) *apiError {
		if p.firewalls[name] == nil {
			return errNotFound(path)
		}
		delete(p.firewalls, name)
		return nil
	})
	op.firewall = name
	s.accept(w, r, op)
}
