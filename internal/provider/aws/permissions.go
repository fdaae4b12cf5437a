package aws

import "slices"

// Actions are the IAM actions dfpeer calls on AWS; `dfpeer aws permissions`
// prints them as a policy. Keep in step with EC2API and STSAPI: connect
// needs all but DeleteRoute and RevokeSecurityGroupIngress, which Remove
// (disconnect) needs; status reads only (the Describe calls and STS);
// ReplaceRoute repoints a route left to an old peering (connect --recreate,
// or a repair).
var Actions = func() []string {
	a := []string{
		"ec2:AcceptVpcPeeringConnection",
		"ec2:AuthorizeSecurityGroupIngress",
		"ec2:CreateRoute",
		"ec2:DeleteRoute",
		"ec2:DescribeNetworkAcls",
		"ec2:DescribeRouteTables",
		"ec2:DescribeSecurityGroups",
		"ec2:DescribeVpcPeeringConnections",
		"ec2:DescribeVpcs",
		"ec2:ReplaceRoute",
		"ec2:RevokeSecurityGroupIngress",
		"sts:GetCallerIdentity",
	}
	slices.Sort(a)
	return a
}()
