package azuresim

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// One host serves every surface, the way the metadata document describes
// it: the login endpoint at the root (/{tenant}/oauth2/v2.0/token), ARM at
// the root (/subscriptions/…), Graph under GraphPathPrefix (/v1.0/…).

const (
	surfaceMetadata = "metadata"
	surfaceIdentity = "identity"
	surfaceGraph    = "graph"
	surfaceARM      = "arm"
)

type route struct {
	op       string
	mutating bool
	surface  string
	serve    func(http.ResponseWriter, *http.Request)
}

func (s *Sim) route(r *http.Request) route {
	path := r.URL.Path
	if path == "/metadata/endpoints" {
		return route{"Metadata_Endpoints", false, surfaceMetadata, s.handleMetadata}
	}
	if rest, ok := strings.CutPrefix(path, s.opts.GraphPathPrefix+"/v1.0/"); ok {
		op, mut := graphOperation(r.Method, parseGraphPath(rest))
		return route{op, mut, surfaceGraph, func(w http.ResponseWriter, r *http.Request) { s.serveGraph(w, r, rest) }}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > 0 && eq(segs[0], "subscriptions") {
		t := parseARMPath(path)
		op, mut := armOperation(r.Method, t)
		return route{op, mut, surfaceARM, func(w http.ResponseWriter, r *http.Request) { s.serveARM(w, r, t) }}
	}
	if len(segs) >= 2 {
		tenantSeg, rest := segs[0], strings.Join(segs[1:], "/")
		switch rest {
		case "v2.0/.well-known/openid-configuration", ".well-known/openid-configuration":
			return route{"OpenIDConfiguration", false, surfaceIdentity, func(w http.ResponseWriter, r *http.Request) {
				s.handleOpenIDConfiguration(w, r, tenantSeg)
			}}
		case "oauth2/v2.0/token":
			return route{"Token", false, surfaceIdentity, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					s.writeAADError(w, r, http.StatusMethodNotAllowed, "invalid_request", 900561,
						"The endpoint only accepts POST requests. Received a "+r.Method+" request.")
					return
				}
				s.handleToken(w, r, tenantSeg)
			}}
		}
	}
	return route{"Unknown", r.Method != http.MethodGet, surfaceARM, func(w http.ResponseWriter, r *http.Request) {
		s.writeARMError(w, r, armErr(http.StatusNotFound, "NotFound", "The requested path '%s' was not found.", r.URL.Path))
	}}
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) { s.route(r).serve(w, r) }

// classify names operations for the request log. Token requests are not
// "mutating": they change nothing a crash test would need to resume.
func (s *Sim) classify(r *http.Request, _ []byte) (string, bool) {
	rt := s.route(r)
	return rt.op, rt.mutating
}

// writeFault spells an injected throttle or server error the way each
// surface does.
func (s *Sim) writeFault(w http.ResponseWriter, r *http.Request, f simhttp.Fault, retryAfter time.Duration) {
	surface := s.route(r).surface
	if f == simhttp.Throttle {
		w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
		switch surface {
		case surfaceIdentity:
			s.writeAADError(w, r, http.StatusTooManyRequests, "temporarily_unavailable", 90055,
				"TenantThrottlingError - There are too many incoming requests. Please try again later.")
		case surfaceGraph:
			s.writeGraphError(w, gErr(http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Please try again later."))
		default:
			s.writeARMError(w, r, armErr(http.StatusTooManyRequests, "TooManyRequests",
				"The request is being throttled as the limit has been reached for operation type - %s. For more information, see - https://aka.ms/srpthrottlinglimits", rOpType(r)))
		}
		return
	}
	switch surface {
	case surfaceIdentity:
		s.writeAADError(w, r, http.StatusInternalServerError, "temporarily_unavailable", 90033,
			"A transient error has occurred. Please try again.")
	case surfaceGraph:
		s.writeGraphError(w, gErr(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please try again later."))
	default:
		s.writeARMError(w, r, armErr(http.StatusInternalServerError, "InternalServerError",
			"Encountered internal server error. Diagnostic information: timestamp '%s', correlation id '%s'.", s.now().Format("20060102T150405Z"), traceID()))
	}
}

func rOpType(r *http.Request) string {
	if r.Method == http.MethodGet {
		return "Read_ObservationWindow_00:05:00"
	}
	return "Write_ObservationWindow_00:01:00"
}
