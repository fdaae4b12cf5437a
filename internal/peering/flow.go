// Package peering is the provider-agnostic connect flow: pre-flight, plan,
// confirmation, the Dragonfly connection, the cloud's steps, and the wait
// for active. It knows nothing about AWS, GCP or Azure (they plug in as a
// Provider), nor about terminals (it reports through progress.Reporter and
// asks through a Confirm function).
//
// Every step is check-then-act, so running the flow again after a crash at
// any point converges to the same end state without duplicates.
package peering

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// API is the part of the Dragonfly Cloud client the flow uses.
type API interface {
	ConnectionWaiter
	ListConnections(ctx context.Context) ([]dfcloud.Connection, error)
	GetConnection(ctx context.Context, id string) (*dfcloud.Connection, error)
	CreateConnection(ctx context.Context, cfg dfcloud.ConnectionConfig) (*dfcloud.Connection, error)
}

// Phase says when a provider step runs relative to the Dragonfly
// connection.
type Phase int

const (
	// BeforeConnection steps prepare what the connection request refers
	// to (Azure: the application and its roles).
	BeforeConnection Phase = iota
	// AfterInactive steps run once Dragonfly's half exists (accept the
	// peering, routes, firewall).
	AfterInactive
)

// Step is one idempotent unit of cloud work.
type Step struct {
	Title string
	Phase Phase
	// Run checks, then acts if needed, and says what it did ("created",
	// "already present", ...).
	Run func(ctx context.Context, s *State) (note string, err error)
}

// Change is one line of the plan.
type Change struct {
	Action string `json:"action"` // "create", "accept", "adopt", "unchanged", "check"
	Kind   string `json:"kind"`   // "connection", "peering", "route", "firewall_rule", "application", "role_assignment", ...
	Target string `json:"target"` // where the change happens
	Detail string `json:"detail"` // what it is
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
	Action   string `json:"action"` // "created" or "unchanged"
}

// Result is the summary; its JSON form is the public schema of
// `dfpeer <cloud> connect -o json` (documented in the README).
type Result struct {
	ConnectionID     string         `json:"connection_id"`
	Name             string         `json:"name"`
	NetworkID        string         `json:"network_id"`
	Provider         string         `json:"provider"`
	Status           string         `json:"status"`
	StatusDetail     string         `json:"status_detail,omitempty"`
	PeerConnectionID string         `json:"peer_connection_id"`
	Routes           []Route        `json:"routes,omitempty"`
	FirewallRules    []FirewallRule `json:"firewall_rules"`
}

// State is shared by the steps of one run.
type State struct {
	Network    *dfcloud.Network
	Peer       dfcloud.Peer // BeforeConnection steps may complete it
	Connection *dfcloud.Connection
	Result     *Result
	Report     progress.Reporter
}

// Provider is one cloud's side of the flow.
type Provider interface {
	// Name is "aws", "gcp" or "azure".
	Name() string
	// Peer is the customer side for the connection request, as far as it
	// is known before any change. It may read from the cloud (AWS: the
	// credentials' account) but never writes; a refusal is a
	// *cmdutil.InputError.
	Peer(ctx context.Context) (dfcloud.Peer, error)
	// Preflight checks everything, read-only, and returns the cloud-side
	// changes it plans. existing is the connection a previous run created
	// (nil if none), so that what that run did is recognised as ours. A
	// refusal is a *cmdutil.InputError.
	Preflight(ctx context.Context, net *dfcloud.Network, existing *dfcloud.Connection) ([]Change, error)
	// Steps are the cloud-side steps in order.
	Steps(net *dfcloud.Network) []Step
}

// Options configure one run of the flow.
type Options struct {
	API      API
	Provider Provider
	Network  *dfcloud.Network
	Name     string // connection name
	// NameGiven says the user chose Name. When they did not, a connection
	// of the network to the same peer is adopted whatever its name, so a
	// re-run never depends on how the default name was derived.
	NameGiven bool
	Report    progress.Reporter
	// PlanOut receives the plan (stderr normally; stdout for --dry-run).
	PlanOut io.Writer
	// Confirm asks whether to go ahead; nil means yes.
	Confirm func() (bool, error)
	DryRun  bool
	NoWait  bool
	Timeout time.Duration
	Poll    dfcloud.WaitOptions
}

// Plan is what a dry run returns.
type Plan struct {
	Network  string   `json:"network_id"`
	Name     string   `json:"name"`
	Provider string   `json:"provider"`
	Changes  []Change `json:"changes"`
}

// ErrDryRun is returned by Run after printing the plan of a dry run.
var ErrDryRun = errors.New("dry run: nothing changed")

