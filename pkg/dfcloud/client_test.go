package dfcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

func TestNewValidatesURL(t *testing.T) {
	tests := []struct {
		url      string
		insecure bool
		fail     bool
	}{
		{url: "https://api.dragonflydb.cloud"},
		{url: ""},
		{url: "https://api.example.com:8443/prefix/"},
		{url: "http://127.0.0.1:8080"},
		{url: "http://127.9.9.9"},
		{url: "http://localhost:1234"},
		{url: "http://LOCALHOST"},
		{url: "http://[::1]:80"},
		{url: "http://api.dragonflydb.cloud", insecure: true},
		{url: "http://10.0.0.1:8080", insecure: true},
		{url: "http://localhost.example.com", insecure: true},
		{url: "http://[::ffff:10.0.0.1]", insecure: true},
		{url: "ftp://api.dragonflydb.cloud", fail: true},
		{url: "api.dragonflydb.cloud", fail: true},
		{url: "https://", fail: true},
		{url: "https://api.dragonflydb.cloud?x=1", fail: true},
		{url: "https://user:hunter2@api.dragonflydb.cloud", fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := dfcloud.New(tt.url, testKey)
			switch {
			case tt.insecure:
				if !errors.Is(err, dfcloud.ErrInsecureURL) || !strings.Contains(err.Error(), "clear text") {
					t.Fatalf("want ErrInsecureURL mentioning clear text, got %v", err)
				}
			case tt.fail:
				if err == nil || errors.Is(err, dfcloud.ErrInsecureURL) {
					t.Fatalf("want a plain URL error, got %v", err)
				}
			default:
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tt.url == "" && c.BaseURL() != dfcloud.DefaultBaseURL {
					t.Fatalf("default base URL %q", c.BaseURL())
				}
			}
			if err != nil && (strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "hunter2")) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
	if _, err := dfcloud.New("", ""); !errors.Is(err, dfcloud.ErrNoAPIKey) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestBasePathPrefixKept(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path
		io.WriteString(w, "[]")
	}))
	defer srv.Close()
	c, err := dfcloud.New(srv.URL+"/dfcloud/", testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListNetworks(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got != "/dfcloud/v1/networks" {
		t.Fatalf("path %q", got)
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct {
		method, path, auth, ctype, ua, accept string
		body                                  map[string]any
	}
	var reqs []seen
	e := newEnv(t, envConfig{
		options: []dfcloud.Option{dfcloud.WithUserAgent("dfpeer/1.2.3")},
		wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				reqs = append(reqs, seen{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), r.Header.Get("Accept"), m})
				r.Body = io.NopCloser(strings.NewReader(string(b)))
				next.ServeHTTP(w, r)
			})
		},
	})
	ctx := context.Background()
	cfg := awsConfig("c1")
	cfg.Peer.CIDRBlock = ""
	if _, err := e.client.CreateConnection(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetConnection(ctx, "conn-1"); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	post := reqs[0]
	if post.method != "POST" || post.path != "/v1/connections" || post.auth != "Bearer "+testKey ||
		post.ctype != "application/json" || post.ua != "dfpeer/1.2.3" || post.accept != "application/json" {
		t.Fatalf("POST: %+v", post)
	}
	peer := post.body["peer"].(map[string]any)
	if _, ok := peer["azure"]; ok {
		t.Errorf("azure sent for an aws peer: %v", peer)
	}
	if _, ok := peer["cidr_block"]; ok {
		t.Errorf("empty cidr_block sent: %v", peer)
	}
	if peer["region"] != "us-west-2" || post.body["network_id"] != "net-aws" || post.body["name"] != "c1" {
		t.Errorf("body: %v", post.body)
	}
	if get := reqs[1]; get.method != "GET" || get.path != "/v1/connections/conn-1" || get.ctype != "" || get.body != nil {
		t.Fatalf("GET: %+v", get)
	}
}

