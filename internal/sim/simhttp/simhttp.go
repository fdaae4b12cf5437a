// Package simhttp holds what every simulator needs around its own protocol
// handler: a request log tests can assert on, and fault injection (latency,
// throttling, server errors, dropped connections) configurable per run.
//
// The protocol-specific parts (how a throttle or a 500 is spelled on the wire,
// how an operation is named) stay in each simulator and are passed in through
// Options.
package simhttp

import (
	"bytes"
	"io"
	"math/rand"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Call is one request as the simulator saw it.
type Call struct {
	Time     time.Time
	Method   string
	Path     string
	Op       string // protocol operation name, e.g. "CreateRoute", "networks.addPeering"
	Mutating bool   // whether the operation changes state
	Status   int    // HTTP status written; 0 for a dropped connection
	Fault    Fault  // the injected fault, if any
	Duration time.Duration
}

// Fault is a kind of injected failure.
type Fault int

const (
	NoFault Fault = iota
	Throttle
	ServerError
	Drop
)

func (f Fault) String() string {
	switch f {
	case Throttle:
		return "throttle"
	case ServerError:
		return "server-error"
	case Drop:
		return "drop"
	}
	return "none"
}

// Faults configures injected failures. Rates are probabilities in [0,1],
// drawn from a generator seeded with Seed so that a run is reproducible.
type Faults struct {
	Latency      time.Duration // added to every request
	ThrottleRate float64
	ErrorRate    float64
	DropRate     float64
	RetryAfter   time.Duration // advertised with throttles (rounded up to whole seconds on the wire)
	Seed         int64
	// Only limits faults to the operations it accepts; nil means all.
	Only func(op string) bool
}

// Options plug a protocol into the middleware.
type Options struct {
	// Classify names the operation of a request and says whether it
	// mutates. It may read the body: the middleware restores it afterwards.
	Classify func(r *http.Request, body []byte) (op string, mutating bool)
	// WriteFault writes a throttle or server error the way the protocol
	// spells it.
	WriteFault func(w http.ResponseWriter, r *http.Request, f Fault, retryAfter time.Duration)
}

// Server wraps a protocol handler with the log and fault injection.
type Server struct {
	next http.Handler
	opts Options

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	queued []Fault // forced faults for the next requests, in order
	calls  []Call
	after  []func(Call)
}

// Wrap returns a Server around next.
func Wrap(next http.Handler, opts Options) *Server {
	return &Server{next: next, opts: opts, rng: rand.New(rand.NewSource(1))}
}

// SetFaults replaces the fault configuration (and reseeds).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.rng = rand.New(rand.NewSource(f.Seed))
}

// FailNext forces the next n requests accepted by Faults.Only to fail with f.
func (s *Server) FailNext(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.queued = append(s.queued, f)
	}
}

// OnCall registers fn to run after each request has been answered (and
// logged). Tests use it to interrupt a client right after a mutating call.
func (s *Server) OnCall(fn func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = append(s.after, fn)
}

// Calls returns a copy of the request log.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count returns how many answered (non-faulted) requests had operation op.
func (s *Server) Count(op string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Op == op && c.Fault == NoFault {
			n++
		}
	}
	return n
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	op, mutating := r.Method+" "+r.URL.Path, r.Method != http.MethodGet
	if s.opts.Classify != nil {
		op, mutating = s.opts.Classify(r, body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	fault, latency, retryAfter := s.pickFault(op)
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
		}
	}
	rec := &statusRecorder{ResponseWriter: w}
	switch fault {
	case Drop:
		// Log before dropping: the client reacts to the drop at once, and
		// a test reading the log after the client's retry must see it.
		s.record(Call{Time: start, Method: r.Method, Path: r.URL.Path, Op: op, Mutating: mutating, Fault: fault, Duration: time.Since(start)})
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		// Not hijackable (HTTP/2, httptest recorder): abort the handler,
		// which net/http turns into a reset stream or closed connection.
		panic(http.ErrAbortHandler)
	case Throttle, ServerError:
		s.opts.WriteFault(rec, r, fault, retryAfter)
	default:
		s.next.ServeHTTP(rec, r)
	}
	s.record(Call{Time: start, Method: r.Method, Path: r.URL.Path, Op: op, Mutating: mutating, Status: rec.status, Fault: fault, Duration: time.Since(start)})
}

func (s *Server) pickFault(op string) (Fault, time.Duration, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if f.Only != nil && !f.Only(op) {
		return NoFault, f.Latency, 0
	}
	if len(s.queued) > 0 {
		q := s.queued[0]
		s.queued = s.queued[1:]
		return q, f.Latency, f.RetryAfter
	}
	x := s.rng.Float64()
	switch {
	case x < f.DropRate:
		return Drop, f.Latency, 0
	case x < f.DropRate+f.ThrottleRate:
		return Throttle, f.Latency, f.RetryAfter
	case x < f.DropRate+f.ThrottleRate+f.ErrorRate:
		return ServerError, f.Latency, 0
	}
	return NoFault, f.Latency, 0
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	after := slices.Clone(s.after)
	s.mu.Unlock()
	for _, fn := range after {
		fn(c)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
