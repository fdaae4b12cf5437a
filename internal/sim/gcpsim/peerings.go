package gcpsim

import (
	"net/http"
	"regexp"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// replayed implements requestId: a mutation repeated with the same
// requestId returns the first request's operation instead of acting twice.
func (s *Sim) replayed(projectID string, r *http.Request) (*operation, *apiError) {
	id := r.URL.Query().Get("requestId")
	if id == "" {
		return nil, nil
	}
	if !uuidRE.MatchString(id) || id == "00000000-0000-0000-0000-000000000000" {
		return nil, errInvalid("requestId", id, "The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).")
	}
	return s.requestIDs[projectID+"/"+id], nil
}

func (s *Sim) remember(projectID string, r *http.Request, op *operation) {
	if id := r.URL.Query().Get("requestId"); id != "" {
		s.requestIDs[projectID+"/"+id] = op
	}
}

// accept finishes a mutation handler: remember the requestId, let a
// zero-delay operation complete, answer the operation.
func (s *Sim) accept(w http.ResponseWriter, r *http.Request, op *operation) {
	s.remember(op.project, r, op)
	s.advance()
	writeProto(w, op.proto(s.now()))
}

// addressedNetwork finds the network a request names, after the
// permission check; when it cannot, it has written Compute's error.
func (s *Sim) addressedNetwork(w http.ResponseWriter, pp params, permission string) (*project, *network, bool) {
	path := networkPath(pp["project"], pp["network"])
	p, err := s.projectFor(pp["project"], permission, path)
	if err != nil {
		writeError(w, err)
		return nil, nil, false
	}
	n := p.networks[pp["network"]]
	if n == nil {
		writeError(w, errNotFound(path))
		return nil, nil, false
	}
	return p, n, true
}

// localNetwork is the common start of the peering methods: permission,
// project, network, requestId replay.
func (s *Sim) localNetwork(w http.ResponseWriter, r *http.Request, pp params, permission string) (*network, bool) {
	p, n, ok := s.addressedNetwork(w, pp, permission)
	if !ok {
		return nil, false
	}
	prev, err := s.replayed(p.id, r)
	if err != nil {
		writeError(w, err)
		return nil, false
	}
	if prev != nil {
		writeProto(w, prev.proto(s.now()))
		return nil, false
	}
	return n, true
}

// addPeering implements networks.addPeering. The request names the peering
// either in networkPeering (current form) or in the top-level name,
// peerNetwork and autoCreateRoutes (legacy form); Compute accepts either
// but not a mix.
func (s *Sim) addPeering(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n, ok := s.localNetwork(w, r, pp, "compute.networks.addPeering")
	if !ok {
		return
	}
	var req computepb.NetworksAddPeeringRequest
	if _, err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	pe, field, ref, err := peeringFromRequest(&req)
	if err != nil {
		writeError(w, err)
		return
	}
	if !nameRE.MatchString(pe.name) {
		writeError(w, errInvalid(field+"name", pe.name, "Must be a match of regex '"+nameRegex+"'"))
		return
	}
	netField := field + "network"
	if req.NetworkPeering == nil {
		netField = "resource.peerNetwork"
	}
	var okRef bool
	pe.peerProject, pe.peerNetwork, okRef = parseNetworkRef(ref, n.project)
	if !okRef {
		writeError(w, errInvalid(netField, ref, "The URL is malformed."))
		return
	}
	if pe.peerProject == n.project && pe.peerNetwork == n.name {
		// Unverified wording.
		writeError(w, errInvalid(netField, ref, "A network cannot be peered with itself."))
		return
	}
	if s.network(pe.peerProject, pe.peerNetwork) == nil {
		writeError(w, errNotFound(networkPath(pe.peerProject, pe.peerNetwork)))
		return
	}
	local, peer := networkKey(n.project, n.name), networkKey(pe.peerProject, pe.peerNetwork)
	if s.peeringBusy(local, peer) {
		writeError(w, errPeeringInProgress())
		return
	}
	if err := checkNewPeering(n, pe, field); err != nil {
		writeError(w, err)
		return
	}
	projectID, name := n.project, n.name
	op := s.startOperation(projectID, "addPeering", linkBase+networkPath(projectID, name), n.id,
		func(at time.Time) *apiError {
			n := s.network(projectID, name)
			if n == nil {
				return errNotFound(networkPath(projectID, name))
			}
			return s.commitPeering(n, pe, at)
		})
	op.networks = []string{local, peer}
	s.accept(w, r, op)
}

// peeringFromRequest reads either form of addPeering's body. It returns
// the peering, the field prefix for messages and the raw peer reference.
func peeringFromRequest(req *computepb.NetworksAddPeeringRequest) (*peering, string, string, *apiError) {
	np := req.NetworkPeering
	if np == nil {
		if req.Name == nil || req.GetName() == "" {
			return nil, "", "", errRequired("resource.name")
		}
		if req.GetPeerNetwork() == "" {
			return nil, "", "", errRequired("resource.peerNetwork")
		}
		// "Currently this field should always be true."
		if !req.GetAutoCreateRoutes() {
			return nil, "", "", errInvalid("resource.autoCreateRoutes", "false",
				"Peering must be created with autoCreateRoutes set to true.")
		}
		return &peering{name: req.GetName(), exportPublic: true, stackType: "IPV4_ONLY", updateStrategy: "INDEPENDENT"},
			"resource.", req.GetPeerNetwork(), nil
	}
	if req.Name != nil || req.PeerNetwork != nil || req.AutoCreateRoutes != nil {
		// Unverified wording; a mixed request is refused.
		return nil, "", "", errInvalid("resource.networkPeering", "",
			"When networkPeering is specified, name, peerNetwork and autoCreateRoutes must not be set; set all peering parameters in networkPeering.")
	}
	const f = "resource.networkPeering."
	if np.GetName() == "" {
		return nil, "", "", errRequired(f + "name")
	}
	if np.GetNetwork() == "" {
		return nil, "", "", errRequired(f + "network")
	}
	// "Currently this field should always be true."
	if !np.GetExchangeSubnetRoutes() {
		return nil, "", "", errInvalid(f+"exchangeSubnetRoutes", "false",
			"Peering must be created with exchangeSubnetRoutes set to true.")
	}
	pe := &peering{
		name:           np.GetName(),
		importCustom:   np.GetImportCustomRoutes(),
		exportCustom:   np.GetExportCustomRoutes(),
		exportPublic:   np.ExportSubnetRoutesWithPublicIp == nil || np.GetExportSubnetRoutesWithPublicIp(),
		importPublic:   np.GetImportSubnetRoutesWithPublicIp(),
		stackType:      orDefault(np.GetStackType(), "IPV4_ONLY"),
		updateStrategy: orDefault(np.GetUpdateStrategy(), "INDEPENDENT"),
	}
	if err := checkPeeringEnums(pe, f); err != nil {
		return nil, "", "", err
	}
	return pe, f, np.GetNetwork(), nil
}

func checkPeeringEnums(pe *peering, f string) *apiError {
	if pe.stackType != "IPV4_ONLY" && pe.stackType != "IPV4_IPV6" {
		return errInvalid(f+"stackType", pe.stackType, "Must be one of [IPV4_IPV6, IPV4_ONLY].")
	}
	if pe.updateStrategy != "INDEPENDENT" && pe.updateStrategy != "CONSENSUS" {
		return errInvalid(f+"updateStrategy", pe.updateStrategy, "Must be one of [CONSENSUS, INDEPENDENT].")
	}
	return nil
}

func (s *Sim) removePeering(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n, ok := s.localNetwork(w, r, pp, "compute.networks.removePeering")
	if !ok {
		return
	}
	var req computepb.NetworksRemovePeeringRequest
	if _, err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.GetName() == "" {
		writeError(w, errRequired("resource.name"))
		return
	}
	pe := n.peeringNamed(req.GetName())
	if pe == nil {
		// A 404, which Terraform's provider treats as "already removed".
		writeError(w, errNotFound(networkPath(n.project, n.name)+"/peerings/"+req.GetName()))
		return
	}
	local, peer := networkKey(n.project, n.name), networkKey(pe.peerProject, pe.peerNetwork)
	if s.peeringBusy(local, peer) {
		writeError(w, errPeeringInProgress())
		return
	}
	projectID, name, peeringName := n.project, n.name, pe.name
	op := s.startOperation(projectID, "removePeering", linkBase+networkPath(projectID, name), n.id,
		func(at time.Time) *apiError {
			n := s.network(projectID, name)
			if n == nil {
				return errNotFound(networkPath(projectID, name))
			}
			if !n.removePeering(peeringName) {
				return errNotFound(networkPath(projectID, name) + "/peerings/" + peeringName)
			}
			s.refreshPeerings(at, local, peer)
			return nil
		})
	op.networks = []string{local, peer}
	s.accept(w, r, op)
}

// updatePeering implements networks.updatePeering: route exchange options
// change; the peer network and exchangeSubnetRoutes do not.
func (s *Sim) updatePeering(w http.ResponseWriter, r *http.Request, pp params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	n, ok := s.localNetwork(w, r, pp, "compute.networks.updatePeering")
	if !ok {
		return
	}
	var req computepb.NetworksUpdatePeeringRequest
	if _, err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	const f = "resource.networkPeering."
	np := req.NetworkPeering
	if np == nil {
		writeError(w, errRequired("resource.networkPeering"))
		return
	}
	if np.GetName() == "" {
		writeError(w, errRequired(f+"name"))
		return
	}
	pe := n.peeringNamed(np.GetName())
	if pe == nil {
		writeError(w, errNotFound(networkPath(n.project, n.name)+"/peerings/"+np.GetName()))
		return
	}
	if np.Network != nil {
		pj, nn, okRef := parseNetworkRef(np.GetNetwork(), n.project)
		if !okRef || pj != pe.peerProject || nn != pe.peerNetwork {
			writeError(w, errInvalid(f+"network", np.GetNetwork(), "The peer network of an existing peering cannot be changed."))
			return
		}
	}
	if np.ExchangeSubnetRoutes != nil && !np.GetExchangeSubnetRoutes() {
		writeError(w, errInvalid(f+"exchangeSubnetRoutes", "false", "Peering must have exchangeSubnetRoutes set to true."))
		return
	}
	next := *pe
	if np.ImportCustomRoutes != nil {
		next.importCustom = np.GetImportCustomRoutes()
	}
	if np.ExportCustomRoutes != nil {
		next.exportCustom = np.GetExportCustomRoutes()
	}
	if np.ImportSubnetRoutesWithPublicIp != nil {
		next.importPublic = np.GetImportSubnetRoutesWithPublicIp()
	}
	if np.ExportSubnetRoutesWithPublicIp != nil {
		next.exportPublic = np.GetExportSubnetRoutesWithPublicIp()
	}
	if np.StackType != nil {
		next.stackType = np.GetStackType()
	}
	if np.UpdateStrategy != nil {
		next.updateStrategy = np.GetUpdateStrategy()
	}
	if err := checkPeeringEnums(&next, f); err != nil {
		writeError(w, err)
		return
	}
	local, peer := networkKey(n.project, n.name), networkKey(pe.peerProject, pe.peerNetwork)
	if s.peeringBusy(local, peer) {
		writeError(w, errPeeringInProgress())
		return
	}
	projectID, name, peeringName := n.project, n.name, pe.name
	op := s.startOperation(projectID, "updatePeering", linkBase+networkPath(projectID, name), n.id,
		func(at time.Time) *apiError {
			n := s.network(projectID, name)
			if n == nil {
				return errNotFound(networkPath(projectID, name))
			}
			cur := n.peeringNamed(peeringName)
			if cur == nil {
				return errNotFound(networkPath(projectID, name) + "/peerings/" + peeringName)
			}
			cur.importCustom, cur.exportCustom = next.importCustom, next.exportCustom
			cur.importPublic, cur.exportPublic = next.importPublic, next.exportPublic
			cur.stackType, cur.updateStrategy = next.stackType, next.updateStrategy
			return nil
		})
	op.networks = []string{local, peer}
	s.accept(w, r, op)
}