// Run executes the flow. With DryRun it returns the plan and ErrDryRun.
func Run(ctx context.Context, o Options) (*Result, *Plan, error) {
	net, prov := o.Network, o.Provider
	peer, err := prov.Peer(ctx)
	if err != nil {
		return nil, nil, err
	}

	// Pre-flight: the connection name and the cloud side, read-only.
	existing, err := findConnection(ctx, o.API, net.NetworkID, o.Name, peer, o.NameGiven)
	if err != nil {
		return nil, nil, err
	}
	if existing != nil {
		o.Name = existing.Config.Name
		if err := checkAdoptable(existing, peer, o.Name); err != nil {
			return nil, nil, err
		}
	}
	cloudChanges, err := prov.Preflight(ctx, net, existing)
	if err != nil {
		return nil, nil, err
	}
	plan := &Plan{Network: net.NetworkID, Name: o.Name, Provider: prov.Name()}
	if existing != nil {
		plan.Changes = append(plan.Changes, Change{Action: "adopt", Kind: "connection", Target: "Dragonfly Cloud",
			Detail: fmt.Sprintf("existing connection %s (%s, %s)", o.Name, existing.ConnectionID, existing.Status)})
	} else {
		plan.Changes = append(plan.Changes, Change{Action: "create", Kind: "connection", Target: "Dragonfly Cloud",
			Detail: fmt.Sprintf("connection %s from network %s to %s %s in %s", o.Name, net.Name, prov.Name(), peer.VPCID, peer.AccountID)})
	}
	plan.Changes = append(plan.Changes, cloudChanges...)
	if o.PlanOut != nil {
		WritePlan(o.PlanOut, plan)
	}
	if o.DryRun {
		return nil, plan, ErrDryRun
	}
	if o.Confirm != nil {
		ok, err := o.Confirm()
		if err != nil {
			return nil, plan, err
		}
		if !ok {
			return nil, plan, cmdutil.ErrCancelled
		}
	}

	st := &State{Network: net, Peer: peer, Report: o.Report,
		Result: &Result{Name: o.Name, NetworkID: net.NetworkID, Provider: prov.Name(), FirewallRules: []FirewallRule{}}}
	steps := prov.Steps(net)
	if err := runSteps(ctx, st, steps, BeforeConnection); err != nil {
		return st.Result, plan, interrupted(ctx, err)
	}

	o.Report.Start(fmt.Sprintf("Dragonfly connection %s", o.Name))
	conn, note, err := ensureConnection(ctx, o.API, net.NetworkID, o.Name, st.Peer)
	if err != nil {
		o.Report.Fail(err)
		return st.Result, plan, interrupted(ctx, err)
	}
	o.Report.Done(fmt.Sprintf("%s (%s)", note, conn.ConnectionID))
	st.Connection = conn
	st.Result.ConnectionID = conn.ConnectionID

	if !Reached(conn, dfcloud.ConnectionInactive) {
		o.Report.Start("Waiting for Dragonfly's side of the peering")
		conn, err = WaitStatus(ctx, o.API, conn.ConnectionID, dfcloud.ConnectionInactive, o.Timeout, o.Poll, o.Report)
		if err != nil {
			o.Report.Fail(err)
			fillStatus(st.Result, conn)
			return st.Result, plan, interrupted(ctx, err)
		}
		o.Report.Done(fmt.Sprintf("%s, peering %s", conn.Status, conn.PeerConnectionID))
		st.Connection = conn
	}
	fillStatus(st.Result, conn)

	if err := runSteps(ctx, st, steps, AfterInactive); err != nil {
		return st.Result, plan, interrupted(ctx, err)
	}

	if o.NoWait {
		if c, err := o.API.GetConnection(ctx, conn.ConnectionID); err == nil {
			fillStatus(st.Result, c)
		}
		return st.Result, plan, nil
	}
	if conn.Status != dfcloud.ConnectionActive {
		o.Report.Start("Waiting for the connection to become active")
		final, err := WaitStatus(ctx, o.API, conn.ConnectionID, dfcloud.ConnectionActive, o.Timeout, o.Poll, o.Report)
		fillStatus(st.Result, final)
		if err != nil {
			o.Report.Fail(err)
			return st.Result, plan, interrupted(ctx, err)
		}
		o.Report.Done("active")
	}
	return st.Result, plan, nil
}

func fillStatus(r *Result, c *dfcloud.Connection) {
	if c == nil {
		return
	}
	r.Status, r.StatusDetail = string(c.Status), c.StatusDetail
	if c.PeerConnectionID != "" {
		r.PeerConnectionID = c.PeerConnectionID
	}
}

