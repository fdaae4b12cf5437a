package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/peering/peeringtest"
	"github.com/dragonflydb/dfpeer/internal/sim/awssim"
	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

func awssimRule(cidr, description string) awssim.RuleSpec {
	return awssim.RuleSpec{Protocol: "tcp", FromPort: 6379, ToPort: 6379, CIDR: cidr, Description: description}
}

// console is a plain EC2 client of the sandbox's customer account: what a
// person breaking things in the console would use (dfpeer's own client
// has only the calls dfpeer makes).
type console struct{ EC2 *ec2.Client }

func customer(t *testing.T, e *cmdtest.Env) *console {
	t.Helper()
	ep := e.SB.Endpoints.AWS
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(ep.Region),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ep.AccessKeyID, ep.SecretAccessKey, "")),
		config.WithBaseEndpoint(ep.URL))
	if err != nil {
		t.Fatal(err)
	}
	return &console{EC2: ec2.NewFromConfig(cfg)}
}

// readOnlyHealth is health, requiring that status changed nothing
// anywhere (no mutating call on either simulator).
func readOnlyHealth(t *testing.T, e *cmdtest.Env) (int, peering.Health) {
	t.Helper()
	before := len(cmdtest.MutatingCalls(e.SB.AWS.HTTP(), e.SB.DF.HTTP()))
	code, h := e.Status(verb("status")...)
	if got := cmdtest.MutatingCalls(e.SB.AWS.HTTP(), e.SB.DF.HTTP()); len(got) != before {
		t.Fatalf("status made mutating calls: %v", got[before:])
	}
	return code, h
}

// failing requires exit 5 and a fail check whose id and resource/message
// contain each of want; it returns that check.
func failing(t *testing.T, e *cmdtest.Env, id string, want ...string) peering.Check {
	t.Helper()
	code, h := readOnlyHealth(t, e)
	if code != 5 || h.Healthy {
		t.Fatalf("want exit 5 and unhealthy, got exit %d healthy %v: %q\n%s", code, h.Healthy, cmdtest.Failed(h), e.ErrOut)
	}
	for _, c := range h.Checks {
		if c.Status != peering.Fail || !strings.HasPrefix(c.ID, id) {
			continue
		}
		all := c.ID + " " + c.Resource + " " + c.Message + " " + c.Fix
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(all, w)
		}
		if ok {
			if c.Fix == "" {
				t.Errorf("fail check %s has no fix", c.ID)
			}
			return c
		}
	}
	t.Fatalf("no fail check %s naming %q; failed: %q", id, want, cmdtest.Failed(h))
	return peering.Check{}
}

func healthy(t *testing.T, e *cmdtest.Env) peering.Health {
	t.Helper()
	code, h := readOnlyHealth(t, e)
	if code != 0 || !h.Healthy {
		t.Fatalf("want healthy, got exit %d: %q\n%s", code, cmdtest.Failed(h), e.ErrOut)
	}
	return h
}

func connected(t *testing.T, e *cmdtest.Env, extra ...string) {
	t.Helper()
	e.ErrOut.Reset()
	if code := e.Run(args(extra...)...); code != 0 {
		t.Fatalf("connect %v: exit %d\n%s", extra, code, e.ErrOut)
	}
}

