// Package peering is the provider-agnostic connect flow: plan (read-only:
// the connection name, then the cloud side through Provider.Observe),
// then apply (the Dragonfly connection, the cloud's changes, the wait for
// active). It knows nothing about AWS, GCP or Azure (they plug in as a
// Provider), nor about terminals: it reports through Reporter, and the
// command layer renders plans and summaries and asks for confirmation.
//
// Every change is check-then-act, so applying again after a crash at any
// point converges to the same end state without duplicates.
package peering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// API is the part of the Dragonfly Cloud client the flow uses.
type API interface {
	ConnectionWaiter
	ListConnections(ctx context.Context) ([]dfcloud.Connection, error)
	GetConnection(ctx context.Context, id string) (*dfcloud.Connection, error)
	CreateConnection(ctx context.Context, cfg dfcloud.ConnectionConfig) (*dfcloud.Connection, error)
}

// Options configure one connect run.
type Options struct {
	API      API
	Provider Provider
	Network  *dfcloud.Network
	Name     string // connection name
	// NameGiven says the user chose Name. When they did not, a connection
	// of the network to the same peer is adopted whatever its name, so a
	// re-run never depends on how the default name was derived.
	NameGiven bool
	Report    Reporter
	NoWait    bool
	Timeout   time.Duration
	Poll      dfcloud.WaitOptions
	// Recreate replaces a failed or irrecoverable connection (which the
	// API cannot update) with a new one, and converges the cloud side to
	// the new peering.
	Recreate bool
}

// MakePlan checks everything and reads what exists, changing nothing: the
// connection (a previous run's is adopted) and the provider's resources.
// A refusal is a *problem.Refusal.
func MakePlan(ctx context.Context, o Options) (*Plan, error) {
	net, prov := o.Network, o.Provider
	peer, err := prov.Peer(ctx)
	if err != nil {
		return nil, err
	}
	name := o.Name
	// One list serves finding the connection and the hub check.
	all, err := listConnections(ctx, o.API)
	if err != nil {
		return nil, err
	}
	existing := pickConnection(all, net.NetworkID, name, peer, o.NameGiven)
	var replaces *dfcloud.Connection
	if existing != nil {
		name = existing.Config.Name
		// Under --recreate a connection already being deleted (a run
		// interrupted after asking) is waited out, then replaced.
		retrier, _ := prov.(ConnectionRetrier)
		transient := retrier != nil && retrier.RetryConnection(existing) // an earlier run's attempt, failed too early
		if (o.Recreate || transient) && SamePeer(existing.Config.Peer, peer) && (unrepairable(existing) || existing.Status == dfcloud.ConnectionDeleting) {
			replaces, existing = existing, nil
		} else if err := checkAdoptable(existing, peer, name); err != nil {
			return nil, err
		}
	}
	obs, err := prov.Observe(ctx, Target{Network: net, Name: name, Peer: peer, Existing: existing, Replaces: replaces})
	if err != nil {
		return nil, err
	}
	if err := checkHub(all, net, name, peer, obs.PeerCIDRs); err != nil {
		return nil, err
	}
	if len(obs.PeerCIDRs) > 0 && peer.CIDRBlock == "" && existing == nil {
		peer.CIDRBlock = obs.PeerCIDRs[0]
	}
	plan := &Plan{NetworkID: net.NetworkID, Name: name, Provider: prov.Name(),
		Network: net, Peer: peer, Existing: existing, Replaces: replaces, Cloud: obs.Cloud}
	if replaces != nil {
		plan.Changes = append(plan.Changes, Change{Action: Remove, Kind: KindConnection, Target: "Dragonfly Cloud", ID: replaces.ConnectionID, Found: Different,
			Detail: fmt.Sprintf("%s connection %s (%s): it cannot be repaired in place", replaces.Status, name, replaces.ConnectionID)})
	}
	if existing != nil {
		plan.Changes = append(plan.Changes, Change{Action: Adopt, Kind: KindConnection, Target: "Dragonfly Cloud", ID: existing.ConnectionID, Found: AsWanted,
			Detail: fmt.Sprintf("existing connection %s (%s, %s)", name, existing.ConnectionID, existing.Status)})
	} else {
		plan.Changes = append(plan.Changes, Change{Action: Create, Kind: KindConnection, Target: "Dragonfly Cloud", Found: Absent,
			Detail: fmt.Sprintf("connection %s from network %s to %s %s in %s", name, net.Name, prov.Name(), peer.VPCID, peer.AccountID)})
	}
	plan.Changes = append(plan.Changes, obs.Changes...)
	return plan, nil
}

// MarshalJSON leaves the quiet changes out, as the text plan does.
func (p *Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	shown := *p
	shown.Changes = p.Shown()
	if shown.Changes == nil {
		shown.Changes = []Change{}
	}
	return json.Marshal((*plain)(&shown))
}

