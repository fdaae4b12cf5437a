package azure

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Graph is the handful of Microsoft Graph v1.0 calls dfpeer makes, on
// azcore's pipeline (bearer tokens, retries with Retry-After, --verbose):
// msgraph-sdk-go would nearly triple the cold build for them.
type Graph struct {
	pl   runtime.Pipeline
	base string // ".../v1.0"
}

func newGraph(cred azcore.TokenCredential, ep Endpoints, opts azcore.ClientOptions, version string) *Graph {
	pl := runtime.NewPipeline("dfpeer-graph", version, runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{ep.GraphScope},
			&policy.BearerTokenOptions{InsecureAllowCredentialWithHTTP: ep.AllowHTTP})},
	}, &opts)
	return &Graph{pl: pl, base: ep.Graph + "/v1.0"}
}

// Application is an app registration, as far as dfpeer reads it.
type Application struct {
	ID                  string               `json:"id"` // object ID
	AppID               string               `json:"appId"`
	DisplayName         string               `json:"displayName"`
	SignInAudience      string               `json:"signInAudience"`
	PasswordCredentials []PasswordCredential `json:"passwordCredentials"`
}

// PasswordCredential is a client secret's metadata; the secret itself is
// only ever in the answer of addPassword.
type PasswordCredential struct {
	KeyID       string    `json:"keyId"`
	DisplayName string    `json:"displayName"`
	EndDateTime time.Time `json:"endDateTime"`
}

// ServicePrincipal is an application's identity in a tenant.
type ServicePrincipal struct {
	ID          string `json:"id"` // object ID: what role assignments name
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
}

// multiTenant is the sign-in audience Dragonfly needs: its backend signs
// in to the customer's tenant as itself, and the customer's application
// signs in to Dragonfly's.
const multiTenant = "AzureADMultipleOrgs"

// odataString quotes s for an OData $filter.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *Graph) do(ctx context.Context, method, path string, query url.Values, body any, out any, ok ...int) error {
	req, err := runtime.NewRequest(ctx, method, g.base+path)
	if err != nil {
		return err
	}
	if query != nil {
		req.Raw().URL.RawQuery = query.Encode()
	}
	req.Raw().Header.Set("Accept", "application/json")
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			return err
		}
	}
	resp, err := g.pl.Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, ok...) {
		return runtime.NewResponseError(resp)
	}
	if out == nil {
		runtime.Drain(resp)
		return nil
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

// list is a Graph collection page. dfpeer's queries filter on a key
// (display name, app ID) and fit in one page.
type list[T any] struct {
	Value []T `json:"value"`
}

// ApplicationsByName lists the tenant's applications with this display
// name (Graph does not make names unique).
func (g *Graph) ApplicationsByName(ctx context.Context, name string) ([]Application, error) {
	var out list[Application]
	err := g.do(ctx, http.MethodGet, "/applications", url.Values{"$filter": {"displayName eq " + odataString(name)}}, nil, &out, http.StatusOK)
	return out.Value, err
}

// ApplicationByAppID finds an application by its app (client) ID, or nil.
func (g *Graph) ApplicationByAppID(ctx context.Context, appID string) (*Application, error) {
	var out list[Application]
	if err := g.do(ctx, http.MethodGet, "/applications", url.Values{"$filter": {"appId eq " + odataString(appID)}}, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	if len(out.Value) == 0 {
		return nil, nil
	}
	return &out.Value[0], nil
}

// CreateApplication registers a multi-tenant application. It is never
// retried automatically: a retry after a lost answer would register a
// second application; callers look again by name instead.
func (g *Graph) CreateApplication(ctx context.Context, name string) (*Application, error) {
	var out Application
	ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	err := g.do(ctx, http.MethodPost, "/applications", nil, map[string]any{"displayName": name, "signInAudience": multiTenant}, &out, http.StatusCreated)
	return &out, err
}

// ServicePrincipalByAppID finds an application's service principal in the
// signed-in tenant, or nil.
func (g *Graph) ServicePrincipalByAppID(ctx context.Context, appID string) (*ServicePrincipal, error) {
	var out list[ServicePrincipal]
	if err := g.do(ctx, http.MethodGet, "/servicePrincipals", url.Values{"$filter": {"appId eq " + odataString(appID)}}, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	if len(out.Value) == 0 {
		return nil, nil
	}
	return &out.Value[0], nil
}

// CreateServicePrincipal instantiates an application (the tenant's own,
// or another tenant's multi-tenant one) in the signed-in tenant.
func (g *Graph) CreateServicePrincipal(ctx context.Context, appID string) (*ServicePrincipal, error) {
	var out ServicePrincipal
	err := g.do(ctx, http.MethodPost, "/servicePrincipals", nil, map[string]any{"appId": appID}, &out, http.StatusCreated)
	return &out, err
}

// AddPassword adds a client secret to the application and returns its key
// ID and the secret. The secret exists only in memory: callers pass it to
// a credential and forget it.
func (g *Graph) AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (keyID, secret string, err error) {
	var out struct {
		KeyID      string `json:"keyId"`
		SecretText string `json:"secretText"`
	}
	// A retry after a lost answer would add a second secret; the caller
	// removes every secret of this display name when done instead.
	ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	err = g.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(objectID)+"/addPassword", nil,
		map[string]any{"passwordCredential": map[string]any{"displayName": displayName, "endDateTime": end.UTC().Format(time.RFC3339)}},
		&out, http.StatusOK)
	if err != nil {
		return "", "", err
	}
	if out.KeyID == "" || out.SecretText == "" {
		return "", "", fmt.Errorf("addPassword returned no secret")
	}
	return out.KeyID, out.SecretText, nil
}

// RemovePassword removes a client secret by key ID.
func (g *Graph) RemovePassword(ctx context.Context, objectID, keyID string) error {
	return g.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(objectID)+"/removePassword", nil,
		map[string]any{"keyId": keyID}, nil, http.StatusNoContent, http.StatusOK)
}

// GetApplication reads an application by object ID.
func (g *Graph) GetApplication(ctx context.Context, objectID string) (*Application, error) {
	var out Application
	err := g.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(objectID), nil, nil, &out, http.StatusOK)
	return &out, err
}