func TestNetworks(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()

	nets, err := e.client.ListNetworks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 2 || nets[0].NetworkID != "net-aws" || nets[0].Status != dfcloud.NetworkActive || nets[0].VPC == nil || nets[0].VPC.AccountID == "" {
		t.Fatalf("list: %+v", nets)
	}

	n, err := e.client.GetNetwork(ctx, "net-az")
	if err != nil {
		t.Fatal(err)
	}
	if n.Location != (dfcloud.Location{Provider: "azure", Region: "centralus"}) || n.CIDRBlock != "10.20.0.0/16" || !strings.HasPrefix(n.VPC.AccountID, "/subscriptions/") {
		t.Fatalf("get: %+v", n)
	}

	cfg := dfcloud.NetworkConfig{Name: "staging", Location: dfcloud.Location{Provider: "aws", Region: "eu-west-1"}, CIDRBlock: "10.30.0.0/16"}
	n, err = e.client.CreateNetwork(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != dfcloud.NetworkPending || n.Name != "staging" || n.CreatedAt != e.clock.Now().Unix() {
		t.Fatalf("create: %+v", n)
	}
	cfg.Name = "staging-2"
	n, err = e.client.UpdateNetwork(ctx, n.NetworkID, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "staging-2" {
		t.Fatalf("update: %+v", n)
	}
	if err := e.client.DeleteNetwork(ctx, n.NetworkID); err != nil {
		t.Fatal(err)
	}
	// Delays are zero: the next read sees it gone.
	_, err = e.client.GetNetwork(ctx, n.NetworkID)
	if !errors.Is(err, dfcloud.ErrNotFound) || !dfcloud.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	var apiErr *dfcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Message != "network "+n.NetworkID+" not found" {
		t.Fatalf("404 details: %#v", apiErr)
	}
	if err.Error() != "dfcloud: GET /v1/networks/"+n.NetworkID+": 404: network "+n.NetworkID+" not found" {
		t.Fatalf("404 text: %q", err)
	}
	if _, err := e.client.GetNetwork(ctx, ""); err == nil || e.ops("networks.list") != 1 {
		t.Fatalf("empty ID: %v (and it must not turn into a list)", err)
	}
}

func TestConnections(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()

	c, err := e.client.CreateConnection(ctx, awsConfig("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectionID == "" || c.Status != dfcloud.ConnectionPending || c.Config != awsConfig("c1") {
		t.Fatalf("create: %+v", c)
	}
	az := dfcloud.ConnectionConfig{Name: "a1", NetworkID: "net-az", Peer: dfcloud.Peer{
		AccountID: "0b1f6471-1bf0-4dda-aec3-111122223333", VPCID: "my-vnet", Region: "centralus",
		Azure: &dfcloud.AzurePeer{ResourceGroup: "my-rg", TenantID: "3f7cbd78-1650-4b7d-b28f-8ee05eac10a4", AppObjectID: "ac30c41f-1eab-4f45-9024-70decee5559d", UseRemoteGateways: true},
	}}
	a, err := e.client.CreateConnection(ctx, az)
	if err != nil {
		t.Fatal(err)
	}
	if a.Config.Peer.Azure == nil || *a.Config.Peer.Azure != *az.Peer.Azure {
		t.Fatalf("azure echo: %+v", a.Config.Peer)
	}

	got, err := e.client.GetConnection(ctx, c.ConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dfcloud.ConnectionInactive || got.PeerConnectionID != "peer-1" {
		t.Fatalf("get: %+v", got)
	}
	list, err := e.client.ListConnections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ConnectionID != c.ConnectionID || list[1].ConnectionID != a.ConnectionID {
		t.Fatalf("list: %+v", list)
	}
	if err := e.client.DeleteConnection(ctx, c.ConnectionID); err != nil {
		t.Fatal(err)
	}
	if !e.cloud.Deleted("peer-1") {
		t.Fatalf("delete did not reach the cloud")
	}
	if _, err := e.client.GetConnection(ctx, c.ConnectionID); !dfcloud.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	if err := e.client.DeleteConnection(ctx, c.ConnectionID); !dfcloud.IsNotFound(err) {
		t.Fatalf("delete twice: %v", err)
	}
	if list, _ := e.client.ListConnections(ctx); len(list) != 1 {
		t.Fatalf("list after delete: %+v", list)
	}
}

func TestServerMessagesSurfaced(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()

	cfg := awsConfig("c1")
	cfg.Peer.AccountID = ""
	_, err := e.client.CreateConnection(ctx, cfg)
	if err == nil || err.Error() != "dfcloud: POST /v1/connections: 400: peer.account_id is required" {
		t.Fatalf("400: %v", err)
	}
	var apiErr *dfcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Method != "POST" || apiErr.Path != "/v1/connections" {
		t.Fatalf("400 fields: %#v", apiErr)
	}

	if _, err := e.client.CreateConnection(ctx, awsConfig("x")); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.CreateConnection(ctx, awsConfig("x"))
	if err == nil || err.Error() != `dfcloud: POST /v1/connections: 409: connection name "x" already exists in network net-aws` {
		t.Fatalf("409: %v", err)
	}
	if errors.As(err, new(*dfcloud.AuthError)) || dfcloud.IsNotFound(err) {
		t.Fatalf("409 misclassified")
	}
	if len(e.sleeps.get()) != 0 {
		t.Fatalf("4xx retried: %v", e.sleeps.get())
	}
}

func TestAuthError(t *testing.T) {
	e := newEnv(t, envConfig{})
	bad, err := dfcloud.New(e.srv.URL, "wrong-key-value", dfcloud.WithSleep(e.sleeps.sleep))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListConnections(context.Background())
	var authErr *dfcloud.AuthError
	if !errors.As(err, &authErr) || authErr.StatusCode != 401 || authErr.Message != "invalid API key" {
		t.Fatalf("want *AuthError 401, got %#v", err)
	}
	var apiErr *dfcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("AuthError does not expose the APIError")
	}
	if err.Error() != "dfcloud: GET /v1/connections: 401: invalid API key" {
		t.Fatalf("text: %q", err)
	}
	if strings.Contains(err.Error(), "wrong-key-value") || len(e.sleeps.get()) != 0 {
		t.Fatalf("leaked key or retried: %v %v", err, e.sleeps.get())
	}
}

func TestKeyNeverInOutput(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := context.Background()
	for _, s := range []string{
		e.client.String(), fmt.Sprintf("%v", e.client), fmt.Sprintf("%d %x %s %q", e.client, e.client, e.client, e.client),
		fmt.Sprintf("%d %+v %#v", *e.client, *e.client, *e.client), fmt.Sprintf("%+v", e.client), fmt.Sprintf("%#v", e.client), fmt.Sprint(*e.client),
	} {
		if strings.Contains(s, testKey) {
			t.Fatalf("client formatting leaks the key: %s", s)
		}
	}

	var errs []error
	_, err := e.client.GetConnection(ctx, "nope")
	errs = append(errs, err)
	_, err = e.client.CreateConnection(ctx, dfcloud.ConnectionConfig{})
	errs = append(errs, err)
	other, _ := dfcloud.New(e.srv.URL, testKey+"x", dfcloud.WithSleep(e.sleeps.sleep))
	_, err = other.ListNetworks(ctx)
	errs = append(errs, err)
	_, err = dfcloud.New("http://example.com", testKey)
	errs = append(errs, err)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	deadClient, _ := dfcloud.New(dead.URL, testKey, dfcloud.WithSleep(e.sleeps.sleep))
	_, err = deadClient.ListNetworks(ctx)
	errs = append(errs, err)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization")+"{")
	}))
	defer garbage.Close()
	gc, _ := dfcloud.New(garbage.URL, testKey)
	_, err = gc.ListNetworks(ctx)
	errs = append(errs, err)

	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": "bad header " + r.Header.Get("Authorization")})
	}))
	defer echo.Close()
	ec, _ := dfcloud.New(echo.URL, testKey)
	_, err = ec.ListNetworks(ctx)
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), testKey) {
			t.Fatalf("case %d leaks the key: %v", i, err)
		}
	}
}

// The key never leaves for another origin: net/http alone forwards the
// Authorization header on a redirect to the same host name on another
// port or scheme. A redirect within the API's origin is still followed,
// and the caller's http.Client is left as it was.
func TestRedirectsStayWithTheAPI(t *testing.T) {
	var stolen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen = append(stolen, r.Header.Get("Authorization"))
		io.WriteString(w, `[]`)
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/networks":
			http.Redirect(w, r, other.URL+"/v1/networks", http.StatusTemporaryRedirect)
		case "/moved/v1/connections":
			io.WriteString(w, `[]`)
		default:
			http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusMovedPermanently)
		}
	}))
	defer api.Close()
	hc := &http.Client{}
	c, err := dfcloud.New(api.URL, testKey, dfcloud.WithHTTPClient(hc), dfcloud.WithRetryPolicy(dfcloud.RetryPolicy{MaxAttempts: 3}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListNetworks(context.Background())
	if !errors.Is(err, dfcloud.ErrRedirect) || len(stolen) != 0 {
		t.Fatalf("err %v; the other server got %d requests", err, len(stolen))
	}
	if _, err := c.ListConnections(context.Background()); err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	if hc.CheckRedirect != nil {
		t.Error("the caller's http.Client was changed")
	}
}
