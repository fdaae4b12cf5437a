package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

// errAzure wraps an SDK error with the step that failed, in one line:
// the SDK's own messages span a dozen lines with the full response.
type errAzure struct {
	step string
	err  error
}

func (e *errAzure) Error() string { return e.step + ": " + describe(e.err) }
func (e *errAzure) Unwrap() error { return e.err }

// classify names the step and turns credential and permission failures
// into AuthErrors (exit 4).
func classify(step string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	wrapped := &errAzure{step: step, err: err}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) {
		return &problem.AuthError{Err: wrapped}
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden) {
		return &problem.AuthError{Err: wrapped}
	}
	return wrapped
}

// errorCode is the Azure error code of err ("AuthorizationFailed",
// "Request_ResourceNotFound", ...) and its HTTP status, or "" and 0.
func errorCode(err error) (string, int) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode, re.StatusCode
	}
	return "", 0
}

func isNotFound(err error) bool {
	_, status := errorCode(err)
	return status == http.StatusNotFound
}

// describe renders an SDK error as one line: the service's code and
// message, without the request dump azcore and azidentity add.
func describe(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := responseMessage(re.RawResponse)
		code := re.ErrorCode
		if code == "" {
			code = http.StatusText(re.StatusCode)
		}
		if msg == "" {
			return fmt.Sprintf("%s (HTTP %d)", code, re.StatusCode)
		}
		return fmt.Sprintf("%s (HTTP %d): %s", code, re.StatusCode, msg)
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) && af.RawResponse != nil {
		if msg := responseMessage(af.RawResponse); msg != "" {
			return msg
		}
	}
	msg := err.Error()
	// Credential chains list every credential they tried on its own line.
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 600 {
		msg = msg[:600] + "…"
	}
	return msg
}

// responseMessage extracts the message of an ARM, Graph or Entra error
// body.
func responseMessage(resp *http.Response) string {
	if resp == nil || resp.Body == nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	if err != nil {
		return ""
	}
	var body struct {
		Error json.RawMessage `json:"error"`
		Desc  string          `json:"error_description"`
	}
	if json.Unmarshal(b, &body) != nil {
		return ""
	}
	if body.Desc != "" {
		// Entra appends trace and correlation IDs and a timestamp; keep
		// the sentence that explains.
		d := body.Desc
		if i := strings.Index(d, " Trace ID:"); i > 0 {
			d = d[:i]
		}
		return d
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body.Error, &e) == nil {
		return e.Message
	}
	return ""
}

// responseOf is the HTTP response behind an SDK error, or nil.
func responseOf(err error) *http.Response {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.RawResponse
	}
	return nil
}

// retryableCreate: throttling, server errors and transport failures may
// or may not have created the thing; look again before creating again.
func retryableCreate(err error) bool {
	code, status := errorCode(err)
	if status != 0 {
		return status == http.StatusTooManyRequests || status >= 500 || code == "ServiceUnavailable"
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// retryAfter is the delay a throttled answer asks for.
func retryAfter(err error) time.Duration {
	_, status := errorCode(err)
	if status != http.StatusTooManyRequests {
		return 0
	}
	var secs int
	if re := responseOf(err); re != nil {
		fmt.Sscan(re.Header.Get("Retry-After"), &secs)
	}
	return time.Duration(min(secs, 120)) * time.Second
}

// secretNotYetAccepted: Entra refuses a new secret as invalid (AADSTS7000215)
// until it has propagated, and the application as unknown (AADSTS700016)
// in a tenant whose copy of its service principal is not there yet.
func secretNotYetAccepted(err error) bool {
	msg := describe(err)
	return strings.Contains(msg, "AADSTS7000215") || strings.Contains(msg, "AADSTS700016")
}

// roleNotYetInEffect: ARM refuses until role assignments — ours on the
// VNet, Dragonfly's on its own — have propagated.
func roleNotYetInEffect(err error) bool {
	code, _ := errorCode(err)
	return code == "AuthorizationFailed" || code == "LinkedAuthorizationFailed"
}

// principalNotYetReplicated: a principal just created may not have
// reached the directory replica ARM reads.
func principalNotYetReplicated(err error) bool {
	code, _ := errorCode(err)
	return code == "PrincipalNotFound"
}

// alreadyExists: a create answered that the thing is there (a lost
// answer, or another run).
func alreadyExists(err error, codes ...string) bool {
	code, status := errorCode(err)
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return status == http.StatusConflict
}

// deleted reports a delete's outcome: removed, or already gone (404) —
// removing what is gone is not an error.
func deleted(what string, err error) (string, error) {
	switch {
	case err == nil:
		return "removed", nil
	case isNotFound(err):
		return "already gone", nil
	}
	return "", classify("removing "+what, err)
}
