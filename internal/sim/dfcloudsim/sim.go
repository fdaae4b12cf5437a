// Package dfcloudsim simulates the Dragonfly Cloud API (/v1/networks and
// /v1/connections) closely enough for dfpeer's tests and sandbox mode to run
// against it instead of the real service.
//
// The contract it follows is the project's Dragonfly Cloud API reference
// (dragonfly-cloud-api.md, from the public Terraform provider):
// Bearer-key authentication, JSON bodies, 200 with the object on success,
// 404 for unknown IDs and {"error": "..."} on other 4xx. Connections go
// through the real state machine:
//
//	pending --(Delays.Provision, Cloud.CreatePeering)--> inactive
//	inactive --(cloud reports Established, then Delays.Activate)--> active
//	inactive --(cloud reports Failed)--> failed
//	active --(cloud reports Gone)--> irrecoverable
//	any --(DELETE, Cloud.DeletePeering)--> deleting --(Delays.Delete)--> deleted
//
// The state advances lazily: every request (and every accessor such as
// Connection or Snapshot) first brings the state up to Options.Now. There is
// no background goroutine, so nothing leaks and a test with an injected clock
// controls time completely.
//
// Dragonfly's half of a peering is created through the simcloud.Cloud
// registered for the network's provider. When no Cloud is registered for a
// provider, a connection still turns inactive after Delays.Provision (with a
// made-up peer_connection_id: "pcx-sim…" on AWS, "dfcloud-<connection id>"
// elsewhere) and then stays inactive forever, since nothing can ever
// establish it; tests use SetConnectionStatus to move it on.
//
// Cloud implementations are called with the simulator's lock held and must
// not call back into the Sim.
package dfcloudsim

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// Delays are how long the simulated service takes for its asynchronous
// steps. Zero means the step happens on the next request.
type Delays struct {
	// Provision is how long a connection stays pending before the simulator
	// asks the cloud for Dragonfly's half of the peering (and it turns
	// inactive, or failed).
	Provision time.Duration
	// Activate is how long after the cloud first reports the peering as
	// established the connection turns active.
	Activate time.Duration
	// Delete is how long a connection stays deleting.
	Delete time.Duration
	// Network is how long a network created through the API stays pending
	// before turning active, and how long a deleted network stays deleting.
	Network time.Duration
}

// Options configure a Sim.
type Options struct {
	// APIKey is the only key the simulator accepts. Empty means no key
	// works, which is rarely what a test wants.
	APIKey string
	Delays Delays
	// Clouds create Dragonfly's half of peerings, one per provider.
	Clouds []simcloud.Cloud
	// Now is the simulator's clock; default time.Now.
	Now func() time.Time
	// IDs makes new network and connection IDs from a prefix ("net",
	// "conn"). Default: prefix + "-" + 12 random hex digits. Golden tests
	// pass a counter so that IDs are stable.
	IDs func(prefix string) string
}

// Sim is a simulated Dragonfly Cloud API.
type Sim struct {
	opts    Options
	clouds  map[string]simcloud.Cloud
	http    *simhttp.Server
	handler http.Handler

	mu       sync.Mutex
	networks map[string]*network
	netOrder []string // creation order, so that state advances deterministically
	conns    map[string]*connection
	conOrder []string
}

type network struct {
	wire  Network
	since time.Time // when the current status began
	// auto is set for networks created or deleted through the API, which
	// move on by themselves after Delays.Network. Seeded and forced
	// statuses stay as given, so a test can hold a network pending.
	auto bool
}

type connection struct {
	wire          Connection
	provider      string
	since         time.Time // when the current status began
	establishedAt time.Time // when the cloud first reported Established; zero if not
}

// New returns a simulator with no networks.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IDs == nil {
		opts.IDs = randomID
	}
	s := &Sim{
		opts:     opts,
		clouds:   map[string]simcloud.Cloud{},
		networks: map[string]*network{},
		conns:    map[string]*connection{},
	}
	for _, c := range opts.Clouds {
		s.clouds[c.Provider()] = c
	}
	s.http = simhttp.Wrap(http.HandlerFunc(s.serveAPI), simhttp.Options{
		Classify:   classify,
		WriteFault: writeFault,
	})
	s.handler = s.http
	return s
}

