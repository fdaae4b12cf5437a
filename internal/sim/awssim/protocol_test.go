package awssim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t, Delays{})
	out, err := e.sts(custKey, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != custAccount || aws.ToString(out.Arn) != "arn:aws:iam::"+custAccount+":root" {
		t.Errorf("GetCallerIdentity = %+v", out)
	}
	_, err = e.sts("AKIAUNKNOWN000000000", "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
}

func TestUnknownAccessKey(t *testing.T) {
	e := newEnv(t, Delays{})
	_, err := e.ec2("AKIAUNKNOWN000000000", "us-east-1").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	wantCode(t, err, "AuthFailure")
}

// raw posts a hand-made Query request, signed with a well-formed but
// unverified Authorization header (or none when key is empty).
func (e *env) raw(key, service string, form url.Values) (int, string, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Authorization", fmt.Sprintf(
			"AWS4-HMAC-SHA256 Credential=%s/20261125/us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd",
			key, service))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ec2Err struct {
		Code string `xml:"Errors>Error>Code"`
	}
	var stsErr struct {
		Code string `xml:"Error>Code"`
	}
	xml.Unmarshal(body, &ec2Err)
	xml.Unmarshal(body, &stsErr)
	code := ec2Err.Code
	if code == "" {
		code = stsErr.Code
	}
	return resp.StatusCode, code, string(body)
}

func TestWireErrors(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	form := func(kv ...string) url.Values {
		f := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		name       string
		key, svc   string
		form       url.Values
		wantStatus int
		wantCode   string
	}{
		{"ok", custKey, "ec2", form("Action", "DescribeVpcs", "Version", ec2Version, "VpcId.1", v.VPCID), 200, ""},
		{"unknown action", custKey, "ec2", form("Action", "CreateVpc", "Version", ec2Version, "CidrBlock", "10.0.0.0/16"), 400, "InvalidAction"},
		{"unknown parameter", custKey, "ec2", form("Action", "DescribeVpcs", "Version", ec2Version, "VpcIds.1", v.VPCID), 400, "UnknownParameter"},
		{"misplaced parameter", custKey, "ec2", form("Action", "DescribeVpcs", "Version", ec2Version, "GroupId.1", "sg-12345678"), 400, "UnknownParameter"},
		{"wrong version", custKey, "ec2", form("Action", "DescribeVpcs", "Version", "2014-01-01"), 400, "NoSuchVersion"},
		{"no action", custKey, "ec2", form("Version", ec2Version), 400, "MissingAction"},
		{"unsigned", "", "ec2", form("Action", "DescribeVpcs", "Version", ec2Version), 401, "MissingAuthenticationToken"},
		{"unknown key", "AKIAUNKNOWN000000000", "ec2", form("Action", "DescribeVpcs", "Version", ec2Version), 401, "AuthFailure"},
		{"dry run", custKey, "ec2", form("Action", "DescribeVpcs", "Version", ec2Version, "DryRun", "true"), 412, "DryRunOperation"},
		{"filter without value", custKey, "ec2", form("Action", "DescribeVpcs", "Version", ec2Version, "Filter.1.Name", "vpc-id"), 400, "InvalidParameterValue"},
		{"sts ok", custKey, "sts", form("Action", "GetCallerIdentity", "Version", stsVersion), 200, ""},
		{"sts unknown key", "AKIAUNKNOWN000000000", "sts", form("Action", "GetCallerIdentity", "Version", stsVersion), 403, "InvalidClientTokenId"},
		{"sts unknown action", custKey, "sts", form("Action", "AssumeRole", "Version", stsVersion), 400, "InvalidAction"},
		{"sts unsigned", "", "sts", form("Action", "GetCallerIdentity", "Version", stsVersion), 403, "MissingAuthenticationToken"},
	} {
		status, code, body := e.raw(tc.key, tc.svc, tc.form)
		if status != tc.wantStatus || code != tc.wantCode {
			t.Errorf("%s: HTTP %d %q, want %d %q\n%s", tc.name, status, code, tc.wantStatus, tc.wantCode, body)
		}
		if tc.svc == "ec2" && status == 200 && !strings.Contains(body, `<DescribeVpcsResponse xmlns="`+ec2NS+`">`) {
			t.Errorf("%s: response root not in the EC2 namespace:\n%s", tc.name, body)
		}
		if tc.svc == "ec2" && status != 200 && !strings.Contains(body, "<Response><Errors><Error>") {
			t.Errorf("%s: not an EC2 error envelope:\n%s", tc.name, body)
		}
		if tc.svc == "sts" && status != 200 && !strings.Contains(body, "<ErrorResponse xmlns=\""+stsNS+"\"><Error><Type>") {
			t.Errorf("%s: not an STS error envelope:\n%s", tc.name, body)
		}
	}
}

