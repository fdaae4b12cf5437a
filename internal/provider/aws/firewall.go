package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/peering"
)

// ruleWant is a firewall change's typed resource: one ingress rule from
// the network's CIDR in one security group.
type ruleWant struct {
	Group       string
	Protocol    string
	FromPort    int32
	ToPort      int32
	CIDR        string
	Description string
}

func (r ruleWant) permission() types.IpPermission {
	return types.IpPermission{
		IpProtocol: aws.String(r.Protocol),
		FromPort:   aws.Int32(r.FromPort),
		ToPort:     aws.Int32(r.ToPort),
		IpRanges:   []types.IpRange{{CidrIp: aws.String(r.CIDR), Description: aws.String(r.Description)}},
	}
}

// observeFirewall looks, in each security group, for the rule allowing TCP
// --port from the network's CIDR. dfpeer's rules carry its description
// (peering.RuleDescription); an equal rule without it already lets the
// traffic in, so connect leaves it and a teardown keeps it. A teardown
// also finds dfpeer's rules for this connection on another port, and lists
// other rules from the CIDR as kept.
func (p *Provider) observeFirewall(ctx context.Context, cloud *Cloud, w wanted) ([]peering.Change, error) {
	vpc, cidr := cloud.VPC.ID, w.net.CIDRBlock
	all, err := p.c.SecurityGroups(ctx, vpc)
	if err != nil {
		return nil, err
	}
	groups, err := choose(p.in.SecurityGroups, all, func(g SecurityGroup) string { return g.ID }, DefaultSecurityGroups, w.teardown, "security-group", "security group", vpc)
	if err != nil {
		return nil, err
	}
	ours := ruleDescription(w.name)
	if w.status && len(p.in.SecurityGroups) == 0 {
		groups = withOurRules(groups, all, cidr, ours)
	}
	var changes []peering.Change
	for _, g := range groups {
		cloud.SecurityGroups = append(cloud.SecurityGroups, g.ID)
		if !w.teardown {
			for _, port := range w.ports {
				changes = append(changes, observeRule(g, port, cidr, ours, len(w.ports) > 1))
			}
			continue
		}
		c := peering.Change{Kind: peering.KindFirewallRule, ID: g.ID, Phase: peering.AfterInactive, Target: fmt.Sprintf("%s (%s)", g.ID, g.Name)}
		for _, perm := range g.Rules {
			for _, r := range perm.IpRanges {
				if aws.ToString(r.CidrIp) != cidr {
					continue
				}
				have := ruleWant{Group: g.ID, Protocol: aws.ToString(perm.IpProtocol), FromPort: aws.ToInt32(perm.FromPort), ToPort: aws.ToInt32(perm.ToPort),
					CIDR: cidr, Description: aws.ToString(r.Description)}
				rc := c
				rc.Want = have
				rc.Detail = fmt.Sprintf("allow inbound %s from %s", portText(have), cidr)
				rc.Found, rc.Action = peering.AsWanted, peering.Remove
				if have.Description != ours {
					rc.Found, rc.Action, rc.Reason = peering.NotOurs, peering.Keep, fmt.Sprintf("not dfpeer's (description %q)", have.Description)
				}
				changes = append(changes, rc)
			}
		}
	}
	return changes, nil
}

// withOurRules adds to the default groups those where dfpeer opened the
// network's CIDR (its description on a rule from it): a connect given
// --security-group, or one at a terminal that offered the choice, opened
// more than the default, and status checks what dfpeer opened.
func withOurRules(groups, all []SecurityGroup, cidr, ours string) []SecurityGroup {
	have := map[string]bool{}
	for _, g := range groups {
		have[g.ID] = true
	}
	for _, g := range all {
		if have[g.ID] {
			continue
		}
		for _, perm := range g.Rules {
			for _, r := range perm.IpRanges {
				if aws.ToString(r.CidrIp) == cidr && aws.ToString(r.Description) == ours && !have[g.ID] {
					have[g.ID] = true
					groups = append(groups, g)
				}
			}
		}
	}
	return groups
}

// observeRule classifies the rule allowing TCP port from cidr in g. With
// several ports each check's ID names its port; with one it is the group's
// alone, as before there could be several.
func observeRule(g SecurityGroup, port int, cidr, ours string, several bool) peering.Change {
	want := ruleWant{Group: g.ID, Protocol: "tcp", FromPort: int32(port), ToPort: int32(port), CIDR: cidr, Description: ours}
	c := peering.Change{Action: peering.Create, Kind: peering.KindFirewallRule, ID: g.ID, Found: peering.Absent, Phase: peering.AfterInactive,
		Target: fmt.Sprintf("%s (%s)", g.ID, g.Name), Detail: fmt.Sprintf("allow inbound TCP %d from %s", port, cidr),
		Title: fmt.Sprintf("Allow TCP %d from %s in %s", port, cidr, g.ID), Want: want}
	if several {
		c.ID = fmt.Sprintf("%s:%d", g.ID, port)
	}
	if found, desc := ingressFrom(g.Rules, want); found {
		c.Action, c.Found = peering.Unchanged, peering.AsWanted
		if desc != ours {
			c.Found, c.Reason = peering.NotOurs, fmt.Sprintf("not dfpeer's (description %q)", desc)
		}
	}
	return c
}

