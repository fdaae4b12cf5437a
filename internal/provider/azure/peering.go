package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
)

// The peering back, from the user's VNet to Dragonfly's. Only the
// application dfpeer registered may create it: Dragonfly granted that
// application (not the user) peering rights on its VNet, in its own
// tenant. dfpeer therefore gives the application a client secret for the
// few seconds it needs, signs in as it to both tenants, creates the
// peering, and removes the secret whatever happens.

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

func (p *Provider) peeringBody() armnetwork.VirtualNetworkPeering {
	return armnetwork.VirtualNetworkPeering{Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{
		RemoteVirtualNetwork:      &armnetwork.SubResource{ID: to.Ptr(p.dfVNetID)},
		AllowVirtualNetworkAccess: to.Ptr(true),
		UseRemoteGateways:         to.Ptr(p.in.UseRemoteGateways),
	}}
}

// currentPeering reads the VNet's peering to Dragonfly as the user; nil
// when there is none.
func (p *Provider) currentPeering(ctx context.Context) (*Peering, error) {
	sc, err := p.c.sub(p.in.SubscriptionID)
	if err != nil {
		return nil, err
	}
	resp, err := sc.peerings.Get(ctx, p.vnet.ResourceGroup, p.vnet.Name, p.peeringName, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, classify("reading peering "+p.peeringName, err)
	}
	pe := toPeering(&resp.VirtualNetworkPeering)
	return &pe, nil
}

func (p *Provider) ensurePeering(ctx context.Context, s *peering.State) (string, error) {
	removed, err := p.removeTempSecrets(ctx)
	if err != nil {
		return "", err
	}
	note := ""
	if removed > 0 {
		note = fmt.Sprintf("; removed %d client secret(s) left by an interrupted run", removed)
	}
	cur, err := p.currentPeering(ctx)
	if err != nil {
		return "", err
	}
	if cur != nil {
		if !strings.EqualFold(cur.RemoteID, p.dfVNetID) || cur.UseRemoteGateways != p.in.UseRemoteGateways || !cur.AllowVirtualNetworkAccess {
			return "", fmt.Errorf("peering %s of %s changed since the plan (remote %s, remote gateways %s); run again", p.peeringName, p.vnet.Name, cur.RemoteID, onOff(cur.UseRemoteGateways))
		}
		if cur.State != "Disconnected" && cur.ProvisioningState != "Failed" {
			if err := p.waitProvisioned(ctx, s); err != nil {
				return "", err
			}
			return "already present" + note, nil
		}
	}
	state, err := p.peerAsApp(ctx, s)
	if err != nil {
		return "", err
	}
	return "created (" + state + ")" + note, nil
}

// peerAsApp creates the peering signed in as the application.
func (p *Provider) peerAsApp(ctx context.Context, s *peering.State) (state string, err error) {
	appName := p.app.DisplayName
	// Whatever happens from here on — failure, Ctrl-C — the secret goes,
	// on a context that outlives the run's.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, cerr := p.removeTempSecrets(cctx); cerr != nil {
			cerr = fmt.Errorf("removing the temporary client secret %q of %s failed: %w; it expires within %s, and running dfpeer again removes it (or delete it under Certificates & secrets in the portal)",
				tempSecretName, appName, cerr, tempSecretLifetimeText)
			err = errors.Join(err, cerr)
		}
	}()

	s.Report.Update("adding a temporary client secret to " + appName)
	var secret string
	b := p.c.backoff()
	for attempt := 1; ; attempt++ {
		// Not retried by azcore: a lost answer would leave a secret whose
		// value nobody has; the cleanup above removes it by name.
		_, secret, err = p.c.Graph.AddPassword(ctx, p.app.ID, tempSecretName, time.Now().Add(tempSecretLifetime))
		if err == nil || attempt == 5 || !retryableCreate(err) || ctx.Err() != nil {
			break
		}
		if err := sleep(ctx, max(b.pause(), retryAfter(err))); err != nil {
			return "", err
		}
	}
	if err != nil {
		return "", classify("adding a temporary client secret to "+appName, err)
	}
	cred, err := p.c.appCredential(p.tenantID, p.app.AppID, secret, DragonflyTenantID)
	if err != nil {
		return "", err
	}
	for _, tenant := range []string{p.tenantID, DragonflyTenantID} {
		s.Report.Update(fmt.Sprintf("signing in as %s to tenant %s", appName, tenant))
		err := p.c.retryWhile(ctx, signInBudget, secretNotYetAccepted, nil, func() error {
			_, err := cred.GetToken(ctx, policy.TokenRequestOptions{EnableCAE: true, Scopes: []string{p.c.armScope()}, TenantID: tenant})
			return err
		})
		if err != nil {
			return "", classify(fmt.Sprintf("signing in as %s to tenant %s", appName, tenant), err)
		}
	}

	client, err := armnetwork.NewVirtualNetworkPeeringsClient(p.in.SubscriptionID, cred, p.c.armOptions(DragonflyTenantID))
	if err != nil {
		return "", err
	}
	var poller *runtime.Poller[armnetwork.VirtualNetworkPeeringsClientCreateOrUpdateResponse]
	step := fmt.Sprintf("creating peering %s as %s", p.peeringName, appName)
	err = p.c.retryWhile(ctx, min(propagationBudget, p.in.Timeout), roleNotYetInEffect, func(err error) {
		code, _ := errorCode(err)
		s.Report.Update(fmt.Sprintf("waiting for role assignments to take effect (%s)", code))
	}, func() error {
		var err error
		poller, err = client.BeginCreateOrUpdate(ctx, p.vnet.ResourceGroup, p.vnet.Name, p.peeringName, p.peeringBody(), nil)
		return err
	})
	if err != nil {
		return "", classify(step, err)
	}
	s.Report.Update("peering " + p.peeringName + " provisioning")
	res, err := pollUntilDone(ctx, p.c, poller)
	if err != nil {
		return "", classify(step, err)
	}
	pe := toPeering(&res.VirtualNetworkPeering)
	return pe.State, nil
}

