package aws

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/peering"
)

// Ephemeral ports: the range a TCP client's side of a connection may use
// (Linux 32768-60999, Windows 49152-65535, ELB and NAT 1024-65535); AWS's
// guide for network ACLs says to allow 1024-65535.
const ephemeralFrom, ephemeralTo = 1024, 65535

// flow is one direction of TCP traffic between the subnets and the
// network, as a network ACL sees it (they are stateless: each packet is
// judged on its own, the answers too).
type flow struct {
	egress   bool
	from, to int32 // destination ports
	what     string
}

// flows are the packets TCP connections on ports need through an ACL,
// whichever side opens them: each port and the ephemeral ports, both ways.
func flows(ports []int) []flow {
	var out []flow
	for _, port := range ports {
		p := int32(port)
		out = append(out,
			flow{egress: true, from: p, to: p, what: fmt.Sprintf("outbound TCP %d to", port)},
			flow{egress: false, from: p, to: p, what: fmt.Sprintf("inbound TCP %d from", port)})
	}
	return append(out,
		flow{egress: false, from: ephemeralFrom, to: ephemeralTo, what: fmt.Sprintf("inbound TCP %d-%d (answers) from", ephemeralFrom, ephemeralTo)},
		flow{egress: true, from: ephemeralFrom, to: ephemeralTo, what: fmt.Sprintf("outbound TCP %d-%d (answers) to", ephemeralFrom, ephemeralTo)})
}

func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}

// observeNACLs checks, for status, each network ACL that serves a subnet
// of the VPC: it must let TCP --port and the ephemeral answers pass to
// and from the network's CIDR. It changes nothing, so it is a Verify.
func (p *Provider) observeNACLs(ctx context.Context, cloud *Cloud, w wanted) ([]peering.Change, error) {
	var acls []types.NetworkAcl
	pg := ec2.NewDescribeNetworkAclsPaginator(p.c.EC2, &ec2.DescribeNetworkAclsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{cloud.VPC.ID}}},
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, classify("reading network ACLs of "+cloud.VPC.ID+" (ec2:DescribeNetworkAcls)", err)
		}
		acls = append(acls, page.NetworkAcls...)
	}
	cidr, err := netip.ParsePrefix(w.net.CIDRBlock)
	if err != nil {
		return nil, fmt.Errorf("network %s has an invalid CIDR %q", w.net.NetworkID, w.net.CIDRBlock)
	}
	var changes []peering.Change
	for _, acl := range acls {
		var subnets []string
		for _, a := range acl.Associations {
			if s := aws.ToString(a.SubnetId); s != "" {
				subnets = append(subnets, s)
			}
		}
		if len(subnets) == 0 {
			continue // serves no subnet: nothing passes through it
		}
		sort.Strings(subnets)
		id := aws.ToString(acl.NetworkAclId)
		c := peering.Change{Action: peering.Verify, Kind: KindNetworkACL, ID: id, Found: peering.AsWanted, Phase: peering.AfterInactive,
			Target: fmt.Sprintf("%s (subnets %s)", id, strings.Join(subnets, ", ")),
			Detail: fmt.Sprintf("allows TCP %s and the ephemeral ports both ways between the subnets and %s", portList(w.ports), cidr)}
		var blocked []string
		var fixes []string
		for _, f := range flows(w.ports) {
			rule, ok := admits(acl.Entries, f, cidr)
			if ok {
				continue
			}
			dir, flag := "inbound", "--ingress"
			if f.egress {
				dir, flag = "outbound", "--egress"
			}
			if rule != nil && aws.ToInt32(rule.RuleNumber) < 32767 {
				n := aws.ToInt32(rule.RuleNumber)
				blocked = append(blocked, fmt.Sprintf("%s rule %d denies %s %s", dir, n, f.what, cidr))
				fixes = append(fixes, fmt.Sprintf("aws ec2 delete-network-acl-entry --network-acl-id %s %s --rule-number %d", id, flag, n))
			} else {
				blocked = append(blocked, fmt.Sprintf("no %s rule allows %s %s", dir, f.what, cidr))
				fixes = append(fixes, fmt.Sprintf("aws ec2 create-network-acl-entry --network-acl-id %s %s --rule-number <below any deny> --protocol tcp --port-range From=%d,To=%d --cidr-block %s --rule-action allow",
					id, flag, f.from, f.to, cidr))
			}
		}
		if len(blocked) > 0 {
			c.Found = peering.Different
			c.Detail = strings.Join(blocked, "; ")
			c.Detail += " (network ACLs are stateless, and the lowest-numbered matching rule decides)"
			c.Reason = strings.Join(fixes, "; ")
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// admits says whether the ACL's entries let the whole flow from (or to)
// cidr through, evaluated as EC2 does: by rule number, first match wins.
// A rule that covers only part of the flow decides only that part, so it
// does not end the evaluation unless it denies. When the flow is not
// admitted, rule is the entry that denies it (nil when none matched).
func admits(entries []types.NetworkAclEntry, f flow, cidr netip.Prefix) (rule *types.NetworkAclEntry, ok bool) {
	sorted := make([]types.NetworkAclEntry, 0, len(entries))
	for _, e := range entries {
		if aws.ToBool(e.Egress) == f.egress {
			sorted = append(sorted, e)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return aws.ToInt32(sorted[i].RuleNumber) < aws.ToInt32(sorted[j].RuleNumber) })
	for i := range sorted {
		e := &sorted[i]
		proto := aws.ToString(e.Protocol)
		if proto != "-1" && proto != "6" && proto != "tcp" {
			continue
		}
		ec, err := netip.ParsePrefix(aws.ToString(e.CidrBlock))
		if err != nil || !ec.Overlaps(cidr) {
			continue
		}
		whole := ec.Bits() <= cidr.Bits()
		if proto != "-1" {
			if e.PortRange == nil {
				continue
			}
			from, to := aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To)
			if to < f.from || from > f.to {
				continue
			}
			whole = whole && from <= f.from && to >= f.to
		}
		if e.RuleAction == types.RuleActionDeny {
			return e, false
		}
		if whole {
			return nil, true
		}
	}
	return nil, false
}
