package dfcloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dragonflydb/dfpeer/internal/poll"
)

// Clock is the time source of WaitConnection; tests substitute a fake one.
// It is dfpeer's one polling clock.
type Clock = poll.Clock

// RealClock is the wall clock.
type RealClock = poll.RealClock

// WaitOptions tune WaitConnection. The zero value gives the defaults.
type WaitOptions struct {
	// Interval is the first poll interval; default 100 ms.
	Interval time.Duration
	// MaxInterval caps the growing interval; default 500 ms, so that a
	// status change is noticed well under a second after it happens.
	MaxInterval time.Duration
	// Multiplier grows the interval after each poll; default 1.5.
	Multiplier float64
	// Ceiling lets a long wait poll less: past MaxInterval the interval
	// grows to a tenth of the time waited so far, up to Ceiling. Default
	// 2 s (one request every 2 s over a long wait, a change seen within
	// 10% of the time waited); when only MaxInterval is set, MaxInterval.
	Ceiling time.Duration
	// Clock defaults to RealClock.
	Clock Clock
	// OnChange is called with the first state observed and then on every
	// status change (progress reporting).
	OnChange func(c *Connection)
	// MaxTransportFailures ends the wait after this many consecutive polls
	// that got no answer at all (each already retried by the client);
	// default DefaultMaxTransportFailures.
	MaxTransportFailures int
}

// Default poll timing of WaitConnection.
const (
	DefaultWaitInterval    = 100 * time.Millisecond
	DefaultWaitMaxInterval = 500 * time.Millisecond
	DefaultWaitMultiplier  = 1.5
	DefaultWaitCeiling     = 2 * time.Second
	// DefaultMaxTransportFailures: five polls in a row, each retried by the
	// client, without any answer means the API is gone, not slow.
	DefaultMaxTransportFailures = 5
)

func (o WaitOptions) withDefaults() WaitOptions {
	if o.Interval <= 0 {
		o.Interval = DefaultWaitInterval
	}
	if o.Ceiling <= 0 && o.MaxInterval > 0 {
		o.Ceiling = o.MaxInterval // the caller chose the cap
	}
	if o.Ceiling <= 0 {
		o.Ceiling = DefaultWaitCeiling
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = DefaultWaitMaxInterval
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = o.Interval
	}
	if o.Multiplier < 1 {
		o.Multiplier = DefaultWaitMultiplier
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.MaxTransportFailures <= 0 {
		o.MaxTransportFailures = DefaultMaxTransportFailures
	}
	return o
}

// StatusIn returns a condition for WaitConnection that holds once the
// connection has one of the statuses.
func StatusIn(statuses ...ConnectionStatus) func(*Connection) bool {
	return func(c *Connection) bool { return slices.Contains(statuses, c.Status) }
}

// WaitConnection polls the connection until done(c) holds and returns it.
//
//   - A 404 counts as status deleted (gone after a delete): when done
//     accepts that, the result is Connection{ConnectionID: id, Status:
//     deleted}.
//   - Reaching failed, irrecoverable or deleted without done holding
//     returns the connection and a *TerminalStatusError.
//   - When ctx ends, it returns within one poll interval with an error
//     wrapping ctx.Err() (errors.Is(err, context.DeadlineExceeded) holds
//     after a timeout), along with the last state seen.
//   - Transient failures (429, 5xx, network), already retried by the
//     client, do not end the wait: it keeps polling until ctx ends and then
//     mentions the last such error. Other errors (auth, 400) end it at once.
//   - Except that an API that no longer answers at all is not waited for
//     until ctx ends: after opts.MaxTransportFailures consecutive polls
//     that failed without any HTTP answer (connection refused, reset,
//     timeout), it returns a *NoAnswerError wrapping the last failure.
//     An answer, even a 5xx, resets the count.
func (c *Client) WaitConnection(ctx context.Context, id string, done func(*Connection) bool, opts WaitOptions) (*Connection, error) {
	opts = opts.withDefaults()
	if done == nil {
		return nil, errors.New("dfcloud: WaitConnection needs a condition")
	}
	if _, err := escapeID("connection", id); err != nil {
		return nil, err
	}
	var last *Connection
	var lastErr error
	noAnswer := 0 // consecutive polls without any HTTP answer
	var result *Connection
	err := poll.Until(ctx, poll.Options{Initial: opts.Interval, Max: opts.MaxInterval, Multiplier: opts.Multiplier, Ceiling: opts.Ceiling, Clock: opts.Clock},
		func(ctx context.Context) (bool, error) {
			conn, err := c.GetConnection(ctx, id)
			var netErr *networkError
			if err != nil && ctx.Err() == nil && errors.As(err, &netErr) {
				noAnswer++
			} else {
				noAnswer = 0
			}
			switch {
			case err == nil:
				lastErr = nil
			case IsNotFound(err):
				conn, lastErr = &Connection{ConnectionID: id, Status: ConnectionDeleted}, nil
			case ctx.Err() != nil:
				return false, ctx.Err()
			case noAnswer >= opts.MaxTransportFailures:
				return false, &NoAnswerError{ConnectionID: id, Polls: noAnswer, Err: err}
			case transient(err):
				lastErr = err
				return false, nil
			default:
				return false, err
			}
			if opts.OnChange != nil && (last == nil || last.Status != conn.Status) {
				opts.OnChange(conn)
			}
			last = conn
			if done(conn) {
				result = conn
				return true, nil
			}
			if conn.Status.Terminal() {
				return false, &TerminalStatusError{Connection: conn}
			}
			return false, nil
		})
	switch {
	case err == nil:
		return result, nil
	case ctx.Err() != nil:
		return last, waitCanceled(ctx, id, last, lastErr)
	}
	var term *TerminalStatusError
	if errors.As(err, &term) {
		return term.Connection, err
	}
	return last, err
}

// NoAnswerError ends WaitConnection when the API stopped answering: Polls
// consecutive polls, each retried, got no HTTP response.
type NoAnswerError struct {
	ConnectionID string
	Polls        int
	Err          error // the last failure
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("dfcloud: stopped waiting for connection %s: the API did not answer %d polls in a row: %v", e.ConnectionID, e.Polls, e.Err)
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

func waitCanceled(ctx context.Context, id string, last *Connection, lastErr error) error {
	msg := "dfcloud: waiting for connection " + id
	if last != nil {
		msg += fmt.Sprintf(" (last status %s)", last.Status)
	}
	if lastErr != nil {
		return fmt.Errorf("%s: %w; last error: %w", msg, ctx.Err(), lastErr)
	}
	return fmt.Errorf("%s: %w", msg, ctx.Err())
}

// transient reports whether an error is worth polling through: throttling,
// server errors and network failures, but not answers such as 400 or 401.
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == 429 || apiErr.StatusCode >= 500
	}
	var netErr *networkError
	return errors.As(err, &netErr)
}
