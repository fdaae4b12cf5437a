// Package poll is dfpeer's one way to wait: call a check until it says
// done, starting fast and backing off to a cap, on an injectable clock,
// within an optional timeout that becomes a typed *problem.TimeoutError.
// Waits for Dragonfly connections, Compute operations and Azure
// long-running operations all go through Until.
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

// Clock is the time source; tests substitute a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Defaults: a change in the first seconds is noticed within half a
// second; later within a tenth of the time waited so far, never more than
// 2 s late — about one request every 2 s over a long wait.
const (
	DefaultInitial    = 100 * time.Millisecond
	DefaultMax        = 500 * time.Millisecond
	DefaultMultiplier = 1.5
	DefaultStretch    = 0.1
	DefaultCeiling    = 2 * time.Second
)

// Options tune Until. The zero value polls at 100 ms growing by 1.5 to
// 500 ms, on the wall clock, until ctx ends.
type Options struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	// Stretch lets the interval grow past Max to this fraction of the
	// time waited so far, up to Ceiling: a long wait costs fewer
	// requests and a change is still seen within that fraction.
	Stretch float64
	Ceiling time.Duration
	Clock   Clock
	// Timeout bounds the wait; 0 means only ctx bounds it.
	Timeout time.Duration
	// What is waited for, for the timeout error: "operation op-1 to be DONE".
	What string
	// Hint is the timeout error's hint: how to keep waiting.
	Hint string
}

func (o Options) withDefaults() Options {
	if o.Initial <= 0 {
		o.Initial = DefaultInitial
	}
	if o.Max <= 0 {
		o.Max = DefaultMax
	}
	o.Max = max(o.Max, o.Initial)
	if o.Multiplier < 1 {
		o.Multiplier = DefaultMultiplier
	}
	if o.Stretch <= 0 {
		o.Stretch = DefaultStretch
	}
	if o.Ceiling <= 0 {
		o.Ceiling = DefaultCeiling
	}
	o.Ceiling = max(o.Ceiling, o.Max)
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	return o
}

// Until calls check until it returns done or an error. Between calls it
// waits Initial, growing by Multiplier up to Max. When Timeout passes first
// it returns a *problem.TimeoutError (wrapping context.DeadlineExceeded
// and the last error check returned with done false, if any); when ctx
// ends, ctx's error.
//
// check may return (false, nil) to keep waiting, or (false, Retry(err)) to
// keep waiting through a transient err, which the timeout error then
// mentions.
func Until(ctx context.Context, o Options, check func(ctx context.Context) (done bool, err error)) error {
	o = o.withDefaults()
	var deadline <-chan time.Time
	if o.Timeout > 0 {
		deadline = o.Clock.After(o.Timeout)
	}
	interval := o.Initial
	start := o.Clock.Now()
	var lastTransient error
	for {
		done, err := check(ctx)
		var r *retryable
		switch {
		case errors.As(err, &r):
			lastTransient = r.err
		case err != nil:
			return err
		case done:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return timeout(o, lastTransient)
		case <-o.Clock.After(interval):
		}
		interval = next(o, interval, o.Clock.Now().Sub(start))
	}
}

// next is the interval after one of interval, elapsed into the wait:
// growing by Multiplier up to Max, then a Stretch of elapsed up to Ceiling.
func next(o Options, interval, elapsed time.Duration) time.Duration {
	o = o.withDefaults()
	grown := min(time.Duration(float64(interval)*o.Multiplier), o.Max)
	stretched := min(time.Duration(float64(elapsed)*o.Stretch), o.Ceiling)
	return max(grown, stretched)
}

func timeout(o Options, last error) error {
	what := o.What
	if what == "" {
		what = "the change"
	}
	err := fmt.Errorf("timed out after %s waiting for %s: %w", o.Timeout, what, context.DeadlineExceeded)
	if last != nil {
		err = fmt.Errorf("%w (last error: %w)", err, last)
	}
	return &problem.TimeoutError{Err: err, Hint: o.Hint}
}

// Retry marks err as transient: Until keeps polling through it.
func Retry(err error) error { return &retryable{err: err} }

type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// Sleep waits d on clock, or until ctx ends.
func Sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if clock == nil {
		clock = RealClock{}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}
