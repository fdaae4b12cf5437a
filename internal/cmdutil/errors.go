// Package cmdutil holds what every command shares: the Factory of lazily
// built dependencies, the mapping of errors to exit codes, and small
// helpers for flags and output.
package cmdutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Exit codes are a public contract: scripts depend on them.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitInput     = 2 // invalid input or usage; nothing was changed
	ExitTimeout   = 3 // timed out waiting
	ExitAuth      = 4 // authentication or permission
	ExitProblems  = 5 // status: the checks ran and at least one failed
	ExitCancelled = 130
)

// FlagError is a usage mistake: a bad flag value or combination. The
// message names the flag and what would be valid.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// The failures below are the problem package's, named here for the
// command layer's convenience; the flow and providers use problem directly.
type (
	// InputError is input that cannot work, found before any change.
	InputError = problem.Refusal
	// AuthError is a missing or rejected credential or permission.
	AuthError = problem.AuthError
	// TimeoutError is a wait that ran out of time.
	TimeoutError = problem.TimeoutError
	// HintError carries a follow-up hint printed after the error.
	HintError = problem.HintError
)

// InputErrorf builds an InputError whose message is the whole text.
func InputErrorf(format string, args ...any) error {
	return problem.Refusef(format, args...)
}

// ErrCancelled is returned when the user interrupts (Ctrl-C) or declines a
// confirmation; an aborted prompt returns the same value.
var ErrCancelled = problem.ErrCancelled

// ErrSilent means the command has already explained the failure; exit 1
// without another message.
var ErrSilent = errors.New("silent error")

// ErrProblemsFound is `status` having found at least one failed check; the
// report already says which, so nothing more is printed. Exit 5.
var ErrProblemsFound = &silentCode{msg: "problems found", code: ExitProblems}

// silentCode is a failure the command has already explained, with its own
// exit code.
type silentCode struct {
	msg  string
	code int
}

func (e *silentCode) Error() string { return e.msg }

// Silent reports whether err has already been explained to the user.
func Silent(err error) bool {
	var sc *silentCode
	return errors.Is(err, ErrSilent) || errors.As(err, &sc)
}

// ExitCode chooses the process exit code for err, in one place.
func ExitCode(err error) int {
	var (
		flagErr  *FlagError
		inputErr *problem.Refusal
		authErr  *problem.AuthError
		dfAuth   *dfcloud.AuthError
		timeout  *problem.TimeoutError
		noAnswer *dfcloud.NoAnswerError
	)
	var sc *silentCode
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &sc):
		return sc.code
	case errors.As(err, &noAnswer):
		// The last failure may be a client timeout, but the wait did not
		// run out of time: the API is gone (exit 1).
		return ExitError
	case errors.Is(err, ErrCancelled), errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &flagErr), errors.As(err, &inputErr):
		return ExitInput
	case errors.As(err, &authErr), errors.As(err, &dfAuth):
		return ExitAuth
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return ExitTimeout
	}
	return ExitError
}
