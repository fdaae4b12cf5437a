// Package sandbox runs every simulator together, seeded with demo data, so
// that dfpeer can be tried (`dfpeer --sandbox …`, `make demo`) and tested
// end to end on a machine with no cloud account and no credentials.
//
// Dragonfly Cloud, EC2/STS and Compute Engine share one plain-http loopback
// listener, told apart by path (/v1/…, /aws/, /compute/v1/…); Azure gets a
// second, TLS, listener because its login endpoint must be https.
package sandbox

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dragonflydb/dfpeer/internal/endpoint"
	"github.com/dragonflydb/dfpeer/internal/sim/awssim"
	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/internal/sim/gcpsim"
	"github.com/dragonflydb/dfpeer/internal/sim/simcloud"
)

//go:embed demo/networks.json
var demoNetworks []byte

// The sandbox's credentials. They are fixed, public and only open the
// local simulators: they are not secrets.
const (
	APIKey = "sandbox-api-key"

	AWSAccessKeyID     = "AKIASANDBOXDFPEER01"
	AWSSecretAccessKey = "sandbox-aws-secret"
	AWSAccount         = "123456789012"
	AWSRegion          = "us-east-1"
	// DragonflyAWSAccount owns Dragonfly's side of AWS peerings.
	DragonflyAWSAccount = "111122223333"
	dragonflyAWSKey     = "AKIASANDBOXDRAGONFLY"
)

// Demo resources, named in the README and the demo.
const (
	DemoAWSVPC        = "vpc-0a1b2c3d4e5f60001" // 10.0.0.0/16: peers cleanly
	DemoAWSOverlapVPC = "vpc-0a1b2c3d4e5f60002" // 172.31.0.0/16 + 192.168.100.0/24: overlaps the demo network

	GCPToken   = "sandbox-gcp-token"
	GCPProject = "acme-app"
	// DragonflyGCPProject and DragonflyGCPNetwork are Dragonfly's side of
	// the demo-gcp network.
	DragonflyGCPProject   = "dragonfly-prod-peering"
	DragonflyGCPNetwork   = "dfcloud-net-demo"
	DemoGCPNetwork        = "app-network"    // 10.10.0.0/20 (+10.20.0.0/16): peers cleanly
	DemoGCPOverlapNetwork = "legacy-network" // 192.168.50.0/24: overlaps the demo network
)

// Options tune a sandbox.
type Options struct {
	// Addr is the listen address of the plain-http listener
	// (default 127.0.0.1:0, a free port).
	Addr string
	// Fast uses near-zero delays and deterministic IDs (tests); otherwise
	// delays are a few seconds, enough to watch the steps go by.
	Fast bool
	// Delays, when set, replace the preset delays (benchmarks fix them to
	// compute the floor of a flow).
	Delays *Delays
	// Store, when set, is the remembered state: Start loads it over the
	// seeded demo data and Save writes it back. Without it the sandbox
	// lives and dies with the process.
	Store *Store
}

// Delays are the simulated services' asynchronous steps.
type Delays struct {
	Provision       time.Duration // Dragonfly: pending → inactive
	Activate        time.Duration // Dragonfly: established → active
	Delete          time.Duration // Dragonfly: deleting → deleted
	AWSProvisioning time.Duration // AWS: accepted peering provisioning → active
	GCPOperation    time.Duration // GCP: a Compute operation from insert to DONE
	// Azure: a network long-running operation (peering, security rule);
	// a new role assignment until RBAC honours it; a new client secret
	// until sign-in accepts it.
	AzureOperation             time.Duration
	AzureRolePropagation       time.Duration
	AzureCredentialPropagation time.Duration
}

// AWSFloor is the least time an AWS connect can take with these delays:
// the steps no client can overlap.
func (d Delays) AWSFloor() time.Duration { return d.Provision + d.AWSProvisioning + d.Activate }

