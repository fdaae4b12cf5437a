package gcp

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// ConnectOptions are the inputs of `dfpeer gcp connect`.
type ConnectOptions struct {
	Factory *cmdutil.Factory
	connectcmd.Common
	Project                       string
	VPC                           string
	FirewallTargetTags            []string
	FirewallTargetServiceAccounts []string
	// ImportCustomRoutes and ExportCustomRoutes are nil unless the flags
	// were given: an existing peering's settings are then kept.
	ImportCustomRoutes *bool
	ExportCustomRoutes *bool
	// TargetsGiven: a firewall-target flag was given, even empty ('' means
	// every instance): not asked.
	TargetsGiven bool

	// NewCloud reaches GCP; NewCmdConnect sets newCloud, tests a fake.
	NewCloud func(ctx context.Context, cfg gcpprov.Config) (*Cloud, error)
}

// Cloud is what connect needs of GCP: the project, the networks the
// --vpc prompt offers, and the provider for the chosen inputs.
type Cloud struct {
	Project       string
	ProjectSource string // where Project came from, for messages
	VPCs          func(ctx context.Context) ([]gcpprov.VPC, error)
	Provider      func(in gcpprov.Inputs) peering.Provider
	Close         func() error
}

// newCloud is Cloud on the Compute client: it finds the credentials, the
// project and the endpoint, and makes no API call.
func newCloud(ctx context.Context, cfg gcpprov.Config) (*Cloud, error) {
	c, err := gcpprov.NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Cloud{Project: c.Project, ProjectSource: c.ProjectSource, VPCs: c.VPCs, Close: c.Close,
		Provider: func(in gcpprov.Inputs) peering.Provider { return gcpprov.NewProvider(c, in) }}, nil
}

// rfc1035RE is how Compute names networks, tags and rules.
var rfc1035RE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// maxTargetServiceAccounts is Compute's limit per firewall rule.
const maxTargetServiceAccounts = 10

// NewCmdConnect returns `dfpeer gcp connect`.
func NewCmdConnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbConnect, runF)
}

