package azuresim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The Microsoft identity platform part: the OpenID configuration MSAL reads
// and the v2.0 token endpoint, for the client-credentials grant with a
// client secret (what a service principal login uses).

const tokenLifetime = 3599 * time.Second

// Audiences ARM and Graph accept, besides the simulator's own URLs.
var (
	armAudiences = []string{
		"https://management.core.windows.net/", "https://management.core.windows.net",
		"https://management.azure.com/", "https://management.azure.com",
	}
	graphAudiences = []string{
		"https://graph.microsoft.com", "https://graph.microsoft.com/",
		"00000003-0000-0000-c000-000000000000",
	}
)

const (
	serviceARM   = "arm"
	serviceGraph = "graph"
)

// tokenClaims are the claims of an app-only access token, as Entra issues
// them (v1.0 tokens, which is what ARM and Graph get).
type tokenClaims struct {
	Aud      string   `json:"aud"`
	Iss      string   `json:"iss"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
	AppID    string   `json:"appid"`
	AppIDAcr string   `json:"appidacr"`
	IdP      string   `json:"idp"`
	IDTyp    string   `json:"idtyp"`
	OID      string   `json:"oid"`
	Roles    []string `json:"roles,omitempty"`
	Sub      string   `json:"sub"`
	TID      string   `json:"tid"`
	UTI      string   `json:"uti"`
	Ver      string   `json:"ver"`
	Wids     []string `json:"wids,omitempty"`
}

func randomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}

// traceID is for diagnostics only; it comes from crypto/rand so that error
// paths do not shift the seeded IDs of the resources.
func traceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

var b64 = base64.RawURLEncoding

// mintToken issues a signed JWT for sp with audience aud.
func (s *Sim) mintToken(sp *servicePrincipal, aud string, now time.Time) (string, time.Time) {
	exp := now.Add(tokenLifetime)
	c := tokenClaims{
		Aud: aud, Iss: "https://sts.windows.net/" + sp.tenantID + "/",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: exp.Unix(),
		AppID: sp.appID, AppIDAcr: "1", IdP: "https://sts.windows.net/" + sp.tenantID + "/",
		IDTyp: "app", OID: sp.objectID, Sub: sp.objectID, TID: sp.tenantID,
		UTI: strings.ReplaceAll(traceID(), "-", "")[:22], Ver: "1.0",
	}
	if s.audienceService(aud, "") == serviceGraph || isGraphAudience(aud) {
		c.Roles = append([]string(nil), sp.graphRoles...)
		c.Wids = append([]string(nil), sp.directoryRoles...)
	}
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(c)
	signing := header + "." + b64.EncodeToString(payload)
	return signing + "." + b64.EncodeToString(s.sign(signing)), exp
}

func (s *Sim) sign(data string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

var (
	errTokenMalformed = errors.New("malformed token")
	errTokenSignature = errors.New("bad signature")
)

// parseToken checks a token's signature and returns its claims. Lifetime
// and audience are checked by the caller, which knows how to report them.
func (s *Sim) parseToken(raw string) (*tokenClaims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errTokenMalformed
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errTokenMalformed
	}
	if !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return nil, errTokenSignature
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errTokenMalformed
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errTokenMalformed
	}
	return &c, nil
}

func isGraphAudience(aud string) bool {
	for _, a := range graphAudiences {
		if aud == a {
			return true
		}
	}
	return false
}

// audienceService says which API a token audience (or requested resource)
// belongs to: the public audiences, or the simulator's own URLs as the
// metadata document publishes them (microsoftGraphResourceId is the Graph
// base URL, as the Azure CLI uses it). host, when not empty, is the host
// the simulator was reached at; a URL audience must name it.
func (s *Sim) audienceService(aud, host string) string {
	for _, a := range armAudiences {
		if strings.EqualFold(aud, a) {
			return serviceARM
		}
	}
	for _, a := range graphAudiences {
		if strings.EqualFold(aud, a) {
			return serviceGraph
		}
	}
	u, err := url.Parse(aud)
	if err != nil || u.Scheme != "https" || u.Host == "" || (host != "" && !strings.EqualFold(u.Host, host)) {
		return ""
	}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case path == s.opts.GraphPathPrefix:
		return serviceGraph
	case path == "" && s.opts.GraphPathPrefix != "":
		return serviceARM
	}
	return ""
}

// handleOpenIDConfiguration serves /{tenant}/v2.0/.well-known/openid-configuration.
func (s *Sim) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	base := "https://" + r.Host
	s.mu.Lock()
	t := s.tenants[lower(tenantSeg)]
	s.mu.Unlock()
	tid := tenantSeg
	switch {
	case t != nil:
		tid = t.id
	case tenantSeg == "common" || tenantSeg == "organizations" || tenantSeg == "consumers":
		tid = "{tenantid}"
	default:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, tenantNotFound(tenantSeg))
		return
	}
	doc := map[string]any{
		"token_endpoint":                        base + "/" + tenantSeg + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/" + tenantSeg + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/" + tid + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     s.GraphURL(base) + "/oidc/userinfo",
		"authorization_endpoint":                base + "/" + tenantSeg + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/" + tenantSeg + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/" + tenantSeg + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/" + tenantSeg + "/kerberos",
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   r.Host,
		"cloud_graph_host_name":                 r.Host,
		"msgraph_host":                          r.Host,
	}
	writeJSON(w, http.StatusOK, doc)
}

func tenantNotFound(t string) string {
	return fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "+
		"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", t)
}

// writeAADError writes an error of the token endpoint in Entra's format.
func (s *Sim) writeAADError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, desc string) {
	trace, corr := traceID(), traceID()
	ts := s.now().Format("2006-01-02 15:04:05Z")
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, trace, corr, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("https://%s/error?code=%d", r.Host, aadsts),
	})
}

// handleToken serves POST /{tenant}/oauth2/v2.0/token.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request, tenantSeg string) {
	if err := r.ParseForm(); err != nil {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()

	t := s.tenants[lower(tenantSeg)]
	if t == nil {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 90002, tenantNotFound(tenantSeg))
		return
	}
	for _, p := range []string{"grant_type", "client_id", "scope"} {
		if form.Get(p) == "" {
			s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 900144,
				fmt.Sprintf("The request body must contain the following parameter: '%s'.", p))
			return
		}
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		s.writeAADError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
		return
	}
	appID := form.Get("client_id")
	app := s.apps[lower(appID)]
	sp := s.spByApp(t.id, appID)
	if app == nil || sp == nil || (app.tenantID != t.id && !app.multiTenant()) {
		s.writeAADError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, appNotFoundInDirectory(appID, t))
		return
	}
	secret := form.Get("client_secret")
	if secret == "" {
		s.writeAADError(w, r, http.StatusUnauthorized, "invalid_client", 7000216,
			"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
		return
	}
	switch checkSecret(app, secret, now) {
	case secretExpired:
		s.writeAADError(w, r, http.StatusUnauthorized, "invalid_client", 7000222,
			fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.appID))
		return
	case secretInvalid:
		s.writeAADError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
			fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.appID))
		return
	}

	resource := ""
	for _, sc := range strings.Fields(form.Get("scope")) {
		switch sc {
		case "openid", "offline_access", "profile", "email":
			continue
		}
		if !strings.HasSuffix(sc, "/.default") {
			s.writeAADError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc))
			return
		}
		resource = strings.TrimSuffix(sc, "/.default")
	}
	if resource == "" {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope openid offline_access profile is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	if s.audienceService(resource, r.Host) == "" {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, t.displayName))
		return
	}
	tok, _ := s.mintToken(sp, resource, now)
	secs := int(tokenLifetime / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

func appNotFoundInDirectory(appID string, t *tenant) string {
	return fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", appID, t.displayName)
}

type secretCheck int

const (
	secretOK secretCheck = iota
	secretInvalid
	secretExpired
)

// checkSecret compares against the stored hashes. A secret that has not
// propagated yet is rejected exactly like a wrong one: that is what Entra
// does right after addPassword.
func checkSecret(app *application, secret string, now time.Time) secretCheck {
	h := hashSecret(secret)
	result := secretInvalid
	for _, pc := range app.passwords {
		if subtle.ConstantTimeCompare(h[:], pc.hash[:]) != 1 {
			continue
		}
		switch {
		case now.Before(pc.usableFrom) || now.Before(pc.start):
			// not usable yet: keep looking, a wrong secret if nothing else matches
		case !now.Before(pc.end):
			result = secretExpired
		default:
			return secretOK
		}
	}
	return result
}

// authFailure says why a bearer token was refused.
type authFailure int

const (
	authOK authFailure = iota
	authMissing
	authBadFormat
	authInvalid
	authExpired
	authWrongAudience
)

// caller is an authenticated principal.
type caller struct {
	claims *tokenClaims
	sp     *servicePrincipal
}

// bearer extracts the token of an Authorization-style header value.
func bearer(h string) (string, authFailure) {
	if h == "" {
		return "", authMissing
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", authBadFormat
	}
	return strings.TrimSpace(tok), authOK
}

// checkToken validates a raw token for service. Caller holds s.mu.
func (s *Sim) checkToken(raw, service, host string, now time.Time) (*caller, authFailure) {
	c, err := s.parseToken(raw)
	if err != nil {
		return nil, authInvalid
	}
	if now.Unix() >= c.Exp {
		return &caller{claims: c}, authExpired
	}
	if s.audienceService(c.Aud, host) != service {
		return &caller{claims: c}, authWrongAudience
	}
	sp := s.sps[c.OID]
	if sp == nil || sp.tenantID != c.TID {
		return nil, authInvalid
	}
	return &caller{claims: c, sp: sp}, authOK
}
