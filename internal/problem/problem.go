// Package problem holds the typed failures that every layer of dfpeer may
// return and only the command layer turns into words about flags, and into
// exit codes: a refusal of the user's input (exit 2), a credential or
// permission problem (4), a wait that ran out of time (3), a cancellation
// (130). It is a leaf: it imports nothing of dfpeer, so the flow, the
// providers and the simulators can use it without reaching the CLI.
package problem

import (
	"errors"
	"fmt"
	"strings"
)

// Refusal is input the user gave that cannot work — a malformed value, a
// VPC that overlaps the network, a route table of another VPC — found
// before anything was changed.
//
// Input names the input at fault as its flag is spelt, without dashes
// ("vpc-id", "route-table"); empty when no single input is at fault. The
// command layer decides how to name it: as the flag when the value came
// from a flag, in words about the choice when it came from a prompt.
type Refusal struct {
	Input   string // "vpc-id"; "" when the refusal is about no single input
	Value   string // the value refused, as given
	Problem string // what is wrong with it, without naming the input
	Fix     string // what would be valid, or how to fix it; may be empty
	// Cause is the underlying error, when the refusal comes from a cloud's
	// answer (kept for errors.Is/As).
	Cause error
}

// Unwrap returns the cause.
func (r *Refusal) Unwrap() error { return r.Cause }

// RefuseErr turns err, an answer that proves the input wrong, into a
// Refusal about no single input.
func RefuseErr(err error) *Refusal { return &Refusal{Problem: err.Error(), Cause: err} }

// Refuse builds a Refusal; problem is a format string.
func Refuse(input, value, fix, problem string, args ...any) *Refusal {
	return &Refusal{Input: input, Value: value, Problem: fmt.Sprintf(problem, args...), Fix: fix}
}

// Refusef builds a Refusal about no single input.
func Refusef(format string, args ...any) *Refusal {
	return &Refusal{Problem: fmt.Sprintf(format, args...)}
}

// Error renders the refusal naming the flag: "--vpc-id vpc-1: its CIDR
// block overlaps …; pick another VPC".
func (r *Refusal) Error() string {
	return r.Describe(Subject(r.Input))
}

// Subject is how an input is named by default: a flag-like name
// ("vpc-id") as its flag, anything else (an environment variable such as
// DFCLOUD_API_URL, or words) as it is.
func Subject(input string) string {
	if input == "" || strings.IndexFunc(input, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) >= 0 {
		return input
	}
	return "--" + input
}

// Describe renders the refusal with subject naming the input ("--vpc-id",
// or "the VPC you chose"); the value follows the subject.
func (r *Refusal) Describe(subject string) string {
	var b strings.Builder
	if subject != "" {
		b.WriteString(subject)
		if r.Value != "" {
			b.WriteString(" " + r.Value)
		}
		b.WriteString(": ")
	}
	b.WriteString(r.Problem)
	if r.Fix != "" {
		b.WriteString("; " + r.Fix)
	}
	return b.String()
}

// AuthError is a missing or rejected credential, or a permission denied by
// a cloud or by Dragonfly Cloud.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// TimeoutError is a wait that ran out of time; Hint says what to do next.
type TimeoutError struct {
	Err  error
	Hint string
}

func (e *TimeoutError) Error() string { return e.Err.Error() }
func (e *TimeoutError) Unwrap() error { return e.Err }

// HintError carries a follow-up line printed after the error.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// ErrCancelled is the user interrupting (Ctrl-C) or declining a
// confirmation. The prompt package returns it for an aborted prompt.
var ErrCancelled = errors.New("cancelled")