// newCmd builds connect, status or disconnect: the same flags find the
// connection; connect also takes the firewall targets and route exchange.
func newCmd(f *cmdutil.Factory, verb connectcmd.Verb, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	opts := &ConnectOptions{Factory: f, NewCloud: newCloud}
	opts.Common.Verb = verb
	var importRoutes, exportRoutes bool
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Peer a Dragonfly Cloud network with a GCP VPC network, end to end",
		Long: `Peer a Dragonfly Cloud network with one of your GCP VPC networks, end to end:

  1. check everything first (network active and on GCP, VPC network exists,
     no subnet range — primary or secondary — nor route imported over the
     network's other peerings overlaps the Dragonfly CIDR, peering limit,
     no conflicting peering or firewall rule) — nothing is changed when a
     check fails (exit 2);
  2. show the plan and ask to confirm (--yes skips, --dry-run stops here);
  3. create the Dragonfly connection (or adopt the one a previous run made)
     and wait until Dragonfly has created its side of the peering;
  4. add the peering from your network to Dragonfly's (subnet routes are
     exchanged; custom routes per --import/--export-custom-routes); a
     peering your network already has to Dragonfly's network is used as is;
  5. create an ingress firewall rule allowing TCP --port from the Dragonfly
     CIDR only, named dfpeer-<connection name> (put back as it was if it
     was changed since), and warn about deny rules that would block the
     traffic;
  6. wait until the peering is ACTIVE and the connection active (--timeout).

Every step looks before it writes, so re-running the same command after an
interruption resumes where it stopped and never duplicates anything.

Missing values are asked for on a terminal, with choices read from your
project. Credentials: Application Default Credentials ('gcloud auth
application-default login', GOOGLE_APPLICATION_CREDENTIALS, or the VM's
service account), or an access token in GOOGLE_OAUTH_ACCESS_TOKEN. The
project defaults to the credentials' project, GOOGLE_CLOUD_PROJECT, or
gcloud's configured project. CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE
points dfpeer at another Compute endpoint, as it does gcloud.
'dfpeer gcp permissions' lists the IAM permissions this needs.`,
		Example: `  # Interactive: pick the network and the VPC network
  dfpeer gcp connect

  # Scripted
  dfpeer gcp connect --yes --network prod --project acme-app --vpc app-network

  # Only instances tagged "cache-clients" may be reached from Dragonfly
  dfpeer gcp connect --network prod --vpc app-network --firewall-target-tags cache-clients

  # See what would change
  dfpeer gcp connect --network prod --vpc app-network --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.TargetsGiven = cmd.Flags().Changed("firewall-target-tags") || cmd.Flags().Changed("firewall-target-service-accounts")
			if cmd.Flags().Changed("import-custom-routes") {
				opts.ImportCustomRoutes = &importRoutes
			}
			if cmd.Flags().Changed("export-custom-routes") {
				opts.ExportCustomRoutes = &exportRoutes
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return connectRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	opts.Common.AddFlags(fl, "gcp")
	fl.StringVar(&opts.Project, "project", "", "your project ID (default: the credentials' project, GOOGLE_CLOUD_PROJECT, or gcloud's project)")
	fl.StringVar(&opts.VPC, "vpc", "", "your VPC network to peer, by name, e.g. app-network")
	if verb != connectcmd.VerbConnect {
		connectcmd.SetVerbHelp(cmd, verb, help)
		return cmd
	}
	fl.StringSliceVar(&opts.FirewallTargetTags, "firewall-target-tags", nil, "network tags the firewall rule applies to; comma-separated or repeated (default: every instance of the network)")
	fl.StringSliceVar(&opts.FirewallTargetServiceAccounts, "firewall-target-service-accounts", nil, "service accounts whose instances the firewall rule applies to (instead of tags)")
	fl.BoolVar(&importRoutes, "import-custom-routes", false, "import custom routes from Dragonfly's network (default off; an existing peering's setting is kept)")
	fl.BoolVar(&exportRoutes, "export-custom-routes", false, "export your custom routes to Dragonfly's network (default off; an existing peering's setting is kept)")
	return cmd
}

func (o *ConnectOptions) validate() error {
	f := o.Factory
	canPrompt := f.IOStreams.CanPrompt()
	if err := o.Common.Validate(canPrompt, f.Globals.Yes); err != nil {
		return err
	}
	if o.Project != "" && !gcpprov.ProjectIDRE.MatchString(o.Project) {
		return cmdutil.FlagErrorf("invalid value %q for --project: want a project ID (6-30 lower-case letters, digits or hyphens, starting with a letter), not a project name or number", o.Project)
	}
	if o.VPC != "" && !rfc1035RE.MatchString(o.VPC) {
		return cmdutil.FlagErrorf("invalid value %q for --vpc: want a network name (1-63 lower-case letters, digits or hyphens, starting with a letter)", o.VPC)
	}
	if err := validateTags(o.FirewallTargetTags); err != nil {
		return err
	}
	if err := validateServiceAccounts(o.FirewallTargetServiceAccounts); err != nil {
		return err
	}
	if len(o.FirewallTargetTags) > 0 && len(o.FirewallTargetServiceAccounts) > 0 {
		return cmdutil.FlagErrorf("--firewall-target-tags and --firewall-target-service-accounts cannot be used together: a firewall rule targets either tags or service accounts")
	}
	if err := o.Common.RequireFlag(o.Network, "--network", canPrompt); err != nil {
		return err
	}
	return o.Common.RequireFlag(o.VPC, "--vpc", canPrompt)
}

func validateTags(tags []string) error {
	for _, t := range tags {
		if !rfc1035RE.MatchString(t) {
			return cmdutil.FlagErrorf("invalid value %q for --firewall-target-tags: a network tag is 1-63 lower-case letters, digits or hyphens, starting with a letter", t)
		}
	}
	return nil
}

func validateServiceAccounts(sas []string) error {
	if len(sas) > maxTargetServiceAccounts {
		return cmdutil.FlagErrorf("--firewall-target-service-accounts: at most %d service accounts per firewall rule, got %d", maxTargetServiceAccounts, len(sas))
	}
	for _, sa := range sas {
		a, err := mail.ParseAddress(sa)
		if err != nil || a.Address != sa || !strings.Contains(sa[strings.LastIndex(sa, "@")+1:], ".") {
			return cmdutil.FlagErrorf("invalid value %q for --firewall-target-service-accounts: want a service account email such as app@my-project.iam.gserviceaccount.com", sa)
		}
	}
	return nil
}

func connectRun(ctx context.Context, o *ConnectOptions) error {
	f := o.Factory
	ios := f.IOStreams
	canPrompt := ios.CanPrompt()

	var api *dfcloud.Client
	if o.ConnectionID != "" {
		// The project comes from the connection: read it first.
		var err error
		if api, err = f.DFCloud(); err != nil {
			return err
		}
		conn, net, err := connectcmd.FromConnection(ctx, api, o.ConnectionID, "gcp")
		if err != nil {
			return err
		}
		o.Network, o.Name, o.Project, o.VPC = net.NetworkID, conn.Config.Name, conn.Config.Peer.AccountID, conn.Config.Peer.VPCID
	}

	// The cloud side first: missing credentials or a bad endpoint fail
	// before any question is asked.
	ep, err := f.Endpoints()
	if err != nil {
		return err
	}
	cfg := gcpprov.Config{Project: o.Project, Getenv: f.Getenv, WrapTransport: f.WrapTransport, MaxBackoff: f.Tuning.MaxBackoff}
	if ep != nil {
		cfg.Sandbox = ep.GCP
		if cfg.Sandbox == nil {
			return fmt.Errorf("the sandbox has no GCP simulator")
		}
	}
	if o.NewCloud == nil {
		o.NewCloud = newCloud
	}
	cloud, err := o.NewCloud(ctx, cfg)
	if err != nil {
		return err
	}
	defer cloud.Close()

	if api == nil {
		if api, err = f.DFCloud(); err != nil {
			return err
		}
	}
	net, err := connectcmd.ChooseNetwork(ctx, api, f.Prompter(), o.Network, "gcp")
	if err != nil {
		return err
	}
	if err := o.askVPC(ctx, cloud, f.Prompter(), net.CIDRBlock); err != nil {
		return err
	}
	connecting := o.Verb == connectcmd.VerbConnect
	// With --yes, what has a default takes it without asking; an explicit
	// --firewall-target-tags '' means every instance.
	name, err := connectcmd.ChooseName(f.Prompter(), false, o.Name, connectcmd.DefaultName(o.VPC, net.Name))
	if err != nil {
		return err
	}
	if canPrompt && connecting && !f.Globals.Yes {
		askTags := !o.TargetsGiven && len(o.FirewallTargetTags) == 0 && len(o.FirewallTargetServiceAccounts) == 0
		if name, err = o.askStep(f.Prompter(), askTags, name); err != nil {
			return err
		}
	}

	prov := cloud.Provider(gcpprov.Inputs{
		Network: o.VPC, Port: o.Port, Ports: o.Ports,
		Targets:            gcpprov.Targets{Tags: o.FirewallTargetTags, ServiceAccounts: o.FirewallTargetServiceAccounts},
		ImportCustomRoutes: o.ImportCustomRoutes, ExportCustomRoutes: o.ExportCustomRoutes,
		Timeout: f.Globals.Timeout, NoWait: o.NoWait,
	})
	run := &connectcmd.Run{
		IO: ios, JSON: f.Globals.JSON(), Yes: f.Globals.Yes, Timeout: f.Globals.Timeout, Poll: f.Tuning.Poll,
		Prompter: f.Prompter, API: api, Provider: prov, Network: net, Name: name, Common: o.Common,
		Repair: connectcmd.CommandLine([]string{"gcp", "connect"}, append([]string{"--network", net.Name, "--project", cloud.Project,
			"--vpc", o.VPC, "--name", name}, connectcmd.PortFlags(o.Ports)...)...),
		Equivalent: connectcmd.CommandLine([]string{"gcp", "connect"}, append([]string{"--network", net.Name, "--project", cloud.Project,
			"--vpc", o.VPC, "--firewall-target-tags", strings.Join(o.FirewallTargetTags, ","),
			"--firewall-target-service-accounts", strings.Join(o.FirewallTargetServiceAccounts, ","),
			"--name", name}, connectcmd.PortFlags(o.Ports)...)...),
	}
	return run.Execute(ctx)
}

// askVPC offers the project's networks with their mode and ranges.
func (o *ConnectOptions) askVPC(ctx context.Context, c *Cloud, p prompt.Prompter, networkCIDR string) error {
	if o.VPC != "" {
		return nil
	}
	vpcs, err := c.VPCs(ctx)
	if err != nil {
		return err
	}
	if len(vpcs) == 0 {
		return cmdutil.InputErrorf("project %s (from %s) has no VPC network; create one, or pass --project for another project", c.Project, c.ProjectSource)
	}
	choices := make([]connectcmd.Choice, len(vpcs))
	for i, v := range vpcs {
		var blocks []string
		for _, r := range v.Ranges() {
			blocks = append(blocks, r.CIDR)
		}
		unusable := connectcmd.Overlap(networkCIDR, blocks)
		if v.Mode == "legacy" {
			unusable = "a legacy network"
		}
		choices[i] = connectcmd.Choice{Option: prompt.Option{Label: v.Label(), Value: v.Name}, Unusable: unusable}
	}
	o.VPC, err = connectcmd.PickUsable(p, o.Factory.IOStreams.ErrOut, fmt.Sprintf("VPC network to peer (project %s)", c.Project), choices, vpcs[0].Name)
	return err
}

// askStep asks what this step still needs — the target tags (which
// narrow the firewall rule) and the connection name — as one form, so an
// answer can be revised before the plan. It returns the name.
func (o *ConnectOptions) askStep(p prompt.Prompter, askTags bool, defaultName string) (string, error) {
	var qs []*prompt.Question
	tagsQ := &prompt.Question{Title: fmt.Sprintf("Firewall rule target tags, comma-separated (empty: every instance of %s)", o.VPC),
		Validate: func(s string) error {
			if err := validateTags(splitList(s)); err != nil {
				return fmt.Errorf("network tags are lower-case letters, digits or hyphens, starting with a letter")
			}
			return nil
		}}
	if askTags {
		qs = append(qs, tagsQ)
	}
	nameQ := &prompt.Question{Title: "Connection name", Default: defaultName, Validate: connectcmd.ValidateName}
	if o.Name == "" {
		qs = append(qs, nameQ)
	}
	if err := prompt.Ask(p, qs); err != nil {
		return "", err
	}
	if askTags {
		o.FirewallTargetTags = splitList(tagsQ.Answer[0])
	}
	if o.Name != "" {
		return o.Name, nil
	}
	return nameQ.Answer[0], nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