// TestStatusChecks breaks one thing at a time through EC2 (or, where the
// simulator has no API for it, by seeding what a console user would
// have made): status exits 5 with a fail check naming the resource and
// the fix, changing nothing; then the repair (connect, or the fix the
// check gave) makes it healthy again without duplicating anything.
func TestStatusChecks(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		break_ func(t *testing.T, e *cmdtest.Env, c *console)
		check  func(e *cmdtest.Env) (id string, want []string)
		repair func(t *testing.T, e *cmdtest.Env, c *console)
	}{{
		name: "security group rule revoked",
		break_: func(t *testing.T, e *cmdtest.Env, c *console) {
			_, err := c.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(e.SB.Demo.AWSApp.DefaultSecurityGroupID),
				IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(6379), ToPort: aws.Int32(6379),
					IpRanges: []types.IpRange{{CidrIp: aws.String(demoCIDR)}}}}})
			if err != nil {
				t.Fatal(err)
			}
		},
		check: func(e *cmdtest.Env) (string, []string) {
			return "firewall_rule:", []string{e.SB.Demo.AWSApp.DefaultSecurityGroupID, "missing", "dfpeer aws connect"}
		},
		repair: func(t *testing.T, e *cmdtest.Env, _ *console) { connected(t, e) },
	}, {
		name: "network ACL denies the port",
		break_: func(t *testing.T, e *cmdtest.Env, c *console) {
			_, err := c.EC2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(defaultACL(t, c)),
				RuleNumber: aws.Int32(90), Egress: aws.Bool(false), Protocol: aws.String("6"), RuleAction: types.RuleActionDeny,
				CidrBlock: aws.String("192.168.0.0/17"), PortRange: &types.PortRange{From: aws.Int32(6379), To: aws.Int32(6379)}})
			if err != nil {
				t.Fatal(err)
			}
		},
		check: func(e *cmdtest.Env) (string, []string) {
			return "network_acl:acl-", []string{"inbound rule 90 denies", "delete-network-acl-entry", "--rule-number 90", "--ingress"}
		},
		repair: func(t *testing.T, e *cmdtest.Env, c *console) {
			// The customer's own rule: the fix is theirs, as status says.
			_, err := c.EC2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(defaultACL(t, c)),
				RuleNumber: aws.Int32(90), Egress: aws.Bool(false)})
			if err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "network ACL without the ephemeral ports",
		break_: func(t *testing.T, e *cmdtest.Env, c *console) {
			// Replace the allow-all outbound rule with one for the port
			// only: the answers to a connection opened from the network
			// can no longer leave.
			_, err := c.EC2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(defaultACL(t, c)),
				RuleNumber: aws.Int32(100), Egress: aws.Bool(true), Protocol: aws.String("6"), RuleAction: types.RuleActionAllow,
				CidrBlock: aws.String("0.0.0.0/0"), PortRange: &types.PortRange{From: aws.Int32(6379), To: aws.Int32(6379)}})
			if err != nil {
				t.Fatal(err)
			}
		},
		check: func(e *cmdtest.Env) (string, []string) {
			return "network_acl:acl-", []string{"no outbound rule allows outbound TCP 1024-65535", "create-network-acl-entry", "--egress"}
		},
		repair: func(t *testing.T, e *cmdtest.Env, c *console) {
			_, err := c.EC2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: aws.String(defaultACL(t, c)),
				RuleNumber: aws.Int32(100), Egress: aws.Bool(true), Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow,
				CidrBlock: aws.String("0.0.0.0/0")})
			if err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "route to another target",
		break_: func(t *testing.T, e *cmdtest.Env, c *console) {
			rt := e.SB.Demo.AWSPrivateRT
			if _, err := c.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(rt), DestinationCidrBlock: aws.String(demoCIDR)}); err != nil {
				t.Fatal(err)
			}
			// The simulator models no transit gateway for CreateRoute.
			if err := e.SB.AWS.AddRoute(rt, demoCIDR, "tgw-0123456789abcdef0"); err != nil {
				t.Fatal(err)
			}
		},
		check: func(e *cmdtest.Env) (string, []string) {
			return "route:" + e.SB.Demo.AWSPrivateRT, []string{"tgw-0123456789abcdef0", "aws ec2 delete-route --route-table-id " + e.SB.Demo.AWSPrivateRT}
		},
		repair: func(t *testing.T, e *cmdtest.Env, c *console) {
			// connect still refuses to shadow it (exit 2, nothing changed)
			// until the user removes it, as the fix says.
			before := state(e)
			if code := e.Run(args()...); code != 2 || string(before) != string(state(e)) {
				t.Fatalf("connect with a route in the way: exit %d\n%s", code, e.ErrOut)
			}
			if _, err := c.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(e.SB.Demo.AWSPrivateRT), DestinationCidrBlock: aws.String(demoCIDR)}); err != nil {
				t.Fatal(err)
			}
			connected(t, e)
		},
	}, {
		name: "more specific route steals part of the network",
		break_: func(t *testing.T, e *cmdtest.Env, c *console) {
			if err := e.SB.AWS.AddRoute(e.SB.Demo.AWSApp.MainRouteTableID, "192.168.5.0/24", "nat-0123456789abcdef0"); err != nil {
				t.Fatal(err)
			}
		},
		check: func(e *cmdtest.Env) (string, []string) {
			return "route:" + e.SB.Demo.AWSApp.MainRouteTableID + ":192.168.5.0/24", []string{"nat-0123456789abcdef0", "more specific", "--destination-cidr-block 192.168.5.0/24"}
		},
		repair: func(t *testing.T, e *cmdtest.Env, c *console) {
			if _, err := c.EC2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(e.SB.Demo.AWSApp.MainRouteTableID), DestinationCidrBlock: aws.String("192.168.5.0/24")}); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "secondary CIDR block overlaps the network",
		break_: func(t *testing.T, e *cmdtest.Env, c *console) {
			// AssociateVpcCidrBlock is not simulated; seed the block.
			if err := e.SB.AWS.AddCIDRBlock(sandbox.DemoAWSVPC, "192.168.128.0/20"); err != nil {
				t.Fatal(err)
			}
		},
		check: func(e *cmdtest.Env) (string, []string) {
			return "vpc_cidr:" + sandbox.DemoAWSVPC, []string{"192.168.128.0/20", "disassociate-vpc-cidr-block"}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := cmdtest.NewSandbox(t, sandbox.Options{})
			connected(t, e)
			h := healthy(t, e)
			if len(h.Checks) < 6 {
				t.Fatalf("too few checks for a healthy connection: %+v", h.Checks)
			}
			c := customer(t, e)
			tc.break_(t, e, c)
			id, want := tc.check(e)
			failing(t, e, id, want...)
			if tc.repair == nil {
				return
			}
			tc.repair(t, e, c)
			healthy(t, e)
			demo := e.SB.Demo
			assertConnected(t, e, []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT}, []string{demo.AWSApp.DefaultSecurityGroupID})
		})
	}
}

