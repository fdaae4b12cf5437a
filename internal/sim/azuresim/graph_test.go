package azuresim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func TestGraphApplicationsAndPasswords(t *testing.T) {
	e := newEnv(t)
	g := e.graph(e.userCred())

	status, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app", "signInAudience": "AzureADMultipleOrgs"})
	if status != http.StatusCreated || app["signInAudience"] != "AzureADMultipleOrgs" || app["appId"] == "" {
		t.Fatalf("create: %d %v", status, app)
	}
	appID, objID := app["appId"].(string), app["id"].(string)

	filter := func(collection, clause string) []any {
		t.Helper()
		status, body := g.do(http.MethodGet, "/"+collection+"?$filter="+url.QueryEscape(clause), nil)
		if status != http.StatusOK {
			t.Fatalf("list %s: %d %v", collection, status, body)
		}
		return body["value"].([]any)
	}
	if got := filter("applications", "displayName eq 'client-app'"); len(got) != 1 || got[0].(map[string]any)["appId"] != appID {
		t.Errorf("by displayName: %v", got)
	}
	if got := filter("applications", "appId eq '"+appID+"'"); len(got) != 1 {
		t.Errorf("by appId: %v", got)
	}
	if got := filter("applications", "displayName eq 'nope'"); len(got) != 0 {
		t.Errorf("no match: %v", got)
	}
	if status, _ := g.do(http.MethodGet, "/applications(appId='"+appID+"')", nil); status != http.StatusOK {
		t.Errorf("get by appId: %d", status)
	}
	if status, body := g.do(http.MethodGet, "/applications/00000000-0000-4000-8000-00000000000f", nil); status != http.StatusNotFound || graphErrCode(body) != "Request_ResourceNotFound" {
		t.Errorf("missing app: %d %v", status, body)
	}

	status, pc := g.do(http.MethodPost, "/applications/"+objID+"/addPassword", map[string]any{
		"passwordCredential": map[string]any{"displayName": "dfpeer", "endDateTime": "2099-01-01T00:00:00Z"},
	})
	if status != http.StatusOK {
		t.Fatalf("addPassword: %d %v", status, pc)
	}
	secret, keyID := pc["secretText"].(string), pc["keyId"].(string)
	if len(secret) != 40 || pc["hint"] != secret[:3] || pc["endDateTime"] != "2099-01-01T00:00:00Z" {
		t.Errorf("password credential: %v", pc)
	}
	_, got := g.do(http.MethodGet, "/applications/"+objID, nil)
	creds := got["passwordCredentials"].([]any)
	if len(creds) != 1 || creds[0].(map[string]any)["secretText"] != nil || creds[0].(map[string]any)["keyId"] != keyID {
		t.Errorf("the secret must only appear in the addPassword response: %v", creds)
	}

	if status, _ := g.do(http.MethodPost, "/applications/"+objID+"/removePassword", map[string]any{"keyId": keyID}); status != http.StatusNoContent {
		t.Errorf("removePassword: %d", status)
	}
	if status, body := g.do(http.MethodPost, "/applications/"+objID+"/removePassword", map[string]any{"keyId": keyID}); status != http.StatusBadRequest {
		t.Errorf("removing it twice: %d %v", status, body)
	}
	e.clock.Advance(propagation)
	g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	if _, err := e.cred(custTenant, appID, secret).GetToken(ctxb, armScope); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("a removed secret must stop working: %v", err)
	}
}

func TestGraphServicePrincipals(t *testing.T) {
	e := newEnv(t)
	g := e.graph(e.userCred())
	_, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app"})
	appID := app["appId"].(string)

	status, sp := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	if status != http.StatusCreated || sp["appId"] != appID || sp["appOwnerOrganizationId"] != custTenant {
		t.Fatalf("create: %d %v", status, sp)
	}
	status, body := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID})
	if status != http.StatusConflict || graphErrCode(body) != "Request_MultipleObjectsWithSameKeyValue" ||
		!strings.Contains(body["error"].(map[string]any)["message"].(string), "is already in use") {
		t.Errorf("second service principal: %d %v", status, body)
	}
	// Dragonfly's multi-tenant app can be instantiated in the customer's tenant.
	status, dfsp := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": DefaultDragonflyAppID})
	if status != http.StatusCreated || dfsp["appOwnerOrganizationId"] != DefaultDragonflyTenantID {
		t.Errorf("Dragonfly's service principal: %d %v", status, dfsp)
	}
	status, body = g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": "99999999-9999-4999-8999-999999999999"})
	if status != http.StatusBadRequest || !strings.Contains(body["error"].(map[string]any)["message"].(string), "does not reference a valid application object") {
		t.Errorf("unknown app: %d %v", status, body)
	}
	_, list := g.do(http.MethodGet, "/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+DefaultDragonflyAppID+"'"), nil)
	if v := list["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != dfsp["id"] {
		t.Errorf("filter by appId: %v", v)
	}
	if status, got := g.do(http.MethodGet, "/servicePrincipals(appId='"+appID+"')", nil); status != http.StatusOK || got["id"] != sp["id"] {
		t.Errorf("get by appId: %d %v", status, got)
	}
}

