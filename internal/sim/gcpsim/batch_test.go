package gcpsim

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// apitoolsBatch is a batch request as the Google Cloud CLI (apitools)
// writes it for 'gcloud compute networks peerings create --async': LF line
// endings, Content-ID <base+n>, each part an HTTP request without
// credentials.
const apitoolsBatch = "--===============7330845974216740156==\n" +
	"Content-Type: application/http\n" +
	"MIME-Version: 1.0\n" +
	"Content-Transfer-Encoding: binary\n" +
	"Content-ID: <a8c3ecf3-4d5e-4f31-9a0a-8c1c3b5d8e11+0>\n" +
	"\n" +
	"POST /compute/v1/projects/cust-proj/global/networks/cust-net/addPeering?alt=json HTTP/1.1\n" +
	"Content-Type: application/json\n" +
	"MIME-Version: 1.0\n" +
	"content-length: 121\n" +
	"\n" +
	`{"networkPeering": {"exchangeSubnetRoutes": true, "name": "to-df", "network": "projects/df-prod/global/networks/df-net"}}` + "\n" +
	"--===============7330845974216740156==\n" +
	"Content-Type: application/http\n" +
	"MIME-Version: 1.0\n" +
	"Content-Transfer-Encoding: binary\n" +
	"Content-ID: <a8c3ecf3-4d5e-4f31-9a0a-8c1c3b5d8e11+1>\n" +
	"\n" +
	"GET /compute/v1/projects/cust-proj/global/networks/ghost?alt=json HTTP/1.1\n" +
	"\n" +
	"\n" +
	"--===============7330845974216740156==--"

func postBatch(t *testing.T, e *env, token, contentType, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/batch/compute/v1", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Compute's batch endpoint runs each part as its own call and answers a
// multipart/mixed response, part n answering request n.
func TestBatchEndpoint(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	resp, body := postBatch(t, e, "test-token", `multipart/mixed; boundary="===============7330845974216740156=="`, apitoolsBatch)
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != 200 || err != nil || mt != "multipart/mixed" {
		t.Fatalf("batch: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
	type answer struct{ id, status, body string }
	var got []answer
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		must(t, err)
		raw, _ := io.ReadAll(p)
		head, payload, _ := strings.Cut(string(raw), "\r\n\r\n")
		status, _, _ := strings.Cut(head, "\r\n")
		if p.Header.Get("Content-Type") != "application/http" {
			t.Errorf("part Content-Type %q", p.Header.Get("Content-Type"))
		}
		got = append(got, answer{p.Header.Get("Content-ID"), status, payload})
	}
	if len(got) != 2 {
		t.Fatalf("%d parts, want 2:\n%s", len(got), body)
	}
	if got[0].id != "<response-a8c3ecf3-4d5e-4f31-9a0a-8c1c3b5d8e11+0>" || got[0].status != "HTTP/1.1 200 OK" {
		t.Errorf("first part: %+v", got[0])
	}
	var op map[string]any
	if err := json.Unmarshal([]byte(got[0].body), &op); err != nil || op["kind"] != "compute#operation" || op["operationType"] != "addPeering" {
		t.Errorf("first part body is not the addPeering operation: %v %s", err, got[0].body)
	}
	if got[1].id != "<response-a8c3ecf3-4d5e-4f31-9a0a-8c1c3b5d8e11+1>" || got[1].status != "HTTP/1.1 404 Not Found" ||
		!strings.Contains(got[1].body, `"reason": "notFound"`) || !strings.Contains(got[1].body, "projects/cust-proj/global/networks/ghost") {
		t.Errorf("second part: %+v", got[1])
	}
	// Each part is logged as the call it is, and the batched addPeering
	// took effect.
	var ops []string
	for _, c := range e.sim.HTTP().Calls() {
		ops = append(ops, c.Op)
	}
	if strings.Join(ops, ",") != "networks.addPeering,networks.get,batch" {
		t.Errorf("request log: %v", ops)
	}
	if pe := e.peering(t, "cust-proj", "cust-net", "to-df"); pe == nil {
		t.Error("the batched addPeering did not add the peering")
	}
}

// A batch without credentials, or that is not multipart, gets Compute's
// JSON error envelope.
func TestBatchEndpointErrors(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	resp, body := postBatch(t, e, "", `multipart/mixed; boundary="===============7330845974216740156=="`, apitoolsBatch)
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"status": "UNAUTHENTICATED"`) {
		t.Errorf("no credentials: %d %s", resp.StatusCode, body)
	}
	resp, body = postBatch(t, e, "test-token", "application/json", "{}")
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json; charset=UTF-8" ||
		!strings.Contains(string(body), `"code": 400`) {
		t.Errorf("not multipart: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if pe := e.peering(t, "cust-proj", "cust-net", "to-df"); pe != nil {
		t.Error("a refused batch changed the state")
	}
}
