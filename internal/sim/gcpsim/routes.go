package gcpsim

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// route is one REST method: its path template (after /compute/v1/), the
// operation name the request log uses, and its handler.
type route struct {
	method   string
	pattern  []string // literal segments, or "{name}" placeholders
	op       string
	mutating bool
	handle   func(s *Sim, w http.ResponseWriter, r *http.Request, p params)
}

type params map[string]string

const apiPrefix = "/compute/v1/"

var routes = []route{
	{"GET", seg("projects/{project}"), "projects.get", false, (*Sim).getProject},

	{"GET", seg("projects/{project}/global/networks"), "networks.list", false, (*Sim).listNetworks},
	{"GET", seg("projects/{project}/global/networks/{network}"), "networks.get", false, (*Sim).getNetwork},
	{"POST", seg("projects/{project}/global/networks/{network}/addPeering"), "networks.addPeering", true, (*Sim).addPeering},
	{"POST", seg("projects/{project}/global/networks/{network}/removePeering"), "networks.removePeering", true, (*Sim).removePeering},
	{"PATCH", seg("projects/{project}/global/networks/{network}/updatePeering"), "networks.updatePeering", true, (*Sim).updatePeering},
	{"GET", seg("projects/{project}/global/networks/{network}/listPeeringRoutes"), "networks.listPeeringRoutes", false, (*Sim).listPeeringRoutes},

	{"GET", seg("projects/{project}/global/firewalls"), "firewalls.list", false, (*Sim).listFirewalls},
	{"POST", seg("projects/{project}/global/firewalls"), "firewalls.insert", true, (*Sim).insertFirewall},
	{"GET", seg("projects/{project}/global/firewalls/{firewall}"), "firewalls.get", false, (*Sim).getFirewall},
	{"PATCH", seg("projects/{project}/global/firewalls/{firewall}"), "firewalls.patch", true, (*Sim).patchFirewall},
	{"PUT", seg("projects/{project}/global/firewalls/{firewall}"), "firewalls.update", true, (*Sim).updateFirewall},
	{"DELETE", seg("projects/{project}/global/firewalls/{firewall}"), "firewalls.delete", true, (*Sim).deleteFirewall},

	{"GET", seg("projects/{project}/regions/{region}/subnetworks"), "subnetworks.list", false, (*Sim).listSubnetworks},
	{"GET", seg("projects/{project}/regions/{region}/subnetworks/{subnetwork}"), "subnetworks.get", false, (*Sim).getSubnetwork},
	{"GET", seg("projects/{project}/aggregated/subnetworks"), "subnetworks.aggregatedList", false, (*Sim).aggregatedSubnetworks},

	{"GET", seg("projects/{project}/global/operations"), "globalOperations.list", false, (*Sim).listOperations},
	{"GET", seg("projects/{project}/global/operations/{operation}"), "globalOperations.get", false, (*Sim).getOperation},
	// wait is a POST but changes nothing: it is not a mutation.
	{"POST", seg("projects/{project}/global/operations/{operation}/wait"), "globalOperations.wait", false, (*Sim).waitOperation},
}

func seg(p string) []string { return strings.Split(p, "/") }

