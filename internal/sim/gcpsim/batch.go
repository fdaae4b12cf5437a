package gcpsim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
)

// batchPath is Compute's batch endpoint. The Google Cloud CLI sends its
// --async mutations through it (apitools' BatchApiRequest): one
// multipart/mixed request whose parts are each an HTTP request
// (Content-Type: application/http, Content-ID: <base+n>), answered by one
// multipart/mixed response whose parts are each the HTTP response, with
// Content-ID <response-base+n>.
const batchPath = "/batch/compute/v1"

// Google's batch endpoint accepts at most 1000 calls per batch.
const maxBatchParts = 1000

func isBatch(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == batchPath
}

// serveBatch answers a batch request: every part is dispatched, in order,
// to the simulator's own handler (with its request log and faults), as
// if sent alone. A part without credentials uses the batch's: apitools
// authorizes only the outer request.
func (s *Sim) serveBatch(w http.ResponseWriter, r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		writeError(w, &apiError{code: 400, reason: "badRequest", status: "INVALID_ARGUMENT",
			message: "Invalid batch request: the Content-Type must be multipart/mixed with a boundary."})
		return
	}
	type answer struct {
		contentID string
		rec       *httptest.ResponseRecorder
	}
	var answers []answer
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, &apiError{code: 400, reason: "badRequest", status: "INVALID_ARGUMENT",
				message: "Invalid batch request: " + err.Error()})
			return
		}
		if len(answers) == maxBatchParts {
			writeError(w, &apiError{code: 400, reason: "badRequest", status: "INVALID_ARGUMENT",
				message: fmt.Sprintf("Invalid batch request: a batch may contain at most %d calls.", maxBatchParts)})
			return
		}
		inner, err := readBatchPart(part, r)
		if err != nil {
			writeError(w, &apiError{code: 400, reason: "badRequest", status: "INVALID_ARGUMENT",
				message: "Invalid batch request: part " + fmt.Sprint(len(answers)+1) + ": " + err.Error()})
			return
		}
		rec := httptest.NewRecorder()
		s.http.ServeHTTP(rec, inner)
		answers = append(answers, answer{contentID: part.Header.Get("Content-ID"), rec: rec})
	}

	var out bytes.Buffer
	mw := multipart.NewWriter(&out)
	_ = mw.SetBoundary("batch_" + fmt.Sprintf("%016x", s.rngUint64()))
	for _, a := range answers {
		h := textproto.MIMEHeader{"Content-Type": {"application/http"}}
		if id := strings.Trim(a.contentID, "<>"); id != "" {
			h.Set("Content-ID", "<response-"+id+">")
		}
		pw, _ := mw.CreatePart(h)
		res := a.rec.Result()
		fmt.Fprintf(pw, "HTTP/1.1 %d %s\r\n", res.StatusCode, http.StatusText(res.StatusCode))
		_ = res.Header.Write(pw)
		fmt.Fprintf(pw, "Content-Length: %d\r\n\r\n", a.rec.Body.Len())
		pw.Write(a.rec.Body.Bytes())
	}
	mw.Close()
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	w.WriteHeader(http.StatusOK)
	w.Write(out.Bytes())
}

func (s *Sim) rngUint64() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Uint64()
}

// readBatchPart turns one application/http part into a request on the
// batch's connection: same host, context and (if it has none) credentials.
func readBatchPart(part *multipart.Part, outer *http.Request) (*http.Request, error) {
	if ct := part.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/http") {
		return nil, fmt.Errorf("Content-Type %q, want application/http", ct)
	}
	br := bufio.NewReader(part)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	// apitools writes a Content-Length; without one the body is the rest
	// of the part.
	if rest, _ := io.ReadAll(br); len(body) == 0 && len(bytes.TrimSpace(rest)) > 0 {
		body = bytes.TrimRight(rest, "\r\n")
	}
	inner, err := http.NewRequestWithContext(outer.Context(), req.Method, req.URL.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	inner.Header = req.Header
	inner.Host = outer.Host
	inner.RemoteAddr = outer.RemoteAddr
	if inner.Header.Get("Authorization") == "" {
		inner.Header.Set("Authorization", outer.Header.Get("Authorization"))
	}
	return inner, nil
}