// GCPFloor is the same for a GCP connect: the firewall insert can run
// while the addPeering operation does, so one operation is on the path.
func (d Delays) GCPFloor() time.Duration { return d.Provision + d.GCPOperation + d.Activate }

// AzureFloor is the same for an Azure connect: Dragonfly's role settles
// before the connection is created; then Dragonfly provisions its side and
// grants the application access, which propagates while the new client
// secret does; then the peering and the security rule operations, and the
// activation.
func (d Delays) AzureFloor() time.Duration {
	return d.AzureRolePropagation + d.Provision + max(d.AzureRolePropagation, d.AzureCredentialPropagation) + 2*d.AzureOperation + d.Activate
}

// Sandbox is a running set of simulators.
type Sandbox struct {
	DF  *dfcloudsim.Sim
	AWS *awssim.Sim
	GCP *gcpsim.Sim
	// Azure is served over TLS by AzureServer (its login endpoint must be
	// https), with its own CA.
	Azure       *azuresim.Sim
	AzureServer *azuresim.TLSServer

	// Delays in force.
	Delays Delays
	// Demo names the seeded customer resources, for tests.
	Demo Demo

	URL       string // base of the plain-http listener
	Endpoints *endpoint.Sandbox

	store   *Store
	servers []*http.Server
	closers []func()
	caOnce  sync.Once
	caFile  string
	caErr   error
}

// Start seeds and starts the simulators.
func Start(opts Options) (*Sandbox, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("--port/address %q: %w", opts.Addr, err)
	}
	if !endpoint.IsLoopback(host) {
		return nil, fmt.Errorf("the sandbox only listens on loopback, not %s", host)
	}
	sb := &Sandbox{}
	d := delays(opts.Fast)
	if opts.Delays != nil {
		d = *opts.Delays
	}
	sb.Delays = d

	sb.AWS = awssim.New(awssim.Options{Delays: awssim.Delays{Provisioning: d.AWSProvisioning}, Seed: 1})
	if err := sb.seedAWS(); err != nil {
		return nil, fmt.Errorf("seeding the AWS simulator: %w", err)
	}
	sb.GCP = gcpsim.New(gcpsim.Options{Delays: gcpsim.Delays{Operation: d.GCPOperation}, Seed: 1, Tokens: []string{GCPToken}})
	if err := seedGCP(sb.GCP); err != nil {
		return nil, fmt.Errorf("seeding the GCP simulator: %w", err)
	}
	sb.Azure = azuresim.New(azuresim.Options{Seed: 1, Delays: azuresim.Delays{Operation: d.AzureOperation,
		RoleAssignmentPropagation: d.AzureRolePropagation, CredentialPropagation: d.AzureCredentialPropagation}})
	if err := seedAzure(sb.Azure); err != nil {
		return nil, fmt.Errorf("seeding the Azure simulator: %w", err)
	}
	var ids func(string) string
	if opts.Fast {
		// Tests compare whole simulator states across runs: IDs must not
		// depend on chance.
		n := 0
		ids = func(prefix string) string { n++; return fmt.Sprintf("%s-%04d", prefix, n) }
	}
	sb.DF = dfcloudsim.New(dfcloudsim.Options{
		IDs:    ids,
		APIKey: APIKey,
		Delays: dfcloudsim.Delays{Provision: d.Provision, Activate: d.Activate, Delete: d.Delete},
		Clouds: []simcloud.Cloud{sb.AWS, sb.GCP, sb.Azure},
	})
	if err := sb.DF.LoadNetworks(bytes.NewReader(demoNetworks)); err != nil {
		return nil, fmt.Errorf("seeding the Dragonfly simulator: %w", err)
	}
	if sb.store = opts.Store; sb.store != nil {
		if err := sb.load(); err != nil {
			return nil, err
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/v1/", sb.DF.Handler())
	mux.Handle("/aws/", http.StripPrefix("/aws", sb.AWS.Handler()))
	mux.Handle("/aws", http.StripPrefix("/aws", sb.AWS.Handler()))
	mux.Handle("/compute/", sb.GCP.Handler())
	// gcloud sends --async mutations through Compute's batch endpoint.
	mux.Handle("/batch/", sb.GCP.Handler())

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", opts.Addr, err)
	}
	sb.URL = "http://" + ln.Addr().String()
	sb.serve(ln, mux)
	if sb.AzureServer, err = sb.Azure.Start(); err != nil {
		sb.Close()
		return nil, fmt.Errorf("starting the Azure simulator: %w", err)
	}
	sb.closers = append(sb.closers, sb.AzureServer.Close)

	sb.Endpoints = &endpoint.Sandbox{
		DFCloudURL: sb.URL,
		DFCloudKey: APIKey,
		AWS: &endpoint.AWS{URL: sb.URL + "/aws", Region: AWSRegion,
			AccessKeyID: AWSAccessKeyID, SecretAccessKey: AWSSecretAccessKey},
		GCP: &endpoint.GCP{URL: sb.URL + "/compute/v1/", Token: GCPToken, Project: GCPProject},
		Azure: &endpoint.Azure{MetadataURL: sb.Azure.MetadataURL(sb.AzureServer.URL),
			TenantID: AzureTenantID, ClientID: AzureClientID, ClientSecret: AzureClientSecret, SubscriptionID: AzureSubscriptionID,
			Transport: sb.AzureServer.Transport(), RolePropagation: d.AzureRolePropagation},
	}
	return sb, nil
}

