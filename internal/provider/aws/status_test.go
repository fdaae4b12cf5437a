package aws

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Every VpcPeeringConnectionStateReason code is classified: active and
// provisioning are fine; pending acceptance is for connect to accept and
// says when AWS expires it; the final states need --recreate and, for
// status, are conditions whose fix says so.
func TestClassifyPeering(t *testing.T) {
	w := wanted{pcx: "pcx-1", net: &dfcloud.Network{VPC: &dfcloud.VPC{ResourceID: "vpc-df"}}, status: true}
	exp := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		code   types.VpcPeeringConnectionStateReasonCode
		found  peering.Found
		action peering.Action
		reason []string
	}{
		{types.VpcPeeringConnectionStateReasonCodeActive, peering.AsWanted, peering.Unchanged, nil},
		{types.VpcPeeringConnectionStateReasonCodeProvisioning, peering.AsWanted, peering.Unchanged, nil},
		{types.VpcPeeringConnectionStateReasonCodePendingAcceptance, peering.Different, peering.Accept, []string{"pending acceptance", "2026-12-07 10:00 UTC", "7 days"}},
		{types.VpcPeeringConnectionStateReasonCodeExpired, peering.Different, peering.Verify, []string{"expired", "Expired", "--recreate"}},
		{types.VpcPeeringConnectionStateReasonCodeRejected, peering.Different, peering.Verify, []string{"rejected", "--recreate"}},
		{types.VpcPeeringConnectionStateReasonCodeDeleted, peering.Different, peering.Verify, []string{"deleted", "--recreate"}},
		{types.VpcPeeringConnectionStateReasonCodeFailed, peering.Different, peering.Verify, []string{"failed", "overlapping", "--recreate"}},
	}
	msgs := map[types.VpcPeeringConnectionStateReasonCode]string{
		types.VpcPeeringConnectionStateReasonCodeExpired: "Expired",
		types.VpcPeeringConnectionStateReasonCodeFailed:  "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range",
	}
	for _, tc := range cases {
		pc := &types.VpcPeeringConnection{Status: &types.VpcPeeringConnectionStateReason{Code: tc.code, Message: aws.String(msgs[tc.code])},
			AccepterVpcInfo: &types.VpcPeeringConnectionVpcInfo{VpcId: aws.String("vpc-app")}}
		if tc.code == types.VpcPeeringConnectionStateReasonCodePendingAcceptance {
			pc.ExpirationTime = &exp
		}
		c := peering.Change{Action: peering.Accept, Found: peering.Absent}
		classifyPeering(&c, pc, w)
		if c.Found != tc.found || c.Action != tc.action {
			t.Errorf("%s: found %s action %s, want %s %s", tc.code, c.Found, c.Action, tc.found, tc.action)
		}
		// status shows Detail: Reason, and Reason as the fix.
		for _, r := range tc.reason {
			if !strings.Contains(c.Detail+": "+c.Reason, r) {
				t.Errorf("%s: %q: %q lacks %q", tc.code, c.Detail, c.Reason, r)
			}
		}
	}
	// For connect, a dead peering is not turned into a condition: Ensure
	// refuses it with the reason.
	w.status = false
	c := peering.Change{Action: peering.Accept}
	classifyPeering(&c, &types.VpcPeeringConnection{Status: &types.VpcPeeringConnectionStateReason{Code: types.VpcPeeringConnectionStateReasonCodeRejected}}, w)
	if c.Action != peering.Accept || c.Found != peering.Different {
		t.Errorf("connect: %+v", c)
	}
}

// admits evaluates an ACL as EC2 does: by rule number, first match wins;
// a partial allow does not decide, a partial deny does.
func TestNetworkACLEvaluation(t *testing.T) {
	cidr := mustPrefix("192.168.0.0/16")
	entry := func(n int32, egress bool, proto, action, block string, ports ...int32) types.NetworkAclEntry {
		e := types.NetworkAclEntry{RuleNumber: aws.Int32(n), Egress: aws.Bool(egress), Protocol: aws.String(proto),
			RuleAction: types.RuleAction(action), CidrBlock: aws.String(block)}
		if len(ports) == 2 {
			e.PortRange = &types.PortRange{From: aws.Int32(ports[0]), To: aws.Int32(ports[1])}
		}
		return e
	}
	in := flow{egress: false, from: 6379, to: 6379}
	cases := []struct {
		name    string
		entries []types.NetworkAclEntry
		ok      bool
		rule    int32
	}{
		{"default", []types.NetworkAclEntry{entry(100, false, "-1", "allow", "0.0.0.0/0"), entry(32767, false, "-1", "deny", "0.0.0.0/0")}, true, 0},
		{"deny first", []types.NetworkAclEntry{entry(100, false, "-1", "allow", "0.0.0.0/0"), entry(90, false, "6", "deny", "192.168.1.0/24", 6379, 6379)}, false, 90},
		{"deny after the allow", []types.NetworkAclEntry{entry(100, false, "-1", "allow", "0.0.0.0/0"), entry(110, false, "6", "deny", "192.168.0.0/16", 6379, 6379)}, true, 0},
		{"partial allow then catch-all", []types.NetworkAclEntry{entry(100, false, "6", "allow", "192.168.0.0/17", 6379, 6379), entry(32767, false, "-1", "deny", "0.0.0.0/0")}, false, 32767},
		{"port range covers", []types.NetworkAclEntry{entry(100, false, "6", "allow", "192.168.0.0/16", 6000, 7000)}, true, 0},
		{"other port only", []types.NetworkAclEntry{entry(100, false, "6", "allow", "0.0.0.0/0", 22, 22)}, false, 0},
		{"udp ignored", []types.NetworkAclEntry{entry(90, false, "17", "deny", "0.0.0.0/0", 0, 65535), entry(100, false, "-1", "allow", "0.0.0.0/0")}, true, 0},
		{"egress rules do not count inbound", []types.NetworkAclEntry{entry(100, true, "-1", "allow", "0.0.0.0/0")}, false, 0},
	}
	for _, tc := range cases {
		rule, ok := admits(tc.entries, in, cidr)
		if ok != tc.ok {
			t.Errorf("%s: admits %v, want %v", tc.name, ok, tc.ok)
		}
		got := int32(0)
		if rule != nil {
			got = aws.ToInt32(rule.RuleNumber)
		}
		if got != tc.rule {
			t.Errorf("%s: deciding deny rule %d, want %d", tc.name, got, tc.rule)
		}
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
