package aws

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	awsprov "github.com/dragonflydb/dfpeer/internal/provider/aws"
)

// ConnectOptions are the inputs of `dfpeer aws connect`.
type ConnectOptions struct {
	Factory *cmdutil.Factory
	connectcmd.Common
	Region         string
	Profile        string
	AccountID      string
	VPCID          string
	RouteTables    []string
	SecurityGroups []string

	// Cloud connects to AWS: the real SDK clients in NewCmdConnect, a fake
	// in command tests.
	Cloud func(ctx context.Context, cfg awsprov.Config) (Cloud, error)
}

// Cloud is what connect needs of AWS: listings for the prompts, and the
// provider that observes and ensures the connection's resources.
type Cloud interface {
	Region() string
	VPCs(ctx context.Context) ([]awsprov.VPC, error)
	RouteTables(ctx context.Context, vpcID string) ([]awsprov.RouteTable, error)
	SecurityGroups(ctx context.Context, vpcID string) ([]awsprov.SecurityGroup, error)
	Provider(in awsprov.Inputs) peering.Provider
}

// sdkCloud is Cloud over the SDK clients.
type sdkCloud struct{ *awsprov.Client }

func (c sdkCloud) Region() string { return c.Client.Region }

func (c sdkCloud) Provider(in awsprov.Inputs) peering.Provider {
	return awsprov.NewProvider(c.Client, in)
}

func newSDKCloud(ctx context.Context, cfg awsprov.Config) (Cloud, error) {
	c, err := awsprov.NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return sdkCloud{c}, nil
}

var (
	vpcIDRE     = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	rtbIDRE     = regexp.MustCompile(`^rtb-([0-9a-f]{8}|[0-9a-f]{17})$`)
	sgIDRE      = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// NewCmdConnect returns `dfpeer aws connect`.
func NewCmdConnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbConnect, runF)
}

