package gcpsim

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
)

// firewalls.update (PUT) replaces every settable field with the body's,
// unlike patch: what the body leaves out (disabled, target tags) is
// cleared, which is how dfpeer puts its rule back as it made it.
func TestFirewallUpdateReplaces(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	op, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
	must(t, err)
	must(t, op.Wait(ctx))
	op, err = e.firewalls.Patch(ctx, &computepb.PatchFirewallRequest{Project: "cust-proj", Firewall: "allow-df", FirewallResource: &computepb.Firewall{Disabled: ptr(true)}})
	must(t, err)
	must(t, op.Wait(ctx))
	fw, err := e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	must(t, err)
	if !fw.GetDisabled() || len(fw.GetTargetTags()) != 1 {
		t.Fatalf("patched: %v", fw)
	}
	put := ingressRule("allow-df")
	put.TargetTags = nil
	put.Allowed = []*computepb.Allowed{{IPProtocol: ptr("tcp"), Ports: []string{"6379", "6371"}}}
	op, err = e.firewalls.Update(ctx, &computepb.UpdateFirewallRequest{Project: "cust-proj", Firewall: "allow-df", FirewallResource: put})
	must(t, err)
	if op.Proto().GetOperationType() != "update" {
		t.Errorf("operation type %q", op.Proto().GetOperationType())
	}
	must(t, op.Wait(ctx))
	got, err := e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	must(t, err)
	if got.GetDisabled() || len(got.GetTargetTags()) != 0 || strings.Join(got.GetAllowed()[0].GetPorts(), ",") != "6379,6371" ||
		got.GetId() != fw.GetId() || got.GetCreationTimestamp() != fw.GetCreationTimestamp() {
		t.Fatalf("updated: %v", got)
	}
	_, err = e.firewalls.Update(ctx, &computepb.UpdateFirewallRequest{Project: "cust-proj", Firewall: "ghost", FirewallResource: ingressRule("ghost")})
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/firewalls/ghost' was not found")
}
