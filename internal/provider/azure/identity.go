package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// The identity side of the console guide: the multi-tenant application
// that creates the peering back, its service principal, and Dragonfly
// Cloud's service principal in the customer's tenant.

// connectionAppID is what dfpeer sends as peer.azure.app_object_id. The
// console form asks for the application's "App ID" (its client ID, appId)
// while the API field is named app_object_id and documented as the object
// ID — the open question in dragonfly-cloud-api.md. dfpeer follows the
// console. This and appFromConnection are the one place to change if
// Dragonfly settles it the other way.
func connectionAppID(app *Application) string { return app.AppID }

// appFromConnection finds the application an existing connection names,
// reading app_object_id the way connectionAppID writes it.
func appFromConnection(ctx context.Context, g *Graph, id string) (*Application, error) {
	return g.ApplicationByAppID(ctx, id)
}

// principalWant says whose service principal a change is about.
type principalWant struct {
	// Dragonfly is Dragonfly Cloud's principal: created when missing,
	// never removed (other VNets of the tenant may use it).
	Dragonfly bool
}

// identityChanges are the identity's changes, in the order they are
// ensured.
type identityChanges struct {
	App, SP, DragonflySP peering.Change
}

// observeIdentity finds the application to adopt — the one an existing
// connection names, else the one of that display name — and the two
// service principals.
func (p *Provider) observeIdentity(ctx context.Context, cl *resolved, existing *dfcloud.Connection) (identityChanges, error) {
	var out identityChanges
	app, err := p.findApplication(ctx, cl, existing)
	var r *problem.Refusal
	if errors.As(err, &r) && !cl.connecting() {
		// Status and disconnect classify what connect would refuse:
		// the application is missing (or not one dfpeer can use).
		app, err = nil, nil
	} else {
		r = nil
	}
	if err != nil {
		return out, err
	}
	cl.app, cl.appName = app, p.in.AppName
	if app != nil {
		cl.appName = app.DisplayName
		if cl.sp, err = p.c.Graph.ServicePrincipalByAppID(ctx, app.AppID); err != nil {
			return out, classify("reading the application's service principal", err)
		}
	}
	if cl.dfSP, err = p.c.Graph.ServicePrincipalByAppID(ctx, DragonflyAppID); err != nil {
		return out, classify("reading Dragonfly Cloud's service principal", err)
	}

	tenant := "tenant " + cl.tenantID
	out.App = peering.Change{Action: peering.Create, Kind: peering.KindApplication, Target: tenant, Found: peering.Absent,
		Detail: fmt.Sprintf("multi-tenant application %q", p.in.AppName), Title: "Application " + cl.appName}
	if app != nil {
		out.App.Action, out.App.Found, out.App.ID = peering.Adopt, peering.AsWanted, app.ID
		out.App.Detail = fmt.Sprintf("multi-tenant application %q (app ID %s)", app.DisplayName, app.AppID)
	}
	if r != nil {
		out.App.Found, out.App.Reason = peering.NotOurs, r.Error()
		if r.Input == "" { // the connection's application is gone
			out.App.Found = peering.Absent
			out.App.Detail = r.Problem
		}
	}
	out.SP = principalChange(cl.sp, tenant, "service principal of "+cl.appName, "Service principal of "+cl.appName, principalWant{})
	out.DragonflySP = principalChange(cl.dfSP, tenant, "Dragonfly Cloud's service principal (app ID "+DragonflyAppID+")",
		"Dragonfly Cloud's service principal", principalWant{Dragonfly: true})
	return out, nil
}

func principalChange(sp *ServicePrincipal, target, detail, title string, want principalWant) peering.Change {
	c := peering.Change{Action: peering.Create, Kind: peering.KindServicePrincipal, Target: target, Detail: detail, Title: title,
		Found: peering.Absent, Want: want}
	if sp != nil {
		c.Action, c.Found, c.ID = peering.Unchanged, peering.AsWanted, sp.ID
	}
	return c
}