// newCmd builds connect, status or disconnect: the same flags find the
// connection; connect also takes where to route and what to open.
func newCmd(f *cmdutil.Factory, verb connectcmd.Verb, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	opts := &ConnectOptions{Factory: f, Cloud: newSDKCloud}
	opts.Common.Verb = verb
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Peer a Dragonfly Cloud network with an AWS VPC, end to end",
		Long: `Peer a Dragonfly Cloud network with one of your AWS VPCs, end to end:

  1. check everything first (network active and on AWS, VPC exists, no CIDR
     overlap, route tables and security groups belong to the VPC) — nothing
     is changed when a check fails (exit 2);
  2. show the plan and ask to confirm (--yes skips, --dry-run stops here);
  3. create the Dragonfly connection (or adopt the one a previous run made);
  4. check that the peering request really is this connection's, and accept it;
  5. route the network's CIDR to the peering in each route table;
  6. allow TCP --port from the network's CIDR (only) in each security group;
  7. wait until the connection is active (--timeout).

Every step looks before it writes, so re-running the same command after an
interruption resumes where it stopped and never duplicates anything.

Missing values are asked for on a terminal, with choices read from your
account. AWS credentials, region and endpoints come from the SDK's own chain:
environment, shared config and --profile, SSO, instance roles;
AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_STS are honoured.
'dfpeer aws permissions' prints the IAM policy this needs.`,
		Example: `  # Interactive: pick the network, VPC, route tables and groups
  dfpeer aws connect

  # Scripted
  dfpeer aws connect --yes --network prod --vpc-id vpc-0a1b2c3d4e5f60001 \
    --route-table rtb-0a1b2c3d4e5f60001 --security-group sg-0a1b2c3d4e5f60001

  # See what would change
  dfpeer aws connect --network prod --vpc-id vpc-0a1b2c3d4e5f60001 --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
	opts.Common.AddFlags(fl, "aws")
	fl.StringVar(&opts.Region, "region", "", "acceptor region: your VPC's region (default: the AWS profile's region)")
	fl.StringVar(&opts.Profile, "profile", "", "AWS shared-config profile (default: AWS_PROFILE or default)")
	fl.StringVar(&opts.AccountID, "account-id", "", "acceptor AWS account (default: the credentials' account; must match it)")
	fl.StringVar(&opts.VPCID, "vpc-id", "", "your VPC to peer, e.g. vpc-0a1b2c3d4e5f60001")
	if verb != connectcmd.VerbConnect {
		verbText(cmd, verb)
		return cmd
	}
	fl.StringArrayVar(&opts.RouteTables, "route-table", nil, "route table to add the route to; repeatable (default: the VPC's main and explicitly associated tables)")
	fl.StringArrayVar(&opts.SecurityGroups, "security-group", nil, "security group to open --port in; repeatable (default: the VPC's default group)")
	return cmd
}

func (o *ConnectOptions) validate() error {
	f := o.Factory
	canPrompt := f.IOStreams.CanPrompt()
	if err := o.Common.Validate(canPrompt, f.Globals.Yes); err != nil {
		return err
	}
	if o.VPCID != "" && !vpcIDRE.MatchString(o.VPCID) {
		return cmdutil.FlagErrorf("invalid value %q for --vpc-id: want vpc- followed by 8 or 17 hex digits", o.VPCID)
	}
	for _, id := range o.RouteTables {
		if !rtbIDRE.MatchString(id) {
			return cmdutil.FlagErrorf("invalid value %q for --route-table: want rtb- followed by 8 or 17 hex digits", id)
		}
	}
	for _, id := range o.SecurityGroups {
		if !sgIDRE.MatchString(id) {
			return cmdutil.FlagErrorf("invalid value %q for --security-group: want sg- followed by 8 or 17 hex digits", id)
		}
	}
	if o.AccountID != "" && !accountIDRE.MatchString(o.AccountID) {
		return cmdutil.FlagErrorf("invalid value %q for --account-id: want a 12-digit AWS account ID", o.AccountID)
	}
	if o.Region != "" && !regionRE.MatchString(o.Region) {
		return cmdutil.FlagErrorf("invalid value %q for --region: want an AWS region such as us-east-1", o.Region)
	}
	if !f.Globals.Sandbox { // the sandbox ignores the AWS environment
		if err := cmdutil.CheckAWSEnv(f.Getenv, o.Region); err != nil {
			return err
		}
	}
	if err := o.Common.RequireFlag(o.Network, "--network", canPrompt); err != nil {
		return err
	}
	return o.Common.RequireFlag(o.VPCID, "--vpc-id", canPrompt)
}

func connectRun(ctx context.Context, o *ConnectOptions) error {
	f := o.Factory
	ios := f.IOStreams
	canPrompt := ios.CanPrompt()
	api, err := f.DFCloud()
	if err != nil {
		return err
	}
	if o.ConnectionID != "" {
		conn, net, err := connectcmd.FromConnection(ctx, api, o.ConnectionID, "aws")
		if err != nil {
			return err
		}
		peer := conn.Config.Peer
		o.Network, o.Name, o.VPCID, o.AccountID, o.Region = net.NetworkID, conn.Config.Name, peer.VPCID, peer.AccountID, peer.Region
	}
	net, err := connectcmd.ChooseNetwork(ctx, api, f.Prompter(), o.Network, "aws")
	if err != nil {
		return err
	}
	ep, err := f.Endpoints()
	if err != nil {
		return err
	}
	cfg := awsprov.Config{Profile: o.Profile, Region: o.Region, Verbose: f.VerboseLog(), MaxBackoff: f.Tuning.MaxBackoff}
	if ep != nil {
		cfg.Sandbox = ep.AWS
	}
	client, err := o.Cloud(ctx, cfg)
	if err != nil {
		return err
	}

	vpcName, err := o.askVPC(ctx, client, f.Prompter(), net.CIDRBlock)
	if err != nil {
		return err
	}
	connecting := o.Verb == connectcmd.VerbConnect
	// With --yes, what has a default takes it without asking.
	name, err := connectcmd.ChooseName(f.Prompter(), false, o.Name, connectcmd.DefaultName(vpcName, net.Name))
	if err != nil {
		return err
	}
	if canPrompt && connecting && !f.Globals.Yes {
		if name, err = o.askStep(ctx, client, f.Prompter(), name); err != nil {
			return err
		}
	}

	prov := client.Provider(awsprov.Inputs{
		AccountID: o.AccountID, VPCID: o.VPCID, RouteTables: o.RouteTables, SecurityGroups: o.SecurityGroups,
		Port: o.Port, Ports: o.Ports, ConnectionName: name, Teardown: o.Verb == connectcmd.VerbDisconnect,
	})
	equivalent := []string{"--network", net.Name, "--vpc-id", o.VPCID, "--region", o.Region, "--profile", o.Profile}
	equivalent = append(equivalent, connectcmd.Repeat("--route-table", o.RouteTables)...)
	equivalent = append(equivalent, connectcmd.Repeat("--security-group", o.SecurityGroups)...)
	equivalent = append(append(equivalent, "--name", name), connectcmd.PortFlags(o.Ports)...)
	run := &connectcmd.Run{
		IO: ios, JSON: f.Globals.JSON(), Yes: f.Globals.Yes, Timeout: f.Globals.Timeout, Poll: f.Tuning.Poll,
		Prompter: f.Prompter, API: api, Provider: prov, Network: net, Name: name, Common: o.Common,
		Repair: connectcmd.CommandLine([]string{"aws", "connect"}, append([]string{"--network", net.Name, "--vpc-id", o.VPCID,
			"--region", o.Region, "--profile", o.Profile, "--name", name}, connectcmd.PortFlags(o.Ports)...)...),
		Equivalent: connectcmd.CommandLine([]string{"aws", "connect"}, equivalent...),
	}
	return run.Execute(ctx)
}

// askVPC offers the region's VPCs (or finds the given one's name for the
// default connection name).
func (o *ConnectOptions) askVPC(ctx context.Context, c Cloud, p prompt.Prompter, networkCIDR string) (string, error) {
	vpcs, err := c.VPCs(ctx)
	if err != nil {
		return "", err
	}
	if o.VPCID != "" {
		for _, v := range vpcs {
			if v.ID == o.VPCID && v.Name != "" {
				return v.Name, nil
			}
		}
		return o.VPCID, nil
	}
	if len(vpcs) == 0 {
		return "", cmdutil.InputErrorf("no VPC in region %s of this account; pass --region for another region", c.Region())
	}
	choices := make([]connectcmd.Choice, len(vpcs))
	for i, v := range vpcs {
		name := v.Name
		if name == "" {
			name = "(no Name tag)"
		}
		if v.IsDefault {
			name += " [default]"
		}
		choices[i] = connectcmd.Choice{Option: prompt.Option{Label: fmt.Sprintf("%s  %s  %s", v.ID, name, strings.Join(v.CIDRs, ", ")), Value: v.ID},
			Unusable: connectcmd.Overlap(networkCIDR, v.CIDRs)}
	}
	id, err := connectcmd.PickUsable(p, o.Factory.IOStreams.ErrOut, fmt.Sprintf("VPC to peer (%s)", c.Region()), choices, vpcs[0].ID)
	if err != nil {
		return "", err
	}
	o.VPCID = id
	for _, v := range vpcs {
		if v.ID == id && v.Name != "" {
			return v.Name, nil
		}
	}
	return id, nil
}

// askStep asks what this step still needs — the route tables and security
// groups (the defaults preselected) and the connection name — as one form,
// so that an answer can be revised before the plan. It returns the name.
func (o *ConnectOptions) askStep(ctx context.Context, c Cloud, p prompt.Prompter, defaultName string) (string, error) {
	var qs []*prompt.Question
	var rtQ, sgQ *prompt.Question
	if len(o.RouteTables) == 0 {
		rts, err := c.RouteTables(ctx, o.VPCID)
		if err != nil {
			return "", err
		}
		if len(rts) > 0 {
			options := make([]prompt.Option, len(rts))
			for i, rt := range rts {
				label := rt.ID
				if rt.Name != "" {
					label += "  " + rt.Name
				}
				if rt.Main {
					label += "  (main)"
				}
				options[i] = prompt.Option{Label: label, Value: rt.ID}
			}
			rtQ = &prompt.Question{Title: "Route tables to add the route to", Options: options, Defaults: awsprov.DefaultRouteTables(rts)}
			qs = append(qs, rtQ)
		}
	}
	if len(o.SecurityGroups) == 0 {
		sgs, err := c.SecurityGroups(ctx, o.VPCID)
		if err != nil {
			return "", err
		}
		if len(sgs) > 0 {
			options := make([]prompt.Option, len(sgs))
			for i, g := range sgs {
				options[i] = prompt.Option{Label: fmt.Sprintf("%s  %s  %s", g.ID, g.Name, g.Description), Value: g.ID}
			}
			sgQ = &prompt.Question{Title: fmt.Sprintf("Security groups to open TCP %d in", o.Port), Options: options, Defaults: awsprov.DefaultSecurityGroups(sgs)}
			qs = append(qs, sgQ)
		}
	}
	nameQ := &prompt.Question{Title: "Connection name", Default: defaultName, Validate: connectcmd.ValidateName}
	if o.Name == "" {
		qs = append(qs, nameQ)
	}
	if err := prompt.Ask(p, qs); err != nil {
		return "", err
	}
	if rtQ != nil {
		o.RouteTables = rtQ.Answer
	}
	if sgQ != nil {
		o.SecurityGroups = sgQ.Answer
	}
	if o.Name != "" {
		return o.Name, nil
	}
	return nameQ.Answer[0], nil
}