// Apply carries out a plan MakePlan returned: the changes needed before
// the connection, the connection, the wait for Dragonfly's half, the
// changes after it, and the wait for active. On failure it returns what it
// got done so far with the error.
func Apply(ctx context.Context, o Options, plan *Plan) (*Result, error) {
	net, prov := plan.Network, o.Provider
	st := &State{Network: net, Peer: plan.Peer, Report: o.Report, Cloud: plan.Cloud,
		Result: &Result{Name: plan.Name, NetworkID: net.NetworkID, Provider: prov.Name(), FirewallRules: []FirewallRule{}}}
	if r := plan.Replaces; r != nil {
		o.Report.Start(fmt.Sprintf("Delete the %s connection %s", r.Status, r.ConnectionID))
		if err := deleteConnection(ctx, o.API, r, o.Timeout, o.Poll, o.Report); err != nil {
			o.Report.Fail(err)
			return st.Result, interrupted(ctx, err)
		}
		o.Report.Done("deleted")
	}
	if err := ensurePhase(ctx, prov, st, plan.Changes, BeforeConnection); err != nil {
		return st.Result, interrupted(ctx, err)
	}

	conn, err := connectAndWait(ctx, o, plan, st)
	if err != nil {
		fillStatus(st.Result, conn)
		return st.Result, interrupted(ctx, err)
	}
	fillStatus(st.Result, conn)

	if err := ensurePhase(ctx, prov, st, plan.Changes, AfterInactive); err != nil {
		return st.Result, interrupted(ctx, err)
	}
	// Your side's peering, where it is a resource of its own: not where
	// it is Dragonfly's peering accepted (AWS), which the result names.
	for _, c := range plan.Changes {
		name := c.ID[strings.LastIndex(c.ID, "/")+1:] // a resource ID's name
		if c.Kind == KindPeering && name != "" && name != st.Result.PeerConnectionID && st.Result.LocalPeering == "" {
			st.Result.LocalPeering = name
		}
	}

	if o.NoWait {
		if c, err := o.API.GetConnection(ctx, conn.ConnectionID); err == nil {
			fillStatus(st.Result, c)
		}
		return st.Result, nil
	}
	if conn.Status != dfcloud.ConnectionActive {
		o.Report.Start("Waiting for the connection to become active")
		final, err := WaitStatus(ctx, o.API, conn.ConnectionID, dfcloud.ConnectionActive, o.Timeout, o.Poll, o.Report)
		fillStatus(st.Result, final)
		if err != nil {
			o.Report.Fail(err)
			return st.Result, interrupted(ctx, err)
		}
		o.Report.Done("active")
	}
	return st.Result, nil
}

