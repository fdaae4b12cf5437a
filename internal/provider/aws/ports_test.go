package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/peering"
)

// With two ports (Redis 6379, Memcached 6371) connect opens both in each
// group, status checks each (its own check id) and the ACL for both, a
// revoked one is reported alone, and a teardown removes both.
func TestMultiplePorts(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := Inputs{VPCID: "vpc-0a1b2c3d4e5f60001", Ports: []int{6379, 6371}}
	w.connect(t, in, "two-ports")
	sg := w.sb.Demo.AWSApp.DefaultSecurityGroupID
	rules, _ := w.sb.AWS.SecurityGroup(sg)
	open := map[int32]int{}
	for _, r := range rules {
		if !r.Egress && r.CIDR == demoCIDR && r.Protocol == "tcp" && r.FromPort == r.ToPort {
			open[r.FromPort]++
		}
	}
	if open[6379] != 1 || open[6371] != 1 || len(open) != 2 {
		t.Fatalf("rules from %s in %s: %v", demoCIDR, sg, open)
	}

	conns := w.sb.DF.Connections()
	conn, err := w.api.GetConnection(ctx, conns[0].ConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProvider(w.c, in)
	peer, err := p.Peer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status := func() map[string]peering.Found {
		t.Helper()
		obs, err := p.Observe(ctx, peering.Target{Network: w.net, Name: "two-ports", Peer: peer, Existing: conn, Purpose: peering.ForStatus})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]peering.Found{}
		for _, c := range obs.Changes {
			if c.Kind == peering.KindFirewallRule || c.Kind == KindNetworkACL {
				out[string(c.Kind)+":"+c.ID] = c.Found
				if c.Kind == KindNetworkACL && c.Detail == "" {
					t.Errorf("ACL check without detail")
				}
			}
		}
		return out
	}
	got := status()
	if got["firewall_rule:"+sg+":6379"] != peering.AsWanted || got["firewall_rule:"+sg+":6371"] != peering.AsWanted {
		t.Fatalf("status of two ports: %v", got)
	}
	if _, err := w.c.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(6371), ToPort: aws.Int32(6371),
			IpRanges: []types.IpRange{{CidrIp: aws.String(demoCIDR)}}}}}); err != nil {
		t.Fatal(err)
	}
	got = status()
	if got["firewall_rule:"+sg+":6379"] != peering.AsWanted || got["firewall_rule:"+sg+":6371"] != peering.Absent {
		t.Fatalf("status after revoking 6371: %v", got)
	}
	w.connect(t, in, "two-ports")
	if got = status(); got["firewall_rule:"+sg+":6371"] != peering.AsWanted {
		t.Fatalf("connect did not reopen 6371: %v", got)
	}

	td := NewProvider(w.c, Inputs{VPCID: in.VPCID, Ports: in.Ports, Teardown: true})
	notes := w.removeAll(t, td, w.observe(t, td, "two-ports", conn))
	removed := 0
	for _, n := range notes {
		if n == "removed" {
			removed++
		}
	}
	if removed != 4 {
		t.Fatalf("teardown removed %d, want 2 routes and 2 rules: %v", removed, notes)
	}
	rules, _ = w.sb.AWS.SecurityGroup(sg)
	for _, r := range rules {
		if r.CIDR == demoCIDR {
			t.Errorf("rule left after teardown: %+v", r)
		}
	}
}
