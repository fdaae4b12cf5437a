package awssim

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Three accounts: Dragonfly's, the customer's, and a bystander's.
const (
	dfAccount    = "111111111111"
	dfKey        = "AKIADRAGONFLY0000001"
	custAccount  = "222222222222"
	custKey      = "AKIACUSTOMER00000001"
	otherAccount = "333333333333"
	otherKey     = "AKIAOTHER00000000001"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	sim   *Sim
	url   string
	clock *fakeClock
}

func newEnv(t *testing.T, delays Delays) *env {
	t.Helper()
	clock := &fakeClock{t: t0}
	s := New(Options{Delays: delays, Now: clock.Now, Seed: 42})
	s.AddAccount(dfAccount, dfKey)
	s.AddAccount(custAccount, custKey)
	s.AddAccount(otherAccount, otherKey)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, url: srv.URL, clock: clock}
}

// config is an SDK configuration as dfpeer would build it, with static
// credentials and a retryer that backs off for a millisecond only.
func (e *env) config(key, region string) aws.Config {
	return aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: "not-a-real-secret", Source: "test"}, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		},
	}
}

func (e *env) ec2(key, region string) *ec2.Client {
	return ec2.NewFromConfig(e.config(key, region), func(o *ec2.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *env) sts(key, region string) *sts.Client {
	return sts.NewFromConfig(e.config(key, region), func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// vpc seeds a VPC and fails the test on error.
func (e *env) vpc(account, region string, spec VPCSpec) VPCInfo {
	e.t.Helper()
	info, err := e.sim.AddVPC(account, region, spec)
	if err != nil {
		e.t.Fatalf("AddVPC: %v", err)
	}
	return info
}

// apiCode is the error code the SDK surfaced, or "" for no API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error %s, got success", code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

var ctx = context.Background()

func byFilter(name string, values ...string) []ec2Filter {
	return []ec2Filter{{Name: aws.String(name), Values: values}}
}

type ec2Filter = types.Filter
