package peering

import (
	"context"
	"fmt"
	"time"

	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// CheckStatus is the verdict of one check; its text is public JSON.
type CheckStatus string

const (
	OK   CheckStatus = "ok"
	Warn CheckStatus = "warn"
	Fail CheckStatus = "fail"
)

// Side says whose half a check looks at; its text is public JSON.
type Side string

const (
	SideDragonfly Side = "dragonfly"
	SideCloud     Side = "cloud"
)

// Check is one line of `status`.
type Check struct {
	ID       string      `json:"id"`
	Side     Side        `json:"side"`
	Status   CheckStatus `json:"status"`
	Resource string      `json:"resource"`
	Message  string      `json:"message"`
	Fix      string      `json:"fix,omitempty"`
}

// Health is the outcome of `status`; its JSON form is the public schema of
// `dfpeer <cloud> status -o json`.
type Health struct {
	ConnectionID string  `json:"connection_id"`
	Name         string  `json:"name"`
	NetworkID    string  `json:"network_id"`
	Provider     string  `json:"provider"`
	Status       string  `json:"status"`
	StatusDetail string  `json:"status_detail,omitempty"`
	Healthy      bool    `json:"healthy"`
	Checks       []Check `json:"checks"`
}

// StatusOptions configure one status run.
type StatusOptions struct {
	API       API
	Provider  Provider
	Network   *dfcloud.Network
	Name      string
	NameGiven bool
	ID        string // --connection: find it by ID instead
	// Repair is the command that fixes what dfpeer can fix (the connect
	// command with the same flags); --recreate is appended where needed.
	Repair string
	// Now and Stale date a status that has not changed for long.
	Now   func() time.Time
	Stale time.Duration
}

// Diagnose reads both sides of the connection, read-only, and says what
// is wrong and how to fix it.
func Diagnose(ctx context.Context, o StatusOptions) (*Health, error) {
	net, prov := o.Network, o.Provider
	peer, err := prov.Peer(ctx)
	if err != nil {
		return nil, err
	}
	var conn *dfcloud.Connection
	if o.ID != "" {
		c, err := o.API.GetConnection(ctx, o.ID)
		if err != nil && !dfcloud.IsNotFound(err) {
			return nil, err
		}
		if err == nil && c.Status != dfcloud.ConnectionDeleted {
			conn = c
		}
	} else if conn, err = findConnection(ctx, o.API, net.NetworkID, o.Name, peer, o.NameGiven); err != nil {
		return nil, err
	}
	if conn == nil {
		if o.ID != "" {
			return nil, problem.Refuse("connection", o.ID, "see 'dfpeer connections list'", "no such connection")
		}
		return nil, problem.Refuse("name", o.Name, "connect it with: "+o.Repair,
			"no connection of that name (or to this %s) in network %s", prov.Name(), net.Name)
	}
	h := &Health{Name: o.Name, NetworkID: net.NetworkID, Provider: prov.Name(), Checks: []Check{}}
	h.Checks = append(h.Checks, dragonflyChecks(conn, o)...)
	h.ConnectionID, h.Name, h.Status, h.StatusDetail = conn.ConnectionID, conn.Config.Name, string(conn.Status), conn.StatusDetail
	obs, err := prov.Observe(ctx, Target{Network: net, Name: h.Name, Peer: peer, Existing: conn, Purpose: ForStatus})
	if err != nil {
		return nil, err
	}
	for _, c := range obs.Changes {
		if c.Quiet || c.Action == Wait {
			continue
		}
		h.Checks = append(h.Checks, cloudCheck(c, o.Repair))
	}
	h.Healthy = true
	for _, c := range h.Checks {
		if c.Status == Fail {
			h.Healthy = false
		}
	}
	return h, nil
}

func dragonflyChecks(conn *dfcloud.Connection, o StatusOptions) []Check {
	c := Check{ID: "connection", Side: SideDragonfly, Resource: conn.ConnectionID}
	detail := ""
	if conn.StatusDetail != "" {
		detail = ": " + conn.StatusDetail
	}
	switch conn.Status {
	case dfcloud.ConnectionActive:
		c.Status, c.Message = OK, "active"
	case dfcloud.ConnectionPending:
		c.Status, c.Message = Warn, "pending: Dragonfly Cloud is creating its side of the peering"+detail
		c.Fix = "wait: dfpeer connections wait " + conn.ConnectionID + " --for active"
	case dfcloud.ConnectionInactive:
		c.Status, c.Message = Warn, "inactive: Dragonfly's side is ready and waits for yours"+detail
		c.Fix = o.Repair
	case dfcloud.ConnectionFailed, dfcloud.ConnectionIrrecoverable:
		c.Status = Fail
		c.Message = fmt.Sprintf("%s%s; a connection in this state cannot be repaired in place", conn.Status, detail)
		c.Fix = o.Repair + " --recreate"
	default:
		c.Status, c.Message = Fail, string(conn.Status)+detail
	}
	return []Check{c}
}

func cloudCheck(c Change, repair string) Check {
	id := string(c.Kind)
	if c.ID != "" {
		id += ":" + c.ID
	}
	ch := Check{ID: id, Side: SideCloud, Resource: c.Target}
	switch c.Found {
	case AsWanted:
		ch.Status, ch.Message = OK, c.Detail
	case Absent:
		ch.Status, ch.Message, ch.Fix = Fail, "missing: "+c.Detail, repair
	case Different:
		ch.Status, ch.Message, ch.Fix = Fail, c.Detail+": "+c.Reason, repair
	case NotOurs:
		// Not dfpeer's, but what the connection needs is there (an NSG
		// rule of the customer's already allows the traffic): fine.
		if c.Action == Unchanged || c.Action == Adopt {
			ch.Status, ch.Message = OK, c.Detail
			break
		}
		ch.Status, ch.Message = Warn, c.Detail+": "+c.Reason
	}
	if c.Action == Verify && c.Found != AsWanted && c.Reason != "" {
		ch.Fix = c.Reason
	}
	return ch
}
