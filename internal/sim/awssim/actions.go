package awssim

import "sort"

// ec2Actions lists every EC2 action the simulator answers, with the request
// parameters each accepts (names as aws-sdk-go-v2's ec2query serializer
// writes them). Any other action is InvalidAction; any other parameter is
// UnknownParameter.
var ec2Actions map[string]ec2Action

func init() {
	ipPerms := []string{
		"IpPermissions.N.IpProtocol", "IpPermissions.N.FromPort", "IpPermissions.N.ToPort",
		"IpPermissions.N.IpRanges.N.CidrIp", "IpPermissions.N.IpRanges.N.Description",
		"IpPermissions.N.Ipv6Ranges.N.CidrIpv6", "IpPermissions.N.Ipv6Ranges.N.Description",
		"IpPermissions.N.PrefixListIds.N.PrefixListId", "IpPermissions.N.PrefixListIds.N.Description",
		"IpPermissions.N.Groups.N.Description", "IpPermissions.N.Groups.N.GroupId",
		"IpPermissions.N.Groups.N.GroupName", "IpPermissions.N.Groups.N.PeeringStatus",
		"IpPermissions.N.Groups.N.UserId", "IpPermissions.N.Groups.N.VpcId",
		"IpPermissions.N.Groups.N.VpcPeeringConnectionId",
	}
	legacyPerm := []string{"CidrIp", "FromPort", "ToPort", "IpProtocol", "GroupId", "GroupName",
		"SourceSecurityGroupName", "SourceSecurityGroupOwnerId"}

	naclEntryParams := []string{"NetworkAclId", "RuleNumber", "Egress", "Protocol", "RuleAction", "CidrBlock", "Ipv6CidrBlock",
		"PortRange.From", "PortRange.To", "IcmpTypeCode.Code", "IcmpTypeCode.Type"}

	ec2Actions = map[string]ec2Action{
		"DescribeVpcs": {spec(join(filterParams, pagingParams, []string{"VpcId.N"})...),
			(*Sim).describeVpcs},
		"DescribeSubnets": {spec(join(filterParams, pagingParams, []string{"SubnetId.N"})...),
			(*Sim).describeSubnets},
		"DescribeRouteTables": {spec(join(filterParams, pagingParams, []string{"RouteTableId.N"})...),
			(*Sim).describeRouteTables},
		"CreateRoute": {spec(append([]string{"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock",
			"DestinationPrefixListId"}, routeTargetParams()...)...),
			(*Sim).createRoute},
		"ReplaceRoute": {spec(append([]string{"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock",
			"DestinationPrefixListId", "LocalTarget"}, routeTargetParams()...)...),
			(*Sim).replaceRoute},
		"DescribeNetworkAcls": {spec(join(filterParams, pagingParams, []string{"NetworkAclId.N"})...),
			(*Sim).describeNetworkACLs},
		"CreateNetworkAclEntry":  {spec(naclEntryParams...), (*Sim).createNetworkACLEntry},
		"ReplaceNetworkAclEntry": {spec(naclEntryParams...), (*Sim).replaceNetworkACLEntry},
		"DeleteNetworkAclEntry":  {spec("NetworkAclId", "RuleNumber", "Egress"), (*Sim).deleteNetworkACLEntry},
		"DeleteRoute": {spec("RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"),
			(*Sim).deleteRoute},
		"DescribeSecurityGroups": {spec(join(filterParams, pagingParams, []string{"GroupId.N", "GroupName.N"})...),
			(*Sim).describeSecurityGroups},
		"DescribeSecurityGroupRules": {spec(join(filterParams, pagingParams, []string{"SecurityGroupRuleId.N"})...),
			(*Sim).describeSecurityGroupRules},
		"AuthorizeSecurityGroupIngress": {spec(join(ipPerms, legacyPerm, tagSpecParams)...),
			(*Sim).authorizeIngress},
		"RevokeSecurityGroupIngress": {spec(join(ipPerms, legacyPerm, []string{"SecurityGroupRuleId.N"})...),
			(*Sim).revokeIngress},
		"DescribeVpcPeeringConnections": {spec(join(filterParams, pagingParams, []string{"VpcPeeringConnectionId.N"})...),
			(*Sim).describePeerings},
		"CreateVpcPeeringConnection": {spec(join([]string{"VpcId", "PeerVpcId", "PeerOwnerId", "PeerRegion"}, tagSpecParams)...),
			(*Sim).createPeeringAPI},
		"AcceptVpcPeeringConnection": {spec("VpcPeeringConnectionId"), (*Sim).acceptPeeringAPI},
		"RejectVpcPeeringConnection": {spec("VpcPeeringConnectionId"), (*Sim).rejectPeeringAPI},
		"DeleteVpcPeeringConnection": {spec("VpcPeeringConnectionId"), (*Sim).deletePeeringAPI},
	}
}

// SupportedActions lists the EC2 actions the simulator answers, sorted.
func SupportedActions() []string {
	out := make([]string, 0, len(ec2Actions))
	for a := range ec2Actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
