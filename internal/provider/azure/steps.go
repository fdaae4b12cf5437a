package azure

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Steps are the Azure side, in the console guide's order: the
// application, the service principals and roles before the connection
// (Dragonfly peers as soon as it exists), then the peering back, the NSG
// rules, and the wait for Connected.
func (p *Provider) Steps(net *dfcloud.Network) []peering.Step {
	appName := p.in.AppName
	if p.app != nil {
		appName = p.app.DisplayName
	}
	before := func(title string, run func(context.Context, *peering.State) (string, error)) peering.Step {
		return peering.Step{Title: title, Phase: peering.BeforeConnection, Run: run}
	}
	after := func(title string, run func(context.Context, *peering.State) (string, error)) peering.Step {
		return peering.Step{Title: title, Phase: peering.AfterInactive, Run: run}
	}
	steps := []peering.Step{
		before("Application "+appName, p.ensureApp),
		before("Service principal of "+appName, func(ctx context.Context, s *peering.State) (string, error) {
			sp, note, err := p.ensureSP(ctx, s, p.app.AppID)
			p.sp = sp
			return note, err
		}),
		before("Dragonfly Cloud's service principal", func(ctx context.Context, s *peering.State) (string, error) {
			sp, note, err := p.ensureSP(ctx, s, DragonflyAppID)
			p.dfSP = sp
			return note, err
		}),
		before(fmt.Sprintf("Network Contributor for %s on %s", appName, p.vnet.Name), func(ctx context.Context, s *peering.State) (string, error) {
			_, note, err := p.ensureAssignment(ctx, s, p.sp.ID, networkContributor)
			return note, err
		}),
		before("Custom role "+CustomRoleName, p.ensureRole),
		before(fmt.Sprintf("%s for Dragonfly Cloud on %s", CustomRoleName, p.vnet.Name), func(ctx context.Context, s *peering.State) (string, error) {
			a, note, err := p.ensureAssignment(ctx, s, p.dfSP.ID, p.role.GUID)
			p.dfAssignment = a
			return note, err
		}),
	}
	if p.removeStale {
		steps = append(steps, before("Remove the disconnected peering "+p.peeringName, p.removeStalePeering))
	}
	steps = append(steps,
		before("Let Dragonfly Cloud's role take effect", p.settle),
		after(fmt.Sprintf("VNet peering %s to Dragonfly Cloud", p.peeringName), p.ensurePeering),
	)
	for _, n := range p.nsgs {
		steps = append(steps, after(fmt.Sprintf("Allow TCP %d from %s in %s", p.in.Port, net.CIDRBlock, n.Name),
			func(ctx context.Context, s *peering.State) (string, error) { return p.ensureRule(ctx, s, n) }))
	}
	if !p.in.NoWait {
		steps = append(steps, after("Wait for the peering to be Connected", p.waitConnected))
	}
	return steps
}

// ensureApp adopts the application or registers it, and completes the
// connection's peer with its ID.
func (p *Provider) ensureApp(ctx context.Context, s *peering.State) (string, error) {
	note := "adopted existing"
	if p.app == nil {
		app, n, err := p.createApp(ctx)
		if err != nil {
			return "", err
		}
		p.app, note = app, n
	}
	az := dfcloud.AzurePeer{}
	if s.Peer.Azure != nil {
		az = *s.Peer.Azure
	}
	az.AppObjectID = connectionAppID(p.app)
	s.Peer.Azure = &az
	return fmt.Sprintf("%s (app ID %s)", note, p.app.AppID), nil
}

// createApp registers the application. Graph has no idempotency key: a
// create whose answer was lost is found by name on the next look.
func (p *Provider) createApp(ctx context.Context) (*Application, string, error) {
	b := p.c.backoff()
	var lastErr error
	for attempt := 0; attempt < 6; attempt++ {
		apps, err := p.c.Graph.ApplicationsByName(ctx, p.in.AppName)
		if err != nil {
			return nil, "", classify("looking up application "+p.in.AppName, err)
		}
		if len(apps) > 0 {
			return &apps[0], "adopted existing", nil
		}
		app, err := p.c.Graph.CreateApplication(ctx, p.in.AppName)
		if err == nil {
			return app, "created", nil
		}
		lastErr = err
		if !retryableCreate(err) || ctx.Err() != nil {
			break
		}
		if err := sleep(ctx, max(b.pause(), retryAfter(err))); err != nil {
			return nil, "", err
		}
	}
	return nil, "", classify("registering application "+p.in.AppName, lastErr)
}

