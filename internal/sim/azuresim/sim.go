package azuresim

import (
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// Dragonfly Cloud's fixed identities in Azure (from the console guide).
const (
	DefaultDragonflyTenantID = "3f7cbd78-1650-4b7d-b28f-8ee05eac10a4"
	DefaultDragonflyAppID    = "ac30c41f-1eab-4f45-9024-70decee5559d"
)

// Delays are how long Azure takes to make a change visible.
type Delays struct {
	// Operation is how long a long-running ARM operation (peering or
	// security rule create/delete) stays InProgress.
	Operation time.Duration
	// RoleAssignmentPropagation is how long a role assignment created
	// through the API takes before RBAC honours it.
	RoleAssignmentPropagation time.Duration
	// CredentialPropagation is how long a password added through Graph
	// takes before the token endpoint accepts it.
	CredentialPropagation time.Duration
}

// Options configure a Sim.
type Options struct {
	Delays Delays
	// Now is the simulator's clock; time.Now when nil. Delays, token
	// lifetimes and password expiry are measured against it.
	Now func() time.Time
	// Seed makes generated IDs and secrets reproducible.
	Seed int64
	// DragonflyTenantID and DragonflyAppID identify Dragonfly Cloud's
	// tenant and multi-tenant application; the defaults are the fixed
	// values from the console guide.
	DragonflyTenantID string
	DragonflyAppID    string
	// GraphPathPrefix is where Microsoft Graph is mounted, e.g. "/graph"
	// for https://host/graph/v1.0/...; empty mounts it at the host root.
	GraphPathPrefix string
	// CloudName is the "name" of the cloud in the metadata document;
	// "AzureCloud" when empty.
	CloudName string
	// PollRetryAfter, when positive, is advertised as Retry-After (whole
	// seconds) on long-running operation responses, as Azure does. It is
	// off by default because azcore's poller honours it over its own
	// frequency, which would slow tests down.
	PollRetryAfter time.Duration
}

// Sim is the simulated Azure cloud. All methods are safe for concurrent use.
type Sim struct {
	opts Options
	http *simhttp.Server
	key  []byte // token signing key

	mu  sync.Mutex
	rng *rand.Rand

	tenants      map[string]*tenant           // by lower-case ID
	apps         map[string]*application      // by appId
	sps          map[string]*servicePrincipal // by object ID
	subs         map[string]*subscription     // by lower-case ID
	rgs          map[string]*resourceGroup    // by lower-case "sub/rg"
	vnets        map[string]*vnet             // by lower-case resource ID
	nsgs         map[string]*nsg              // by lower-case resource ID
	routeTables  map[string]*routeTable       // by lower-case resource ID
	roleDefs     map[string]*roleDefinition   // custom roles, by lower-case GUID
	assignments  map[string]*roleAssignment   // by lower-case GUID
	ops          map[string]*operation        // by operation ID
	opOrder      []string                     // operation IDs in creation order
	connPeerings map[string]*cloudPeering     // by Dragonfly connection ID
}

// New returns an empty simulator. Seed tenants, subscriptions, networks and
// principals with the Add* methods, then serve Handler (see NewTLS).
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DragonflyTenantID == "" {
		opts.DragonflyTenantID = DefaultDragonflyTenantID
	}
	if opts.DragonflyAppID == "" {
		opts.DragonflyAppID = DefaultDragonflyAppID
	}
	if opts.CloudName == "" {
		opts.CloudName = "AzureCloud"
	}
	opts.GraphPathPrefix = strings.TrimRight(opts.GraphPathPrefix, "/")
	if opts.GraphPathPrefix != "" && !strings.HasPrefix(opts.GraphPathPrefix, "/") {
		opts.GraphPathPrefix = "/" + opts.GraphPathPrefix
	}
	s := &Sim{
		opts:         opts,
		key:          randomKey(),
		rng:          rand.New(rand.NewSource(opts.Seed)),
		tenants:      map[string]*tenant{},
		apps:         map[string]*application{},
		sps:          map[string]*servicePrincipal{},
		subs:         map[string]*subscription{},
		rgs:          map[string]*resourceGroup{},
		vnets:        map[string]*vnet{},
		nsgs:         map[string]*nsg{},
		routeTables:  map[string]*routeTable{},
		roleDefs:     map[string]*roleDefinition{},
		assignments:  map[string]*roleAssignment{},
		ops:          map[string]*operation{},
		connPeerings: map[string]*cloudPeering{},
	}
	s.http = simhttp.Wrap(http.HandlerFunc(s.serve), simhttp.Options{
		Classify:   s.classify,
		WriteFault: s.writeFault,
	})
	return s
}

// Handler is the simulator's HTTP handler, wrapped in the request log and
// fault injection of HTTP(). Serve it over TLS (NewTLS).
func (s *Sim) Handler() http.Handler { return s.http }

// HTTP gives access to the request log and fault injection.
func (s *Sim) HTTP() *simhttp.Server { return s.http }

// Start serves the simulator on a new loopback TLS server.
func (s *Sim) Start() (*TLSServer, error) { return NewTLS(s.Handler()) }

// MetadataURL is the cloud metadata document of a simulator served at base
// (e.g. TLSServer.URL), in the single-cloud form of api-version 2022-09-01.
func (s *Sim) MetadataURL(base string) string {
	return strings.TrimRight(base, "/") + "/metadata/endpoints?api-version=2022-09-01"
}

// GraphURL is the Microsoft Graph v1.0 base of a simulator served at base.
func (s *Sim) GraphURL(base string) string {
	return strings.TrimRight(base, "/") + s.opts.GraphPathPrefix + "/v1.0"
}

// DragonflyTenantID is the tenant Dragonfly Cloud's network lives in.
func (s *Sim) DragonflyTenantID() string { return s.opts.DragonflyTenantID }

// DragonflyAppID is Dragonfly Cloud's multi-tenant application ID.
func (s *Sim) DragonflyAppID() string { return s.opts.DragonflyAppID }

func (s *Sim) now() time.Time { return s.opts.Now().UTC() }

// newGUID draws a random (version 4 shaped) GUID from the seeded generator,
// so a seeded run produces the same IDs every time.
func (s *Sim) newGUID() string {
	var b [16]byte
	s.rng.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func lower(s string) string { return strings.ToLower(s) }
