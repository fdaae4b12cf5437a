package gcpsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is one Compute error, written either as the HTTP error envelope
//
//	{"error":{"code":404,"message":"…","errors":[{"message":"…","domain":"global","reason":"notFound"}]}}
//
// or, when an operation fails after it was accepted, as the operation's
// error (errors[].code is then opCode, plus httpErrorStatusCode/Message).
type apiError struct {
	code    int
	message string
	reason  string
	domain  string // "global" unless set
	// status and details are added by Google's front end (auth, quota,
	// malformed JSON); Compute's own errors carry neither.
	status  string
	details []map[string]any
	// location/locationType point at the offending header (auth errors).
	location, locationType string
	// opCode is the code an Operation reports for this error.
	opCode string
	header http.Header
}

func (e *apiError) Error() string { return e.message }

func writeError(w http.ResponseWriter, e *apiError) {
	item := map[string]any{"message": e.message, "domain": orDefault(e.domain, "global"), "reason": e.reason}
	if e.location != "" {
		item["location"], item["locationType"] = e.location, e.locationType
	}
	body := map[string]any{"code": e.code, "message": e.message, "errors": []any{item}}
	if e.status != "" {
		body["status"] = e.status
	}
	if len(e.details) > 0 {
		body["details"] = e.details
	}
	for k, vs := range e.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.code)
	b, _ := json.MarshalIndent(map[string]any{"error": body}, "", "  ")
	w.Write(append(b, '\n'))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// The messages below are Compute's. Where the public record did not give
// the exact wording (marked "unverified"), the code and reason follow the
// closest documented error of the same kind.

func errNotFound(resource string) *apiError {
	return &apiError{code: 404, reason: "notFound", opCode: "RESOURCE_NOT_FOUND",
		message: fmt.Sprintf("The resource '%s' was not found", resource)}
}

func errAlreadyExists(resource string) *apiError {
	return &apiError{code: 409, reason: "alreadyExists", opCode: "RESOURCE_ALREADY_EXISTS",
		message: fmt.Sprintf("The resource '%s' already exists", resource)}
}

func errNotReady(resource string) *apiError {
	return &apiError{code: 400, reason: "resourceNotReady", opCode: "RESOURCE_NOT_READY",
		message: fmt.Sprintf("The resource '%s' is not ready", resource)}
}

func errRequired(field string) *apiError {
	return &apiError{code: 400, reason: "required", opCode: "REQUIRED_FIELD_MISSING",
		message: fmt.Sprintf("Required field '%s' not specified", field)}
}

func errInvalid(field, value, why string) *apiError {
	msg := fmt.Sprintf("Invalid value for field '%s': '%s'.", field, value)
	if why != "" {
		msg += " " + why
	}
	return &apiError{code: 400, reason: "invalid", opCode: "INVALID_FIELD_VALUE", message: msg}
}

func errForbidden(permission, resource string) *apiError {
	return &apiError{code: 403, reason: "forbidden", opCode: "PERMISSIONS_ERROR",
		message: fmt.Sprintf("Required '%s' permission for '%s'", permission, resource)}
}

// Compute's quota messages have two spaces before "Limit".
func errQuota(metric string, limit float64) *apiError {
	return &apiError{code: 403, reason: "quotaExceeded", opCode: "QUOTA_EXCEEDED",
		message: fmt.Sprintf("Quota '%s' exceeded.  Limit: %.1f globally.", metric, limit)}
}

// errPeeringInProgress is the documented error for a second peering
// operation on either network while one is running:
// "googleapi: Error 400: There is a peering operation in progress on the
// local or peer network. Try again later., badRequest".
func errPeeringInProgress() *apiError {
	return &apiError{code: 400, reason: "badRequest", opCode: "BAD_REQUEST",
		message: "There is a peering operation in progress on the local or peer network. Try again later."}
}

// errPeeringOverlap is the documented text; Compute reports it on the
// operation ("Error waiting for Adding Network Peering: …"). The operation
// error code is unverified.
func errPeeringOverlap(peerRange, localRange, localResource string) *apiError {
	return &apiError{code: 400, reason: "invalid", opCode: "INVALID_USAGE",
		message: fmt.Sprintf("An IP range in the peer network (%s) overlaps with an IP range in the local network (%s) allocated by resource (%s).",
			peerRange, localRange, localResource)}
}

// errPeeringOverlapActivePeer refuses a peering whose routes would overlap
// routes one side already exchanges with another active peer. side is
// "peer" (the new peer's range overlaps a peer of the local network) or
// "local" (the local range overlaps a peer of the peer network). The
// wording follows errPeeringOverlap; it is unverified.
func errPeeringOverlapActivePeer(side, rng, otherRange, otherNetwork, otherSide string) *apiError {
	return &apiError{code: 400, reason: "invalid", opCode: "INVALID_USAGE",
		message: fmt.Sprintf("An IP range in the %s network (%s) overlaps with an IP range (%s) of an active peer (%s) of the %s network.",
			side, rng, otherRange, otherNetwork, otherSide)}
}

// errBadJSON is what Google's front end answers for a body that does not
// parse into the request message.
func errBadJSON(detail string) *apiError {
	msg := "Invalid JSON payload received. " + detail
	return &apiError{code: 400, reason: "invalid", status: "INVALID_ARGUMENT", message: msg,
		details: []map[string]any{{
			"@type":           "type.googleapis.com/google.rpc.BadRequest",
			"fieldViolations": []any{map[string]any{"field": "resource", "description": msg}},
		}}}
}

// Google's front end answers 401 before Compute sees the request.
func errUnauthenticated(method string, missing bool) *apiError {
	e := &apiError{code: 401, status: "UNAUTHENTICATED", location: "Authorization", locationType: "header",
		header: http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/"`}}}
	reason := "ACCESS_TOKEN_TYPE_UNSUPPORTED"
	if missing {
		e.message = "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
		e.reason = "required"
		reason = "CREDENTIALS_MISSING"
	} else {
		e.message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
		e.reason = "authError"
	}
	e.details = []map[string]any{{
		"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
		"reason":   reason,
		"domain":   "googleapis.com",
		"metadata": map[string]any{"method": method, "service": "compute.googleapis.com"},
	}}
	return e
}

// rpcMethod turns "networks.addPeering" into
// "compute.v1.NetworksService.AddPeering", as ErrorInfo metadata names it.
func rpcMethod(op string) string {
	res, m, ok := strings.Cut(op, ".")
	if !ok || m == "" || res == "" {
		return "compute.v1." + op
	}
	return "compute.v1." + strings.ToUpper(res[:1]) + res[1:] + "Service." + strings.ToUpper(m[:1]) + m[1:]
}