// retryAfter is the delay a throttled answer asks for.
func retryAfter(err error) time.Duration {
	_, status := errorCode(err)
	if status != http.StatusTooManyRequests {
		return 0
	}
	var secs int
	if re := responseOf(err); re != nil {
		fmt.Sscan(re.Header.Get("Retry-After"), &secs)
	}
	return time.Duration(min(secs, 120)) * time.Second
}

// ensureSP makes sure appID has a service principal in the tenant. A
// principal that appeared meanwhile ("already in use") is as good; a
// brand-new application may take a moment to be visible to the service
// principal endpoint, which is retried.
func (p *Provider) ensureSP(ctx context.Context, s *peering.State, appID string) (*ServicePrincipal, string, error) {
	g := p.c.Graph
	sp, err := g.ServicePrincipalByAppID(ctx, appID)
	if err != nil {
		return nil, "", classify("reading the service principal of "+appID, err)
	}
	if sp != nil {
		return sp, "already present", nil
	}
	err = p.c.retryWhile(ctx, signInBudget, func(err error) bool {
		code, _ := errorCode(err)
		return code == "Request_BadRequest" && appID != DragonflyAppID
	}, func(error) { s.Report.Update("waiting for the new application to replicate") }, func() error {
		var err error
		sp, err = g.CreateServicePrincipal(ctx, appID)
		return err
	})
	if err != nil {
		if code, status := errorCode(err); code == "Request_MultipleObjectsWithSameKeyValue" || status == http.StatusConflict {
			if sp, gerr := g.ServicePrincipalByAppID(ctx, appID); gerr == nil && sp != nil {
				return sp, "already present", nil
			}
		}
		return nil, "", classify("creating the service principal of "+appID, err)
	}
	return sp, "created", nil
}

// ensureAssignment gives principal role on the VNet unless an assignment
// at or above it already does.
func (p *Provider) ensureAssignment(ctx context.Context, s *peering.State, principalID, roleGUID string) (*assignment, string, error) {
	a, err := p.c.findAssignment(ctx, p.in.SubscriptionID, p.vnet.ID, principalID, roleGUID)
	if err != nil {
		return nil, "", err
	}
	if a != nil {
		note := "already granted"
		if !strings.EqualFold(a.Scope, p.vnet.ID) {
			note += " (on " + a.Scope + ")"
		}
		return a, note, nil
	}
	a, err = p.c.assign(ctx, p.in.SubscriptionID, p.vnet.ID, principalID, roleGUID, func(error) {
		s.Report.Update("waiting for the service principal to replicate")
	})
	if err != nil {
		return nil, "", err
	}
	return a, "granted", nil
}

func (p *Provider) ensureRole(ctx context.Context, s *peering.State) (string, error) {
	r, err := p.c.findCustomRole(ctx, p.in.SubscriptionID, p.tenantID)
	if err != nil {
		return "", err
	}
	p.role = r
	if r.Exists && !r.NeedsScope {
		return "already present", nil
	}
	if err := p.c.ensureCustomRole(ctx, p.in.SubscriptionID, r); err != nil {
		return "", err
	}
	p.role.Exists, p.role.NeedsScope = true, false
	if r.Exists {
		return "made assignable in this subscription", nil
	}
	return "created", nil
}

// settle waits until Dragonfly's role assignment is old enough to be in
// effect: Dragonfly peers with the VNet as soon as the connection exists,
// and dfpeer cannot observe another principal's access.
func (p *Provider) settle(ctx context.Context, s *peering.State) (string, error) {
	if p.dfAssignment == nil || p.dfAssignment.Created.IsZero() {
		return "nothing to wait for", nil
	}
	wait := p.c.rolePropagation - time.Since(p.dfAssignment.Created)
	if wait <= 0 {
		return "in effect", nil
	}
	wait = min(wait, p.c.rolePropagation)
	s.Report.Update(fmt.Sprintf("Azure takes a while to apply a new role assignment; %s", roundDuration(wait)))
	if err := sleep(ctx, wait); err != nil {
		return "", err
	}
	return fmt.Sprintf("waited %s", roundDuration(wait)), nil
}

