// Package gcpsim simulates the part of the Compute Engine REST API (compute/v1)
// that dfpeer drives: networks, their peerings and the routes exchanged over
// them (listPeeringRoutes), firewall rules, subnetworks, global operations,
// projects, and the batch endpoint (/batch/compute/v1) gcloud uses for
// --async.
//
// It speaks the JSON the official Go client (cloud.google.com/go/compute/apiv1
// REST clients) sends and expects, answers with Compute's error envelope and
// messages, and models what makes peering on GCP awkward: every mutation is
// an Operation that only takes effect once DONE, a peering stays INACTIVE
// until the peer network has the matching peering, only one peering
// operation may run at a time across the two networks, peered networks
// may not have overlapping subnet ranges, and a network's routes may not
// overlap the routes either side already exchanges with its other active
// peers.
//
// Time is injectable (Options.Now) and state advances lazily from it, so a
// test with a fake clock is fully deterministic.
package gcpsim

import (
	"fmt"
	"math/rand"
	"net/http"
	"sync"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// Compute's documented default and maximum for one operations.wait call.
const defaultWaitCap = 2 * time.Minute

// Compute's per-network limit on peerings. It is not one of the project
// quotas projects.get reports, so it is enforced on addPeering only.
const peeringsPerNetwork = 25

// Options configure a Sim.
type Options struct {
	Delays Delays
	// Tokens, when not empty, are the only bearer tokens accepted; otherwise
	// any non-empty token is.
	Tokens []string
	// Now is the clock; nil means time.Now. State advances lazily from it.
	Now func() time.Time
	// Seed makes generated IDs and operation names reproducible.
	Seed int64
	// WaitCap bounds one globalOperations.wait call (Compute: 2 minutes).
	WaitCap time.Duration
	// NotReadyWhilePeering makes firewall mutations on a network answer
	// 400 resourceNotReady ("The resource '…/networks/N' is not ready")
	// while a peering operation on that network is not DONE, as Compute
	// may (terraform-google-modules/terraform-google-kubernetes-engine#888;
	// Google's Terraform provider retries it, magic-modules#13881). Off by
	// default: when Compute does this is not documented.
	NotReadyWhilePeering bool
}

// Delays are how long things take.
type Delays struct {
	// Operation is how long a mutation takes from insert to DONE, spent
	// half PENDING and half RUNNING. Zero answers mutations already DONE.
	Operation time.Duration
}

// Sim is the simulated Compute Engine API.
type Sim struct {
	opts Options
	http *simhttp.Server

	mu         sync.Mutex
	rng        *rand.Rand
	projects   map[string]*project
	ops        []*operation          // every operation, in insertion order
	requestIDs map[string]*operation // project + "/" + requestId
	dfPeerings map[string]dfPeering  // CreatePeering's peer IDs
	denied     map[string]map[string]bool
}

var _ simcloud.Cloud = (*Sim)(nil)

// New returns a Sim with no projects.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WaitCap <= 0 {
		opts.WaitCap = defaultWaitCap
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	s := &Sim{
		opts:       opts,
		rng:        rand.New(rand.NewSource(opts.Seed)),
		projects:   map[string]*project{},
		requestIDs: map[string]*operation{},
		dfPeerings: map[string]dfPeering{},
		denied:     map[string]map[string]bool{},
	}
	s.http = simhttp.Wrap(http.HandlerFunc(s.serve), simhttp.Options{
		Classify:   classify,
		WriteFault: s.writeFault,
	})
	return s
}

// Handler is the simulator with request log and fault injection, ready for
// httptest.NewServer.
func (s *Sim) Handler() http.Handler { return s.http }

// HTTP gives tests the request log and fault controls.
func (s *Sim) HTTP() *simhttp.Server { return s.http }

// Provider implements simcloud.Cloud.
func (s *Sim) Provider() string { return "gcp" }

// Deny makes calls needing any of permissions (e.g.
// "compute.firewalls.create", "compute.networks.addPeering") in project fail
// with Compute's 403, as when the caller lacks the IAM role.
func (s *Sim) Deny(projectID string, permissions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[projectID] == nil {
		s.denied[projectID] = map[string]bool{}
	}
	for _, p := range permissions {
		s.denied[projectID][p] = true
	}
}

// SetNotReadyWhilePeering turns Options.NotReadyWhilePeering on or off
// on a running simulator.
func (s *Sim) SetNotReadyWhilePeering(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.NotReadyWhilePeering = on
}

// Allow undoes Deny.
func (s *Sim) Allow(projectID string, permissions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range permissions {
		delete(s.denied[projectID], p)
	}
}

func (s *Sim) now() time.Time { return s.opts.Now() }

// newID returns a resource ID shaped like Compute's (19 decimal digits).
func (s *Sim) newID() uint64 {
	return 1_000_000_000_000_000_000 + uint64(s.rng.Int63n(8_000_000_000_000_000_000))
}

// newOperationName mimics Compute's "operation-<ms>-<hex>-<hex>-<hex>".
func (s *Sim) newOperationName(at time.Time) string {
	return fmt.Sprintf("operation-%d-%013x-%08x-%08x", at.UnixMilli(),
		s.rng.Int63n(1<<52), s.rng.Uint32(), s.rng.Uint32())
}

// Compute renders timestamps in Pacific time; a fixed zone keeps the output
// independent of the machine's tz database and of daylight saving.
var pacific = time.FixedZone("PST", -8*60*60)

func timestamp(t time.Time) string {
	return t.In(pacific).Format("2006-01-02T15:04:05.000-07:00")
}
