package awssim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func vpcIDs(vs []types.Vpc) []string {
	var out []string
	for _, v := range vs {
		out = append(out, aws.ToString(v.VpcId))
	}
	return out
}

func TestDescribeVpcs(t *testing.T) {
	e := newEnv(t, Delays{})
	app := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16", "10.1.0.0/16"}, Name: "app"})
	def := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"172.31.0.0/16"}, IsDefault: true})
	elsewhere := e.vpc(custAccount, "eu-west-1", VPCSpec{CIDRs: []string{"10.2.0.0/16"}, Name: "app"})
	theirs := e.vpc(otherAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.3.0.0/16"}, Name: "app"})
	c := e.ec2(custKey, "us-east-1")

	all := must[*ec2.DescribeVpcsOutput](t)(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}))
	if got, want := vpcIDs(all.Vpcs), []string{app.VPCID, def.VPCID}; !sameSet(got, want) {
		t.Fatalf("DescribeVpcs = %v, want only this account's us-east-1 VPCs %v", got, want)
	}
	for _, v := range all.Vpcs {
		if aws.ToString(v.VpcId) != app.VPCID {
			continue
		}
		if aws.ToString(v.CidrBlock) != "10.0.0.0/16" || len(v.CidrBlockAssociationSet) != 2 ||
			aws.ToString(v.CidrBlockAssociationSet[1].CidrBlock) != "10.1.0.0/16" {
			t.Errorf("CIDRs not reported as AWS does: %+v", v)
		}
		if aws.ToString(v.OwnerId) != custAccount || v.State != types.VpcStateAvailable || aws.ToBool(v.IsDefault) {
			t.Errorf("owner/state/default wrong: %+v", v)
		}
		if len(v.Tags) != 1 || aws.ToString(v.Tags[0].Key) != "Name" || aws.ToString(v.Tags[0].Value) != "app" {
			t.Errorf("tags = %+v", v.Tags)
		}
	}

	for _, tc := range []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"vpc-id", byFilter("vpc-id", app.VPCID), []string{app.VPCID}},
		{"tag:Name", byFilter("tag:Name", "app"), []string{app.VPCID}},
		{"tag:Name wildcard", byFilter("tag:Name", "a*"), []string{app.VPCID}},
		{"is-default", byFilter("is-default", "true"), []string{def.VPCID}},
		{"cidr-block-association", byFilter("cidr-block-association.cidr-block", "10.1.0.0/16"), []string{app.VPCID}},
		{"no match", byFilter("vpc-id", theirs.VPCID), nil},
		{"AND of filters", append(byFilter("tag:Name", "app"), byFilter("is-default", "true")...), nil},
	} {
		out := must[*ec2.DescribeVpcsOutput](t)(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: tc.filters}))
		if got := vpcIDs(out.Vpcs); !sameSet(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	byID := must[*ec2.DescribeVpcsOutput](t)(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{app.VPCID}}))
	if got := vpcIDs(byID.Vpcs); !sameSet(got, []string{app.VPCID}) {
		t.Errorf("VpcId.1 = %v", got)
	}

	// Named IDs that do not resolve for this caller are errors, not empty
	// lists: another region's and another account's VPCs do not exist.
	for _, id := range []string{elsewhere.VPCID, theirs.VPCID, "vpc-0123456789abcdef0"} {
		_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
		wantCode(t, err, "InvalidVpcID.NotFound")
	}
	_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-nothex"}})
	wantCode(t, err, "InvalidVpcID.Malformed")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: byFilter("vpc-name", "app")})
	wantCode(t, err, "InvalidParameterValue")

	// The same VPC from its own region does exist.
	eu := must[*ec2.DescribeVpcsOutput](t)(e.ec2(custKey, "eu-west-1").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{elsewhere.VPCID}}))
	if len(eu.Vpcs) != 1 {
		t.Errorf("eu-west-1 VPC not visible from eu-west-1: %v", vpcIDs(eu.Vpcs))
	}
}

func TestDescribeVpcsPagination(t *testing.T) {
	e := newEnv(t, Delays{})
	var want []string
	for i := 0; i < 7; i++ {
		want = append(want, e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{fmt.Sprintf("10.%d.0.0/16", i)}}).VPCID)
	}
	c := e.ec2(custKey, "us-east-1")
	pages := 0
	var got []string
	p := ec2.NewDescribeVpcsPaginator(c, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, vpcIDs(out.Vpcs)...)
	}
	if pages != 2 || !sameSet(got, want) || len(got) != len(want) {
		t.Fatalf("paginator: %d pages, %v; want 2 pages of %v", pages, got, want)
	}

	_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(3)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(5), VpcIds: want[:1]})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidPaginationToken")
}

func TestDescribeSubnets(t *testing.T) {
	e := newEnv(t, Delays{})
	a := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	b := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.1.0.0/16"}})
	s1 := must[string](t)(e.sim.AddSubnet(custAccount, "us-east-1", a.VPCID, "10.0.1.0/24", "us-east-1a", "app-a"))
	s2 := must[string](t)(e.sim.AddSubnet(custAccount, "us-east-1", a.VPCID, "10.0.2.0/24", "us-east-1b", ""))
	must[string](t)(e.sim.AddSubnet(custAccount, "us-east-1", b.VPCID, "10.1.1.0/24", "us-east-1a", ""))
	if _, err := e.sim.AddSubnet(custAccount, "us-east-1", a.VPCID, "10.0.1.128/25", "us-east-1a", ""); err == nil {
		t.Error("AddSubnet accepted an overlapping subnet")
	}
	if _, err := e.sim.AddSubnet(custAccount, "us-east-1", a.VPCID, "10.9.0.0/24", "us-east-1a", ""); err == nil {
		t.Error("AddSubnet accepted a subnet outside the VPC")
	}

	c := e.ec2(custKey, "us-east-1")
	out := must[*ec2.DescribeSubnetsOutput](t)(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: byFilter("vpc-id", a.VPCID)}))
	var got []string
	for _, sn := range out.Subnets {
		got = append(got, aws.ToString(sn.SubnetId))
		if aws.ToString(sn.SubnetId) == s1 {
			if aws.ToString(sn.CidrBlock) != "10.0.1.0/24" || aws.ToString(sn.AvailabilityZone) != "us-east-1a" ||
				aws.ToInt32(sn.AvailableIpAddressCount) != 251 || aws.ToString(sn.VpcId) != a.VPCID {
				t.Errorf("subnet fields: %+v", sn)
			}
		}
	}
	if !sameSet(got, []string{s1, s2}) {
		t.Fatalf("subnets of %s = %v", a.VPCID, got)
	}
	_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
	_, err = e.ec2(otherKey, "us-east-1").DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{s1}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
