package gcp

import (
	"context"
	"fmt"
	"strings"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/poll"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// peeringsPerNetwork is Compute's limit on peerings of one network.
const peeringsPerNetwork = 25

// peeringWant is the peering connect adds (or finds) towards Dragonfly's
// network.
type peeringWant struct {
	Name         string
	ImportRoutes bool
	ExportRoutes bool
}

// activeWant is the wait for the peering to be ACTIVE (or, with
// --no-wait, for this run's addPeering operation).
type activeWant struct {
	Peering string
	NoWait  bool
}

// peeringToDragonfly finds the VPC's peering towards Dragonfly's network,
// whatever its name: Compute allows one per pair of networks.
func (cl *Cloud) peeringToDragonfly(peerings []*computepb.NetworkPeering) *computepb.NetworkPeering {
	for _, pe := range peerings {
		if pj, n, ok := NetworkRef(pe.GetNetwork()); ok && pj == cl.DFProject && n == cl.DFNetwork {
			return pe
		}
	}
	return nil
}

// notOurPeering says why pe is not dfpeer's peering of this connection,
// or "" when it is: named dfpeer-<name>, towards Dragonfly's network.
func (cl *Cloud) notOurPeering(pe *computepb.NetworkPeering) string {
	if pj, n, ok := NetworkRef(pe.GetNetwork()); !ok || pj != cl.DFProject || n != cl.DFNetwork {
		return fmt.Sprintf("it points at %s, not Dragonfly's network %s", pe.GetNetwork(), cl.dfRef())
	}
	if pe.GetName() != cl.RuleName {
		return fmt.Sprintf("it is named %s, not %s: dfpeer did not create it", pe.GetName(), cl.RuleName)
	}
	return ""
}

func routeFlag(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// checkRouteFlags compares an existing peering's custom-route exchange with
// the flags the user gave; flags not given adopt the existing settings.
func (p *Provider) checkRouteFlags(cl *Cloud, pe *computepb.NetworkPeering) (peeringWant, error) {
	var diff []string
	for _, f := range []struct {
		flag  string
		given *bool
		has   bool
	}{{"--import-custom-routes", p.in.ImportCustomRoutes, pe.GetImportCustomRoutes()}, {"--export-custom-routes", p.in.ExportCustomRoutes, pe.GetExportCustomRoutes()}} {
		if f.given != nil && *f.given != f.has {
			diff = append(diff, fmt.Sprintf("%s=%t but the peering has it %s", f.flag, *f.given, routeFlag(f.has)))
		}
	}
	if len(diff) > 0 {
		return peeringWant{}, problem.Refusef("network %s already has peering %s to %s: %s; change it with 'gcloud compute networks peerings update %s --network %s --project %s --[no-]import-custom-routes --[no-]export-custom-routes', or drop the flags to keep it as it is",
			cl.VPC.Name, pe.GetName(), cl.dfRef(), strings.Join(diff, "; "), pe.GetName(), cl.VPC.Name, cl.Project)
	}
	return peeringWant{Name: pe.GetName(), ImportRoutes: pe.GetImportCustomRoutes(), ExportRoutes: pe.GetExportCustomRoutes()}, nil
}

// observePeering classifies the VPC's peering towards Dragonfly's
// network: dfpeer's (as wanted when ACTIVE, different otherwise), another
// one (adopted as it is: Compute allows one per pair of networks), or none
// (to create, if the name and the peering limit allow). What connect
// refuses — a peering of dfpeer's name towards another network, the
// peering limit — status reports and disconnect keeps.
func (p *Provider) observePeering(cl *Cloud, purpose peering.Purpose) (peering.Change, error) {
	c := peering.Change{Kind: peering.KindPeering, Target: cl.where(), Phase: peering.AfterInactive}
	if pe := cl.peeringToDragonfly(cl.VPC.Peerings); pe != nil {
		want, err := p.checkRouteFlags(cl, pe)
		if err != nil {
			return c, err // only connect takes the route flags
		}
		c.ID, c.Want = pe.GetName(), want
		c.Title = fmt.Sprintf("Add VPC peering %s to %s", pe.GetName(), cl.dfRef())
		active := pe.GetState() == "ACTIVE"
		if why := cl.notOurPeering(pe); why != "" {
			c.Action, c.Found, c.Reason = peering.Adopt, peering.NotOurs, why
			c.Detail = fmt.Sprintf("existing peering %s to Dragonfly's network %s (%s): dfpeer uses it as it is", pe.GetName(), cl.dfRef(), pe.GetState())
			if purpose == peering.ForStatus && !active {
				// Not dfpeer's, but the connection runs over it: a
				// peering that does not carry traffic is a failure.
				c.Found, c.Reason = peering.Different, notActive(pe)
			}
			return c, nil
		}
		c.Action, c.Found = peering.Unchanged, peering.AsWanted
		c.Detail = fmt.Sprintf("peering %s to %s (%s)", pe.GetName(), cl.dfRef(), pe.GetState())
		if !active {
			c.Found, c.Reason = peering.Different, notActive(pe)
		}
		return c, nil
	}
	for _, pe := range cl.VPC.Peerings {
		if pe.GetName() != cl.RuleName {
			continue
		}
		del := fmt.Sprintf("gcloud compute networks peerings delete %s --network %s --project %s", pe.GetName(), cl.VPC.Name, cl.Project)
		switch purpose {
		case peering.ForConnect:
			return c, problem.Refusef("network %s already has a peering named %s, to %s; choose another --name, or remove it with '%s'",
				cl.VPC.Name, pe.GetName(), pe.GetNetwork(), del)
		case peering.ForDisconnect:
			c.Action, c.Found, c.ID = peering.Keep, peering.NotOurs, pe.GetName()
			c.Detail = fmt.Sprintf("peering %s to %s", pe.GetName(), pe.GetNetwork())
			c.Reason = fmt.Sprintf("it points at %s, not Dragonfly's network %s", pe.GetNetwork(), cl.dfRef())
			return c, nil
		}
		// status: the name dfpeer would use is taken by a peering towards
		// another network, so connect cannot add it; say what to do.
		c.Action, c.Found, c.ID = peering.Verify, peering.Different, pe.GetName()
		c.Detail = fmt.Sprintf("network %s has no peering to Dragonfly's network %s; its peering %s points at %s instead", cl.VPC.Name, cl.dfRef(), pe.GetName(), pe.GetNetwork())
		c.Reason = fmt.Sprintf("remove it with '%s', then run connect again (or connect with another --name)", del)
		return c, nil
	}
	if purpose == peering.ForConnect && len(cl.VPC.Peerings) >= peeringsPerNetwork {
		return c, problem.Refusef("network %s already has %d peerings, Compute's limit per network; remove one first (gcloud compute networks peerings list --network %s --project %s)",
			cl.VPC.Name, len(cl.VPC.Peerings), cl.VPC.Name, cl.Project)
	}
	want := peeringWant{Name: cl.RuleName,
		ImportRoutes: p.in.ImportCustomRoutes != nil && *p.in.ImportCustomRoutes,
		ExportRoutes: p.in.ExportCustomRoutes != nil && *p.in.ExportCustomRoutes}
	c.Action, c.Found, c.ID, c.Want = peering.Create, peering.Absent, want.Name, want
	c.Title = fmt.Sprintf("Add VPC peering %s to %s", want.Name, cl.dfRef())
	c.Detail = fmt.Sprintf("peering %s to Dragonfly's network %s (subnet routes exchanged; custom routes: import %s, export %s)",
		want.Name, cl.dfRef(), routeFlag(want.ImportRoutes), routeFlag(want.ExportRoutes))
	return c, nil
}

// notActive says why a peering carries no traffic, in Compute's words
// (state and stateDetails).
func notActive(pe *computepb.NetworkPeering) string {
	why := "it is " + pe.GetState()
	if d := pe.GetStateDetails(); d != "" {
		why += " (" + d + ")"
	}
	return why + ": Dragonfly's side of the peering is missing or not connected yet; an ACTIVE peering needs both sides"
}

// observeActive is the quiet wait that ends connect's GCP side.
func (p *Provider) observeActive(cl *Cloud, pc peering.Change) peering.Change {
	title := "Wait for the VPC peering to be ACTIVE"
	if p.in.NoWait {
		title = "Wait for the VPC peering operation"
	}
	return peering.Change{Action: peering.Wait, Kind: peering.KindPeering, Target: cl.where(), ID: pc.ID, Found: pc.Found,
		Phase: peering.AfterInactive, Title: title, Quiet: true, Want: activeWant{Peering: pc.ID, NoWait: p.in.NoWait}}
}

// ensurePeering adds the peering unless the network already has one to
// Dragonfly's network. It does not wait for the operation: the firewall
// rule is created meanwhile, and ensureActive waits for both.
func (p *Provider) ensurePeering(ctx context.Context, s *peering.State, cl *Cloud, want peeringWant) (string, error) {
	reqID := newRequestID()
	rechecked := false
	note := ""
	err := p.untilNotBusy(ctx, s, "adding peering "+want.Name, func(ctx context.Context) (bool, error) {
		n, err := p.c.getNetwork(ctx, cl.VPC.Name)
		if err != nil {
			return false, err
		}
		if n == nil {
			return false, fmt.Errorf("network %s no longer exists in project %s", cl.VPC.Name, cl.Project)
		}
		if pe := cl.peeringToDragonfly(n.GetPeerings()); pe != nil {
			if _, err := p.checkRouteFlags(cl, pe); err != nil {
				return false, err
			}
			note = fmt.Sprintf("%s already present (%s)", pe.GetName(), pe.GetState())
			return true, nil
		}
		op, err := p.addPeering(ctx, cl, want, reqID)
		switch {
		case err == nil && op.GetStatus() == computepb.Operation_DONE:
			if _, err := p.c.waitOperation(ctx, op, p.in.Timeout); err != nil {
				return false, fmt.Errorf("adding peering %s: %w", want.Name, err)
			}
			note = "added"
			return true, nil
		case err == nil:
			cl.op, note = op, "requested"
			return true, nil
		case busy(err):
			return false, err
		case statusCode(err) == 400 && !rechecked:
			// A concurrent run, or an earlier one whose answer was
			// lost, may have added it meanwhile: look again once.
			rechecked = true
			return false, poll.Retry(err)
		}
		return false, classify(fmt.Sprintf("adding peering %s to %s (compute.networks.addPeering)", want.Name, cl.VPC.Name), err)
	})
	return note, err
}

func (p *Provider) addPeering(ctx context.Context, cl *Cloud, want peeringWant, reqID string) (*computepb.Operation, error) {
	var op *computepb.Operation
	err := p.c.do(ctx, func(ctx context.Context) error {
		o, err := p.c.Networks.AddPeering(ctx, &computepb.AddPeeringNetworkRequest{
			Project:   cl.Project,
			Network:   cl.VPC.Name,
			RequestId: &reqID,
			NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{
				NetworkPeering: &computepb.NetworkPeering{
					Name:                 proto(want.Name),
					Network:              proto(cl.dfRef()),
					ExchangeSubnetRoutes: proto(true),
					ImportCustomRoutes:   proto(want.ImportRoutes),
					ExportCustomRoutes:   proto(want.ExportRoutes),
				},
			},
		})
		if err != nil {
			return err
		}
		op = o.Proto()
		return nil
	})
	return op, err
}

// ensureActive waits for this run's peering operation, then (unless
// --no-wait) for the peering to be ACTIVE: Dragonfly's side exists
// already, so Compute connects them as soon as ours does.
func (p *Provider) ensureActive(ctx context.Context, s *peering.State, cl *Cloud, want activeWant) (string, error) {
	if cl.op != nil {
		s.Report.Update("operation " + cl.op.GetName())
		op, err := p.c.waitOperation(ctx, cl.op, p.in.Timeout)
		cl.op = op
		if err != nil {
			return "", fmt.Errorf("adding peering %s: %w", want.Peering, err)
		}
	}
	if want.NoWait {
		return "done", nil
	}
	start := time.Now()
	last, note := "", ""
	err := p.c.wait(ctx, poll.Options{Timeout: p.in.Timeout, What: fmt.Sprintf("peering %s of network %s to be ACTIVE", want.Peering, cl.VPC.Name)},
		func(ctx context.Context) (bool, error) {
			n, err := p.c.getNetwork(ctx, cl.VPC.Name)
			if err != nil {
				return false, err
			}
			if n == nil {
				return false, fmt.Errorf("network %s no longer exists in project %s", cl.VPC.Name, cl.Project)
			}
			pe := cl.peeringToDragonfly(n.GetPeerings())
			if pe == nil {
				return false, fmt.Errorf("network %s has no peering to %s any more: was it removed? Run the command again to add it", cl.VPC.Name, cl.dfRef())
			}
			if pe.GetState() == "ACTIVE" {
				note = fmt.Sprintf("%s is ACTIVE", pe.GetName())
				return true, nil
			}
			if st := pe.GetState() + " " + pe.GetStateDetails(); st != last {
				last = st
				s.Report.Update(fmt.Sprintf("%s after %s", strings.TrimSpace(st), time.Since(start).Round(100*time.Millisecond)))
			}
			return false, nil
		})
	return note, err
}

// removePeering removes the customer side of the peering named name if it
// is still there and dfpeer's; Dragonfly removes its own side when the
// connection is deleted.
func (p *Provider) removePeering(ctx context.Context, s *peering.State, cl *Cloud, name string) (string, error) {
	gone := "already gone"
	var op *computepb.Operation
	reqID := newRequestID()
	err := p.untilNotBusy(ctx, s, "removing peering "+name, func(ctx context.Context) (bool, error) {
		n, err := p.c.getNetwork(ctx, cl.VPC.Name)
		if err != nil || n == nil {
			return n == nil && err == nil, err
		}
		var pe *computepb.NetworkPeering
		for _, x := range n.GetPeerings() {
			if x.GetName() == name {
				pe = x
			}
		}
		if pe == nil {
			return true, nil
		}
		if why := cl.notOurPeering(pe); why != "" {
			gone = "kept: " + why
			return true, nil
		}
		op, err = p.c.startRemoval(ctx, fmt.Sprintf("removing peering %s from %s (compute.networks.removePeering)", name, cl.VPC.Name), func(ctx context.Context) (*compute.Operation, error) {
			return p.c.Networks.RemovePeering(ctx, &computepb.RemovePeeringNetworkRequest{
				Project: cl.Project, Network: cl.VPC.Name, RequestId: &reqID,
				NetworksRemovePeeringRequestResource: &computepb.NetworksRemovePeeringRequest{Name: proto(name)},
			})
		})
		return err == nil, err
	})
	if err != nil {
		return "", err
	}
	if op == nil {
		return gone, nil
	}
	if _, err := p.c.waitOperation(ctx, op, p.in.Timeout); err != nil {
		if errorCode(err) == "RESOURCE_NOT_FOUND" {
			return gone, nil
		}
		return "", fmt.Errorf("removing peering %s: %w", name, err)
	}
	return "removed", nil
}
