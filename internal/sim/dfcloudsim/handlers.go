package dfcloudsim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

const maxBody = 1 << 20

func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request) {
	if msg, ok := s.authorize(r); !ok {
		writeError(w, http.StatusUnauthorized, msg)
		return
	}

	path := r.URL.Path
	switch {
	case path == "/v1/networks":
		switch r.Method {
		case http.MethodGet:
			s.listNetworks(w)
		case http.MethodPost:
			s.createNetwork(w, r)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case strings.HasPrefix(path, "/v1/networks/"):
		id, ok := itemID(path, "/v1/networks/")
		if !ok {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.getNetwork(w, id)
		case http.MethodPut:
			s.updateNetwork(w, r, id)
		case http.MethodDelete:
			s.deleteNetwork(w, id)
		default:
			methodNotAllowed(w, "GET, PUT, DELETE")
		}
	case path == "/v1/connections":
		switch r.Method {
		case http.MethodGet:
			s.listConnections(w)
		case http.MethodPost:
			s.createConnection(w, r)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case strings.HasPrefix(path, "/v1/connections/"):
		id, ok := itemID(path, "/v1/connections/")
		if !ok {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.getConnection(w, id)
		case http.MethodDelete:
			s.deleteConnection(w, id)
		default:
			// Connections cannot be updated: changing one means delete
			// and re-create.
			methodNotAllowed(w, "GET, DELETE")
		}
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// authorize checks the bearer key. The messages never echo what was sent.
func (s *Sim) authorize(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "missing API key: send it as \"Authorization: Bearer <key>\"", false
	}
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "malformed Authorization header: expected \"Bearer <key>\"", false
	}
	if s.opts.APIKey == "" || subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey)) != 1 {
		return "invalid API key", false
	}
	return "", true
}

func itemID(path, prefix string) (string, bool) {
	id := strings.TrimPrefix(path, prefix)
	if id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// decodeBody reads a JSON object strictly: unknown fields, trailing data and
// wrong types are errors, as a typed server would treat them.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return invalid("could not read request body")
	}
	if len(body) > maxBody {
		return invalid("request body too large")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return invalid("request body is empty: expected a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return invalid("invalid JSON body: field %q has the wrong type (got %s)", typeErr.Field, typeErr.Value)
		case errors.As(err, &syntaxErr):
			return invalid("invalid JSON body: %v at offset %d", syntaxErr, syntaxErr.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return invalid("invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return invalid("invalid JSON body: %v", err)
	}
	if dec.More() {
		return invalid("invalid JSON body: unexpected data after the object")
	}
	return nil
}

func (s *Sim) listNetworks(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	out := []Network{}
	for _, id := range s.netOrder {
		if n := s.networks[id]; n.wire.Status != NetworkDeleted {
			out = append(out, n.wire)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// liveNetwork returns a network that has not been deleted.
func (s *Sim) liveNetwork(id string) (*network, bool) {
	n, ok := s.networks[id]
	if !ok || n.wire.Status == NetworkDeleted {
		return nil, false
	}
	return n, true
}

func (s *Sim) getNetwork(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	n, ok := s.liveNetwork(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("network %s not found", id))
		return
	}
	writeJSON(w, http.StatusOK, n.wire)
}

func (s *Sim) createNetwork(w http.ResponseWriter, r *http.Request) {
	var cfg networkConfig
	if err := decodeBody(r, &cfg); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := validateNetworkConfig(cfg); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)
	id := s.newID("net", func(id string) bool { _, taken := s.networks[id]; return taken })
	n := &network{
		wire: Network{
			NetworkID: id,
			Status:    NetworkPending,
			CreatedAt: now.Unix(),
			Name:      cfg.Name,
			Location:  cfg.Location,
			CIDRBlock: cfg.CIDRBlock,
		},
		since: now,
		auto:  true,
	}
	s.networks[id] = n
	s.netOrder = append(s.netOrder, id)
	writeJSON(w, http.StatusOK, n.wire)
}

// updateNetwork takes a whole network config. Only the name can change:
// where a network lives and its address range are fixed once it exists (the
// Terraform provider replaces the network for those).
func (s *Sim) updateNetwork(w http.ResponseWriter, r *http.Request, id string) {
	var cfg networkConfig
	if err := decodeBody(r, &cfg); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	n, ok := s.liveNetwork(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("network %s not found", id))
		return
	}
	if err := validateNetworkConfig(cfg); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if n.wire.Status == NetworkDeleting {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("network %s is being deleted", id))
		return
	}
	if cfg.Location != n.wire.Location {
		writeError(w, http.StatusBadRequest, "location cannot be changed; create a new network instead")
		return
	}
	if cfg.CIDRBlock != n.wire.CIDRBlock {
		writeError(w, http.StatusBadRequest, "cidr_block cannot be changed; create a new network instead")
		return
	}
	n.wire.Name = cfg.Name
	writeJSON(w, http.StatusOK, n.wire)
}

func (s *Sim) deleteNetwork(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)
	n, ok := s.liveNetwork(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("network %s not found", id))
		return
	}
	if n.wire.Status != NetworkDeleting {
		live := 0
		for _, c := range s.conns {
			if c.wire.Config.NetworkID == id && c.wire.Status != ConnDeleted {
				live++
			}
		}
		if live > 0 {
			writeError(w, http.StatusConflict, fmt.Sprintf("network %s still has %d connection(s); delete them first", id, live))
			return
		}
		n.wire.Status = NetworkDeleting
		n.since = now
		n.auto = true
	}
	writeJSON(w, http.StatusOK, n.wire)
}

