package peering

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dragonflydb/dfpeer/internal/problem"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// ConnectionWaiter is the part of the Dragonfly client waits need.
type ConnectionWaiter interface {
	WaitConnection(ctx context.Context, id string, done func(*dfcloud.Connection) bool, opts dfcloud.WaitOptions) (*dfcloud.Connection, error)
}

// Reached reports whether c has got to want: a connection that is already
// active has passed inactive, so waiting for inactive is over too.
func Reached(c *dfcloud.Connection, want dfcloud.ConnectionStatus) bool {
	switch want {
	case dfcloud.ConnectionInactive:
		return (c.Status == dfcloud.ConnectionInactive && c.PeerConnectionID != "") || c.Status == dfcloud.ConnectionActive
	default:
		return c.Status == want
	}
}

// WaitStatus waits up to timeout for connection id to reach want, showing
// each status change with the time elapsed. A deadline becomes a
// problem.TimeoutError (exit 3) with a hint on how to keep waiting; a
// terminal status becomes an error carrying status_detail (exit 1).
func WaitStatus(ctx context.Context, api ConnectionWaiter, id string, want dfcloud.ConnectionStatus, timeout time.Duration, wo dfcloud.WaitOptions, rep Reporter) (*dfcloud.Connection, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := dfcloud.ConnectionStatus("")
	wo.OnChange = func(c *dfcloud.Connection) {
		// The live line shows the time spent; a change is dated from the
		// start of the wait (the first status is just the status).
		if last == "" {
			rep.Update(string(c.Status))
		} else {
			rep.Update(fmt.Sprintf("%s after %s", c.Status, time.Since(start).Round(100*time.Millisecond)))
		}
		last = c.Status
	}
	c, err := api.WaitConnection(ctx, id, func(c *dfcloud.Connection) bool { return Reached(c, want) }, wo)
	if err == nil {
		return c, nil
	}
	var term *dfcloud.TerminalStatusError
	switch {
	case errors.As(err, &term):
		detail := term.Connection.StatusDetail
		if detail == "" {
			detail = "no detail given"
		}
		return term.Connection, fmt.Errorf("connection %s is %s: %s", id, term.Connection.Status, detail)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.Canceled):
		status := string(last)
		if status == "" {
			status = "unknown"
		}
		return nil, &problem.TimeoutError{
			Err:  fmt.Errorf("timed out after %s waiting for connection %s to be %s (it is %s)", timeout, id, want, status),
			Hint: fmt.Sprintf("Keep waiting with: dfpeer connections wait %s --for %s --timeout 30m", id, want),
		}
	}
	return nil, err
}
