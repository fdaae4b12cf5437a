package azuresim

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Long-running operations, the Azure-AsyncOperation way the network
// resource provider does them: the PUT/DELETE answers at once with the
// resource in Updating/Deleting state and an Azure-AsyncOperation URL; the
// operation completes Delays.Operation later. Completion is evaluated
// lazily on every request (and on Snapshot), so no goroutine runs and an
// injected clock drives it.

// startOperation registers an operation that runs complete when due and,
// when ctx is not nil, sets the response headers pointing at it. Caller
// holds s.mu.
func (s *Sim) startOperation(ctx *armCtx, subID, location string, withLocation bool, complete func()) *operation {
	op := &operation{id: s.newGUID(), subID: subID, location: location, status: "InProgress",
		doneAt: s.now().Add(s.opts.Delays.Operation), complete: complete}
	s.ops[op.id] = op
	s.opOrder = append(s.opOrder, op.id)
	if ctx != nil {
		base := "https://" + ctx.r.Host + "/subscriptions/" + subID + "/providers/Microsoft.Network/locations/" + location
		q := "?api-version=" + ctx.apiVer
		ctx.w.Header().Set("Azure-AsyncOperation", base+"/operations/"+op.id+q)
		if withLocation {
			ctx.w.Header().Set("Location", base+"/operationResults/"+op.id+q)
		}
		s.setRetryAfter(ctx.w)
	}
	return op
}

func (s *Sim) setRetryAfter(w http.ResponseWriter) {
	if d := s.opts.PollRetryAfter; d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// advanceLocked completes the operations that are due, oldest first.
// Caller holds s.mu.
func (s *Sim) advanceLocked() {
	now := s.now()
	for _, id := range s.opOrder {
		op := s.ops[id]
		if op.status == "InProgress" && !now.Before(op.doneAt) {
			op.status = "Succeeded"
			if op.complete != nil {
				op.complete()
			}
		}
	}
}

func (s *Sim) findOperation(ctx *armCtx) (*operation, *armError) {
	op := s.ops[ctx.t.opID]
	if op == nil || !eq(op.subID, ctx.sub.id) || !eq(op.location, ctx.t.location) {
		return nil, netErr(http.StatusNotFound, "NotFound",
			"Resource /subscriptions/%s/providers/Microsoft.Network/locations/%s/operations/%s not found.", ctx.t.sub, ctx.t.location, ctx.t.opID)
	}
	return op, nil
}

// getAsyncOperation serves the Azure-AsyncOperation status URL.
func (s *Sim) getAsyncOperation(ctx *armCtx) *armError {
	op, e := s.findOperation(ctx)
	if e != nil {
		return e
	}
	if op.status == "InProgress" {
		s.setRetryAfter(ctx.w)
	}
	writeJSON(ctx.w, http.StatusOK, map[string]any{"status": op.status})
	return nil
}

// getOperationResult serves the Location URL of a delete: 202 while it
// runs, 204 when done.
func (s *Sim) getOperationResult(ctx *armCtx) *armError {
	op, e := s.findOperation(ctx)
	if e != nil {
		return e
	}
	if op.status == "InProgress" {
		ctx.w.Header().Set("Location", fmt.Sprintf("https://%s%s?%s", ctx.r.Host, ctx.r.URL.Path, ctx.r.URL.RawQuery))
		s.setRetryAfter(ctx.w)
		ctx.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	ctx.w.WriteHeader(http.StatusNoContent)
	return nil
}