// Handler returns the API handler, wrapped in the request log and fault
// injection. Serve it with httptest.NewServer or http.Server.
func (s *Sim) Handler() http.Handler { return s.handler }

// HTTP gives access to the request log and fault injection.
func (s *Sim) HTTP() *simhttp.Server { return s.http }

func randomID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// newID asks Options.IDs for an ID not yet in use.
func (s *Sim) newID(prefix string, taken func(string) bool) string {
	for {
		id := s.opts.IDs(prefix)
		if !taken(id) {
			return id
		}
	}
}

// SeedNetworks adds networks as they would exist in an account. Missing
// fields are filled in: status "active", created_at now, and a VPC derived
// from the network ID for active networks. An existing ID is replaced. The
// given status stays until SetNetworkStatus or an API DELETE changes it.
func (s *Sim) SeedNetworks(nets []Network) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for _, n := range nets {
		if n.Status == "" {
			n.Status = NetworkActive
		}
		if n.CreatedAt == 0 {
			n.CreatedAt = now.Unix()
		}
		if n.VPC == nil && n.Status == NetworkActive {
			n.VPC = dragonflyVPC(n)
		}
		if _, ok := s.networks[n.NetworkID]; !ok {
			s.netOrder = append(s.netOrder, n.NetworkID)
		}
		s.networks[n.NetworkID] = &network{wire: n, since: now}
	}
}

// LoadNetworks seeds networks from a JSON array of network objects (the
// shape GET /v1/networks returns). Unknown fields are an error, so that a
// typo in a fixture does not go unnoticed.
func (s *Sim) LoadNetworks(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var nets []Network
	if err := dec.Decode(&nets); err != nil {
		return fmt.Errorf("dfcloudsim: load networks: %w", err)
	}
	for i, n := range nets {
		if n.NetworkID == "" {
			return fmt.Errorf("dfcloudsim: load networks: entry %d has no network_id", i)
		}
		if !slices.Contains(providers, n.Location.Provider) {
			return fmt.Errorf("dfcloudsim: load networks: network %s: unknown provider %q", n.NetworkID, n.Location.Provider)
		}
	}
	s.SeedNetworks(nets)
	return nil
}

// Network returns a network in any status, including deleted.
func (s *Sim) Network(id string) (Network, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	n, ok := s.networks[id]
	if !ok {
		return Network{}, false
	}
	return n.wire, true
}

// SetNetworkStatus forces a network's status (e.g. "pending" or "failed" to
// test that connections to it are refused). The status stays until changed
// again or the network is deleted through the API.
func (s *Sim) SetNetworkStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.networks[id]; ok {
		n.wire.Status = status
		n.since = s.opts.Now()
		n.auto = false
		if status == NetworkActive && n.wire.VPC == nil {
			n.wire.VPC = dragonflyVPC(n.wire)
		}
	}
}

// Connection returns a connection in any status, including deleted.
func (s *Sim) Connection(id string) (Connection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	c, ok := s.conns[id]
	if !ok {
		return Connection{}, false
	}
	return c.wire, true
}

// Connections returns every connection, including deleted ones (which the
// API no longer lists), sorted by ID.
func (s *Sim) Connections() []Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	out := make([]Connection, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c.wire)
	}
	slices.SortFunc(out, func(a, b Connection) int { return strings.Compare(a.ConnectionID, b.ConnectionID) })
	return out
}

// SetConnectionStatus forces a connection's status and status_detail, as
// the service would after an event the simulator does not model. The timer
// of the new status starts now, so a forced "deleting" still takes
// Delays.Delete to become deleted.
func (s *Sim) SetConnectionStatus(id, status, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.conns[id]; ok {
		c.wire.Status = status
		c.wire.StatusDetail = detail
		c.since = s.opts.Now()
		c.establishedAt = time.Time{}
	}
}

