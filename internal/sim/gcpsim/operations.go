package gcpsim

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// operation is one accepted mutation. Its effect (apply) runs when it turns
// DONE; an error from apply becomes the operation's error, as with Compute,
// which reports such failures only through the operation.
type operation struct {
	seq        int
	id         uint64
	name       string
	project    string
	opType     string
	targetLink string
	targetID   uint64
	inserted   time.Time
	started    time.Time // PENDING until then
	doneAt     time.Time // RUNNING until then
	apply      func(at time.Time) *apiError

	// While not DONE, a peering operation holds its two networks (Compute
	// allows one peering operation at a time across them) and a firewall
	// operation holds its firewall name.
	networks []string
	firewall string

	done bool
	err  *apiError
}

// startOperation records a mutation accepted now and returns it; with no
// configured delay it completes before the caller answers.
func (s *Sim) startOperation(projectID, opType, targetLink string, targetID uint64, apply func(time.Time) *apiError) *operation {
	now := s.now()
	d := s.opts.Delays.Operation
	op := &operation{
		seq:        len(s.ops) + 1,
		id:         s.newID(),
		name:       s.newOperationName(now),
		project:    projectID,
		opType:     opType,
		targetLink: targetLink,
		targetID:   targetID,
		inserted:   now,
		started:    now.Add(d / 2),
		doneAt:     now.Add(d),
		apply:      apply,
	}
	s.ops = append(s.ops, op)
	return op
}

// advance applies, in completion order, every operation whose time has
// come. Every entry point calls it first, so state is always current for
// the injected clock.
func (s *Sim) advance() {
	now := s.now()
	var due []*operation
	for _, op := range s.ops {
		if !op.done && !op.doneAt.After(now) {
			due = append(due, op)
		}
	}
	sort.SliceStable(due, func(i, j int) bool {
		if !due[i].doneAt.Equal(due[j].doneAt) {
			return due[i].doneAt.Before(due[j].doneAt)
		}
		return due[i].seq < due[j].seq
	})
	for _, op := range due {
		op.err = op.apply(op.doneAt)
		op.done = true
	}
}

// peeringBusy reports whether a peering operation that is not DONE holds
// any of the given networks.
func (s *Sim) peeringBusy(keys ...string) bool {
	for _, op := range s.ops {
		if op.done {
			continue
		}
		for _, held := range op.networks {
			for _, k := range keys {
				if held == k {
					return true
				}
			}
		}
	}
	return false
}

func (s *Sim) firewallBusy(projectID, name string) *operation {
	for _, op := range s.ops {
		if !op.done && op.project == projectID && op.firewall == name {
			return op
		}
	}
	return nil
}

func (s *Sim) findOperation(projectID, name string) *operation {
	for _, op := range s.ops {
		if op.project == projectID && op.name == name {
			return op
		}
	}
	return nil
}

func (op *operation) status(now time.Time) computepb.Operation_Status {
	switch {
	case op.done:
		return computepb.Operation_DONE
	case now.Before(op.started):
		return computepb.Operation_PENDING
	}
	return computepb.Operation_RUNNING
}

func (op *operation) proto(now time.Time) *computepb.Operation {
	st := op.status(now)
	out := &computepb.Operation{
		Kind:          proto.String("compute#operation"),
		Id:            proto.Uint64(op.id),
		Name:          proto.String(op.name),
		OperationType: proto.String(op.opType),
		TargetLink:    proto.String(op.targetLink),
		TargetId:      proto.Uint64(op.targetID),
		Status:        st.Enum(),
		User:          proto.String("sandbox-user@example.com"),
		Progress:      proto.Int32(0),
		InsertTime:    proto.String(timestamp(op.inserted)),
		SelfLink:      proto.String(linkBase + operationPath(op.project, op.name)),
	}
	if st != computepb.Operation_PENDING {
		out.StartTime = proto.String(timestamp(op.started))
	}
	if st == computepb.Operation_DONE {
		out.Progress = proto.Int32(100)
		out.EndTime = proto.String(timestamp(op.doneAt))
		if e := op.err; e != nil {
			out.HttpErrorStatusCode = proto.Int32(int32(e.code))
			out.HttpErrorMessage = proto.String(strings.ToUpper(http.StatusText(e.code)))
			out.Error = &computepb.Error{Errors: []*computepb.Errors{{
				Code:    proto.String(orDefault(e.opCode, "BAD_REQUEST")),
				Message: proto.String(e.message),
			}}}
		}
	}
	return out
}

func (s *Sim) getOperation(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if _, err := s.projectFor(p["project"], "compute.globalOperations.get", operationPath(p["project"], p["operation"])); err != nil {
		writeError(w, err)
		return
	}
	op := s.findOperation(p["project"], p["operation"])
	if op == nil {
		writeError(w, errNotFound(operationPath(p["project"], p["operation"])))
		return
	}
	writeProto(w, op.proto(s.now()))
}

// waitOperation implements globalOperations.wait: it answers as soon as the
// operation is DONE, or with its current state after the wait cap, or when
// the caller goes away.
func (s *Sim) waitOperation(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	s.advance()
	if _, err := s.projectFor(p["project"], "compute.globalOperations.get", operationPath(p["project"], p["operation"])); err != nil {
		s.mu.Unlock()
		writeError(w, err)
		return
	}
	op := s.findOperation(p["project"], p["operation"])
	if op == nil {
		s.mu.Unlock()
		writeError(w, errNotFound(operationPath(p["project"], p["operation"])))
		return
	}
	deadline := s.now().Add(s.opts.WaitCap)
	s.mu.Unlock()

	for {
		s.mu.Lock()
		s.advance()
		now := s.now()
		if op.done || !now.Before(deadline) {
			out := op.proto(now)
			s.mu.Unlock()
			writeProto(w, out)
			return
		}
		next := op.doneAt
		if deadline.Before(next) {
			next = deadline
		}
		s.mu.Unlock()

		// The clock may be a test's fake one that jumps: sleep in short
		// slices and look again rather than trusting one long timer.
		pause := next.Sub(now)
		if pause > 20*time.Millisecond {
			pause = 20 * time.Millisecond
		}
		if pause < time.Millisecond {
			pause = time.Millisecond
		}
		t := time.NewTimer(pause)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Sim) listOperations(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if _, err := s.projectFor(p["project"], "compute.globalOperations.list", "projects/"+p["project"]); err != nil {
		writeError(w, err)
		return
	}
	now := s.now()
	var items []*computepb.Operation
	for _, op := range s.ops {
		if op.project == p["project"] {
			items = append(items, op.proto(now))
		}
	}
	page, next, err := listPage(r, items)
	if err != nil {
		writeError(w, err)
		return
	}
	writeProto(w, &computepb.OperationList{
		Kind:          proto.String("compute#operationList"),
		Id:            proto.String("projects/" + p["project"] + "/global/operations"),
		SelfLink:      proto.String(linkBase + "projects/" + p["project"] + "/global/operations"),
		Items:         page,
		NextPageToken: next,
	})
}
