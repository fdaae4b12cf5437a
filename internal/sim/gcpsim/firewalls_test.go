package gcpsim

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
)

func ingressRule(name string) *computepb.Firewall {
	return &computepb.Firewall{
		Name:         ptr(name),
		Network:      ptr("projects/cust-proj/global/networks/cust-net"),
		SourceRanges: []string{"192.168.0.0/16"},
		Allowed:      []*computepb.Allowed{{IPProtocol: ptr("tcp"), Ports: []string{"6379", "9999-10000"}}},
		TargetTags:   []string{"redis"},
	}
}

func TestFirewallLifecycle(t *testing.T) {
	e := newEnv(t, Options{Delays: Delays{Operation: opDelay}})
	e.seedPair(t)
	ctx := context.Background()

	op, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
	must(t, err)
	if p := op.Proto(); p.GetOperationType() != "insert" || p.GetStatus() != computepb.Operation_PENDING ||
		p.GetTargetLink() != "https://www.googleapis.com/compute/v1/projects/cust-proj/global/firewalls/allow-df" {
		t.Fatalf("insert operation = %v", p)
	}
	_, err = e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/firewalls/allow-df' was not found")

	// A second insert of the same name conflicts even while the first runs.
	_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
	wantAPIError(t, err, 409, "alreadyExists", "The resource 'projects/cust-proj/global/firewalls/allow-df' already exists")

	e.finish()
	must(t, op.Poll(ctx))
	fw, err := e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	must(t, err)
	if fw.GetPriority() != 1000 || fw.GetDirection() != "INGRESS" || fw.GetKind() != "compute#firewall" || fw.GetId() == 0 ||
		fw.GetCreationTimestamp() == "" || fw.GetId() != op.Proto().GetTargetId() ||
		fw.GetSelfLink() != "https://www.googleapis.com/compute/v1/projects/cust-proj/global/firewalls/allow-df" ||
		fw.GetNetwork() != "https://www.googleapis.com/compute/v1/projects/cust-proj/global/networks/cust-net" ||
		fw.GetLogConfig() == nil || fw.GetDisabled() {
		t.Errorf("firewall = %v", fw)
	}
	if got := fw.GetAllowed()[0]; got.GetIPProtocol() != "tcp" || strings.Join(got.GetPorts(), ",") != "6379,9999-10000" {
		t.Errorf("allowed = %v", got)
	}

	_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
	wantAPIError(t, err, 409, "alreadyExists", "The resource 'projects/cust-proj/global/firewalls/allow-df' already exists")

	// Patch changes what is sent and keeps the rest.
	pop, err := e.firewalls.Patch(ctx, &computepb.PatchFirewallRequest{Project: "cust-proj", Firewall: "allow-df",
		FirewallResource: &computepb.Firewall{SourceRanges: []string{"192.168.0.0/16", "172.16.0.0/12"}, Priority: ptr(int32(900))}})
	must(t, err)
	_, err = e.firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	wantAPIError(t, err, 400, "resourceNotReady", "The resource 'projects/cust-proj/global/firewalls/allow-df' is not ready")
	e.finish()
	must(t, pop.Poll(ctx))
	fw, err = e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	must(t, err)
	if fw.GetPriority() != 900 || len(fw.GetSourceRanges()) != 2 || len(fw.GetTargetTags()) != 1 || len(fw.GetAllowed()) != 1 {
		t.Errorf("patched firewall = %v", fw)
	}

	var names []string
	it := e.firewalls.List(ctx, &computepb.ListFirewallsRequest{Project: "cust-proj"})
	for f, err := it.Next(); err == nil; f, err = it.Next() {
		names = append(names, f.GetName())
	}
	if strings.Join(names, ",") != "allow-df" {
		t.Errorf("list = %v", names)
	}

	dop, err := e.firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	must(t, err)
	if dop.Proto().GetOperationType() != "delete" {
		t.Errorf("delete operation = %v", dop.Proto())
	}
	e.finish()
	_, err = e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	wantAPIError(t, err, 404, "notFound", "")
	_, err = e.firewalls.Delete(ctx, &computepb.DeleteFirewallRequest{Project: "cust-proj", Firewall: "allow-df"})
	wantAPIError(t, err, 404, "notFound", "The resource 'projects/cust-proj/global/firewalls/allow-df' was not found")
}

