package aws

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// VPC is what the prompts show of a VPC.
type VPC struct {
	ID        string
	Name      string
	CIDRs     []string // associated blocks, primary first
	IsDefault bool
}

// RouteTable is a route table with what decides whether it is a default
// target.
type RouteTable struct {
	ID         string
	Name       string
	Main       bool
	Associated bool // explicitly associated with a subnet or gateway
	Routes     []types.Route
}

// SecurityGroup is what the prompts show of a security group.
type SecurityGroup struct {
	ID          string
	Name        string
	Description string
	Rules       []types.IpPermission
}

func nameTag(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func toVPC(v types.Vpc) VPC {
	out := VPC{ID: aws.ToString(v.VpcId), Name: nameTag(v.Tags), IsDefault: aws.ToBool(v.IsDefault)}
	primary := aws.ToString(v.CidrBlock)
	if primary != "" {
		out.CIDRs = append(out.CIDRs, primary)
	}
	for _, a := range v.CidrBlockAssociationSet {
		c := aws.ToString(a.CidrBlock)
		if c == primary || a.CidrBlockState == nil {
			continue
		}
		switch a.CidrBlockState.State {
		case types.VpcCidrBlockStateCodeAssociated, types.VpcCidrBlockStateCodeAssociating:
			out.CIDRs = append(out.CIDRs, c)
		}
	}
	return out
}

// VPCs lists the region's VPCs, sorted by name then ID.
func (c *Client) VPCs(ctx context.Context) ([]VPC, error) {
	var out []VPC
	p := ec2.NewDescribeVpcsPaginator(c.EC2, &ec2.DescribeVpcsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("listing VPCs (ec2:DescribeVpcs)", err)
		}
		for _, v := range page.Vpcs {
			out = append(out, toVPC(v))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RouteTables lists the VPC's route tables, main first.
func (c *Client) RouteTables(ctx context.Context, vpcID string) ([]RouteTable, error) {
	var out []RouteTable
	p := ec2.NewDescribeRouteTablesPaginator(c.EC2, &ec2.DescribeRouteTablesInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("listing route tables (ec2:DescribeRouteTables)", err)
		}
		for _, rt := range page.RouteTables {
			out = append(out, toRouteTable(rt))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Main != out[j].Main {
			return out[i].Main
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func toRouteTable(rt types.RouteTable) RouteTable {
	r := RouteTable{ID: aws.ToString(rt.RouteTableId), Name: nameTag(rt.Tags), Routes: rt.Routes}
	for _, a := range rt.Associations {
		if aws.ToBool(a.Main) {
			r.Main = true
		} else if a.SubnetId != nil || a.GatewayId != nil {
			r.Associated = true
		}
	}
	return r
}

// SecurityGroups lists the VPC's security groups, "default" first.
func (c *Client) SecurityGroups(ctx context.Context, vpcID string) ([]SecurityGroup, error) {
	var out []SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(c.EC2, &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("listing security groups (ec2:DescribeSecurityGroups)", err)
		}
		for _, g := range page.SecurityGroups {
			out = append(out, SecurityGroup{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName), Description: aws.ToString(g.Description), Rules: g.IpPermissions})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Name == "default") != (out[j].Name == "default") {
			return out[i].Name == "default"
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// DefaultRouteTables are the tables traffic of the VPC actually uses: the
// main table and every explicitly associated one.
func DefaultRouteTables(rts []RouteTable) []string {
	var ids []string
	for _, rt := range rts {
		if rt.Main || rt.Associated {
			ids = append(ids, rt.ID)
		}
	}
	return ids
}

// DefaultSecurityGroups is the VPC's default security group.
func DefaultSecurityGroups(sgs []SecurityGroup) []string {
	for _, g := range sgs {
		if g.Name == "default" {
			return []string{g.ID}
		}
	}
	return nil
}
