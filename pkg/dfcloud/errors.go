package dfcloud

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNotFound matches (errors.Is) the error for a 404: the network or
// connection does not exist, or no longer does.
var ErrNotFound = errors.New("not found")

// APIError is a non-2xx answer from the API.
type APIError struct {
	StatusCode int
	// Message is the server's "error" text; empty when it sent none.
	Message string
	Method  string
	Path    string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("dfcloud: %s %s: %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// Is makes a 404 match ErrNotFound.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// AuthError is a 401 or 403: the API key is missing, wrong, revoked or not
// allowed to do this.
type AuthError struct {
	*APIError
}

func (e *AuthError) Error() string { return e.APIError.Error() }

// Unwrap gives errors.As access to the APIError.
func (e *AuthError) Unwrap() error { return e.APIError }

// IsNotFound reports whether err is (or wraps) a 404.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// TerminalStatusError is returned by WaitConnection when the connection
// reached a status it can never leave (failed, irrecoverable, deleted)
// without the wait's condition being met.
type TerminalStatusError struct {
	Connection *Connection
}

func (e *TerminalStatusError) Error() string {
	c := e.Connection
	msg := fmt.Sprintf("dfcloud: connection %s is %s", c.ConnectionID, c.Status)
	if c.StatusDetail != "" {
		msg += ": " + c.StatusDetail
	}
	return msg
}