func (p *Provider) findApplication(ctx context.Context, cl *resolved, existing *dfcloud.Connection) (*Application, error) {
	var app *Application
	if existing != nil && existing.Config.Peer.Azure != nil && existing.Config.Peer.Azure.AppObjectID != "" {
		id := existing.Config.Peer.Azure.AppObjectID
		found, err := appFromConnection(ctx, p.c.Graph, id)
		if err != nil {
			return nil, classify("reading application "+id, err)
		}
		if found == nil {
			return nil, problem.Refusef("connection %s names application %s, which no longer exists in tenant %s; delete the connection ('dfpeer connections delete %s --wait') and run again",
				existing.ConnectionID, id, cl.tenantID, existing.ConnectionID)
		}
		if p.in.AppNameGiven && found.DisplayName != p.in.AppName {
			return nil, problem.Refuse("app-name", fmt.Sprintf("%q", p.in.AppName), "drop --app-name, or delete the connection to change it",
				"connection %s uses application %q (app ID %s)", existing.ConnectionID, found.DisplayName, found.AppID)
		}
		app = found
	} else {
		apps, err := p.c.Graph.ApplicationsByName(ctx, p.in.AppName)
		if err != nil {
			return nil, classify("looking up application "+p.in.AppName, err)
		}
		if len(apps) > 1 {
			var ids []string
			for _, a := range apps {
				ids = append(ids, a.AppID)
			}
			return nil, problem.Refuse("app-name", fmt.Sprintf("%q", p.in.AppName), "choose another --app-name",
				"%d applications have this name (app IDs %s)", len(apps), strings.Join(ids, ", "))
		}
		if len(apps) == 1 {
			app = &apps[0]
		}
	}
	if app != nil && app.SignInAudience != multiTenant && app.SignInAudience != "AzureADandPersonalMicrosoftAccount" {
		return nil, problem.Refuse("app-name", fmt.Sprintf("%q", app.DisplayName),
			fmt.Sprintf("choose another --app-name, or make it multitenant (az ad app update --id %s --sign-in-audience AzureADMultipleOrgs)", app.AppID),
			"the application exists (app ID %s) but is single-tenant (%s), and Dragonfly Cloud's tenant must accept it", app.AppID, app.SignInAudience)
	}
	return app, nil
}

// ensureApplication adopts the application or registers it, and
// completes the connection's peer with its ID.
func (p *Provider) ensureApplication(ctx context.Context, s *peering.State, cl *resolved) (string, error) {
	note := "adopted existing"
	if cl.app == nil {
		app, n, err := p.createApplication(ctx)
		if err != nil {
			return "", err
		}
		cl.app, note = app, n
	}
	az := dfcloud.AzurePeer{}
	if s.Peer.Azure != nil {
		az = *s.Peer.Azure
	}
	az.AppObjectID = connectionAppID(cl.app)
	s.Peer.Azure = &az
	return fmt.Sprintf("%s (app ID %s)", note, cl.app.AppID), nil
}

// createApplication registers the application. Graph has no idempotency
// key: a create whose answer was lost is found by name on the next look.
func (p *Provider) createApplication(ctx context.Context) (*Application, string, error) {
	var app *Application
	note := "created"
	step := "registering application " + p.in.AppName
	err := poll.Until(ctx, p.c.pollOptions(createBudget, step, ""), func(ctx context.Context) (bool, error) {
		apps, err := p.c.Graph.ApplicationsByName(ctx, p.in.AppName)
		if err != nil {
			return false, classify("looking up application "+p.in.AppName, err)
		}
		if len(apps) > 0 {
			app, note = &apps[0], "adopted existing"
			return true, nil
		}
		app, err = p.c.Graph.CreateApplication(ctx, p.in.AppName)
		if err == nil {
			return true, nil
		}
		if !retryableCreate(err) {
			return false, classify(step, err)
		}
		// Throttled: wait as long as Graph asks before looking again.
		if err := poll.Sleep(ctx, nil, retryAfter(err)); err != nil {
			return false, err
		}
		return false, poll.Retry(&errAzure{step: step, err: err})
	})
	if err != nil {
		return nil, "", err
	}
	return app, note, nil
}