func defaultACL(t *testing.T, c *console) string {
	t.Helper()
	out, err := c.EC2.DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{sandbox.DemoAWSVPC}}, {Name: aws.String("default"), Values: []string{"true"}}}})
	if err != nil || len(out.NetworkAcls) != 1 {
		t.Fatalf("default ACL: %v %+v", err, out)
	}
	return aws.ToString(out.NetworkAcls[0].NetworkAclId)
}

// breakPeering deletes the active peering from the customer's side, as
// the VPC console's "Delete peering connection" does: Dragonfly's
// connection becomes irrecoverable and the routes blackholes.
func breakPeering(t *testing.T, e *cmdtest.Env) string {
	t.Helper()
	conns := e.SB.DF.Connections()
	if len(conns) != 1 {
		t.Fatalf("connections %+v", conns)
	}
	pcx := conns[0].PeerConnectionID
	if _, err := customer(t, e).EC2.DeleteVpcPeeringConnection(context.Background(), &ec2.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(pcx)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := e.SB.DF.Connection(conns[0].ConnectionID); c.Status == "irrecoverable" {
			return pcx
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection never became irrecoverable")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatusPeeringDeletedThenRecreate: the peering deleted by the
// customer → status 5 naming the peering, the irrecoverable connection
// and the blackhole routes; connect refuses without --recreate; with it
// the routes are repointed (ReplaceRoute), not duplicated; healthy again.
func TestStatusPeeringDeletedThenRecreate(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	connected(t, e)
	old := breakPeering(t, e)
	failing(t, e, "connection", "irrecoverable", "--recreate")
	failing(t, e, "peering:"+old, old, "--recreate")
	failing(t, e, "route:"+e.SB.Demo.AWSPrivateRT, "blackhole")

	before := state(e)
	if code := e.Run(args()...); code != 2 || !strings.Contains(e.ErrOut.String(), "--recreate") || string(before) != string(state(e)) {
		t.Fatalf("connect without --recreate: exit %d\n%s", code, e.ErrOut)
	}
	e.SB.AWS.HTTP().ResetLog()
	connected(t, e, "--recreate")
	if n := e.SB.AWS.HTTP().Count("ReplaceRoute"); n != 2 {
		t.Errorf("--recreate made %d ReplaceRoute calls, want one per table", n)
	}
	if n := e.SB.AWS.HTTP().Count("CreateRoute"); n != 0 {
		t.Errorf("--recreate made %d CreateRoute calls, want none (routes are repointed)", n)
	}
	h := healthy(t, e)
	if h.ConnectionID == "" || e.SB.DF.Connections()[len(e.SB.DF.Connections())-1].PeerConnectionID == old {
		t.Fatalf("not a new connection: %+v", h)
	}
	live := 0
	for _, c := range e.SB.DF.Connections() {
		if c.Status != "deleted" {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("%d live connections after --recreate", live)
	}
	demo := e.SB.Demo
	assertConnectedLive(t, e, []string{demo.AWSApp.MainRouteTableID, demo.AWSPrivateRT})
}

// assertConnectedLive checks one route per table to the live connection's
// peering, active (the deleted connection stays listed by Dragonfly).
func assertConnectedLive(t *testing.T, e *cmdtest.Env, tables []string) {
	t.Helper()
	pcx := ""
	for _, c := range e.SB.DF.Connections() {
		if c.Status == "active" {
			pcx = c.PeerConnectionID
		}
	}
	for _, id := range tables {
		routes, _ := e.SB.AWS.RouteTable(id)
		n := 0
		for _, r := range routes {
			if r.Destination == demoCIDR {
				n++
				if r.Target != pcx || r.State != "active" {
					t.Errorf("%s: route %+v, want → %s active", id, r, pcx)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d routes for %s", id, n, demoCIDR)
		}
	}
}

// Resources that look like dfpeer's but are not — a rule from the
// network's CIDR with another description, a route to the CIDR in a table
// connect did not use, a more specific route — survive disconnect.
func TestDisconnectKeepsWhatIsNotOurs(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	demo := e.SB.Demo
	if _, err := e.SB.AWS.AddIngressRule(demo.AWSServersSG, awssimRule(demoCIDR, "ops team: redis from dragonfly")); err != nil {
		t.Fatal(err)
	}
	if err := e.SB.AWS.AddRoute(demo.AWSApp.MainRouteTableID, "192.168.7.0/24", "nat-0123456789abcdef0"); err != nil {
		t.Fatal(err)
	}
	connected(t, e)
	seeded := func() (rules int, routes int) {
		rs, _ := e.SB.AWS.SecurityGroup(demo.AWSServersSG)
		for _, r := range rs {
			if r.CIDR == demoCIDR && r.Description == "ops team: redis from dragonfly" {
				rules++
			}
		}
		rt, _ := e.SB.AWS.RouteTable(demo.AWSApp.MainRouteTableID)
		for _, r := range rt {
			if r.Destination == "192.168.7.0/24" {
				routes++
			}
		}
		return
	}
	e.Out.Reset()
	if code := e.Run(verb("disconnect", "--yes", "--no-input", "-o", "json")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if rules, routes := seeded(); rules != 1 || routes != 1 {
		t.Fatalf("disconnect removed what is not dfpeer's: rules %d routes %d", rules, routes)
	}
	if !strings.Contains(e.Out.String(), "ops team") {
		t.Errorf("the other rule is not listed as kept:\n%s", e.Out)
	}
}

// TestDisconnectCrashAtEveryStep: disconnect interrupted after any
// mutating call and run again ends where an uninterrupted one does.
func TestDisconnectCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		e := cmdtest.NewSandbox(t, sandbox.Options{})
		connected(t, e)
		e.SB.AWS.HTTP().ResetLog()
		e.SB.DF.HTTP().ResetLog()
		return &cmdtest.FlowWorld{Env: e, Args: verb("disconnect", "--yes", "--no-input"), Snap: state,
			Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.AWS.HTTP() }}
	})
}

// TestRecreateCrashAtEveryStep: connect --recreate interrupted anywhere
// (after deleting the old connection, after creating the new one, after
// repointing one route…) and run again converges.
// Interrupted right after deleting the old connection, the re-run finds it
// "deleting" and waits it out before creating the new one.
func TestRecreateCrashAtEveryStep(t *testing.T) {
	peeringtest.CrashAtEveryStep(t, func(t *testing.T) peeringtest.World {
		e := cmdtest.NewSandbox(t, sandbox.Options{})
		connected(t, e)
		breakPeering(t, e)
		e.SB.AWS.HTTP().ResetLog()
		e.SB.DF.HTTP().ResetLog()
		return &cmdtest.FlowWorld{Env: e, Args: args("--recreate"), Snap: state,
			Cloud: func(sb *sandbox.Sandbox) *simhttp.Server { return sb.AWS.HTTP() }}
	})
}

// TestStatusPendingThenRejected: a connection made by the API alone
// leaves the peering pending acceptance → status 5, the fail check says
// when AWS expires the request and that connect accepts it; connect does,
// healthy. Then a new request rejected by the customer through EC2 → the
// peering check says rejected and --recreate, which repairs it.
func TestStatusPendingThenRejected(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	ctx := context.Background()
	api, err := dfcloud.New(e.SB.Endpoints.DFCloudURL, e.SB.Endpoints.DFCloudKey)
	if err != nil {
		t.Fatal(err)
	}
	nets, err := api.ListNetworks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	netID := ""
	for _, n := range nets {
		if n.Name == "demo-aws" {
			netID = n.NetworkID
		}
	}
	conn, err := api.CreateConnection(ctx, dfcloud.ConnectionConfig{Name: "app-vpc-demo-aws", NetworkID: netID,
		Peer: dfcloud.Peer{AccountID: sandbox.AWSAccount, VPCID: sandbox.DemoAWSVPC, Region: sandbox.AWSRegion}})
	if err != nil {
		t.Fatal(err)
	}
	pcx := waitConn(t, e, conn.ConnectionID, "inactive").PeerConnectionID
	c := failing(t, e, "peering:"+pcx, "pending acceptance", "expires", "7 days")
	if !strings.Contains(c.Fix, "dfpeer aws connect") {
		t.Errorf("pending peering: fix %q is not connect", c.Fix)
	}
	connected(t, e)
	healthy(t, e)

	// Reject a second request, as its accepter may.
	if code := e.Run(verb("disconnect", "--yes", "--no-input")...); code != 0 {
		t.Fatalf("disconnect: %s", e.ErrOut)
	}
	conn, err = api.CreateConnection(ctx, dfcloud.ConnectionConfig{Name: "app-vpc-demo-aws", NetworkID: netID,
		Peer: dfcloud.Peer{AccountID: sandbox.AWSAccount, VPCID: sandbox.DemoAWSVPC, Region: sandbox.AWSRegion}})
	if err != nil {
		t.Fatal(err)
	}
	pcx = waitConn(t, e, conn.ConnectionID, "inactive").PeerConnectionID
	if _, err := customer(t, e).EC2.RejectVpcPeeringConnection(ctx, &ec2.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(pcx)}); err != nil {
		t.Fatal(err)
	}
	waitConn(t, e, conn.ConnectionID, "failed")
	failing(t, e, "peering:"+pcx, "rejected", "--recreate")
	connected(t, e, "--recreate")
	healthy(t, e)
}

func waitConn(t *testing.T, e *cmdtest.Env, id, status string) dfcloudsim.Connection {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _ := e.SB.DF.Connection(id)
		if string(c.Status) == status {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection %s is %s, never %s", id, c.Status, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDisconnectAfterConnectionsDelete: `connections delete` removes only
// Dragonfly's half; disconnect then finds no connection, says there is
// none, and still removes what dfpeer left pointing at the network: the
// blackhole routes to the deleted peering and the rule.
func TestDisconnectAfterConnectionsDelete(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	before := e.SB.AWS.Snapshot()
	connected(t, e)
	id := e.SB.DF.Connections()[0].ConnectionID
	if code := e.Run("connections", "delete", id, "--yes", "--wait"); code != 0 {
		t.Fatalf("connections delete: exit %d\n%s", code, e.ErrOut)
	}
	waitConn(t, e, id, "deleted")
	e.Out.Reset()
	e.ErrOut.Reset()
	if code := e.Run(verb("disconnect", "--yes", "--no-input", "-o", "json")...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	if got := withoutDeletedPeerings(t, e.SB.AWS.Snapshot()); string(got) != string(withoutDeletedPeerings(t, before)) {
		t.Fatalf("disconnect left dfpeer's resources:\n%s", cmdtest.Diff(withoutDeletedPeerings(t, before), got))
	}
	if !strings.Contains(e.Out.String(), `"removed"`) || strings.Count(e.Out.String(), `"kind": "route"`)+strings.Count(e.Out.String(), `"kind":"route"`) != 2 {
		t.Errorf("disconnect output does not list the two routes removed:\n%s", e.Out)
	}
}

// A connect that opened a non-default group too (--security-group) is
// checked there by a status without the flag: it finds the groups by
// dfpeer's rules.
func TestStatusFindsTheGroupsDfpeerOpened(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	demo := e.SB.Demo
	connected(t, e, "--security-group", demo.AWSApp.DefaultSecurityGroupID, "--security-group", demo.AWSServersSG)
	h := healthy(t, e)
	seen := false
	for _, c := range h.Checks {
		seen = seen || (c.ID == "firewall_rule:"+demo.AWSServersSG && c.Status == peering.OK)
	}
	if !seen {
		t.Fatalf("status did not check %s: %+v", demo.AWSServersSG, h.Checks)
	}
	// Port 6379 as dfpeer opened it, plus the same rule on 6380: revoking
	// 6379 leaves dfpeer's description on the group, so status still
	// finds it and says the port is missing.
	if _, err := customer(t, e).EC2.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(demo.AWSServersSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(6380), ToPort: aws.Int32(6380),
			IpRanges: []types.IpRange{{CidrIp: aws.String(demoCIDR), Description: aws.String(peering.RuleDescription("app-vpc-demo-aws"))}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := customer(t, e).EC2.RevokeSecurityGroupIngress(context.Background(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(demo.AWSServersSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(6379), ToPort: aws.Int32(6379),
			IpRanges: []types.IpRange{{CidrIp: aws.String(demoCIDR)}}}}}); err != nil {
		t.Fatal(err)
	}
	failing(t, e, "firewall_rule:"+demo.AWSServersSG, "missing", "6379")
}