func (s *Sim) listConnections(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	out := []Connection{}
	for _, id := range s.conOrder {
		if c := s.conns[id]; c.wire.Status != ConnDeleted {
			out = append(out, c.wire)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// liveConnection returns a connection that has not been deleted: a deleted
// connection is gone as far as the API is concerned.
func (s *Sim) liveConnection(id string) (*connection, bool) {
	c, ok := s.conns[id]
	if !ok || c.wire.Status == ConnDeleted {
		return nil, false
	}
	return c, true
}

func (s *Sim) getConnection(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	c, ok := s.liveConnection(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("connection %s not found", id))
		return
	}
	writeJSON(w, http.StatusOK, c.wire)
}

func (s *Sim) createConnection(w http.ResponseWriter, r *http.Request) {
	var cfg ConnectionConfig
	if err := decodeBody(r, &cfg); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)

	if err := validateName("name", cfg.Name); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if cfg.NetworkID == "" {
		writeError(w, http.StatusBadRequest, "network_id is required")
		return
	}
	n, ok := s.liveNetwork(cfg.NetworkID)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("network %s not found", cfg.NetworkID))
		return
	}
	if n.wire.Status != NetworkActive {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("network %s is not active (status %s)", cfg.NetworkID, n.wire.Status))
		return
	}
	if err := validatePeer(cfg.Peer, n.wire); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// The Terraform provider always sends an "azure" object, empty for
	// other clouds; store it as absent.
	if cfg.Peer.Azure.empty() {
		cfg.Peer.Azure = nil
	}
	for _, id := range s.conOrder {
		c := s.conns[id]
		if c.wire.Config.NetworkID == cfg.NetworkID && c.wire.Config.Name == cfg.Name && c.wire.Status != ConnDeleted {
			writeError(w, http.StatusConflict, fmt.Sprintf("connection name %q already exists in network %s", cfg.Name, cfg.NetworkID))
			return
		}
	}

	id := s.newID("conn", func(id string) bool { _, taken := s.conns[id]; return taken })
	c := &connection{
		wire: Connection{
			ConnectionID: id,
			Status:       ConnPending,
			Config:       cfg,
		},
		provider: n.wire.Location.Provider,
		since:    now,
	}
	s.conns[id] = c
	s.conOrder = append(s.conOrder, id)
	writeJSON(w, http.StatusOK, c.wire)
}

func (s *Sim) deleteConnection(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)
	c, ok := s.liveConnection(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("connection %s not found", id))
		return
	}
	s.startDelete(c, now)
	writeJSON(w, http.StatusOK, c.wire)
}