// ensureServicePrincipal makes sure the application (ours, or
// Dragonfly's) has a service principal in the tenant. A principal that
// appeared meanwhile ("already in use") is as good; a brand-new
// application may take a moment to be visible to the service principal
// endpoint, which is retried.
func (p *Provider) ensureServicePrincipal(ctx context.Context, s *peering.State, cl *resolved, want principalWant) (string, error) {
	appID := DragonflyAppID
	if !want.Dragonfly {
		appID = cl.app.AppID
	}
	sp, note, err := p.servicePrincipal(ctx, s, appID)
	if err != nil {
		return "", err
	}
	if want.Dragonfly {
		cl.dfSP = sp
	} else {
		cl.sp = sp
	}
	return note, nil
}

func (p *Provider) servicePrincipal(ctx context.Context, s *peering.State, appID string) (*ServicePrincipal, string, error) {
	g := p.c.Graph
	sp, err := g.ServicePrincipalByAppID(ctx, appID)
	if err != nil {
		return nil, "", classify("reading the service principal of "+appID, err)
	}
	if sp != nil {
		return sp, "already present", nil
	}
	step := "creating the service principal of " + appID
	err = p.c.retry(ctx, signInBudget, step, func(err error) bool {
		code, _ := errorCode(err)
		return code == "Request_BadRequest" && appID != DragonflyAppID
	}, func(error) { s.Report.Update("waiting for the new application to replicate") }, func() error {
		var err error
		sp, err = g.CreateServicePrincipal(ctx, appID)
		return err
	})
	if err != nil {
		if alreadyExists(err, "Request_MultipleObjectsWithSameKeyValue") {
			if sp, gerr := g.ServicePrincipalByAppID(ctx, appID); gerr == nil && sp != nil {
				return sp, "already present", nil
			}
		}
		return nil, "", classify(step, err)
	}
	return sp, "created", nil
}

// removeApplication deletes the application (Graph also deletes its
// service principal in this tenant).
func (p *Provider) removeApplication(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	id := c.ID
	if id == "" && cl.app != nil {
		id = cl.app.ID
	}
	if id == "" {
		return "already gone", nil
	}
	return deleted("application "+id, p.c.Graph.DeleteApplication(ctx, id))
}

// removeServicePrincipal deletes the application's service principal;
// Dragonfly Cloud's is kept: other VNets of the tenant may peer through
// it.
func (p *Provider) removeServicePrincipal(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	if w, _ := c.Want.(principalWant); w.Dragonfly {
		return "kept: Dragonfly Cloud's service principal may serve other VNets of the tenant", nil
	}
	id := c.ID
	if id == "" && cl.sp != nil {
		id = cl.sp.ID
	}
	if id == "" {
		return "already gone", nil
	}
	return deleted("service principal "+id, p.c.Graph.DeleteServicePrincipal(ctx, id))
}

// Microsoft Graph calls on applications and service principals.

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

// GetApplication reads an application by object ID.
func (g *Graph) GetApplication(ctx context.Context, objectID string) (*Application, error) {
	var out Application
	err := g.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(objectID), nil, nil, &out, http.StatusOK)
	return &out, err
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

// DeleteApplication deletes an application by object ID (204; 404 when
// it is gone).
func (g *Graph) DeleteApplication(ctx context.Context, objectID string) error {
	return g.do(ctx, http.MethodDelete, "/applications/"+url.PathEscape(objectID), nil, nil, nil, http.StatusNoContent)
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

// DeleteServicePrincipal deletes a service principal by object ID (204;
// 404 when it is gone).
func (g *Graph) DeleteServicePrincipal(ctx context.Context, objectID string) error {
	return g.do(ctx, http.MethodDelete, "/servicePrincipals/"+url.PathEscape(objectID), nil, nil, nil, http.StatusNoContent)
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