func TestFirewallValidation(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		edit   func(*computepb.Firewall)
		code   int
		reason string
		msg    string
	}{
		{"bad name", func(f *computepb.Firewall) { f.Name = ptr("Allow_DF") }, 400, "invalid",
			"Invalid value for field 'resource.name': 'Allow_DF'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'"},
		{"no name", func(f *computepb.Firewall) { f.Name = nil }, 400, "required", "Required field 'resource.name' not specified"},
		{"missing network", func(f *computepb.Firewall) { f.Network = ptr("global/networks/ghost") }, 404, "notFound",
			"The resource 'projects/cust-proj/global/networks/ghost' was not found"},
		{"missing network by bare name", func(f *computepb.Firewall) { f.Network = ptr("ghost") }, 404, "notFound",
			"The resource 'projects/cust-proj/global/networks/ghost' was not found"},
		{"default network absent", func(f *computepb.Firewall) { f.Network = nil }, 404, "notFound",
			"The resource 'projects/cust-proj/global/networks/default' was not found"},
		{"malformed network", func(f *computepb.Firewall) { f.Network = ptr("networks/cust-net") }, 400, "invalid",
			"Invalid value for field 'resource.network': 'networks/cust-net'. The URL is malformed."},
		{"bad direction", func(f *computepb.Firewall) { f.Direction = ptr("IN") }, 400, "invalid", ""},
		{"priority too high", func(f *computepb.Firewall) { f.Priority = ptr(int32(70000)) }, 400, "invalid", ""},
		{"no rules", func(f *computepb.Firewall) { f.Allowed = nil }, 400, "required", ""},
		{"allowed and denied", func(f *computepb.Firewall) { f.Denied = []*computepb.Denied{{IPProtocol: ptr("udp")}} }, 400, "invalid", ""},
		{"no protocol", func(f *computepb.Firewall) { f.Allowed[0].IPProtocol = nil }, 400, "required",
			"Required field 'resource.allowed[0].IPProtocol' not specified"},
		{"unknown protocol", func(f *computepb.Firewall) { f.Allowed[0].IPProtocol = ptr("http") }, 400, "invalid", ""},
		{"ports on icmp", func(f *computepb.Firewall) { f.Allowed[0].IPProtocol = ptr("icmp") }, 400, "invalid", ""},
		{"bad port range", func(f *computepb.Firewall) { f.Allowed[0].Ports = []string{"90-80"} }, 400, "invalid", ""},
		{"bad CIDR", func(f *computepb.Firewall) { f.SourceRanges = []string{"10.0.0.0/33"} }, 400, "invalid", ""},
		{"tags and service accounts", func(f *computepb.Firewall) {
			f.TargetServiceAccounts = []string{"app@cust-proj.iam.gserviceaccount.com"}
		}, 400, "invalid", ""},
		{"bad service account", func(f *computepb.Firewall) {
			f.TargetTags = nil
			f.TargetServiceAccounts = []string{"not an email"}
		}, 400, "invalid", ""},
		{"egress with source tags", func(f *computepb.Firewall) {
			f.Direction = ptr("EGRESS")
			f.SourceTags = []string{"web"}
		}, 400, "invalid", ""},
		{"ingress without source", func(f *computepb.Firewall) { f.SourceRanges = nil }, 400, "invalid", ""},
	}
	before := e.sim.Snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fw := ingressRule("rule")
			c.edit(fw)
			_, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: fw})
			wantAPIError(t, err, c.code, c.reason, c.msg)
		})
	}
	if string(e.sim.Snapshot()) != string(before) {
		t.Error("refused inserts changed the state")
	}

	// Egress without destinations defaults to everywhere.
	egress := &computepb.Firewall{Name: ptr("out"), Network: ptr("global/networks/cust-net"), Direction: ptr("EGRESS"),
		Denied: []*computepb.Denied{{IPProtocol: ptr("all")}}}
	_, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: egress})
	must(t, err)
	fw, err := e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "out"})
	must(t, err)
	if strings.Join(fw.GetDestinationRanges(), ",") != "0.0.0.0/0" {
		t.Errorf("egress destinations = %v", fw.GetDestinationRanges())
	}

	e.sim.SetQuota("cust-proj", "FIREWALLS", 1)
	_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("two")})
	wantAPIError(t, err, 403, "quotaExceeded", "Quota 'FIREWALLS' exceeded.  Limit: 1.0 globally.")

	e.sim.SetQuota("cust-proj", "FIREWALLS", 100)
	e.sim.Deny("cust-proj", "compute.networks.updatePolicy")
	_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("two")})
	wantAPIError(t, err, 403, "forbidden", "Required 'compute.networks.updatePolicy' permission for 'projects/cust-proj/global/networks/cust-net'")
}