// Snapshot returns the whole state (networks and connections, deleted ones
// included) as indented JSON sorted by ID. It holds no request log and no
// timer, so two snapshots with no request in between are byte-identical;
// compare them once pending delays have elapsed, since the state is first
// advanced to now.
func (s *Sim) Snapshot() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.opts.Now())
	snap := struct {
		Networks    []Network    `json:"networks"`
		Connections []Connection `json:"connections"`
	}{Networks: []Network{}, Connections: []Connection{}}
	for _, n := range s.networks {
		snap.Networks = append(snap.Networks, n.wire)
	}
	for _, c := range s.conns {
		snap.Connections = append(snap.Connections, c.wire)
	}
	slices.SortFunc(snap.Networks, func(a, b Network) int { return strings.Compare(a.NetworkID, b.NetworkID) })
	slices.SortFunc(snap.Connections, func(a, b Connection) int { return strings.Compare(a.ConnectionID, b.ConnectionID) })
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		panic(err) // only plain strings and numbers: cannot fail
	}
	return append(b, '\n')
}

// dragonflyVPC invents Dragonfly's VPC for a network, derived from its ID
// so that it is stable across runs.
func dragonflyVPC(n Network) *VPC {
	sum := sha256.Sum256([]byte(n.NetworkID))
	h := hex.EncodeToString(sum[:])
	switch n.Location.Provider {
	case "gcp":
		return &VPC{ResourceID: "dfcloud-" + sanitizeGCPName(n.NetworkID), AccountID: "dragonfly-cloud-sim"}
	case "azure":
		sub := h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
		return &VPC{
			ResourceID: "dfcloud-vnet-" + sanitizeGCPName(n.NetworkID),
			AccountID:  "/subscriptions/" + sub + "/resourceGroups/dfcloud-" + n.Location.Region,
		}
	default:
		return &VPC{ResourceID: "vpc-" + h[:17], AccountID: "210987654321"}
	}
}

// sanitizeGCPName turns an ID into something valid in a GCP resource name.
func sanitizeGCPName(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// syntheticPeerID is the peer_connection_id reported when no Cloud is
// registered for the provider.
func syntheticPeerID(provider, connID string) string {
	if provider == "aws" {
		sum := sha256.Sum256([]byte(connID))
		return "pcx-sim" + hex.EncodeToString(sum[:])[:10]
	}
	return "dfcloud-" + sanitizeGCPName(connID)
}

func classify(r *http.Request, _ []byte) (string, bool) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	var noun string
	var item bool
	switch {
	case p == "/v1/networks":
		noun = "networks"
	case strings.HasPrefix(p, "/v1/networks/"):
		noun, item = "networks", true
	case p == "/v1/connections":
		noun = "connections"
	case strings.HasPrefix(p, "/v1/connections/"):
		noun, item = "connections", true
	default:
		return r.Method + " " + r.URL.Path, r.Method != http.MethodGet
	}
	switch {
	case r.Method == http.MethodGet && item:
		return noun + ".get", false
	case r.Method == http.MethodGet:
		return noun + ".list", false
	case r.Method == http.MethodPost && !item:
		return noun + ".create", true
	case r.Method == http.MethodPut && item:
		return noun + ".update", true
	case r.Method == http.MethodDelete && item:
		return noun + ".delete", true
	}
	return noun + "." + strings.ToLower(r.Method), r.Method != http.MethodGet
}

// writeFault spells an injected fault the way the API does: 429 with a
// Retry-After header (whole seconds, rounded up; omitted when no delay is
// configured) or a 500, each with an {"error": ...} body.
func writeFault(w http.ResponseWriter, _ *http.Request, f simhttp.Fault, retryAfter time.Duration) {
	switch f {
	case simhttp.Throttle:
		if retryAfter > 0 {
			secs := (retryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", fmt.Sprint(int64(secs)))
		}
		writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "rate limit exceeded"})
	default:
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
