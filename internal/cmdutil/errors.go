// Package cmdutil holds what every command shares: the Factory of lazily
// built dependencies, the error types that decide exit codes, and small
// helpers for flags and output.
package cmdutil

import (
	"context"
	"errors"
	"fmt"

	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Exit codes are a public contract: scripts depend on them.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitInput     = 2 // invalid input or usage; nothing was changed
	ExitTimeout   = 3 // timed out waiting
	ExitAuth      = 4 // authentication or permission
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

// InputError is input the user gave that cannot work (a network that is not
// active, overlapping CIDRs, a route table of another VPC), found before
// anything was changed.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// InputErrorf builds an InputError.
func InputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// AuthError is a missing or rejected credential, or a permission denied by
// a cloud or by Dragonfly Cloud.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// TimeoutError is a wait that ran out of time; Hint tells what to do next.
type TimeoutError struct {
	Err  error
	Hint string
}

func (e *TimeoutError) Error() string { return e.Err.Error() }
func (e *TimeoutError) Unwrap() error { return e.Err }

// ErrCancelled is returned when the user interrupts (Ctrl-C) or declines a
// confirmation. It is the prompt package's abort error, so an aborted
// prompt maps to exit 130 without translation.
var ErrCancelled = prompt.ErrAborted

// ErrSilent means the command has already explained the failure; exit 1
// without another message.
var ErrSilent = errors.New("silent error")

// HintError carries a follow-up hint printed after the error.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// ExitCode chooses the process exit code for err, in one place.
func ExitCode(err error) int {
	var (
		flagErr  *FlagError
		inputErr *InputError
		authErr  *AuthError
		dfAuth   *dfcloud.AuthError
		timeout  *TimeoutError
		noAnswer *dfcloud.NoAnswerError
	)
	switch {
	case err == nil:
		return ExitOK
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
