package gcp

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

// Backoff bounds. Polls start fast because a Compute operation often
// finishes within a second, and the SDK's own Operation.Wait would sleep a
// full second before its first look.
const (
	firstBackoff      = 50 * time.Millisecond
	defaultMaxBackoff = 8 * time.Second
	pollMaxBackoff    = time.Second
	// maxAttempts bounds retries of throttling and server errors per call.
	maxAttempts = 10
	// attemptTimeout bounds one HTTP call, so a connection that hangs is
	// retried rather than waited on forever. operations.wait itself
	// answers within two minutes.
	attemptTimeout = 3 * time.Minute
	// peeringBusyBudget bounds how long dfpeer waits for another peering
	// operation on either network (often Dragonfly's own) to finish.
	peeringBusyBudget = 10 * time.Minute
)

type retryPolicy struct {
	maxBackoff time.Duration
}

func newRetryPolicy(maxBackoff time.Duration) retryPolicy {
	if maxBackoff <= 0 {
		maxBackoff = defaultMaxBackoff
	}
	return retryPolicy{maxBackoff: maxBackoff}
}

// backoff is one growing, jittered delay sequence (gax's, as the Google
// clients use for their own retries), capped at max.
func (r retryPolicy) backoff(max time.Duration) *gax.Backoff {
	if r.maxBackoff < max {
		max = r.maxBackoff
	}
	return &gax.Backoff{Initial: min(firstBackoff, max), Max: max, Multiplier: 2}
}

// retryer is a gax.Retryer for what the Compute client leaves to its
// caller: rate limits (403 rateLimitExceeded), 429, 5xx, broken or hung
// connections. It honours Retry-After and gives up after maxAttempts.
type retryer struct {
	bo       *gax.Backoff
	attempts int
	// A network busy with a peering operation (resourceNotReady) is
	// waited for as ensurePeering waits for "peering operation in
	// progress": backoff up to 5 s, for up to peeringBusyBudget.
	busyBo    *gax.Backoff
	busyUntil time.Time
}

func (r *retryer) Retry(err error) (time.Duration, bool) {
	if notReady(err) {
		if r.busyUntil.IsZero() {
			r.busyUntil = time.Now().Add(peeringBusyBudget)
		}
		return r.busyBo.Pause(), time.Now().Before(r.busyUntil)
	}
	r.attempts++
	var h hungError
	if r.attempts >= maxAttempts || !(errors.As(err, &h) || transient(err)) {
		return 0, false
	}
	d := r.bo.Pause()
	if ra := retryAfter(err); ra > d {
		d = min(ra, 30*time.Second)
	}
	return d, true
}

// hungError is an attempt cut off by attemptTimeout while the caller's
// context was still live: worth another try.
type hungError struct{ err error }

func (e hungError) Error() string { return e.err.Error() }
func (e hungError) Unwrap() error { return e.err }

// do runs fn through gax's retry loop with the retryer above. Mutations
// are safe to repeat because they carry a requestId.
func (c *Client) do(ctx context.Context, fn func(context.Context) error) error {
	r := &retryer{bo: c.retry.backoff(c.retry.maxBackoff), busyBo: c.retry.backoff(5 * time.Second)}
	err := gax.Invoke(ctx, func(ctx context.Context, _ gax.CallSettings) error {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		err := fn(actx)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			return hungError{err}
		}
		return err
	}, gax.WithRetry(func() gax.Retryer { return r }))
	var h hungError
	if errors.As(err, &h) {
		return h.err
	}
	return err
}

// transient reports whether err may go away by itself: Compute's rate
// limits (a 403 with reason rateLimitExceeded, which the Go client does
// not retry), 429, 5xx, and connections broken before an answer.
func transient(err error) bool {
	var te *tokenError
	if errors.As(err, &te) {
		return false
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		switch {
		case g.Code == http.StatusTooManyRequests, g.Code >= 500:
			return true
		case g.Code == http.StatusForbidden:
			return hasReason(g, "rateLimitExceeded", "userRateLimitExceeded")
		}
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "connection reset")
}

func hasReason(g *googleapi.Error, reasons ...string) bool {
	for _, item := range g.Errors {
		for _, r := range reasons {
			if item.Reason == r {
				return true
			}
		}
	}
	return false
}