func runSteps(ctx context.Context, st *State, steps []Step, phase Phase) error {
	for _, s := range steps {
		if s.Phase != phase {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st.Report.Start(s.Title)
		note, err := s.Run(ctx, st)
		if err != nil {
			st.Report.Fail(err)
			return err
		}
		st.Report.Done(note)
	}
	return nil
}

// interrupted turns a cancellation into the message that tells the user a
// re-run resumes.
func interrupted(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return &cmdutil.HintError{Err: cmdutil.ErrCancelled,
			Hint: "Interrupted. Every step is safe to repeat: run the same command again to resume where it stopped."}
	}
	return err
}

// findConnection returns the non-deleted connection named name in the
// network or, unless the name was the user's choice, the one to the same
// peer.
func findConnection(ctx context.Context, api API, networkID, name string, peer dfcloud.Peer, nameGiven bool) (*dfcloud.Connection, error) {
	all, err := api.ListConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing connections: %w", err)
	}
	var samePeer *dfcloud.Connection
	for i := range all {
		c := &all[i]
		if c.Config.NetworkID != networkID || c.Status == dfcloud.ConnectionDeleted {
			continue
		}
		if c.Config.Name == name {
			return c, nil
		}
		if samePeer == nil && SamePeer(c.Config.Peer, peer) && c.Status != dfcloud.ConnectionDeleting {
			samePeer = c
		}
	}
	if !nameGiven {
		return samePeer, nil
	}
	return nil, nil
}

// SamePeer reports whether an existing connection's peer is the one this
// run would create: same account and VPC (and region when both say).
func SamePeer(a, b dfcloud.Peer) bool {
	if a.AccountID != b.AccountID || a.VPCID != b.VPCID {
		return false
	}
	if a.Region != "" && b.Region != "" && a.Region != b.Region {
		return false
	}
	if a.Azure != nil && b.Azure != nil && a.Azure.ResourceGroup != b.Azure.ResourceGroup {
		return false
	}
	return true
}

func checkAdoptable(c *dfcloud.Connection, peer dfcloud.Peer, name string) error {
	if !SamePeer(c.Config.Peer, peer) {
		return cmdutil.InputErrorf("--name %q: network already has a connection of that name (%s) to %s %s; choose another --name, or delete it with 'dfpeer connections delete %s'",
			name, c.ConnectionID, c.Config.Peer.AccountID, c.Config.Peer.VPCID, c.ConnectionID)
	}
	switch c.Status {
	case dfcloud.ConnectionFailed, dfcloud.ConnectionIrrecoverable, dfcloud.ConnectionDeleting:
		detail := c.StatusDetail
		if detail == "" {
			detail = "no detail given"
		}
		return cmdutil.InputErrorf("--name %q: the existing connection %s is %s (%s); delete it with 'dfpeer connections delete %s --wait' and run again",
			name, c.ConnectionID, c.Status, detail, c.ConnectionID)
	}
	return nil
}

// ensureConnection adopts the connection named name or creates it. A create
// whose answer was lost (crash, dropped connection, 5xx after the server
// acted) is recognised on the next look, so at most one connection exists.
func ensureConnection(ctx context.Context, api API, networkID, name string, peer dfcloud.Peer) (*dfcloud.Connection, string, error) {
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		existing, err := findConnection(ctx, api, networkID, name, peer, true)
		if err != nil {
			return nil, "", err
		}
		if existing != nil {
			if err := checkAdoptable(existing, peer, name); err != nil {
				return nil, "", err
			}
			return existing, "adopted existing", nil
		}
		c, err := api.CreateConnection(ctx, dfcloud.ConnectionConfig{Name: name, NetworkID: networkID, Peer: peer})
		if err == nil {
			return c, "created", nil
		}
		lastErr = err
		if !retryableCreate(err) || ctx.Err() != nil {
			return nil, "", err
		}
	}
	return nil, "", lastErr
}

// retryableCreate: a conflict means another run (or a lost answer) created
// it, a 5xx or transport failure may or may not have; both are resolved by
// looking again. Validation errors are final.
func retryableCreate(err error) bool {
	var apiErr *dfcloud.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == 409 || apiErr.StatusCode == 429 || apiErr.StatusCode >= 500
	}
	var auth *dfcloud.AuthError
	return !errors.As(err, &auth) && !dfcloud.IsNotFound(err)
}

// WritePlan prints the plan as a list a person can check.
func WritePlan(w io.Writer, p *Plan) {
	fmt.Fprintf(w, "Plan for connection %s (%s):\n", p.Name, p.Provider)
	width := 0
	for _, c := range p.Changes {
		width = max(width, len(c.Action))
	}
	for _, c := range p.Changes {
		fmt.Fprintf(w, "  %-*s  %s: %s\n", width, c.Action, strings.ReplaceAll(c.Kind, "_", " "), c.Detail)
		if c.Target != "" && c.Target != "Dragonfly Cloud" {
			fmt.Fprintf(w, "  %-*s    in %s\n", width, "", c.Target)
		}
	}
}