// secretNotYetAccepted: Entra refuses a new secret as invalid (AADSTS7000215)
// until it has propagated, and the application as unknown (AADSTS700016)
// in a tenant whose copy of its service principal is not there yet.
func secretNotYetAccepted(err error) bool {
	msg := describe(err)
	return strings.Contains(msg, "AADSTS7000215") || strings.Contains(msg, "AADSTS700016")
}

// roleNotYetInEffect: ARM refuses until role assignments — ours on the
// VNet, Dragonfly's on its own — have propagated.
func roleNotYetInEffect(err error) bool {
	code, _ := errorCode(err)
	return code == "AuthorizationFailed" || code == "LinkedAuthorizationFailed"
}

// removeTempSecrets removes every secret of the application that dfpeer
// added (by display name), including one whose key ID a lost answer never
// told.
func (p *Provider) removeTempSecrets(ctx context.Context) (int, error) {
	app, err := p.c.Graph.GetApplication(ctx, p.app.ID)
	if err != nil {
		return 0, classify("reading application "+p.app.DisplayName, err)
	}
	n := 0
	for _, pc := range app.PasswordCredentials {
		if pc.DisplayName != tempSecretName {
			continue
		}
		if err := p.c.Graph.RemovePassword(ctx, p.app.ID, pc.KeyID); err != nil {
			if _, status := errorCode(err); status == http.StatusNotFound || (status == http.StatusBadRequest && strings.Contains(describe(err), "No password credential")) {
				continue // already gone
			}
			return n, classify("removing a temporary client secret of "+p.app.DisplayName, err)
		}
		n++
	}
	return n, nil
}

// removeStalePeering deletes the VNet's peering to Dragonfly when its other
// side is gone: Azure refuses to let Dragonfly peer again while it exists.
func (p *Provider) removeStalePeering(ctx context.Context, s *peering.State) (string, error) {
	cur, err := p.currentPeering(ctx)
	if err != nil {
		return "", err
	}
	if cur == nil {
		return "already gone", nil
	}
	if cur.ProvisioningState != "Deleting" && cur.State != "Disconnected" && cur.ProvisioningState != "Failed" {
		return "it is " + cur.State + " again: kept", nil
	}
	sc, err := p.c.sub(p.in.SubscriptionID)
	if err != nil {
		return "", err
	}
	if cur.ProvisioningState != "Deleting" {
		poller, err := sc.peerings.BeginDelete(ctx, p.vnet.ResourceGroup, p.vnet.Name, p.peeringName, nil)
		if err != nil {
			return "", classify("removing peering "+p.peeringName, err)
		}
		if _, err := pollUntilDone(ctx, p.c, poller); err != nil {
			return "", classify("removing peering "+p.peeringName, err)
		}
	}
	// A delete an interrupted run started: wait for it to finish.
	b, deadline := p.c.pollIntervals(), time.Now().Add(p.in.Timeout)
	for {
		cur, err := p.currentPeering(ctx)
		if err != nil {
			return "", err
		}
		if cur == nil {
			return "removed", nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("peering %s is still being deleted after %s; run again later", p.peeringName, p.in.Timeout)
		}
		if err := sleep(ctx, b.pause()); err != nil {
			return "", err
		}
	}
}

// waitProvisioned waits for a peering an earlier run started to finish
// provisioning.
func (p *Provider) waitProvisioned(ctx context.Context, s *peering.State) error {
	_, err := p.pollPeering(ctx, s, func(pe *Peering) bool {
		return pe.ProvisioningState != "Updating" && pe.ProvisioningState != "Creating"
	}, "provisioned")
	return err
}

// waitConnected waits until both sides are there: Connected.
func (p *Provider) waitConnected(ctx context.Context, s *peering.State) (string, error) {
	pe, err := p.pollPeering(ctx, s, func(pe *Peering) bool {
		return pe.State == "Connected" && pe.ProvisioningState == "Succeeded"
	}, "Connected")
	if err != nil {
		return "", err
	}
	return pe.State, nil
}

func (p *Provider) pollPeering(ctx context.Context, s *peering.State, done func(*Peering) bool, want string) (*Peering, error) {
	deadline := time.Now().Add(p.in.Timeout)
	b := p.c.pollIntervals()
	last := ""
	for {
		pe, err := p.currentPeering(ctx)
		if err != nil {
			return nil, err
		}
		if pe == nil {
			return nil, fmt.Errorf("peering %s of %s has disappeared; run again to re-create it", p.peeringName, p.vnet.Name)
		}
		if done(pe) {
			return pe, nil
		}
		if pe.State == "Disconnected" || pe.ProvisioningState == "Failed" {
			return nil, fmt.Errorf("peering %s is %s/%s: Dragonfly Cloud's side is gone or failed; check the connection with 'dfpeer connections get'", p.peeringName, pe.State, pe.ProvisioningState)
		}
		if st := pe.State + "/" + pe.ProvisioningState; st != last {
			s.Report.Update(st)
			last = st
		}
		if time.Now().After(deadline) {
			return nil, &cmdutil.TimeoutError{
				Err:  fmt.Errorf("timed out after %s waiting for peering %s to be %s (it is %s/%s)", p.in.Timeout, p.peeringName, want, pe.State, pe.ProvisioningState),
				Hint: "Run the same command again to keep waiting; every step is safe to repeat.",
			}
		}
		if err := sleep(ctx, b.pause()); err != nil {
			return nil, err
		}
	}
}
