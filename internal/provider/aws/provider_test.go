package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// fakeEC2 answers DescribeVpcPeeringConnections with one peering and
// records whether AcceptVpcPeeringConnection was called.
type fakeEC2 struct {
	EC2API
	peering  types.VpcPeeringConnection
	accepted bool
}

func (f *fakeEC2) DescribeVpcPeeringConnections(ctx context.Context, in *ec2.DescribeVpcPeeringConnectionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcPeeringConnectionsOutput, error) {
	return &ec2.DescribeVpcPeeringConnectionsOutput{VpcPeeringConnections: []types.VpcPeeringConnection{f.peering}}, nil
}

func (f *fakeEC2) AcceptVpcPeeringConnection(ctx context.Context, in *ec2.AcceptVpcPeeringConnectionInput, _ ...func(*ec2.Options)) (*ec2.AcceptVpcPeeringConnectionOutput, error) {
	f.accepted = true
	return &ec2.AcceptVpcPeeringConnectionOutput{}, nil
}

type fakeSTS struct{ account string }

func (f fakeSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: aws.String(f.account)}, nil
}

func vpcInfo(vpc, owner, region string) *types.VpcPeeringConnectionVpcInfo {
	return &types.VpcPeeringConnectionVpcInfo{VpcId: aws.String(vpc), OwnerId: aws.String(owner), Region: aws.String(region)}
}

// The accept step must refuse any peering whose sides are not exactly this
// connection's, and accept the one that is.
func TestAcceptOnlyThisConnectionsPeering(t *testing.T) {
	net := &dfcloud.Network{NetworkID: "net-1", CIDRBlock: "192.168.0.0/16", Location: dfcloud.Location{Provider: "aws", Region: "us-east-1"},
		VPC: &dfcloud.VPC{ResourceID: "vpc-0df1a2b3c4d5e6f70", AccountID: "111122223333"}}
	good := types.VpcPeeringConnection{
		VpcPeeringConnectionId: aws.String("pcx-0123456789abcdef0"),
		Status:                 &types.VpcPeeringConnectionStateReason{Code: types.VpcPeeringConnectionStateReasonCodePendingAcceptance},
		RequesterVpcInfo:       vpcInfo("vpc-0df1a2b3c4d5e6f70", "111122223333", "us-east-1"),
		AccepterVpcInfo:        vpcInfo("vpc-0a1b2c3d4e5f60001", "123456789012", "us-east-1"),
	}
	for _, tc := range []struct {
		name   string
		mutate func(p *types.VpcPeeringConnection)
		want   string // "" = accepted
	}{
		{"ours", func(p *types.VpcPeeringConnection) {}, ""},
		{"other requester VPC", func(p *types.VpcPeeringConnection) {
			p.RequesterVpcInfo = vpcInfo("vpc-0badbadbadbadbad0", "111122223333", "us-east-1")
		}, "requester VPC is vpc-0badbadbadbadbad0"},
		{"other requester account", func(p *types.VpcPeeringConnection) {
			p.RequesterVpcInfo = vpcInfo("vpc-0df1a2b3c4d5e6f70", "999999999999", "us-east-1")
		}, "requester account is 999999999999"},
		{"other accepter VPC", func(p *types.VpcPeeringConnection) {
			p.AccepterVpcInfo = vpcInfo("vpc-0a1b2c3d4e5f60002", "123456789012", "us-east-1")
		}, "accepter VPC is vpc-0a1b2c3d4e5f60002"},
		{"other accepter region", func(p *types.VpcPeeringConnection) {
			p.AccepterVpcInfo = vpcInfo("vpc-0a1b2c3d4e5f60001", "123456789012", "eu-west-1")
		}, "accepter region is eu-west-1"},
		{"expired", func(p *types.VpcPeeringConnection) {
			p.Status = &types.VpcPeeringConnectionStateReason{Code: types.VpcPeeringConnectionStateReasonCodeExpired}
		}, "can no longer be accepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pc := good
			tc.mutate(&pc)
			ec2 := &fakeEC2{peering: pc}
			p := NewProvider(&Client{EC2: ec2, STS: fakeSTS{"123456789012"}, Region: "us-east-1"}, Inputs{VPCID: "vpc-0a1b2c3d4e5f60001", Port: 6379})
			st := &peering.State{Network: net, Result: &peering.Result{}, Report: progress.NewPlain(&strings.Builder{}, nil),
				Connection: &dfcloud.Connection{ConnectionID: "conn-1", PeerConnectionID: "pcx-0123456789abcdef0"},
				Cloud:      &Cloud{Account: "123456789012", VPC: VPC{ID: "vpc-0a1b2c3d4e5f60001"}}}
			_, err := p.Ensure(context.Background(), st, peering.Change{Kind: peering.KindPeering})
			if tc.want == "" {
				if err != nil || !ec2.accepted {
					t.Fatalf("our peering not accepted: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if ec2.accepted {
				t.Fatal("accepted a peering that is not this connection's")
			}
		})
	}
}

// routeEC2 answers CreateRoute with RouteAlreadyExists, as AWS does when the
// route appeared after pre-flight (another run, a lost answer).
type routeEC2 struct {
	EC2API
	existingTarget string
	creates        int
}

func (f *routeEC2) CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	f.creates++
	return nil, &smithy.GenericAPIError{Code: "RouteAlreadyExists", Message: "The route identified by 192.168.0.0/16 already exists."}
}

func (f *routeEC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return &ec2.DescribeRouteTablesOutput{RouteTables: []types.RouteTable{{RouteTableId: aws.String("rtb-0123456789abcdef0"),
		Routes: []types.Route{{DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(f.existingTarget)}}}}}, nil
}

// A route observe did not see is created without a second read; if AWS
// then says it exists, it is ours only when it targets our peering.
func TestRouteAlreadyExistsAfterPreflight(t *testing.T) {
	net := &dfcloud.Network{CIDRBlock: "192.168.0.0/16"}
	for _, tc := range []struct {
		target string
		want   string
	}{
		{"pcx-0123456789abcdef0", "already present"},
		{"pcx-0fffffffffffffff0", "already routes 192.168.0.0/16 to pcx-0fffffffffffffff0"},
	} {
		ec2 := &routeEC2{existingTarget: tc.target}
		p := NewProvider(&Client{EC2: ec2, Region: "us-east-1"}, Inputs{VPCID: "vpc-0a1b2c3d4e5f60001", Port: 6379})
		st := &peering.State{Network: net, Result: &peering.Result{}, Cloud: &Cloud{},
			Connection: &dfcloud.Connection{PeerConnectionID: "pcx-0123456789abcdef0"}}
		note, err := p.Ensure(context.Background(), st, peering.Change{Kind: peering.KindRoute, Found: peering.Absent,
			Want: routeWant{Table: "rtb-0123456789abcdef0", CIDR: net.CIDRBlock}})
		got := note
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) || ec2.creates != 1 {
			t.Errorf("existing route to %s: got %q (creates %d), want %q", tc.target, got, ec2.creates, tc.want)
		}
		if err == nil && (len(st.Result.Routes) != 1 || st.Result.Routes[0].Action != "unchanged") {
			t.Errorf("result %+v", st.Result.Routes)
		}
	}
}