func (sb *Sandbox) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	sb.servers = append(sb.servers, srv)
	go func() { _ = srv.Serve(ln) }()
}

// Close stops the listeners.
func (sb *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	for _, s := range sb.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, s.Close())
		}
	}
	for _, c := range sb.closers {
		c()
	}
	sb.closers = nil
	return errors.Join(errs...)
}

// Env is the environment that points dfpeer, the cloud CLIs and the SDKs
// at this sandbox, as `export` lines.
func (sb *Sandbox) Env() []string {
	e := sb.Endpoints
	lines := []string{
		"DFCLOUD_API_URL=" + e.DFCloudURL,
		"DFCLOUD_API_KEY=" + e.DFCloudKey,
		"AWS_ENDPOINT_URL=" + e.AWS.URL,
		"AWS_ACCESS_KEY_ID=" + e.AWS.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + e.AWS.SecretAccessKey,
		"AWS_REGION=" + e.AWS.Region,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=" + e.GCP.URL,
		"GOOGLE_OAUTH_ACCESS_TOKEN=" + e.GCP.Token,
		"GOOGLE_CLOUD_PROJECT=" + e.GCP.Project,
		"ARM_CLOUD_METADATA_URL=" + e.Azure.MetadataURL,
		"AZURE_TENANT_ID=" + e.Azure.TenantID,
		"AZURE_CLIENT_ID=" + e.Azure.ClientID,
		"AZURE_CLIENT_SECRET=" + e.Azure.ClientSecret,
		"AZURE_SUBSCRIPTION_ID=" + e.Azure.SubscriptionID,
	}
	// Another process trusts the Azure simulator's TLS certificate through
	// SSL_CERT_FILE (Go, Python and the Azure CLI honour it); the file only
	// exists while the sandbox serves.
	if ca, err := sb.writeAzureCA(); err == nil {
		lines = append(lines, "SSL_CERT_FILE="+ca)
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		out[i] = fmt.Sprintf("export %s=%q", k, v)
	}
	return out
}

func delays(fast bool) Delays {
	if fast {
		return Delays{Provision: 20 * time.Millisecond, Activate: 10 * time.Millisecond, Delete: 20 * time.Millisecond, AWSProvisioning: 20 * time.Millisecond, GCPOperation: 20 * time.Millisecond,
			AzureOperation: 20 * time.Millisecond, AzureRolePropagation: 20 * time.Millisecond, AzureCredentialPropagation: 20 * time.Millisecond}
	}
	return Delays{Provision: 2 * time.Second, Activate: time.Second, Delete: 2 * time.Second, AWSProvisioning: 1500 * time.Millisecond, GCPOperation: 1500 * time.Millisecond,
		AzureOperation: 1500 * time.Millisecond, AzureRolePropagation: 2 * time.Second, AzureCredentialPropagation: 2 * time.Second}
}

