package azure

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Waits dfpeer bounds itself. azcore retries throttling and server errors
// per call; these are the waits for Azure to make a change visible.
const (
	// propagationBudget bounds retries of authorization failures that
	// follow a new role assignment: Azure documents up to ten minutes.
	propagationBudget = 10 * time.Minute
	// signInBudget bounds retries of a sign-in with a client secret just
	// added: Entra takes a few seconds, sometimes a minute, to accept it.
	signInBudget = 2 * time.Minute
	// roleSettle is how long dfpeer lets a role assignment for
	// Dragonfly's principal settle before creating the connection, since
	// it cannot see when Dragonfly's access takes effect and Dragonfly
	// peers as soon as the connection exists.
	roleSettle = 30 * time.Second
	// cleanupTimeout bounds removing the temporary secret after an
	// interruption.
	cleanupTimeout = 30 * time.Second
)

// backoff is one growing, jittered delay sequence.
type backoff struct{ next, max time.Duration }

func (c *Client) backoff() *backoff {
	return &backoff{next: min(c.cfg.Poll, c.cfg.MaxBackoff), max: c.cfg.MaxBackoff}
}

// pause returns the next delay: half fixed, half random, so that clients
// throttled together do not retry in step.
func (b *backoff) pause() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.max)
	if half := d / 2; half > 0 {
		return half + rand.N(half+1)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryWhile calls fn until it succeeds, fails with an error retryable
// does not accept, or budget runs out; notify (may be nil) hears each
// retry's reason.
func (c *Client) retryWhile(ctx context.Context, budget time.Duration, retryable func(error) bool, notify func(error), fn func() error) error {
	deadline := time.Now().Add(budget)
	b := c.pollIntervals()
	for {
		err := fn()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %s: %w", budget, err)
		}
		if notify != nil {
			notify(err)
		}
		if err := sleep(ctx, b.pause()); err != nil {
			return err
		}
	}
}

// pollInterval is a gently growing sequence of poll intervals (and of
// retries while a change propagates), from Poll to ten times it: a state
// change is seen soon after it happens without hammering ARM during a
// long wait.
type pollInterval struct{ next, max time.Duration }

func (c *Client) pollIntervals() *pollInterval {
	return &pollInterval{next: c.cfg.Poll, max: max(c.cfg.Poll, min(10*c.cfg.Poll, c.cfg.MaxBackoff))}
}

func (p *pollInterval) pause() time.Duration {
	d := p.next
	p.next = min(p.next*3/2, p.max)
	return d
}

// pollUntilDone polls a long-running operation at dfpeer's own pace:
// azcore's PollUntilDone refuses intervals under a second outside tests,
// and most network operations finish in a few.
func pollUntilDone[T any](ctx context.Context, c *Client, p *runtime.Poller[T]) (T, error) {
	b := c.pollIntervals()
	for !p.Done() {
		if err := sleep(ctx, b.pause()); err != nil {
			var zero T
			return zero, err
		}
		if _, err := p.Poll(ctx); err != nil {
			var zero T
			return zero, err
		}
	}
	return p.Result(ctx)
}
