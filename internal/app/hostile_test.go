package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// evil is what a hostile or compromised API puts in every text field: it
// retitles the terminal, clears the screen, forges a line with \r, starts
// a C1 CSI and reverses the text direction.
const evil = "evil\x1b]0;pwned\x07\x1b[2J\rerror: FORGED\u009b31m\u202etxt"

// hostileAPI is a Dragonfly API that answers with escape sequences in every
// text field, wrong types, garbage, huge bodies and redirects to another
// host; elsewhere records every Authorization header the other host got.
type hostileAPI struct {
	srv       *httptest.Server
	elsewhere *httptest.Server

	mu       sync.Mutex
	stolen   []string // Authorization headers seen by the other host
	visits   int      // requests the other host got
	waitPoll int
}

func evilNetwork() dfcloud.Network {
	n := dfcloud.Network{NetworkID: "net-" + evil, Name: evil, Status: dfcloud.NetworkStatus(evil), CreatedAt: 1764000000, CIDRBlock: evil}
	n.Location.Provider, n.Location.Region = evil, evil
	n.VPC = &dfcloud.VPC{ResourceID: evil, AccountID: evil}
	return n
}

func evilConnection(status string) dfcloud.Connection {
	c := dfcloud.Connection{ConnectionID: "conn-" + evil, Status: dfcloud.ConnectionStatus(status), StatusDetail: evil, PeerConnectionID: evil}
	c.Config.Name, c.Config.NetworkID = evil, evil
	c.Config.Peer = dfcloud.Peer{AccountID: evil, VPCID: evil, Region: evil, CIDRBlock: evil,
		Azure: &dfcloud.AzurePeer{ResourceGroup: evil, TenantID: evil, AppObjectID: evil}}
	return c
}

func newHostileAPI(t *testing.T) *hostileAPI {
	h := &hostileAPI{}
	h.elsewhere = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.visits++
		if a := r.Header.Get("Authorization"); a != "" {
			h.stolen = append(h.stolen, a)
		}
		h.mu.Unlock()
		json.NewEncoder(w).Encode(evilNetwork())
	}))
	t.Cleanup(h.elsewhere.Close)
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/networks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, []dfcloud.Network{evilNetwork()})
	})
	mux.HandleFunc("GET /v1/networks/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "redirect-port": // same host name, another port: net/http would send the key
			http.Redirect(w, r, h.elsewhere.URL+"/v1/networks/x", http.StatusTemporaryRedirect)
		case "redirect-host":
			http.Redirect(w, r, strings.Replace(h.elsewhere.URL, "127.0.0.1", "localhost", 1)+"/v1/networks/x", http.StatusFound)
		default:
			writeJSON(w, evilNetwork())
		}
	})
	mux.HandleFunc("GET /v1/connections", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, []dfcloud.Connection{evilConnection(evil)})
	})
	mux.HandleFunc("GET /v1/connections/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "conn-wait": // a status of its own making, then failed
			h.mu.Lock()
			h.waitPoll++
			n := h.waitPoll
			h.mu.Unlock()
			status := evil
			if n > 2 {
				status = string(dfcloud.ConnectionFailed)
			}
			writeJSON(w, evilConnection(status))
		case "conn-types":
			w.Write([]byte(`{"connection_id": 5, "status": ["active"], "connection_config": "` + "\x1b[2J" + `"}`))
		case "conn-garbage":
			w.Write([]byte("\x1b]0;pwned\x07<html>not json\x1b[2J"))
		case "conn-huge": // 20 MB, more than the client reads
			w.Write([]byte(`{"connection_id": "`))
			w.Write([]byte(strings.Repeat("\x1b[2J", 5<<20)))
		default:
			writeJSON(w, evilConnection(string(dfcloud.ConnectionActive)))
		}
	})
	mux.HandleFunc("DELETE /v1/connections/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest) // 4 MB of error message
		writeJSON(w, map[string]string{"error": evil + strings.Repeat("\x1b[2J"+evil, 4<<20/len(evil))})
	})
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// rawControls returns the lines of out that hold a character a terminal
// would interpret (line breaks aside).
func rawControls(out string) []string {
	var bad []string
	for _, l := range strings.Split(out, "\n") {
		if textsafe.HasControl(l) {
			bad = append(bad, fmt.Sprintf("%.200q", l))
		}
	}
	return bad
}

