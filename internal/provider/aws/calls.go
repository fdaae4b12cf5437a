package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ec2Calls and stsCalls hand the SDK clients to EC2API and STSAPI as method
// values. Storing *ec2.Client in an interface — directly, or as a field of
// a struct that is — makes the linker keep all of its ~700 operations
// (cobra's text/template turns off method dead-code elimination for types
// reachable from interfaces): about 15 MB of binary. Through method values
// only the calls dfpeer makes are linked.
type ec2Calls struct {
	describeVpcs                  func(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	describeRouteTables           func(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	describeSecurityGroups        func(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	describeVpcPeeringConnections func(context.Context, *ec2.DescribeVpcPeeringConnectionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcPeeringConnectionsOutput, error)
	acceptVpcPeeringConnection    func(context.Context, *ec2.AcceptVpcPeeringConnectionInput, ...func(*ec2.Options)) (*ec2.AcceptVpcPeeringConnectionOutput, error)
	createRoute                   func(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error)
	authorizeSecurityGroupIngress func(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
}

func newEC2Calls(c *ec2.Client) ec2Calls {
	return ec2Calls{
		describeVpcs:                  c.DescribeVpcs,
		describeRouteTables:           c.DescribeRouteTables,
		describeSecurityGroups:        c.DescribeSecurityGroups,
		describeVpcPeeringConnections: c.DescribeVpcPeeringConnections,
		acceptVpcPeeringConnection:    c.AcceptVpcPeeringConnection,
		createRoute:                   c.CreateRoute,
		authorizeSecurityGroupIngress: c.AuthorizeSecurityGroupIngress,
	}
}

func (e ec2Calls) DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, o ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return e.describeVpcs(ctx, in, o...)
}

func (e ec2Calls) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, o ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return e.describeRouteTables(ctx, in, o...)
}

func (e ec2Calls) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, o ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return e.describeSecurityGroups(ctx, in, o...)
}

func (e ec2Calls) DescribeVpcPeeringConnections(ctx context.Context, in *ec2.DescribeVpcPeeringConnectionsInput, o ...func(*ec2.Options)) (*ec2.DescribeVpcPeeringConnectionsOutput, error) {
	return e.describeVpcPeeringConnections(ctx, in, o...)
}

func (e ec2Calls) AcceptVpcPeeringConnection(ctx context.Context, in *ec2.AcceptVpcPeeringConnectionInput, o ...func(*ec2.Options)) (*ec2.AcceptVpcPeeringConnectionOutput, error) {
	return e.acceptVpcPeeringConnection(ctx, in, o...)
}

func (e ec2Calls) CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, o ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	return e.createRoute(ctx, in, o...)
}

func (e ec2Calls) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, o ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	return e.authorizeSecurityGroupIngress(ctx, in, o...)
}

type stsCalls struct {
	getCallerIdentity func(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

func (s stsCalls) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return s.getCallerIdentity(ctx, in, o...)
}
