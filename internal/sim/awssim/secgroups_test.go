package awssim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func redisFrom(cidrs ...string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(6379), ToPort: aws.Int32(6379)}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c), Description: aws.String("dragonfly: " + c)})
	}
	return p
}

func TestDefaultSecurityGroup(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	c := e.ec2(custKey, "us-east-1")
	out := must[*ec2.DescribeSecurityGroupsOutput](t)(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: append(byFilter("vpc-id", v.VPCID), byFilter("group-name", "default")...)}))
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("default group lookup: %d groups", len(out.SecurityGroups))
	}
	sg := out.SecurityGroups[0]
	if aws.ToString(sg.GroupId) != v.DefaultSecurityGroupID || aws.ToString(sg.OwnerId) != custAccount {
		t.Errorf("group = %+v", sg)
	}
	// AWS creates it with an ingress rule from itself and allow-all egress.
	if len(sg.IpPermissions) != 1 || aws.ToString(sg.IpPermissions[0].IpProtocol) != "-1" ||
		len(sg.IpPermissions[0].UserIdGroupPairs) != 1 ||
		aws.ToString(sg.IpPermissions[0].UserIdGroupPairs[0].GroupId) != v.DefaultSecurityGroupID ||
		aws.ToString(sg.IpPermissions[0].UserIdGroupPairs[0].UserId) != custAccount {
		t.Errorf("default ingress = %+v", sg.IpPermissions)
	}
	if len(sg.IpPermissionsEgress) != 1 || len(sg.IpPermissionsEgress[0].IpRanges) != 1 ||
		aws.ToString(sg.IpPermissionsEgress[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Errorf("default egress = %+v", sg.IpPermissionsEgress)
	}
}

func TestAuthorizeSecurityGroupIngress(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	app := must[string](t)(e.sim.AddSecurityGroup(custAccount, "us-east-1", v.VPCID, "app", "application servers"))
	c := e.ec2(custKey, "us-east-1")
	authorize := func(perms ...types.IpPermission) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
		return c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app), IpPermissions: perms})
	}

	out, err := authorize(redisFrom("192.168.0.0/16", "192.169.0.0/16"))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if !aws.ToBool(out.Return) || len(out.SecurityGroupRules) != 2 {
		t.Fatalf("Authorize answered %+v", out)
	}
	for _, r := range out.SecurityGroupRules {
		if id := aws.ToString(r.SecurityGroupRuleId); !sgrKind.wellFormed(id) {
			t.Errorf("rule ID %q is not an sgr- ID", id)
		}
		if aws.ToBool(r.IsEgress) || aws.ToInt32(r.FromPort) != 6379 || !strings.HasPrefix(aws.ToString(r.Description), "dragonfly: ") {
			t.Errorf("rule = %+v", r)
		}
	}

	// DescribeSecurityGroups groups both ranges into one permission.
	sgs := must[*ec2.DescribeSecurityGroupsOutput](t)(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{app}}))
	perms := sgs.SecurityGroups[0].IpPermissions
	if len(perms) != 1 || len(perms[0].IpRanges) != 2 || aws.ToInt32(perms[0].ToPort) != 6379 ||
		aws.ToString(perms[0].IpRanges[1].Description) != "dragonfly: 192.169.0.0/16" {
		t.Fatalf("ipPermissions = %+v", perms)
	}
	byCIDR := must[*ec2.DescribeSecurityGroupsOutput](t)(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: byFilter("ip-permission.cidr", "192.168.0.0/16")}))
	if len(byCIDR.SecurityGroups) != 1 || aws.ToString(byCIDR.SecurityGroups[0].GroupId) != app {
		t.Errorf("ip-permission.cidr filter = %d groups", len(byCIDR.SecurityGroups))
	}

	rules := must[*ec2.DescribeSecurityGroupRulesOutput](t)(c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{
		Filters: byFilter("group-id", app)}))
	var ingress int
	for _, r := range rules.SecurityGroupRules {
		if aws.ToString(r.GroupId) != app {
			t.Errorf("rule of another group: %+v", r)
		}
		if !aws.ToBool(r.IsEgress) {
			ingress++
		}
	}
	if ingress != 2 || len(rules.SecurityGroupRules) != 3 {
		t.Errorf("DescribeSecurityGroupRules: %d rules, %d ingress; want 3 and 2", len(rules.SecurityGroupRules), ingress)
	}

	before := e.sim.Snapshot()
	// A rule that exists, even with another description, is a duplicate;
	// so is a rule repeated within one request. Either refuses the call.
	dup := redisFrom("192.168.0.0/16")
	dup.IpRanges[0].Description = aws.String("something else")
	_, err = authorize(dup)
	wantCode(t, err, "InvalidPermission.Duplicate")
	_, err = authorize(redisFrom("172.16.0.0/16", "172.16.0.0/16"))
	wantCode(t, err, "InvalidPermission.Duplicate")
	_, err = authorize(redisFrom("192.168.0.1/16"))
	wantCode(t, err, "InvalidParameterValue")
	_, err = authorize(redisFrom("not-a-cidr"))
	wantCode(t, err, "InvalidParameterValue")
	_, err = authorize(types.IpPermission{IpProtocol: aws.String("tcp"), IpRanges: []types.IpRange{{CidrIp: aws.String("172.16.0.0/16")}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = authorize(types.IpPermission{IpProtocol: aws.String("sctp-ish"), FromPort: aws.Int32(1), ToPort: aws.Int32(2),
		IpRanges: []types.IpRange{{CidrIp: aws.String("172.16.0.0/16")}}})
	wantCode(t, err, "InvalidParameterValue")
	bad := redisFrom("172.16.0.0/16")
	bad.IpRanges[0].Description = aws.String("no <angle> brackets")
	_, err = authorize(bad)
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"),
		IpPermissions: []types.IpPermission{redisFrom("172.16.0.0/16")}})
	wantCode(t, err, "InvalidGroup.NotFound")
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-12"),
		IpPermissions: []types.IpPermission{redisFrom("172.16.0.0/16")}})
	wantCode(t, err, "InvalidGroupId.Malformed")
	_, err = e.ec2(otherKey, "us-east-1").AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(app), IpPermissions: []types.IpPermission{redisFrom("172.16.0.0/16")}})
	wantCode(t, err, "InvalidGroup.NotFound")
	_, err = e.ec2(custKey, "eu-west-1").AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(app), IpPermissions: []types.IpPermission{redisFrom("172.16.0.0/16")}})
	wantCode(t, err, "InvalidGroup.NotFound")
	// GroupName only addresses the default VPC, and this region has none.
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("app"),
		IpPermissions: []types.IpPermission{redisFrom("172.16.0.0/16")}})
	wantCode(t, err, "VPCIdNotSpecified")
	if after := e.sim.Snapshot(); !bytes.Equal(before, after) {
		t.Errorf("refused Authorize calls changed the state")
	}

	// The legacy top-level form and a source group both work.
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("10.0.0.0/8")}); err != nil {
		t.Fatalf("legacy Authorize: %v", err)
	}
	if _, err := authorize(types.IpPermission{IpProtocol: aws.String("-1"),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(v.DefaultSecurityGroupID)}}}); err != nil {
		t.Fatalf("group-sourced Authorize: %v", err)
	}
	got, _ := e.sim.SecurityGroup(app)
	var sawLegacy, sawGroup bool
	for _, r := range got {
		sawLegacy = sawLegacy || (r.CIDR == "10.0.0.0/8" && r.FromPort == 22)
		sawGroup = sawGroup || (r.SourceGroupID == v.DefaultSecurityGroupID && r.Protocol == "-1")
	}
	if !sawLegacy || !sawGroup {
		t.Errorf("rules after legacy and group authorizations: %+v", got)
	}
}