// Compute resolves a firewall's network given as a bare name, a partial
// path or a full URL in the firewall's project, and stores the full URL.
func TestFirewallNetworkReferenceForms(t *testing.T) {
	e := newEnv(t, Options{})
	e.seedPair(t)
	ctx := context.Background()
	for i, ref := range []string{
		"cust-net",
		"global/networks/cust-net",
		"projects/cust-proj/global/networks/cust-net",
		"https://compute.googleapis.com/compute/v1/projects/cust-proj/global/networks/cust-net",
	} {
		name := fmt.Sprintf("form-%d", i)
		fw := ingressRule(name)
		fw.Network = ptr(ref)
		_, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: fw})
		must(t, err)
		got, err := e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: name})
		must(t, err)
		if got.GetNetwork() != "https://www.googleapis.com/compute/v1/projects/cust-proj/global/networks/cust-net" {
			t.Errorf("network %q stored as %q", ref, got.GetNetwork())
		}
	}
}

// With NotReadyWhilePeering, firewall changes on a network wait for its
// peering operation; without it (the default) they go ahead.
func TestFirewallNotReadyWhilePeering(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			e := newEnv(t, Options{Delays: Delays{Operation: opDelay}, NotReadyWhilePeering: on})
			e.seedPair(t)
			ctx := context.Background()
			pop, err := e.networks.AddPeering(ctx, &computepb.AddPeeringNetworkRequest{Project: "cust-proj", Network: "cust-net",
				NetworksAddPeeringRequestResource: &computepb.NetworksAddPeeringRequest{NetworkPeering: &computepb.NetworkPeering{
					Name: ptr("to-df"), Network: ptr("projects/df-prod/global/networks/df-net"), ExchangeSubnetRoutes: ptr(true)}}})
			must(t, err)
			_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
			if !on {
				must(t, err)
				return
			}
			wantAPIError(t, err, 400, "resourceNotReady", "The resource 'projects/cust-proj/global/networks/cust-net' is not ready")
			// A rule on another network of the project is not held up.
			must(t, e.sim.AddNetwork("cust-proj", NetworkSpec{Name: "other"}))
			other := ingressRule("other-rule")
			other.Network = ptr("other")
			_, err = e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: other})
			must(t, err)
			e.finish()
			must(t, pop.Poll(ctx))
			op, err := e.firewalls.Insert(ctx, &computepb.InsertFirewallRequest{Project: "cust-proj", FirewallResource: ingressRule("allow-df")})
			must(t, err)
			e.finish()
			must(t, op.Poll(ctx))
			if _, err := e.firewalls.Get(ctx, &computepb.GetFirewallRequest{Project: "cust-proj", Firewall: "allow-df"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