func TestHostileAPI(t *testing.T) {
	h := newHostileAPI(t)
	for _, tc := range []struct {
		args     []string
		code     int
		contains string // in stdout+stderr, shown escaped
	}{
		{[]string{"networks", "list"}, 0, `evil\x1b]0;pwned\x07\x1b[2J\rerror: FORGED\u009b31m\u202etxt`},
		{[]string{"networks", "get", "prod"}, 0, `Region:    evil\x1b]0;pwned`},
		{[]string{"connections", "list"}, 0, `conn-evil\x1b]0;pwned`},
		{[]string{"connections", "get", "conn-1"}, 0, `Detail:        evil\x1b]0;pwned\x07\x1b[2J\rerror: FORGED`},
		{[]string{"connections", "wait", "conn-wait", "--for", "active"}, cmdutil.ExitError, `error: connection conn-wait is failed: evil\x1b]0;pwned`},
		{[]string{"connections", "delete", "conn-1", "--yes"}, cmdutil.ExitError, `characters cut`},
		{[]string{"connections", "get", "conn-types"}, cmdutil.ExitError, "decode response"},
		{[]string{"connections", "get", "conn-garbage"}, cmdutil.ExitError, "decode response"},
		{[]string{"connections", "get", "conn-huge"}, cmdutil.ExitError, "decode response"},
		{[]string{"networks", "get", "redirect-port"}, cmdutil.ExitError, "redirect to another host refused"},
		{[]string{"networks", "get", "redirect-host"}, cmdutil.ExitError, "redirect to another host refused"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			e := cmdtest.New(t, cmdtest.Options{})
			e.Vars["DFCLOUD_API_URL"] = h.srv.URL
			code := e.Run(tc.args...)
			all := e.Out.String() + e.ErrOut.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%.2000s", code, tc.code, all)
			}
			if bad := rawControls(all); len(bad) > 0 {
				t.Errorf("raw control characters reached the output:\n%s", strings.Join(bad, "\n"))
			}
			if !strings.Contains(all, tc.contains) {
				t.Errorf("output does not show %q:\n%.3000s", tc.contains, all)
			}
			for _, l := range strings.Split(e.ErrOut.String(), "\n") {
				if n := utf8.RuneCountInString(l); n > 700 {
					t.Errorf("a stderr line of %d characters", n)
				}
			}
			if strings.Contains(all, cmdtest.APIKey) {
				t.Errorf("the API key was printed")
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.stolen) > 0 || h.visits > 0 {
		t.Errorf("the other host got %d requests, with Authorization %q", h.visits, h.stolen)
	}
}

// -o json shows server text exactly: encoding/json escapes control
// characters, and nothing is cut or rewritten.
func TestHostileAPIJSONExact(t *testing.T) {
	h := newHostileAPI(t)
	e := cmdtest.New(t, cmdtest.Options{})
	e.Vars["DFCLOUD_API_URL"] = h.srv.URL
	if code := e.Run("networks", "list", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.ErrOut)
	}
	if strings.ContainsRune(e.Out.String(), 0x1b) {
		t.Errorf("raw ESC in JSON output")
	}
	var nets []dfcloud.Network
	if err := json.Unmarshal(e.Out.Bytes(), &nets); err != nil || len(nets) != 1 {
		t.Fatalf("%v: %s", err, e.Out)
	}
	if want := evilNetwork(); nets[0].Name != want.Name || nets[0].Location != want.Location || *nets[0].VPC != *want.VPC || nets[0].Status != want.Status {
		t.Errorf("JSON changed the server's text: %+v", nets[0])
	}
	e.Out.Reset()
	if code := e.Run("connections", "get", "conn-1", "-o", "json"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.ErrOut)
	}
	var c dfcloud.Connection
	if err := json.Unmarshal(e.Out.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if want := evilConnection("active"); c.StatusDetail != evil || !reflect.DeepEqual(c.Config, want.Config) || c.ConnectionID != want.ConnectionID {
		t.Errorf("JSON changed the server's text: %+v", c)
	}
}