func TestRevokeSecurityGroupIngress(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	app := must[string](t)(e.sim.AddSecurityGroup(custAccount, "us-east-1", v.VPCID, "app", "application servers"))
	seeded := must[string](t)(e.sim.AddIngressRule(app, RuleSpec{Protocol: "tcp", FromPort: 6379, ToPort: 6379, CIDR: "192.168.0.0/16"}))
	must[string](t)(e.sim.AddIngressRule(app, RuleSpec{Protocol: "tcp", FromPort: 6379, ToPort: 6379, CIDR: "192.169.0.0/16"}))
	if _, err := e.sim.AddIngressRule(app, RuleSpec{Protocol: "tcp", FromPort: 6379, ToPort: 6379, CIDR: "192.169.0.0/16"}); err == nil {
		t.Error("AddIngressRule accepted a duplicate")
	}
	c := e.ec2(custKey, "us-east-1")
	revoke := func(in ec2.RevokeSecurityGroupIngressInput) (*ec2.RevokeSecurityGroupIngressOutput, error) {
		in.GroupId = aws.String(app)
		return c.RevokeSecurityGroupIngress(ctx, &in)
	}

	_, err := revoke(ec2.RevokeSecurityGroupIngressInput{IpPermissions: []types.IpPermission{redisFrom("172.16.0.0/16")}})
	wantCode(t, err, "InvalidPermission.NotFound")

	// One known, one unknown: the known one goes, the unknown is reported.
	out, err := revoke(ec2.RevokeSecurityGroupIngressInput{IpPermissions: []types.IpPermission{redisFrom("192.169.0.0/16", "172.16.0.0/16")}})
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if aws.ToBool(out.Return) || len(out.RevokedSecurityGroupRules) != 1 || len(out.UnknownIpPermissions) != 1 ||
		aws.ToString(out.UnknownIpPermissions[0].IpRanges[0].CidrIp) != "172.16.0.0/16" {
		t.Errorf("partial revoke answered %+v", out)
	}

	_, err = revoke(ec2.RevokeSecurityGroupIngressInput{SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	out, err = revoke(ec2.RevokeSecurityGroupIngressInput{SecurityGroupRuleIds: []string{seeded}})
	if err != nil || !aws.ToBool(out.Return) || len(out.RevokedSecurityGroupRules) != 1 ||
		aws.ToString(out.RevokedSecurityGroupRules[0].SecurityGroupRuleId) != seeded {
		t.Fatalf("revoke by rule ID: %+v, %v", out, err)
	}
	rules, _ := e.sim.SecurityGroup(app)
	for _, r := range rules {
		if !r.Egress {
			t.Errorf("ingress rule left after revoking all: %+v", r)
		}
	}
}
