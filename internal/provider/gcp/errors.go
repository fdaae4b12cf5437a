package gcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/googleapi"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

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

// busy reports Compute's refusal of a mutation because another operation
// holds the resource: a second peering operation on either of two peered
// networks while one runs. It passes once that operation ends, so the
// callers try again (within peeringBusyBudget) instead of failing.
func busy(err error) bool {
	var g *googleapi.Error
	return errors.As(err, &g) && g.Code == http.StatusBadRequest &&
		(strings.Contains(g.Message, "peering operation in progress") || hasReason(g, "resourceNotReady"))
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

func statusCode(err error) int {
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code
	}
	return 0
}

// errorCode is Compute's code for err: the code of a failed operation
// ("RESOURCE_ALREADY_EXISTS"), or the reason of an API error ("notFound").
func errorCode(err error) string {
	var oe *operationError
	if errors.As(err, &oe) {
		if errs := oe.op.GetError().GetErrors(); len(errs) > 0 {
			return errs[0].GetCode()
		}
		return ""
	}
	var g *googleapi.Error
	if errors.As(err, &g) && len(g.Errors) > 0 {
		return g.Errors[0].Reason
	}
	return ""
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
		return &problem.AuthError{Err: &problem.HintError{Err: wrapped,
			Hint: "Refresh your login with 'gcloud auth application-default login' (or a fresh " + TokenEnv + ")."}}
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		switch {
		case g.Code == http.StatusUnauthorized:
			return &problem.AuthError{Err: &problem.HintError{Err: wrapped,
				Hint: "Google refused the credentials: log in again with 'gcloud auth application-default login', or set a valid " + TokenEnv + "."}}
		case g.Code == http.StatusForbidden && hasReason(g, "accessNotConfigured", "SERVICE_DISABLED"):
			return &problem.AuthError{Err: &problem.HintError{Err: wrapped,
				Hint: "Enable the Compute Engine API in the project: gcloud services enable compute.googleapis.com"}}
		case g.Code == http.StatusForbidden && !hasReason(g, "quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"):
			return &problem.AuthError{Err: &problem.HintError{Err: wrapped,
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
