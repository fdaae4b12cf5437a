// Package aws is the AWS side of dfpeer: it discovers VPCs, route tables
// and security groups for the prompts, observes the connection's
// resources (the peering, one route per table, one ingress rule per
// security group) read-only, and ensures or removes each one
// check-then-act. It is the only package that imports the AWS SDK.
package aws

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dragonflydb/dfpeer/internal/endpoint"
	"github.com/dragonflydb/dfpeer/internal/httplog"
	"github.com/dragonflydb/dfpeer/internal/problem"
)

// EC2API is the part of the EC2 client dfpeer calls. Keeping it narrow
// makes `dfpeer aws permissions` easy to keep honest: every method here is
// one IAM action in the policy.
type EC2API interface {
	DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeVpcPeeringConnections(ctx context.Context, in *ec2.DescribeVpcPeeringConnectionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVpcPeeringConnectionsOutput, error)
	AcceptVpcPeeringConnection(ctx context.Context, in *ec2.AcceptVpcPeeringConnectionInput, optFns ...func(*ec2.Options)) (*ec2.AcceptVpcPeeringConnectionOutput, error)
	CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, optFns ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	DeleteRoute(ctx context.Context, in *ec2.DeleteRouteInput, optFns ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	ReplaceRoute(ctx context.Context, in *ec2.ReplaceRouteInput, optFns ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error)
}

// STSAPI is the part of STS dfpeer calls.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Config says how to reach AWS.
type Config struct {
	Profile string // --profile; empty: the SDK's default chain
	Region  string // --region; empty: the profile's region
	// Sandbox, when set, points every client at the simulator with static
	// credentials and ignores the user's AWS configuration.
	Sandbox *endpoint.AWS
	// Verbose, when set, receives one line per HTTP call (--verbose).
	Verbose io.Writer
	// MaxBackoff caps the SDK's retry backoff (tests make it tiny).
	MaxBackoff time.Duration
}

// Client is a pair of SDK clients bound to one account and region.
type Client struct {
	EC2    EC2API
	STS    STSAPI
	Region string
}

// maxAttempts is generous because EC2 throttles per account and the flow
// must converge under throttling: a call gives up only after ten tries.
const maxAttempts = 10

// NewClient loads the SDK's configuration (environment, shared config and
// profiles, SSO, instance roles; AWS_ENDPOINT_URL and friends) and builds
// the clients.
func NewClient(ctx context.Context, c Config) (*Client, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				// The default token bucket gives up on a burst of
				// throttles; per-call attempts already bound retries.
				o.RateLimiter = ratelimit.None
				if c.MaxBackoff > 0 {
					o.MaxBackoff = c.MaxBackoff
				}
			})
		}),
	}
	if c.Verbose != nil {
		opts = append(opts, config.WithAPIOptions([]func(*middleware.Stack) error{logCalls(c.Verbose)}))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if s := c.Sandbox; s != nil {
		opts = append(opts,
			config.WithSharedConfigFiles([]string{}),
			config.WithSharedCredentialsFiles([]string{}),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")),
			config.WithBaseEndpoint(s.URL))
		if c.Region == "" {
			opts = append(opts, config.WithRegion(s.Region))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &problem.AuthError{Err: fmt.Errorf("loading AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		return nil, problem.Refusef("--region is required: no region in the AWS configuration (set --region, AWS_REGION, or region in the profile)")
	}
	return &Client{EC2: newEC2Calls(ec2.NewFromConfig(cfg)), STS: stsCalls{sts.NewFromConfig(cfg).GetCallerIdentity}, Region: cfg.Region}, nil
}

// logCalls logs every attempt (retries included) in the --verbose format.
// It is a middleware rather than an http.Client because the SDK must keep
// its own client to honour AWS_CA_BUNDLE.
func logCalls(w io.Writer) func(*middleware.Stack) error {
	var mu sync.Mutex
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("dfpeerVerbose",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleDeserialize(ctx, in)
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return out, md, err
				}
				status := ""
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
					status = strconv.Itoa(resp.StatusCode)
				} else if err != nil {
					status = httplog.ErrorStatus(err)
				}
				mu.Lock()
				httplog.Line(w, req.Method, req.URL, status, time.Since(start))
				mu.Unlock()
				return out, md, err
			}), middleware.After)
	}
}

// CallerAccount returns the account the credentials belong to.
func (c *Client) CallerAccount(ctx context.Context) (string, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", classify("reading the caller identity (sts:GetCallerIdentity)", err)
	}
	return aws.ToString(out.Account), nil
}

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
	deleteRoute                   func(context.Context, *ec2.DeleteRouteInput, ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error)
	revokeSecurityGroupIngress    func(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	describeNetworkAcls           func(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	replaceRoute                  func(context.Context, *ec2.ReplaceRouteInput, ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error)
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
		deleteRoute:                   c.DeleteRoute,
		revokeSecurityGroupIngress:    c.RevokeSecurityGroupIngress,
		describeNetworkAcls:           c.DescribeNetworkAcls,
		replaceRoute:                  c.ReplaceRoute,
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

func (e ec2Calls) DeleteRoute(ctx context.Context, in *ec2.DeleteRouteInput, o ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error) {
	return e.deleteRoute(ctx, in, o...)
}

func (e ec2Calls) RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, o ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	return e.revokeSecurityGroupIngress(ctx, in, o...)
}

func (e ec2Calls) DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, o ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	return e.describeNetworkAcls(ctx, in, o...)
}

func (e ec2Calls) ReplaceRoute(ctx context.Context, in *ec2.ReplaceRouteInput, o ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	return e.replaceRoute(ctx, in, o...)
}

type stsCalls struct {
	getCallerIdentity func(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

func (s stsCalls) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return s.getCallerIdentity(ctx, in, o...)
}