// evaluate reads an NSG and decides how it treats the traffic.
func (p *Provider) evaluate(ctx context.Context, n *nsgPlan, net *dfcloud.Network) (nsgVerdict, error) {
	sc, err := p.c.sub(n.Subscription)
	if err != nil {
		return nsgVerdict{}, err
	}
	resp, err := sc.nsgs.Get(ctx, n.ResourceGroup, n.Name, nil)
	if err != nil {
		return nsgVerdict{}, classify("reading network security group "+n.Name, err)
	}
	return evaluateNSG(&resp.SecurityGroup, net.CIDRBlock, p.in.Port, n.Subnets), nil
}

// ensureRule adds the allow rule where a deny would block the traffic
// (looking again: the NSG may have changed since the plan).
func (p *Provider) ensureRule(ctx context.Context, s *peering.State, n nsgPlan) (string, error) {
	cidr, port := s.Network.CIDRBlock, p.in.Port
	name := RuleName(s.Result.Name)
	record := func(rule, action string) {
		s.Result.FirewallRules = append(s.Result.FirewallRules, peering.FirewallRule{Target: n.Name, Name: rule, Protocol: "tcp", Port: port, Source: cidr, Action: action})
	}
	sc, err := p.c.sub(n.Subscription)
	if err != nil {
		return "", err
	}
	v, err := p.evaluate(ctx, &n, s.Network)
	if err != nil {
		return "", err
	}
	switch {
	case v.AllowedBy != "" && v.Ours:
		if err := p.waitRule(ctx, sc, n, v.AllowedBy); err != nil {
			return "", err
		}
		record(v.AllowedBy, "unchanged")
		return "already allowed by " + v.AllowedBy, nil
	case v.AllowedBy != "":
		return "already allowed by " + v.AllowedBy, nil
	case v.Priority == 0:
		return "", fmt.Errorf("network security group %s denies TCP %d from %s with rule %s (priority %d) and no priority ahead of it is free", n.Name, port, cidr, v.BlockedBy, v.BlockPriority)
	}
	poller, err := sc.rules.BeginCreateOrUpdate(ctx, n.ResourceGroup, n.Name, name, armnetwork.SecurityRule{
		Properties: &armnetwork.SecurityRulePropertiesFormat{
			Description:              to.Ptr(peering.RuleDescription(s.Result.Name)),
			Protocol:                 to.Ptr(armnetwork.SecurityRuleProtocolTCP),
			SourceAddressPrefix:      to.Ptr(cidr),
			SourcePortRange:          to.Ptr("*"),
			DestinationAddressPrefix: to.Ptr("VirtualNetwork"),
			DestinationPortRange:     to.Ptr(fmt.Sprint(port)),
			Access:                   to.Ptr(armnetwork.SecurityRuleAccessAllow),
			Priority:                 to.Ptr(v.Priority),
			Direction:                to.Ptr(armnetwork.SecurityRuleDirectionInbound),
		},
	}, nil)
	if err != nil {
		return "", classify(fmt.Sprintf("adding rule %s to %s", name, n.Name), err)
	}
	if _, err := pollUntilDone(ctx, p.c, poller); err != nil {
		return "", classify(fmt.Sprintf("adding rule %s to %s", name, n.Name), err)
	}
	record(name, "created")
	return fmt.Sprintf("created %s at priority %d, ahead of %s", name, v.Priority, v.BlockedBy), nil
}

// waitRule waits for a rule an interrupted run started writing.
func (p *Provider) waitRule(ctx context.Context, sc *subClients, n nsgPlan, rule string) error {
	deadline := time.Now().Add(p.in.Timeout)
	b := p.c.pollIntervals()
	for {
		resp, err := sc.rules.Get(ctx, n.ResourceGroup, n.Name, rule, nil)
		if err != nil {
			return classify("reading rule "+rule, err)
		}
		st := armnetwork.ProvisioningStateSucceeded
		if pp := resp.Properties; pp != nil && pp.ProvisioningState != nil {
			st = *pp.ProvisioningState
		}
		switch st {
		case armnetwork.ProvisioningStateSucceeded:
			return nil
		case armnetwork.ProvisioningStateFailed:
			return fmt.Errorf("rule %s in %s is Failed; delete it and run again", rule, n.Name)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rule %s in %s is still %s after %s", rule, n.Name, st, p.in.Timeout)
		}
		if err := sleep(ctx, b.pause()); err != nil {
			return err
		}
	}
}

// roundDuration shows a wait the way a person reads it: 20ms, 1.5s, 30s.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