func portText(r ruleWant) string {
	proto := strings.ToUpper(r.Protocol)
	if r.Protocol == "-1" {
		return "all traffic"
	}
	if r.FromPort == r.ToPort {
		return fmt.Sprintf("%s %d", proto, r.FromPort)
	}
	return fmt.Sprintf("%s %d-%d", proto, r.FromPort, r.ToPort)
}

// ingressFrom reports whether perms hold the wanted rule (protocol, ports,
// CIDR; the description aside) and with which description.
func ingressFrom(perms []types.IpPermission, want ruleWant) (bool, string) {
	for _, perm := range perms {
		if aws.ToString(perm.IpProtocol) != want.Protocol || aws.ToInt32(perm.FromPort) != want.FromPort || aws.ToInt32(perm.ToPort) != want.ToPort {
			continue
		}
		for _, r := range perm.IpRanges {
			if aws.ToString(r.CidrIp) == want.CIDR {
				return true, aws.ToString(r.Description)
			}
		}
	}
	return false, ""
}

// groupNow is the group's ingress rules as they are now; found is false
// when the group is gone.
func (p *Provider) groupNow(ctx context.Context, id string) ([]types.IpPermission, bool, error) {
	out, err := p.c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		if errorCode(err) == "InvalidGroup.NotFound" {
			return nil, false, nil
		}
		return nil, false, classify("reading security group "+id+" (ec2:DescribeSecurityGroups)", err)
	}
	if len(out.SecurityGroups) != 1 {
		return nil, false, nil
	}
	return out.SecurityGroups[0].IpPermissions, true, nil
}

// ensureFirewall allows TCP --port from the network's CIDR. A rule observe
// found absent is added without reading again: AWS's
// InvalidPermission.Duplicate says if it appeared since.
func (p *Provider) ensureFirewall(ctx context.Context, s *peering.State, c peering.Change) (string, error) {
	want := c.Want.(ruleWant)
	want.Description = ruleDescription(s.Result.Name)
	id, port := want.Group, int(want.FromPort)
	record := func(action string) {
		s.Result.FirewallRules = append(s.Result.FirewallRules, peering.FirewallRule{Target: id, Protocol: "tcp", Port: port, Source: want.CIDR, Action: action})
	}
	if c.Found != peering.Absent {
		perms, _, err := p.groupNow(ctx, id)
		if err != nil {
			return "", err
		}
		if found, _ := ingressFrom(perms, want); found {
			record("unchanged")
			return "already allowed", nil
		}
	}
	_, err := p.c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{want.permission()},
	})
	if err != nil {
		if errorCode(err) == "InvalidPermission.Duplicate" {
			record("unchanged")
			return "already allowed", nil
		}
		return "", classify(fmt.Sprintf("allowing TCP %d from %s in %s (ec2:AuthorizeSecurityGroupIngress)", port, want.CIDR, id), err)
	}
	record("created")
	return "created", nil
}

// removeFirewall revokes the rule observe found dfpeer's, after checking it
// is still there with dfpeer's description: EC2 matches a revoke by
// protocol, ports and CIDR only, so a rule someone replaced with their own
// since must not be revoked.
func (p *Provider) removeFirewall(ctx context.Context, c peering.Change) (string, error) {
	want := c.Want.(ruleWant)
	perms, found, err := p.groupNow(ctx, want.Group)
	if err != nil {
		return "", err
	}
	if !found {
		return "already gone", nil
	}
	there, desc := ingressFrom(perms, want)
	if !there {
		return "already gone", nil
	}
	if desc != want.Description {
		return fmt.Sprintf("kept: it is now described %q", desc), nil
	}
	perm := want.permission()
	perm.IpRanges[0].Description = nil
	_, err = p.c.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(want.Group), IpPermissions: []types.IpPermission{perm}})
	if err != nil {
		switch errorCode(err) {
		case "InvalidPermission.NotFound", "InvalidGroup.NotFound":
			return "already gone", nil
		}
		return "", classify(fmt.Sprintf("revoking %s from %s in %s (ec2:RevokeSecurityGroupIngress)", portText(want), want.CIDR, want.Group), err)
	}
	return "removed", nil
}

// ruleDescription keeps to the characters EC2 accepts in a rule
// description (a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*) and to its 255 limit.
func ruleDescription(name string) string {
	d := []rune(peering.RuleDescription(name))
	for i, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(". _-:/()#,@[]+=&;{}!$*", r)) {
			d[i] = '_'
		}
	}
	return string(d[:min(len(d), 255)])
}