func TestThrottlingAndServerErrors(t *testing.T) {
	e := newEnv(t, Delays{})
	e.vpc(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	c := e.ec2(custKey, "us-east-1")
	srv := e.sim.HTTP()

	// Two throttles are retried away within the SDK's three attempts.
	srv.FailNext(simhttp.Throttle, 2)
	if _, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("DescribeVpcs after 2 throttles: %v", err)
	}
	calls := srv.Calls()
	if len(calls) != 3 || calls[0].Status != http.StatusServiceUnavailable || calls[0].Fault != simhttp.Throttle ||
		calls[2].Status != http.StatusOK || calls[2].Op != "DescribeVpcs" || calls[2].Mutating {
		t.Errorf("request log = %+v", calls)
	}

	// Three server errors exhaust them.
	srv.FailNext(simhttp.ServerError, 3)
	_, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	wantCode(t, err, "InternalError")
	srv.FailNext(simhttp.Throttle, 3)
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	wantCode(t, err, "RequestLimitExceeded")

	// STS spells a throttle its own way.
	srv.FailNext(simhttp.Throttle, 3)
	_, err = e.sts(custKey, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "Throttling")

	// Mutating actions are classified as such.
	srv.ResetLog()
	p := setupPeering(t, e, false)
	if _, err := e.ec2(custKey, "us-east-1").AcceptVpcPeeringConnection(ctx,
		&ec2.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String(p.pcx)}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("AcceptVpcPeeringConnection"); n != 1 {
		t.Errorf("Count(AcceptVpcPeeringConnection) = %d", n)
	}
	if calls := srv.Calls(); len(calls) != 1 || !calls[0].Mutating {
		t.Errorf("accept not logged as mutating: %+v", calls)
	}
}

// TestLoadDefaultConfig points the SDK at the simulator the way dfpeer's
// sandbox does: through the environment.
func TestLoadDefaultConfig(t *testing.T) {
	e := newEnv(t, Delays{})
	v := e.vpc(custAccount, "eu-west-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}})
	dir := t.TempDir()
	for k, val := range map[string]string{
		"AWS_ENDPOINT_URL":            e.url,
		"AWS_ACCESS_KEY_ID":           custKey,
		"AWS_SECRET_ACCESS_KEY":       "not-a-real-secret",
		"AWS_REGION":                  "eu-west-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		// Empty is unset for the SDK: nothing from the machine leaks in.
		"AWS_SESSION_TOKEN":                   "",
		"AWS_ENDPOINT_URL_EC2":                "",
		"AWS_ENDPOINT_URL_STS":                "",
		"AWS_DEFAULT_REGION":                  "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	} {
		t.Setenv(k, val)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != custAccount {
		t.Fatalf("GetCallerIdentity via AWS_ENDPOINT_URL: %+v, %v", id, err)
	}
	out, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(out.Vpcs) != 1 || aws.ToString(out.Vpcs[0].VpcId) != v.VPCID {
		t.Fatalf("DescribeVpcs via AWS_ENDPOINT_URL: %+v, %v", out, err)
	}
}

// scenario runs the same seeding and API calls against a fresh Sim.
func scenario(t *testing.T) []byte {
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, true)
	c := e.ec2(custKey, "us-east-1")
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(p.cust.MainRouteTableID),
		DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(p.cust.DefaultSecurityGroupID), IpPermissions: []types.IpPermission{redisFrom("192.168.0.0/16")}}); err != nil {
		t.Fatal(err)
	}
	return e.sim.Snapshot()
}