func retryAfter(err error) time.Duration {
	var g *googleapi.Error
	if !errors.As(err, &g) || g.Header == nil {
		return 0
	}
	s, perr := strconv.Atoi(g.Header.Get("Retry-After"))
	if perr != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// peeringBusy is Compute's refusal of a second peering operation on either
// of two peered networks while one runs.
func peeringBusy(err error) bool {
	var g *googleapi.Error
	return errors.As(err, &g) && g.Code == http.StatusBadRequest &&
		strings.Contains(g.Message, "peering operation in progress")
}

// notReady is Compute's 400 resourceNotReady ("The resource '…' is not
// ready"): the network (or rule) is busy with another operation, often a
// peering being added, and will be ready again by itself.
func notReady(err error) bool {
	var g *googleapi.Error
	return errors.As(err, &g) && g.Code == http.StatusBadRequest && hasReason(g, "resourceNotReady")
}

func statusCode(err error) int {
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code
	}
	return 0
}

// newRequestID returns a random UUID (version 4) for Compute's requestId:
// a mutation repeated with the same ID is done once.
func newRequestID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// errGCP wraps a Compute error with the step that failed.
type errGCP struct {
	step string
	err  error
}

func (e *errGCP) Error() string { return fmt.Sprintf("%s: %v", e.step, e.err) }
func (e *errGCP) Unwrap() error { return e.err }

// classify names the step and turns credential and permission failures
// into AuthErrors (exit 4) with a hint.
func classify(step string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	wrapped := &errGCP{step: step, err: err}
	var te *tokenError
	if errors.As(err, &te) {
		return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: wrapped,
			Hint: "Refresh your login with 'gcloud auth application-default login' (or a fresh " + TokenEnv + ")."}}
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		switch {
		case g.Code == http.StatusUnauthorized:
			return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: wrapped,
				Hint: "Google refused the credentials: log in again with 'gcloud auth application-default login', or set a valid " + TokenEnv + "."}}
		case g.Code == http.StatusForbidden && hasReason(g, "accessNotConfigured", "SERVICE_DISABLED"):
			return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: wrapped,
				Hint: "Enable the Compute Engine API in the project: gcloud services enable compute.googleapis.com"}}
		case g.Code == http.StatusForbidden && !hasReason(g, "quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"):
			return &cmdutil.AuthError{Err: &cmdutil.HintError{Err: wrapped,
				Hint: "'dfpeer gcp permissions' lists the IAM permissions dfpeer needs and the roles that grant them."}}
		}
	}
	return wrapped
}

// operationError is an operation that finished with an error: Compute
// reports most failures of an accepted mutation only there.
type operationError struct {
	op *computepb.Operation
}

func (e *operationError) Error() string {
	var msgs []string
	for _, it := range e.op.GetError().GetErrors() {
		msgs = append(msgs, fmt.Sprintf("%s: %s", it.GetCode(), it.GetMessage()))
	}
	if len(msgs) == 0 {
		msgs = append(msgs, fmt.Sprintf("%d %s", e.op.GetHttpErrorStatusCode(), e.op.GetHttpErrorMessage()))
	}
	return fmt.Sprintf("operation %s (%s) failed: %s", e.op.GetName(), e.op.GetOperationType(), strings.Join(msgs, "; "))
}

func (e *operationError) code() string {
	if errs := e.op.GetError().GetErrors(); len(errs) > 0 {
		return errs[0].GetCode()
	}
	return ""
}

// waitOperation waits until the global operation is DONE, through the
// operations.wait long poll (one call usually does), looking again with a
// short backoff when Compute answers early.
func (c *Client) waitOperation(ctx context.Context, op *computepb.Operation) (*computepb.Operation, error) {
	bo := c.retry.backoff(pollMaxBackoff)
	for op.GetStatus() != computepb.Operation_DONE {
		name := op.GetName()
		var next *computepb.Operation
		err := c.do(ctx, func(ctx context.Context) error {
			var err error
			next, err = c.Operations.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: c.Project, Operation: name})
			return err
		})
		if err != nil {
			return op, classify(fmt.Sprintf("waiting for operation %s (compute.globalOperations.get)", name), err)
		}
		op = next
		if op.GetStatus() != computepb.Operation_DONE {
			if err := gax.Sleep(ctx, bo.Pause()); err != nil {
				return op, err
			}
		}
	}
	if op.GetError() != nil && len(op.GetError().GetErrors()) > 0 {
		return op, &operationError{op: op}
	}
	return op, nil
}