func TestGraphPermissions(t *testing.T) {
	e := newEnv(t)
	reader := e.cred(custTenant, readerAppID, readerSecret)
	g := e.graph(reader)
	status, body := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "x"})
	if status != http.StatusForbidden || graphErrCode(body) != "Authorization_RequestDenied" ||
		body["error"].(map[string]any)["message"] != "Insufficient privileges to complete the operation." {
		t.Errorf("create without Application.ReadWrite.All: %d %v", status, body)
	}
	if status, _ := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": DefaultDragonflyAppID}); status != http.StatusForbidden {
		t.Errorf("create SP without permission: %d", status)
	}

	// What a CLI can check up front: the Graph token's roles claim.
	scope := policy.TokenRequestOptions{Scopes: []string{graphScope}}
	if c := claimsOf(t, must(e.userCred().GetToken(ctxb, scope)).Token); !contains(c.Roles, "Application.ReadWrite.All") || c.Aud != "https://graph.microsoft.com" {
		t.Errorf("user's Graph token: %+v", c)
	}
	if c := claimsOf(t, must(reader.GetToken(ctxb, scope)).Token); len(c.Roles) != 0 {
		t.Errorf("reader's Graph token has roles: %v", c.Roles)
	}
	// A directory role works too, and shows up in wids.
	if err := e.sim.GrantGraphPermission(e.sim.ServicePrincipalID(custTenant, readerAppID), "Application Administrator"); err != nil {
		t.Fatal(err)
	}
	reader = e.cred(custTenant, readerAppID, readerSecret)
	if status, body := e.graph(reader).do(http.MethodPost, "/applications", map[string]any{"displayName": "x"}); status != http.StatusCreated {
		t.Errorf("Application Administrator: %d %v", status, body)
	}

	// An ARM token is refused by Graph, and so is no token.
	resp, body := e.rawARM(e.userCred(), http.MethodGet, "/v1.0/applications")
	if resp.StatusCode != http.StatusUnauthorized || graphErrCode(body) != "InvalidAuthenticationToken" {
		t.Errorf("ARM token on Graph: %d %v", resp.StatusCode, body)
	}
	plain, err := e.srv.Client().Get(e.sim.GraphURL(e.srv.URL) + "/applications")
	if err != nil {
		t.Fatal(err)
	}
	if body := decode(t, plain); plain.StatusCode != http.StatusUnauthorized || graphErrCode(body) != "InvalidAuthenticationToken" {
		t.Errorf("no token: %d %v", plain.StatusCode, body)
	}
}

func TestGraphPathPrefix(t *testing.T) {
	sim := New(Options{GraphPathPrefix: "/graph"})
	srv := must(sim.Start())
	defer srv.Close()
	sim.AddServicePrincipalWithSecret(custTenant, userAppID, "u", userSecret, "Application.ReadWrite.All")
	e := &env{t: t, sim: sim, srv: srv, clock: &testClock{}}
	if got := sim.GraphURL(srv.URL); got != srv.URL+"/graph/v1.0" {
		t.Fatalf("GraphURL: %s", got)
	}
	// The audience can also be the simulator's own Graph URL, which is
	// what the metadata document publishes as microsoftGraphResourceId.
	g := e.graph(e.userCred())
	g.pl = e.graphPipeline(e.userCred(), srv.URL+"/graph/.default")
	if status, body := g.do(http.MethodGet, "/applications", nil); status != http.StatusOK {
		t.Errorf("prefixed Graph with its own audience: %d %v", status, body)
	}
}
