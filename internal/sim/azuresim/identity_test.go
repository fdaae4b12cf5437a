package azuresim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

var armScope = policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}

func TestMetadataDocument(t *testing.T) {
	e := newEnv(t)
	get := func(url string) (*http.Response, []byte) {
		resp, err := e.srv.Client().Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	resp, body := get(e.sim.MetadataURL(e.srv.URL))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var doc struct {
		Name            string `json:"name"`
		ResourceManager string `json:"resourceManager"`
		Graph           string `json:"microsoftGraphResourceId"`
		Authentication  struct {
			LoginEndpoint string   `json:"loginEndpoint"`
			Audiences     []string `json:"audiences"`
			Tenant        string   `json:"tenant"`
		} `json:"authentication"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("2022-09-01 must be one cloud object: %v\n%s", err, body)
	}
	if doc.ResourceManager != e.srv.URL+"/" || doc.Authentication.LoginEndpoint != e.srv.URL || doc.Graph != e.srv.URL+"/" {
		t.Errorf("endpoints do not point at the simulator: %+v", doc)
	}
	if doc.Name != "AzureCloud" || doc.Authentication.Tenant != "common" || len(doc.Authentication.Audiences) != 2 {
		t.Errorf("unexpected document: %+v", doc)
	}

	_, body = get(e.srv.URL + "/metadata/endpoints?api-version=2019-05-01")
	var clouds []map[string]any
	if err := json.Unmarshal(body, &clouds); err != nil || len(clouds) != 1 || clouds[0]["resourceManager"] != e.srv.URL+"/" {
		t.Errorf("2019-05-01 must be an array of clouds, got %s (%v)", body, err)
	}

	resp, _ = get(e.srv.URL + "/metadata/endpoints")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("missing api-version: status %d, want 400", resp.StatusCode)
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	e := newEnv(t)
	resp, err := e.srv.Client().Get(e.srv.URL + "/" + custTenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, resp)
	if doc["issuer"] != e.srv.URL+"/"+custTenant+"/v2.0" || doc["token_endpoint"] != e.srv.URL+"/"+custTenant+"/oauth2/v2.0/token" {
		t.Errorf("issuer/token endpoint not on the simulator: %v", doc)
	}
	resp, err = e.srv.Client().Get(e.srv.URL + "/00000000-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	body := decode(t, resp)
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_tenant" {
		t.Errorf("unknown tenant: %d %v", resp.StatusCode, body)
	}
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	_, multiApp := e.sim.AddApplication(custTenant, AppSpec{DisplayName: "multi", MultiTenant: true})
	must(e.sim.AddServicePrincipal(custTenant, multiApp))
	must(e.sim.AddPassword(multiApp, "multi-Secret~0123456789abcdefghij"))

	tests := []struct {
		name                  string
		tenant, app, secret   string
		scope                 string
		wantStatus            int
		wantAADSTS, wantError string
	}{
		{"wrong secret", custTenant, userAppID, "not-the-secret", "", 401, "AADSTS7000215", "invalid_client"},
		{"unknown application", custTenant, "99999999-9999-4999-8999-999999999999", userSecret, "", 400, "AADSTS700016", "unauthorized_client"},
		{"unknown tenant (OpenID discovery fails)", "00000000-0000-4000-8000-000000000000", userAppID, userSecret, "", 400, "AADSTS90002", "invalid_tenant"},
		{"single-tenant app in another tenant", DefaultDragonflyTenantID, userAppID, userSecret, "", 400, "AADSTS700016", "unauthorized_client"},
		{"multi-tenant app without a service principal there", DefaultDragonflyTenantID, multiApp, "multi-Secret~0123456789abcdefghij", "", 400, "AADSTS700016", "unauthorized_client"},
		{"unknown resource", custTenant, userAppID, userSecret, "https://vault.azure.net/.default", 400, "AADSTS500011", "invalid_resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := armScope
			if tt.scope != "" {
				opts = policy.TokenRequestOptions{Scopes: []string{tt.scope}}
			}
			_, err := e.cred(tt.tenant, tt.app, tt.secret).GetToken(context.Background(), opts)
			var afe *azidentity.AuthenticationFailedError
			if !errors.As(err, &afe) {
				t.Fatalf("want an AuthenticationFailedError, got %v", err)
			}
			if afe.RawResponse == nil || afe.RawResponse.StatusCode != tt.wantStatus {
				t.Errorf("status: want %d, got %+v", tt.wantStatus, afe.RawResponse)
			}
			wantContains(t, err.Error(), tt.wantAADSTS, tt.wantError)
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}

	// With a service principal in Dragonfly's tenant the multi-tenant app
	// signs in there.
	must(e.sim.AddServicePrincipal(DefaultDragonflyTenantID, multiApp))
	tok, err := e.cred(DefaultDragonflyTenantID, multiApp, "multi-Secret~0123456789abcdefghij").GetToken(context.Background(), armScope)
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, tok.Token)
	if c.TID != DefaultDragonflyTenantID || c.AppID != multiApp || c.OID != e.sim.ServicePrincipalID(DefaultDragonflyTenantID, multiApp) {
		t.Errorf("token claims do not name the principal in Dragonfly's tenant: %+v", c)
	}
}

func TestNewSecretOnlyWorksAfterPropagation(t *testing.T) {
	e := newEnv(t)
	g := e.graph(e.userCred())
	status, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app", "signInAudience": "AzureADMultipleOrgs"})
	if status != http.StatusCreated {
		t.Fatalf("create application: %d %v", status, app)
	}
	appID := app["appId"].(string)
	if status, sp := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": appID}); status != http.StatusCreated {
		t.Fatalf("create service principal: %d %v", status, sp)
	}
	status, pc := g.do(http.MethodPost, "/applications/"+app["id"].(string)+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "dfpeer"}})
	if status != http.StatusOK {
		t.Fatalf("addPassword: %d %v", status, pc)
	}
	secret := pc["secretText"].(string)

	_, err := e.cred(custTenant, appID, secret).GetToken(context.Background(), armScope)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("a secret that has not propagated must be refused as invalid, got %v", err)
	}
	e.clock.Advance(propagation)
	if _, err := e.cred(custTenant, appID, secret).GetToken(context.Background(), armScope); err != nil {
		t.Fatalf("after propagation: %v", err)
	}
}

func claimsOf(t *testing.T, token string) tokenClaims {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTokenEndpointRequests posts to the token endpoint directly, for the
// errors MSAL never provokes by itself.
func TestTokenEndpointRequests(t *testing.T) {
	e := newEnv(t)
	post := func(tenant string, form url.Values) (int, map[string]any) {
		resp, err := e.srv.Client().PostForm(e.srv.URL+"/"+tenant+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, decode(t, resp)
	}
	good := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {userAppID}, "client_secret": {userSecret},
			"scope": {"https://management.core.windows.net//.default openid offline_access profile"}}
	}
	status, body := post(custTenant, good())
	if status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) {
		t.Fatalf("token: %d %v", status, body)
	}
	if c := claimsOf(t, body["access_token"].(string)); c.Aud != "https://management.core.windows.net/" || c.TID != custTenant || c.OID != e.userSP {
		t.Errorf("claims: %+v", c)
	}

	tests := []struct {
		name   string
		tenant string
		edit   func(url.Values)
		status int
		error  string
		aadsts string
	}{
		{"unknown tenant", "00000000-0000-4000-8000-000000000000", func(url.Values) {}, 400, "invalid_request", "AADSTS90002"},
		{"wrong grant", custTenant, func(v url.Values) { v.Set("grant_type", "password") }, 400, "unsupported_grant_type", "AADSTS70003"},
		{"no client_id", custTenant, func(v url.Values) { v.Del("client_id") }, 400, "invalid_request", "AADSTS900144"},
		{"no secret", custTenant, func(v url.Values) { v.Del("client_secret") }, 401, "invalid_client", "AADSTS7000216"},
		{"not .default", custTenant, func(v url.Values) { v.Set("scope", "https://management.azure.com/user_impersonation") }, 400, "invalid_scope", "AADSTS1002012"},
	}
	for _, tt := range tests {
		form := good()
		tt.edit(form)
		status, body := post(tt.tenant, form)
		desc, _ := body["error_description"].(string)
		if status != tt.status || body["error"] != tt.error || !strings.HasPrefix(desc, tt.aadsts+":") {
			t.Errorf("%s: %d %v", tt.name, status, body)
		}
	}
}

func TestExpiredToken(t *testing.T) {
	e := newEnv(t)
	vnets := must(armnetwork.NewVirtualNetworksClient(custSub, e.userCred(), e.armOptions()))
	if _, err := vnets.Get(ctxb, custRG, custVNetName, nil); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour) // the client's cache still trusts its token
	_, err := vnets.Get(ctxb, custRG, custVNetName, nil)
	if status, code, _ := errCode(t, err); status != 401 || code != "ExpiredAuthenticationToken" {
		t.Errorf("expired token: %d %s", status, code)
	}
}
