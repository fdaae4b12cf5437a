package peering

import (
	"context"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Action is what applying a change does. Its text is part of the public
// JSON of a plan (`changes[].action`).
type Action string

const (
	Create    Action = "create"    // the resource is absent: make it
	Update    Action = "update"    // it is ours but differs: bring it in line
	Accept    Action = "accept"    // a peering request waits for our side
	Adopt     Action = "adopt"     // an equivalent resource exists: use it as it is
	Unchanged Action = "unchanged" // it is as wanted: nothing to do but look
	Remove    Action = "remove"    // disconnect: delete it
	Keep      Action = "keep"      // disconnect: it is not ours (or still used): leave it
	Wait      Action = "wait"      // nothing changes; the run waits for something
	Verify    Action = "check"     // nothing changes; a condition is verified (an ACL, a deny rule)
)

// Kind is the kind of resource a change is about. Its text is part of the
// public JSON of a plan (`changes[].kind`).
type Kind string

const (
	KindConnection       Kind = "connection"        // Dragonfly Cloud's connection
	KindPeering          Kind = "peering"           // the cloud side of the peering (AWS acceptance, GCP/Azure peering)
	KindRoute            Kind = "route"             // AWS route to the peering
	KindFirewallRule     Kind = "firewall_rule"     // security-group rule, firewall rule, NSG rule
	KindApplication      Kind = "application"       // Azure: the multi-tenant application
	KindServicePrincipal Kind = "service_principal" // Azure: the application's and Dragonfly's principals
	KindRoleDefinition   Kind = "role_definition"   // Azure: dfcloud-peering-role
	KindRoleAssignment   Kind = "role_assignment"   // Azure: the two assignments on the VNet
	KindClientSecret     Kind = "client_secret"     // Azure: the temporary client secret
)

// Found is how observation classified a resource against what the
// connection wants.
type Found int

const (
	Absent    Found = iota // not there
	AsWanted               // there, ours, as the connection wants it
	Different              // there and ours (by name or description), but not as wanted
	NotOurs                // there, related (same CIDR, same name), but not dfpeer's
)

func (f Found) String() string {
	return [...]string{"absent", "as wanted", "different", "not ours"}[f]
}

// Phase says when a change is applied relative to the Dragonfly
// connection.
type Phase int

const (
	// BeforeConnection changes prepare what the connection request refers
	// to (Azure: the application and its roles).
	BeforeConnection Phase = iota
	// AfterInactive changes need Dragonfly's half of the peering (accept,
	// routes, firewall).
	AfterInactive
)

// Change is one resource of the connection as observed, and what applying
// the plan does to it: one line of the plan. Action, Kind, Target and
// Detail are the public JSON of `connect --dry-run -o json`; the rest is
// for the code that applies the plan, and never read from the text.
type Change struct {
	Action Action `json:"action"`
	Kind   Kind   `json:"kind"`
	Target string `json:"target"` // where the resource lives, for a person
	Detail string `json:"detail"` // what it is or will be, for a person

	// ID is the resource's identity in its cloud (rtb-…, an NSG rule's
	// resource ID): what Ensure and Remove act on.
	ID string `json:"-"`
	// Found is what observation saw; Reason says why for Different and
	// NotOurs ("routes 192.168.0.0/16 to igw-1").
	Found  Found  `json:"-"`
	Reason string `json:"-"`
	// KeepReason, when set, says why disconnect must leave a resource of
	// the connection in place (Dragonfly's own service principal; an
	// application another live connection uses).
	KeepReason string `json:"-"`
	Phase      Phase  `json:"-"`
	// Title labels the change while it is applied ("Route … in rtb-1").
	Title string `json:"-"`
	// Quiet changes are applied but not listed in the plan (waits that
	// follow from another change).
	Quiet bool `json:"-"`
	// Want carries the provider's typed description of the resource, read
	// only by the provider that made it.
	Want any `json:"-"`
}

// Target is what a provider observes for: the network, the connection's
// name and peer, and the connection a previous run created (nil if none).
type Target struct {
	Network  *dfcloud.Network
	Name     string
	Peer     dfcloud.Peer
	Existing *dfcloud.Connection
	// Others are the account's other live connections: a resource one of
	// them uses is kept by disconnect.
	Others []dfcloud.Connection
	// Replaces is the failed or irrecoverable connection connect
	// --recreate deletes before creating Existing's successor: what the
	// cloud side still has of it (routes to its peering) is to be
	// repointed, not refused.
	Replaces *dfcloud.Connection
	// Purpose says which verb observes: connect refuses what would stand
	// in its way; status and disconnect classify it and go on.
	Purpose Purpose
}

// Purpose is the verb an observation is for.
type Purpose int

const (
	ForConnect Purpose = iota
	ForStatus
	ForDisconnect
)

// Observation is what a provider read: the connection's resources on its
// cloud in the order they are ensured, and the provider's resolved
// context (the VPC, the chosen tables, the application…) that Ensure and
// Remove receive back through State.Cloud.
type Observation struct {
	Changes []Change
	Cloud   any
	// PeerCIDRs are the customer side's address blocks (the VPC's CIDR
	// blocks, the VNet's prefixes): the first goes to Dragonfly as the
	// connection's peer.cidr_block, and all are checked against the other
	// connections of the network.
	PeerCIDRs []string
}

// Provider is one cloud's side of a connection. Observe is read-only and
// leaves the provider unchanged: all it resolves travels in the
// Observation, so a plan can be made, shown, and applied or not.
type Provider interface {
	// Name is "aws", "gcp" or "azure".
	Name() string
	// Peer is the customer side for the connection request, as far as it
	// is known before any change. It may read from the cloud (AWS: the
	// credentials' account) but never writes; a refusal is a
	// *problem.Refusal.
	Peer(ctx context.Context) (dfcloud.Peer, error)
	// Observe checks the inputs against the cloud and reads every
	// resource the connection owns there, classifying each; for connect,
	// each change's Action is what Ensure will do. A refusal of the inputs
	// is a *problem.Refusal.
	Observe(ctx context.Context, t Target) (*Observation, error)
	// Ensure makes one resource as the change wants, looking before it
	// writes: safe to repeat after a crash at any point. note says what it
	// did ("created", "already present").
	Ensure(ctx context.Context, s *State, c Change) (note string, err error)
	// Remove deletes one resource the connection owns, if it is still
	// there; removing what is gone is not an error.
	Remove(ctx context.Context, s *State, c Change) (note string, err error)
}

// ConnectionRetrier is implemented by a provider whose connection may fail
// for a while after its side was prepared (Azure: until Dragonfly's new
// role assignment is in effect, which cannot be observed). A failed
// connection it says to retry is deleted and created again, with backoff,
// within the run's timeout.
type ConnectionRetrier interface {
	RetryConnection(c *dfcloud.Connection) bool
}

// Reporter receives progress events; the command layer renders them. One
// change is applied at a time.
type Reporter interface {
	Start(title string)
	Update(detail string)
	Done(note string)
	Fail(err error)
	Info(msg string)
}

// State is shared by the changes of one run.
type State struct {
	Network    *dfcloud.Network
	Peer       dfcloud.Peer // BeforeConnection changes may complete it
	Connection *dfcloud.Connection
	Result     *Result
	Report     Reporter
	// Cloud is the provider's resolved context from Observe.
	Cloud any
}

// Route is a route the flow ensured, in the summary.
type Route struct {
	RouteTable  string `json:"route_table"`
	Destination string `json:"destination"`
	Target      string `json:"target"`
	Action      string `json:"action"` // "created" or "unchanged"
}

// FirewallRule is a rule the flow ensured, in the summary.
type FirewallRule struct {
	Target   string `json:"target"` // security group, firewall or NSG it lives in
	Name     string `json:"name,omitempty"`
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
	Source   string `json:"source"`
	// AppliesTo says which instances the rule reaches, where the cloud
	// narrows it (GCP target tags or service accounts).
	AppliesTo string `json:"applies_to,omitempty"`
	Action    string `json:"action"` // "created" or "unchanged"
}

// Result is the summary; its JSON form is the public schema of
// `dfpeer <cloud> connect -o json` (documented in the README).
type Result struct {
	ConnectionID     string `json:"connection_id"`
	Name             string `json:"name"`
	NetworkID        string `json:"network_id"`
	Provider         string `json:"provider"`
	Status           string `json:"status"`
	StatusDetail     string `json:"status_detail,omitempty"`
	PeerConnectionID string `json:"peer_connection_id"`
	// LocalPeering is your side's peering where it is a resource of its
	// own (GCP's network peering, Azure's VNet peering), by name.
	LocalPeering  string         `json:"local_peering,omitempty"`
	Routes        []Route        `json:"routes,omitempty"`
	FirewallRules []FirewallRule `json:"firewall_rules"`
}

// Plan is what connect will do: the public JSON of `--dry-run -o json`,
// and everything Apply needs.
type Plan struct {
	NetworkID string   `json:"network_id"`
	Name      string   `json:"name"`
	Provider  string   `json:"provider"`
	Changes   []Change `json:"changes"`

	Network  *dfcloud.Network    `json:"-"`
	Peer     dfcloud.Peer        `json:"-"`
	Existing *dfcloud.Connection `json:"-"`
	// Replaces is the connection --recreate deletes first.
	Replaces *dfcloud.Connection `json:"-"`
	Cloud    any                 `json:"-"`
}

// Shown are the changes a person reads in the plan (the quiet ones left
// out).
func (p *Plan) Shown() []Change {
	var out []Change
	for _, c := range p.Changes {
		if !c.Quiet {
			out = append(out, c)
		}
	}
	return out
}