// Demo is the customer side the sandbox seeds.
type Demo struct {
	AWSApp       awssim.VPCInfo // app-vpc: main table, default group
	AWSPrivateRT string         // app-vpc's explicitly associated table
	AWSServersSG string         // app-vpc's non-default group
	AWSLegacy    awssim.VPCInfo // legacy-vpc (overlapping)
}

func (sb *Sandbox) seedAWS() error {
	s := sb.AWS
	s.AddAccount(AWSAccount, AWSAccessKeyID)
	s.AddAccount(DragonflyAWSAccount, dragonflyAWSKey)
	// Dragonfly's side of the demo network.
	if _, err := s.AddVPC(DragonflyAWSAccount, AWSRegion, awssim.VPCSpec{ID: "vpc-0df1a2b3c4d5e6f70", CIDRs: []string{"192.168.0.0/16"}, Name: "dragonfly-demo-aws"}); err != nil {
		return err
	}
	// The customer's VPCs: one that peers cleanly, with a private route
	// table besides the main one, and one that overlaps.
	app, err := s.AddVPC(AWSAccount, AWSRegion, awssim.VPCSpec{ID: DemoAWSVPC, CIDRs: []string{"10.0.0.0/16"}, Name: "app-vpc"})
	if err != nil {
		return err
	}
	sb.Demo.AWSApp = app
	subnet, err := s.AddSubnet(AWSAccount, AWSRegion, app.VPCID, "10.0.1.0/24", "us-east-1a", "app-private-a")
	if err != nil {
		return err
	}
	if sb.Demo.AWSPrivateRT, err = s.AddRouteTable(AWSAccount, AWSRegion, app.VPCID, "app-private", subnet); err != nil {
		return err
	}
	if sb.Demo.AWSServersSG, err = s.AddSecurityGroup(AWSAccount, AWSRegion, app.VPCID, "app-servers", "application servers"); err != nil {
		return err
	}
	sb.Demo.AWSLegacy, err = s.AddVPC(AWSAccount, AWSRegion, awssim.VPCSpec{ID: DemoAWSOverlapVPC, CIDRs: []string{"172.31.0.0/16", "192.168.100.0/24"}, Name: "legacy-vpc"})
	return err
}

func seedGCP(s *gcpsim.Sim) error {
	s.AddProject(DragonflyGCPProject)
	s.AddProject(GCPProject)
	if err := s.AddNetwork(DragonflyGCPProject, gcpsim.NetworkSpec{Name: DragonflyGCPNetwork,
		Subnets: []gcpsim.SubnetSpec{{Name: "dfcloud-us-central1", Region: "us-central1", CIDR: "192.168.0.0/16"}}}); err != nil {
		return err
	}
	if err := s.AddNetwork(GCPProject, gcpsim.NetworkSpec{Name: DemoGCPNetwork, Subnets: []gcpsim.SubnetSpec{
		{Name: "app-us-central1", Region: "us-central1", CIDR: "10.10.0.0/20", Secondary: map[string]string{"pods": "10.20.0.0/16"}},
		{Name: "app-europe-west1", Region: "europe-west1", CIDR: "10.10.16.0/20"},
	}}); err != nil {
		return err
	}
	return s.AddNetwork(GCPProject, gcpsim.NetworkSpec{Name: DemoGCPOverlapNetwork, Subnets: []gcpsim.SubnetSpec{
		{Name: "legacy-us-central1", Region: "us-central1", CIDR: "172.16.0.0/20", Secondary: map[string]string{"services": "192.168.50.0/24"}},
	}})
}