// connectAndWait creates (or adopts) the connection and waits for
// Dragonfly's half. A provider that says a failure is worth retrying
// (ConnectionRetrier) gets the failed connection deleted and created
// again, backing off from 1 s to 15 s, until the run's timeout.
func connectAndWait(ctx context.Context, o Options, plan *Plan, st *State) (*dfcloud.Connection, error) {
	retrier, _ := o.Provider.(ConnectionRetrier)
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	backoff := time.Second
	for {
		o.Report.Start(fmt.Sprintf("Dragonfly connection %s", plan.Name))
		conn, note, err := ensureConnection(ctx, o.API, plan.NetworkID, plan.Name, st.Peer)
		if err != nil {
			o.Report.Fail(err)
			return nil, err
		}
		o.Report.Done(fmt.Sprintf("%s (%s)", note, conn.ConnectionID))
		st.Connection = conn
		st.Result.ConnectionID = conn.ConnectionID
		if Reached(conn, dfcloud.ConnectionInactive) {
			return conn, nil
		}
		o.Report.Start("Waiting for Dragonfly's side of the peering")
		got, err := WaitStatus(ctx, o.API, conn.ConnectionID, dfcloud.ConnectionInactive, time.Until(deadline), o.Poll, o.Report)
		if err == nil {
			o.Report.Done(fmt.Sprintf("%s, peering %s", got.Status, got.PeerConnectionID))
			st.Connection = got
			return got, nil
		}
		if got == nil || retrier == nil || !retrier.RetryConnection(got) || time.Until(deadline) < backoff || ctx.Err() != nil {
			o.Report.Fail(err)
			return got, err
		}
		o.Report.Done(fmt.Sprintf("failed because the cloud has not applied what it needs yet; creating it again in %s (%s)", backoff, got.StatusDetail))
		o.Report.Start(fmt.Sprintf("Delete the failed connection %s", got.ConnectionID))
		if err := deleteConnection(ctx, o.API, got, time.Until(deadline), o.Poll, o.Report); err != nil {
			o.Report.Fail(err)
			return got, err
		}
		o.Report.Done("deleted")
		if err := poll.Sleep(ctx, nil, backoff); err != nil {
			return got, err
		}
		backoff = min(2*backoff, 15*time.Second)
	}
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

// ensurePhase ensures the cloud changes of one phase, in the plan's order.
func ensurePhase(ctx context.Context, prov Provider, st *State, changes []Change, phase Phase) error {
	for _, c := range changes {
		if c.Kind == KindConnection || c.Phase != phase {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st.Report.Start(c.Title)
		note, err := prov.Ensure(ctx, st, c)
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
		return &problem.HintError{Err: problem.ErrCancelled,
			Hint: "Interrupted. Every step is safe to repeat: run the same command again to resume where it stopped."}
	}
	return err
}

// findConnection lists the connections and picks one (pickConnection).
func findConnection(ctx context.Context, api API, networkID, name string, peer dfcloud.Peer, nameGiven bool) (*dfcloud.Connection, error) {
	all, err := listConnections(ctx, api)
	if err != nil {
		return nil, err
	}
	return pickConnection(all, networkID, name, peer, nameGiven), nil
}

func listConnections(ctx context.Context, api API) ([]dfcloud.Connection, error) {
	all, err := api.ListConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing connections: %w", err)
	}
	return all, nil
}

// pickConnection returns the non-deleted connection named name in the
// network or, unless the name was the user's choice, the one to the same
// peer.
func pickConnection(all []dfcloud.Connection, networkID, name string, peer dfcloud.Peer, nameGiven bool) *dfcloud.Connection {
	var samePeer *dfcloud.Connection
	for i := range all {
		c := &all[i]
		if c.Config.NetworkID != networkID || c.Status == dfcloud.ConnectionDeleted {
			continue
		}
		if c.Config.Name == name {
			return c
		}
		if samePeer == nil && SamePeer(c.Config.Peer, peer) && c.Status != dfcloud.ConnectionDeleting {
			samePeer = c
		}
	}
	if !nameGiven {
		return samePeer
	}
	return nil
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

// checkHub refuses a customer side whose address blocks overlap those of
// another connection of the same network: Dragonfly's network is the hub of
// its peerings and cannot route one range to two peers (Azure refuses the
// peering with VnetAddressSpaceOverlapsWithAlreadyPeeredVnet, GCP with an
// overlapping route). Connections that did not send their cidr_block are
// not known and cannot be checked.
func checkHub(all []dfcloud.Connection, net *dfcloud.Network, name string, peer dfcloud.Peer, blocks []string) error {
	for _, c := range all {
		other := c.Config.Peer.CIDRBlock
		if c.Config.NetworkID != net.NetworkID || c.Config.Name == name || other == "" || SamePeer(c.Config.Peer, peer) ||
			c.Status == dfcloud.ConnectionDeleted || c.Status == dfcloud.ConnectionDeleting {
			continue
		}
		if b, err := FirstOverlap(other, blocks); err == nil && b != "" {
			return problem.Refusef("your %s's %s overlaps %s of connection %s (%s %s), already peered with network %s; "+
				"one network cannot reach two peers through the same range: use a VPC with another range, or disconnect %s first",
				vpcWord(peer), b, other, c.Config.Name, c.Config.Peer.AccountID, c.Config.Peer.VPCID, net.Name, c.Config.Name)
		}
	}
	return nil
}

func vpcWord(p dfcloud.Peer) string {
	if p.Azure != nil {
		return "VNet"
	}
	return "VPC"
}

// unrepairable says a connection cannot be brought back in place: the
// API cannot update a connection, so only deleting and creating it again
// helps (connect --recreate).
func unrepairable(c *dfcloud.Connection) bool {
	return c.Status == dfcloud.ConnectionFailed || c.Status == dfcloud.ConnectionIrrecoverable
}

// deleteConnection deletes a connection (gone already is fine) and waits
// until Dragonfly says it is deleted.
func deleteConnection(ctx context.Context, api API, c *dfcloud.Connection, timeout time.Duration, wo dfcloud.WaitOptions, rep Reporter) error {
	id := c.ConnectionID
	d, ok := api.(interface {
		DeleteConnection(ctx context.Context, id string) error
	})
	if !ok {
		return fmt.Errorf("the Dragonfly client cannot delete connections")
	}
	if c.Status != dfcloud.ConnectionDeleting { // asked already: only wait
		if err := d.DeleteConnection(ctx, id); err != nil && !dfcloud.IsNotFound(err) {
			return fmt.Errorf("deleting connection %s: %w", id, err)
		}
	}
	_, err := WaitStatus(ctx, api, id, dfcloud.ConnectionDeleted, timeout, wo, rep)
	return err
}

func checkAdoptable(c *dfcloud.Connection, peer dfcloud.Peer, name string) error {
	if !SamePeer(c.Config.Peer, peer) {
		return problem.Refuse("name", fmt.Sprintf("%q", name),
			fmt.Sprintf("choose another --name, or delete it with 'dfpeer connections delete %s'", c.ConnectionID),
			"network already has a connection of that name (%s) to %s %s", c.ConnectionID, c.Config.Peer.AccountID, c.Config.Peer.VPCID)
	}
	switch c.Status {
	case dfcloud.ConnectionFailed, dfcloud.ConnectionIrrecoverable, dfcloud.ConnectionDeleting:
		detail := c.StatusDetail
		if detail == "" {
			detail = "no detail given"
		}
		fix := fmt.Sprintf("delete it with 'dfpeer connections delete %s --wait' and run again", c.ConnectionID)
		if unrepairable(c) {
			fix = "it cannot be repaired in place: add --recreate to delete it and create it again"
		}
		return problem.Refuse("name", fmt.Sprintf("%q", name), fix,
			"the existing connection %s is %s (%s)", c.ConnectionID, c.Status, detail)
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