func match(method, path string) (*route, params) {
	rest, ok := strings.CutPrefix(path, apiPrefix)
	if !ok {
		return nil, nil
	}
	parts := strings.Split(rest, "/")
	for i := range routes {
		rt := &routes[i]
		if rt.method != method || len(rt.pattern) != len(parts) {
			continue
		}
		p := params{}
		ok := true
		for j, want := range rt.pattern {
			switch {
			case strings.HasPrefix(want, "{"):
				if parts[j] == "" {
					ok = false
				}
				p[strings.Trim(want, "{}")] = parts[j]
			case want != parts[j]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return rt, p
		}
	}
	return nil, nil
}

// classify names requests for simhttp's log and fault filter.
func classify(r *http.Request, _ []byte) (string, bool) {
	if isBatch(r) {
		return "batch", true
	}
	if rt, _ := match(r.Method, r.URL.Path); rt != nil {
		return rt.op, rt.mutating
	}
	return r.Method + " " + r.URL.Path, r.Method != http.MethodGet
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	if isBatch(r) {
		if err := s.authenticate(r, "batch"); err != nil {
			writeError(w, err)
			return
		}
		s.serveBatch(w, r)
		return
	}
	rt, p := match(r.Method, r.URL.Path)
	if rt == nil {
		// Google's front end answers unknown URLs with an HTML page.
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=en><title>Error 404 (Not Found)!!1</title>"+
			"<p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>%s</code> was not found on this server.  <ins>That’s all we know.</ins>\n",
			r.URL.Path)
		return
	}
	if err := s.authenticate(r, rt.op); err != nil {
		writeError(w, err)
		return
	}
	rt.handle(s, w, r, p)
}

func (s *Sim) authenticate(r *http.Request, op string) *apiError {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if h == "" || (ok && strings.TrimSpace(token) == "") {
		return errUnauthenticated(rpcMethod(op), true)
	}
	if !ok {
		return errUnauthenticated(rpcMethod(op), false)
	}
	if len(s.opts.Tokens) == 0 {
		return nil
	}
	for _, t := range s.opts.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			return nil
		}
	}
	return errUnauthenticated(rpcMethod(op), false)
}

// writeFault spells simhttp's injected faults the way Compute does: user
// rate limits are 403 rateLimitExceeded (which the Go client does not
// retry), backend trouble is 503 backendError (which it retries for reads).
func (s *Sim) writeFault(w http.ResponseWriter, r *http.Request, f simhttp.Fault, retryAfter time.Duration) {
	op, _ := classify(r, nil)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((retryAfter+time.Second-1)/time.Second)))
	}
	switch f {
	case simhttp.Throttle:
		writeError(w, s.rateLimitError(r, op))
	default:
		writeError(w, &apiError{code: 503, reason: "backendError", message: "The service is currently unavailable."})
	}
}

func (s *Sim) rateLimitError(r *http.Request, op string) *apiError {
	metric, limit, name := "Queries", "Queries per minute", "default"
	switch {
	case strings.HasPrefix(op, "globalOperations."):
		metric, limit, name = "Operation read requests", "Operation read requests per minute", "operation_read_requests"
	case strings.HasSuffix(op, ".list") || strings.HasSuffix(op, ".aggregatedList"):
		metric, limit, name = "List requests", "List requests per minute", "list_requests"
	case strings.HasSuffix(op, ".get"):
		metric, limit, name = "Read requests", "Read requests per minute", "read_requests"
	}
	var number uint64
	if _, p := match(r.Method, r.URL.Path); p != nil {
		s.mu.Lock()
		if pr := s.projects[p["project"]]; pr != nil {
			number = pr.number
		}
		s.mu.Unlock()
	}
	msg := fmt.Sprintf("Quota exceeded for quota metric '%s' and limit '%s' of service 'compute.googleapis.com' for consumer 'project_number:%d'.",
		metric, limit, number)
	return &apiError{code: 403, reason: "rateLimitExceeded", domain: "usageLimits", message: msg,
		details: []map[string]any{{
			"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": "RATE_LIMIT_EXCEEDED",
			"domain": "googleapis.com",
			"metadata": map[string]any{
				"consumer":       fmt.Sprintf("projects/%d", number),
				"quota_metric":   "compute.googleapis.com/" + name,
				"quota_limit":    strings.ReplaceAll(limit, " ", "") + "PerProject",
				"quota_location": "global",
				"service":        "compute.googleapis.com",
			},
		}, {
			"@type": "type.googleapis.com/google.rpc.Help",
			"links": []any{map[string]any{"description": "Request a higher quota limit.",
				"url": "https://cloud.google.com/docs/quotas/help/request_increase"}},
		}}}
}
