package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
)

// The temporary client secret. Only the application dfpeer registered may
// create the peering back: Dragonfly granted that application (not the
// user) peering rights on its VNet, in its own tenant. dfpeer therefore
// gives the application a client secret for the few seconds it needs,
// signs in as it to both tenants, and removes the secret whatever
// happens. The secret lives only in memory, inside withTempSecret.

// KindClientSecret is the kind of the secret's changes.
const KindClientSecret = peering.KindClientSecret

const (
	// tempSecretName marks the client secrets dfpeer adds, so a re-run
	// recognises and removes one an interrupted run left behind.
	tempSecretName = "dfpeer-temporary"
	// tempSecretLifetime bounds the secret should removing it ever fail
	// (a killed process): it expires by itself soon after.
	tempSecretLifetime = 2 * time.Hour
	// tempSecretLifetimeText is tempSecretLifetime for people.
	tempSecretLifetimeText = "2 hours"
)

// secretChanges: the removal of secrets an interrupted run left (before
// the peering), and the temporary secret the peering needs (checked gone
// after it).
type secretChanges struct {
	Leftover, Temporary *peering.Change
	// leftovers counts the secrets to remove; manage says the run adds
	// or removes a secret on an existing application (for the
	// permission check).
	leftovers int
	manage    bool
}

// observeSecret counts the temporary secrets an interrupted run left, and
// plans the temporary secret when the peering has to be created.
func (p *Provider) observeSecret(cl *resolved, needSecret bool) secretChanges {
	var out secretChanges
	tenant := "tenant " + cl.tenantID
	if cl.app != nil {
		for _, pc := range cl.app.PasswordCredentials {
			if pc.DisplayName == tempSecretName {
				out.leftovers++
			}
		}
	}
	if out.leftovers > 0 {
		out.Leftover = &peering.Change{Action: peering.Remove, Kind: KindClientSecret, Target: tenant, ID: cl.app.ID,
			Found: peering.Different, Reason: "left by an interrupted run", Phase: peering.AfterInactive,
			Title:  "Temporary client secrets of " + cl.appName,
			Detail: fmt.Sprintf("%d temporary client secret(s) of %s left by an interrupted run", out.leftovers, cl.appName)}
	}
	if needSecret {
		out.Temporary = &peering.Change{Action: peering.Create, Kind: KindClientSecret, Target: tenant, Found: peering.Absent, Phase: peering.AfterInactive,
			Title:  "Temporary client secret of " + cl.appName,
			Detail: fmt.Sprintf("temporary client secret of %s, to peer as it in both tenants: expires within %s, removed when done, never shown", cl.appName, tempSecretLifetimeText)}
	}
	out.manage = cl.app != nil && (needSecret || out.leftovers > 0)
	return out
}

// ensureSecret settles the secrets: leftovers are removed; the temporary
// secret, which the peering step adds and removes itself, is checked gone.
func (p *Provider) ensureSecret(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	n, err := p.removeTempSecrets(ctx, cl)
	if err != nil {
		return "", err
	}
	if c.Action == peering.Remove {
		return fmt.Sprintf("removed %d client secret(s) left by an interrupted run", n), nil
	}
	if n > 0 {
		return fmt.Sprintf("removed %d left behind", n), nil
	}
	return "removed after use", nil
}

// removeSecret removes every temporary secret of the application.
func (p *Provider) removeSecret(ctx context.Context, cl *resolved, c peering.Change) (string, error) {
	if cl.app == nil {
		return "no application: nothing to remove", nil
	}
	n, err := p.removeTempSecrets(ctx, cl)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "none left", nil
	}
	return fmt.Sprintf("removed %d", n), nil
}

// removeTempSecrets removes every secret of the application that dfpeer
// added (by display name), including one whose key ID a lost answer never
// told.
func (p *Provider) removeTempSecrets(ctx context.Context, cl *resolved) (int, error) {
	app, err := p.c.Graph.GetApplication(ctx, cl.app.ID)
	if err != nil {
		if isNotFound(err) {
			return 0, nil
		}
		return 0, classify("reading application "+cl.app.DisplayName, err)
	}
	n := 0
	for _, pc := range app.PasswordCredentials {
		if pc.DisplayName != tempSecretName {
			continue
		}
		if err := p.c.Graph.RemovePassword(ctx, cl.app.ID, pc.KeyID); err != nil {
			if _, status := errorCode(err); status == http.StatusNotFound || (status == http.StatusBadRequest && strings.Contains(describe(err), "No password credential")) {
				continue // already gone
			}
			return n, classify("removing a temporary client secret of "+cl.app.DisplayName, err)
		}
		n++
	}
	return n, nil
}

// withTempSecret gives the application a temporary secret, signs in as it
// to the tenants, and calls fn with that credential; whatever happens —
// failure, Ctrl-C — the secret is removed before it returns.
func (p *Provider) withTempSecret(ctx context.Context, s *peering.State, cl *resolved, tenants []string, fn func(azcore.TokenCredential) error) (err error) {
	appName := cl.app.DisplayName
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, cerr := p.removeTempSecrets(cctx, cl); cerr != nil {
			cerr = fmt.Errorf("removing the temporary client secret %q of %s failed: %w; it expires within %s, and running dfpeer again removes it (or delete it under Certificates & secrets in the portal)",
				tempSecretName, appName, cerr, tempSecretLifetimeText)
			err = errors.Join(err, cerr)
		}
	}()

	s.Report.Update("adding a temporary client secret to " + appName)
	step := "adding a temporary client secret to " + appName
	var secret string
	err = poll.Until(ctx, p.c.pollOptions(createBudget, step, ""), func(ctx context.Context) (bool, error) {
		// Not retried by azcore: a lost answer would leave a secret whose
		// value nobody has; the cleanup above removes it by name.
		var err error
		_, secret, err = p.c.Graph.AddPassword(ctx, cl.app.ID, tempSecretName, time.Now().Add(tempSecretLifetime))
		switch {
		case err == nil:
			return true, nil
		case !retryableCreate(err):
			return false, classify(step, err)
		}
		if err := poll.Sleep(ctx, nil, retryAfter(err)); err != nil {
			return false, err
		}
		return false, poll.Retry(&errAzure{step: step, err: err})
	})
	if err != nil {
		return err
	}
	cred, err := p.c.appCredential(cl.tenantID, cl.app.AppID, secret, DragonflyTenantID)
	secret = ""
	if err != nil {
		return err
	}
	for _, tenant := range tenants {
		s.Report.Update(fmt.Sprintf("signing in as %s to tenant %s", appName, tenant))
		step := fmt.Sprintf("signing in as %s to tenant %s", appName, tenant)
		err := p.c.retry(ctx, signInBudget, step, secretNotYetAccepted, nil, func() error {
			_, err := cred.GetToken(ctx, policy.TokenRequestOptions{EnableCAE: true, Scopes: []string{p.c.armScope()}, TenantID: tenant})
			return err
		})
		if err != nil {
			return classify(step, err)
		}
	}
	return fn(cred)
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
