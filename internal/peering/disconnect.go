package peering

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// RemovalAPI is the part of the Dragonfly Cloud client disconnect uses.
type RemovalAPI interface {
	API
	DeleteConnection(ctx context.Context, id string) error
}

// Removed is a resource disconnect removed (or would remove).
type Removed struct {
	Kind   Kind   `json:"kind"`
	Target string `json:"target"`
	Detail string `json:"detail"`
}

// Kept is a resource disconnect left in place, and why.
type Kept struct {
	Kind   Kind   `json:"kind"`
	Target string `json:"target"`
	Detail string `json:"detail"`
	Reason string `json:"reason"`
}

// Removal is the summary of a disconnect; its JSON form is the public
// schema of `dfpeer <cloud> disconnect -o json`.
type Removal struct {
	ConnectionID string    `json:"connection_id"`
	Name         string    `json:"name"`
	NetworkID    string    `json:"network_id"`
	Provider     string    `json:"provider"`
	Status       string    `json:"status"`
	Removed      []Removed `json:"removed"`
	Kept         []Kept    `json:"kept"`
}

// DisconnectOptions configure one disconnect run.
type DisconnectOptions struct {
	API      RemovalAPI
	Provider Provider
	Network  *dfcloud.Network
	// Name and NameGiven find the connection as connect does; ID, when
	// set, names it directly.
	Name      string
	NameGiven bool
	ID        string
	Report    Reporter
	NoWait    bool
	Timeout   time.Duration
	Poll      dfcloud.WaitOptions
}

// MakeRemovalPlan finds the connection (absent is not an error: what
// dfpeer made that still points at the network is removed all the same),
// observes the cloud side, and plans: what is the connection's is
// removed — the cloud side first, in the reverse of the order connect
// made it, then the connection, then what had to exist before it (Azure's
// identity) — and what is not, or is still used, is kept with the reason.
// It changes nothing.
func MakeRemovalPlan(ctx context.Context, o DisconnectOptions) (*Plan, error) {
	net, prov := o.Network, o.Provider
	peer, err := prov.Peer(ctx)
	if err != nil {
		return nil, err
	}
	all, err := listConnections(ctx, o.API)
	if err != nil {
		return nil, err
	}
	var conn *dfcloud.Connection
	if o.ID != "" {
		for i := range all {
			if all[i].ConnectionID == o.ID && all[i].Status != dfcloud.ConnectionDeleted {
				conn = &all[i]
			}
		}
	} else {
		conn = pickConnection(all, net.NetworkID, o.Name, peer, o.NameGiven)
	}
	name := o.Name
	var others []dfcloud.Connection
	for _, c := range all {
		live := c.Status != dfcloud.ConnectionDeleted && c.Status != dfcloud.ConnectionDeleting
		if live && (conn == nil || c.ConnectionID != conn.ConnectionID) {
			others = append(others, c)
		}
	}
	if conn != nil {
		name = conn.Config.Name
	}
	obs, err := prov.Observe(ctx, Target{Network: net, Name: name, Peer: peer, Existing: conn, Others: others, Purpose: ForDisconnect})
	if err != nil {
		return nil, err
	}
	plan := &Plan{NetworkID: net.NetworkID, Name: name, Provider: prov.Name(), Network: net, Peer: peer, Existing: conn, Cloud: obs.Cloud}
	var after, before []Change
	for _, c := range obs.Changes {
		c = removal(c)
		if c.Action == "" {
			continue
		}
		if c.Phase == BeforeConnection {
			before = append(before, c)
		} else {
			after = append(after, c)
		}
	}
	slices.Reverse(after)
	slices.Reverse(before)
	plan.Changes = append(plan.Changes, after...)
	if conn != nil {
		plan.Changes = append(plan.Changes, Change{Action: Remove, Kind: KindConnection, Target: "Dragonfly Cloud", ID: conn.ConnectionID, Found: AsWanted,
			Title:  fmt.Sprintf("Dragonfly connection %s", name),
			Detail: fmt.Sprintf("connection %s (%s, %s); Dragonfly Cloud removes its side of the peering", name, conn.ConnectionID, conn.Status)})
	}
	plan.Changes = append(plan.Changes, before...)
	return plan, nil
}

// removal turns an observed resource into its disconnect change: remove
// what is the connection's, keep what is not (or still used), skip what is
// absent or a wait.
func removal(c Change) Change {
	switch {
	case c.Action == Wait || c.Action == Verify || c.Found == Absent:
		c.Action = ""
	case c.KeepReason != "":
		c.Action, c.Reason = Keep, c.KeepReason
	case c.Found == NotOurs:
		c.Action = Keep
	default:
		c.Action = Remove
	}
	c.Quiet = false
	if c.Action == Remove {
		c.Title = "Remove " + strings.ReplaceAll(string(c.Kind), "_", " ") + ": " + c.Detail
	}
	return c
}

// IsEmpty says there is nothing to remove.
func (p *Plan) IsEmpty() bool {
	return !slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action == Remove })
}

// ApplyRemoval removes what the plan says, in its order, and the
// connection, waiting for it to be deleted (unless NoWait). Each removal
// looks before it deletes, so a run interrupted anywhere is finished by
// running it again.
func ApplyRemoval(ctx context.Context, o DisconnectOptions, plan *Plan) (*Removal, error) {
	res := &Removal{Name: plan.Name, NetworkID: plan.NetworkID, Provider: plan.Provider, Status: string(dfcloud.ConnectionDeleted),
		Removed: []Removed{}, Kept: []Kept{}}
	if plan.Existing != nil {
		res.ConnectionID, res.Status = plan.Existing.ConnectionID, string(plan.Existing.Status)
	}
	st := &State{Network: plan.Network, Peer: plan.Peer, Connection: plan.Existing, Report: o.Report, Cloud: plan.Cloud,
		Result: &Result{Name: plan.Name, NetworkID: plan.NetworkID, Provider: plan.Provider}}
	for _, c := range plan.Changes {
		if err := ctx.Err(); err != nil {
			return res, interrupted(ctx, err)
		}
		if c.Action == Keep {
			res.Kept = append(res.Kept, Kept{Kind: c.Kind, Target: c.Target, Detail: c.Detail, Reason: c.Reason})
			continue
		}
		if c.Action != Remove {
			continue
		}
		o.Report.Start(c.Title)
		var note string
		var err error
		if c.Kind == KindConnection {
			note, err = removeConnection(ctx, o, plan.Existing)
			if err == nil {
				res.Status = note
			}
		} else {
			note, err = o.Provider.Remove(ctx, st, c)
		}
		if err != nil {
			o.Report.Fail(err)
			return res, interrupted(ctx, err)
		}
		o.Report.Done(note)
		res.Removed = append(res.Removed, Removed{Kind: c.Kind, Target: c.Target, Detail: c.Detail})
	}
	return res, nil
}

// removeConnection deletes the connection (gone already is fine) and
// waits until Dragonfly says deleted; it returns the status reached.
func removeConnection(ctx context.Context, o DisconnectOptions, c *dfcloud.Connection) (string, error) {
	id := c.ConnectionID
	if o.NoWait {
		if err := o.API.DeleteConnection(ctx, id); err != nil && !dfcloud.IsNotFound(err) {
			return "", fmt.Errorf("deleting connection %s: %w", id, err)
		}
		return string(dfcloud.ConnectionDeleting), nil
	}
	if err := deleteConnection(ctx, o.API, c, o.Timeout, o.Poll, o.Report); err != nil {
		return "", err
	}
	return string(dfcloud.ConnectionDeleted), nil
}