func TestSnapshotDeterminism(t *testing.T) {
	a, b := scenario(t), scenario(t)
	if !bytes.Equal(a, b) {
		t.Fatalf("two identical runs differ:\n%s\n---\n%s", a, b)
	}
	for _, want := range []string{`"state": "active"`, `"192.168.0.0/16"`, `"dfcloud:connection-id": "conn-1"`} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("snapshot lacks %s:\n%s", want, a)
		}
	}
	if bytes.Contains(a, []byte(custKey)) {
		t.Error("snapshot contains an access key")
	}

	// Reads and refused writes leave it unchanged; a write does not.
	e := newEnv(t, Delays{})
	p := setupPeering(t, e, true)
	c := e.ec2(custKey, "us-east-1")
	before := e.sim.Snapshot()
	c.DescribeVpcPeeringConnections(ctx, &ec2.DescribeVpcPeeringConnectionsInput{})
	c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{})
	_, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(p.cust.MainRouteTableID), DestinationCidrBlock: aws.String("1.2.3.0/24")})
	wantCode(t, err, "InvalidRoute.NotFound")
	if after := e.sim.Snapshot(); !bytes.Equal(before, after) {
		t.Errorf("reads or a refused write changed the snapshot")
	}
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(p.cust.MainRouteTableID),
		DestinationCidrBlock: aws.String("192.168.0.0/16"), VpcPeeringConnectionId: aws.String(p.pcx)}); err != nil {
		t.Fatal(err)
	}
	if after := e.sim.Snapshot(); bytes.Equal(before, after) {
		t.Errorf("CreateRoute did not change the snapshot")
	}
}

func TestSeedingValidation(t *testing.T) {
	s := New(Options{})
	for _, spec := range []VPCSpec{
		{CIDRs: nil},
		{CIDRs: []string{"10.0.0.1/16"}},
		{CIDRs: []string{"10.0.0.0/8"}},
		{CIDRs: []string{"10.0.0.0/16", "10.0.128.0/17"}},
		{ID: "vpc-xyz", CIDRs: []string{"10.0.0.0/16"}},
	} {
		if _, err := s.AddVPC(custAccount, "us-east-1", spec); err == nil {
			t.Errorf("AddVPC(%+v) accepted", spec)
		}
	}
	if _, err := s.AddVPC(custAccount, "mars-1", VPCSpec{CIDRs: []string{"10.0.0.0/16"}}); err == nil {
		t.Error("AddVPC accepted region mars-1")
	}
	info, err := s.AddVPC(custAccount, "us-east-1", VPCSpec{ID: "vpc-0aaaaaaaaaaaaaaaa", CIDRs: []string{"10.0.0.0/16"}, IsDefault: true})
	if err != nil || info.VPCID != "vpc-0aaaaaaaaaaaaaaaa" || !rtbKind.wellFormed(info.MainRouteTableID) || !sgKind.wellFormed(info.DefaultSecurityGroupID) {
		t.Fatalf("AddVPC with an ID = %+v, %v", info, err)
	}
	if _, err := s.AddVPC(custAccount, "us-east-1", VPCSpec{CIDRs: []string{"10.1.0.0/16"}, IsDefault: true}); err == nil {
		t.Error("a second default VPC was accepted")
	}
	if _, err := s.AddSecurityGroup(custAccount, "us-east-1", info.VPCID, "default", ""); err == nil {
		t.Error("a second group named default was accepted")
	}
	if err := s.AddRoute(info.MainRouteTableID, "10.0.0.0/16", "pcx-0123456789abcdef0"); err == nil {
		t.Error("AddRoute accepted a second route for the local CIDR")
	}
	if err := s.AddRoute(info.MainRouteTableID, "0.0.0.0/0", "igw-0123456789abcdef0"); err != nil {
		t.Errorf("AddRoute through an internet gateway: %v", err)
	}
	routes, _ := s.RouteTable(info.MainRouteTableID)
	if len(routes) != 2 || routes[1].Target != "igw-0123456789abcdef0" || routes[1].State != "active" {
		t.Errorf("routes = %+v", routes)
	}
}
