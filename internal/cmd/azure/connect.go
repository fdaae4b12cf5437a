package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	azprov "github.com/dragonflydb/dfpeer/internal/provider/azure"
)

// ConnectOptions are the inputs of `dfpeer azure connect`.
type ConnectOptions struct {
	Factory *cmdutil.Factory
	connectcmd.Common
	Subscription      string
	ResourceGroup     string
	VNet              string
	Region            string
	AppName           string
	AppNameGiven      bool // --app-name was given (otherwise it is derived from the VNet)
	UseRemoteGateways bool
	// KeepIdentity is disconnect's --keep-identity.
	KeepIdentity bool

	// Azure signs in and returns what connect needs of Azure; NewCmdConnect
	// sets the real one (azprov.NewClient), tests a fake.
	Azure func(ctx context.Context, cfg azprov.Config) (Azure, error)
}

// Azure is what connect needs of Azure: the subscriptions and VNets the
// prompts offer, and the provider that plans and applies the changes.
type Azure interface {
	Subscriptions(ctx context.Context) ([]azprov.Subscription, error)
	VNets(ctx context.Context, subscription, rg string) ([]azprov.VNet, error)
	GetVNet(ctx context.Context, subscription, rg, name string) (*azprov.VNet, error)
	// SubscriptionTenant reads the subscription: one that does not
	// exist, or is of another tenant, is refused naming --subscription.
	SubscriptionTenant(ctx context.Context, subscription string) (string, error)
	Provider(in azprov.Inputs) peering.Provider
}

// signedIn is the real Azure: a signed-in client.
type signedIn struct{ *azprov.Client }

func (s signedIn) Provider(in azprov.Inputs) peering.Provider {
	return azprov.NewProvider(s.Client, in)
}

// SignIn is ConnectOptions.Azure's real value.
func SignIn(ctx context.Context, cfg azprov.Config) (Azure, error) {
	c, err := azprov.NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return signedIn{c}, nil
}

var (
	guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// Resource groups: 1-90 letters, digits, '_', '-', '.', '(' and ')',
	// not ending with '.'.
	resourceGroupRE = regexp.MustCompile(`^[-\w.()]{0,89}[-\w()]$`)
	// Virtual networks: 2-64 letters, digits, '_', '.', '-', starting
	// with a letter or digit and ending with a letter, digit or '_'.
	vnetRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$`)
	regionRE = regexp.MustCompile(`^[a-z][a-z0-9]+$`)
)

// maxAppName keeps the display name within what the portal shows whole.
const maxAppName = 120

// NewCmdConnect returns `dfpeer azure connect`.
func NewCmdConnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbConnect, runF)
}

// newCmd builds connect, status or disconnect: the same flags find the
// connection; connect also takes the application and gateway choices,
// disconnect --keep-identity.
func newCmd(f *cmdutil.Factory, verb connectcmd.Verb, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	opts := &ConnectOptions{Factory: f, Azure: SignIn}
	opts.Common.Verb = verb
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Peer a Dragonfly Cloud network with an Azure VNet, end to end",
		Long: `Peer a Dragonfly Cloud network with one of your Azure virtual networks, end
to end — the console guide's six blocks of az commands, done for you:

  1. check everything first (network active and on Azure, VNet exists, no
     address prefix overlaps the Dragonfly CIDR, with --use-remote-gateways
     the VNet has a gateway, and that you may register applications and
     assign roles) — nothing is
     changed when a check fails (exit 2);
  2. show the plan and ask to confirm (--yes skips, --dry-run stops here);
  3. register (or adopt, by name) a multi-tenant application and its
     service principal; create Dragonfly Cloud's service principal;
  4. give the application Network Contributor on the VNet, and Dragonfly
     Cloud the custom role dfcloud-peering-role (peering only) on it;
  5. create the Dragonfly connection (or adopt the one a previous run made)
     and wait until Dragonfly has created its side of the peering;
  6. give the application a short-lived client secret, sign in as it to
     your tenant and Dragonfly's, create the peering <vnet>-dfcloud-peering
     to Dragonfly's VNet, and remove the secret — it is never shown;
  7. where a custom NSG rule would deny TCP --port from the Dragonfly CIDR,
     add an allow rule ahead of it;
  8. wait until the peering is Connected and the connection active.

Every step looks before it writes, so re-running the same command after an
interruption resumes where it stopped and never duplicates anything.

Credentials come from azidentity's DefaultAzureCredential: AZURE_TENANT_ID,
AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, workload identity, managed identity,
or the Azure CLI's login. ARM_CLOUD_METADATA_URL selects a custom or
sovereign cloud (as for the Azure CLI); AZURE_AUTHORITY_HOST is honoured.
'dfpeer azure permissions' lists the permissions this needs.`,
		Example: `  # Interactive: pick the network, subscription and VNet
  dfpeer azure connect

  # Scripted
  dfpeer azure connect --yes --network prod --subscription 00000000-0000-4000-8000-000000000000 \
    --resource-group app-rg --vnet app-vnet

  # See what would change
  dfpeer azure connect --network prod --vnet app-vnet --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.AppNameGiven = cmd.Flags().Changed("app-name")
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return ConnectRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	opts.Common.AddFlags(fl, "azure")
	fl.StringVar(&opts.Subscription, "subscription", "", "subscription of the VNet (default: AZURE_SUBSCRIPTION_ID, or the Azure CLI's default subscription)")
	fl.StringVar(&opts.ResourceGroup, "resource-group", "", "resource group of the VNet (default: found from the VNet's name)")
	fl.StringVar(&opts.VNet, "vnet", "", "your virtual network to peer, by name")
	fl.StringVar(&opts.Region, "region", "", "the VNet's region (default: its location; a different value is refused)")
	if verb != connectcmd.VerbConnect {
		connectcmd.SetVerbHelp(cmd, verb, help)
		if verb == connectcmd.VerbDisconnect {
			fl.BoolVar(&opts.KeepIdentity, "keep-identity", false, "keep the application, its service principal, the custom role and the role assignments")
		}
		return cmd
	}
	fl.StringVar(&opts.AppName, "app-name", "", "display name of the Azure AD application created for the peering (default: dfpeer-<vnet>)")
	fl.BoolVar(&opts.UseRemoteGateways, "use-remote-gateways", false, "let Dragonfly Cloud's VNet use your VNet's virtual network gateway over the peering (your VNet must have one; your peering then allows gateway transit)")
	return cmd
}

func (o *ConnectOptions) validate() error {
	f := o.Factory
	canPrompt := f.IOStreams.CanPrompt()
	if err := o.Common.Validate(canPrompt, f.Globals.Yes); err != nil {
		return err
	}
	if o.Subscription != "" && !guidRE.MatchString(o.Subscription) {
		return cmdutil.FlagErrorf("invalid value %q for --subscription: want a subscription ID (a GUID such as 00000000-0000-4000-8000-000000000000)", o.Subscription)
	}
	if o.ResourceGroup != "" && !resourceGroupRE.MatchString(o.ResourceGroup) {
		return cmdutil.FlagErrorf("invalid value %q for --resource-group: want 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'", o.ResourceGroup)
	}
	if o.VNet != "" && !vnetRE.MatchString(o.VNet) {
		return cmdutil.FlagErrorf("invalid value %q for --vnet: want a VNet name, 2-64 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'", o.VNet)
	}
	if o.Region != "" && !regionRE.MatchString(o.Region) {
		return cmdutil.FlagErrorf("invalid value %q for --region: want an Azure region name such as eastus or westeurope", o.Region)
	}
	if o.AppNameGiven {
		if err := validateAppName(o.AppName); err != nil {
			return cmdutil.FlagErrorf("invalid value %q for --app-name: %v", o.AppName, err)
		}
	}
	if err := o.Common.RequireFlag(o.Network, "--network", canPrompt); err != nil {
		return err
	}
	return o.Common.RequireFlag(o.VNet, "--vnet", canPrompt)
}

func validateAppName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > maxAppName {
		return fmt.Errorf("want 1-%d characters", maxAppName)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("control characters are not allowed")
		}
	}
	return nil
}

// DefaultAppName is the application's display name when --app-name is not
// given: one application per peered VNet.
func DefaultAppName(vnet string) string { return "dfpeer-" + vnet }

// ConnectRun is `dfpeer azure connect` once its flags are parsed and
// checked.
func ConnectRun(ctx context.Context, o *ConnectOptions) error {
	f := o.Factory
	ios := f.IOStreams
	canPrompt := ios.CanPrompt()
	api, err := f.DFCloud()
	if err != nil {
		return err
	}
	if o.ConnectionID != "" {
		conn, net, err := connectcmd.FromConnection(ctx, api, o.ConnectionID, "azure")
		if err != nil {
			return err
		}
		peer := conn.Config.Peer
		o.Network, o.Name, o.Subscription, o.VNet, o.Region = net.NetworkID, conn.Config.Name, peer.AccountID, peer.VPCID, peer.Region
		if peer.Azure != nil {
			o.ResourceGroup = peer.Azure.ResourceGroup
		}
	}
	net, err := connectcmd.ChooseNetwork(ctx, api, f.Prompter(), o.Network, "azure")
	if err != nil {
		return err
	}
	ep, err := f.Endpoints()
	if err != nil {
		return err
	}
	settle, err := roleSettle(f.Getenv)
	if err != nil {
		return err
	}
	cfg := azprov.Config{Getenv: f.Getenv, Wrap: f.WrapTransport, MaxBackoff: f.Tuning.MaxBackoff, Poll: f.Tuning.Poll.Interval,
		Version: cmdutil.Version, RoleSettle: settle}
	if ep != nil {
		cfg.Sandbox = ep.Azure
	}
	client, err := o.Azure(ctx, cfg)
	if err != nil {
		return err
	}
	sandboxSub := ""
	if cfg.Sandbox != nil {
		sandboxSub = cfg.Sandbox.SubscriptionID
	}
	if err := o.chooseSubscription(ctx, client, cfg.Sandbox != nil, sandboxSub, f.Prompter()); err != nil {
		return err
	}
	// The subscription first: listing its VNets would fail with ARM's
	// SubscriptionNotFound (exit 1) or a tenant error (exit 4) instead of
	// a refusal naming --subscription.
	tenant, err := client.SubscriptionTenant(ctx, o.Subscription)
	if err != nil {
		return err
	}
	vnet, err := o.chooseVNet(ctx, client, f.Prompter(), net.CIDRBlock)
	if err != nil {
		return err
	}
	if o.Region == "" && vnet != nil {
		o.Region = strings.ToLower(strings.ReplaceAll(vnet.Location, " ", ""))
	}
	if !o.AppNameGiven {
		o.AppName = DefaultAppName(o.VNet)
	}
	name, err := connectcmd.ChooseName(f.Prompter(), canPrompt && o.Verb == connectcmd.VerbConnect && !f.Globals.Yes, o.Name, connectcmd.DefaultName(o.VNet, net.Name))
	if err != nil {
		return err
	}

	prov := client.Provider(azprov.Inputs{
		SubscriptionID: o.Subscription, TenantID: tenant, ResourceGroup: o.ResourceGroup, VNet: o.VNet, Region: o.Region,
		AppName: o.AppName, AppNameGiven: o.AppNameGiven, UseRemoteGateways: o.UseRemoteGateways,
		Port: o.Port, Ports: o.Ports, ConnectionName: name, Timeout: f.Globals.Timeout, NoWait: o.NoWait, KeepIdentity: o.KeepIdentity,
	})
	run := &connectcmd.Run{
		IO: ios, JSON: f.Globals.JSON(), Yes: f.Globals.Yes, Timeout: f.Globals.Timeout, Poll: f.Tuning.Poll,
		Prompter: f.Prompter, API: api, Provider: prov, Network: net, Name: name, Common: o.Common,
		Repair: connectcmd.CommandLine([]string{"azure", "connect"}, append([]string{"--network", net.Name, "--subscription", o.Subscription,
			"--resource-group", o.ResourceGroup, "--vnet", o.VNet, "--name", name}, connectcmd.PortFlags(o.Ports)...)...),
		Equivalent: connectcmd.CommandLine(append([]string{"azure", "connect"}, map[bool][]string{true: {"--use-remote-gateways"}}[o.UseRemoteGateways]...), append([]string{"--network", net.Name, "--subscription", o.Subscription,
			"--resource-group", o.ResourceGroup, "--vnet", o.VNet, "--app-name", o.AppName, "--name", name}, connectcmd.PortFlags(o.Ports)...)...),
	}
	return run.Execute(ctx)
}

// RoleSettleEnv tunes how long dfpeer lets Dragonfly's new role assignment
// take effect before creating the connection (Azure gives no way to see
// when another principal's access is in force).
const RoleSettleEnv = "DFPEER_AZURE_ROLE_SETTLE"

func roleSettle(getenv func(string) string) (time.Duration, error) {
	v := getenv(RoleSettleEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > time.Hour {
		return 0, cmdutil.FlagErrorf("invalid %s %q: want a duration such as 30s or 2m", RoleSettleEnv, v)
	}
	return d, nil
}

// chooseSubscription settles --subscription: the flag, AZURE_SUBSCRIPTION_ID,
// the sandbox's, or the Azure CLI's default — offered, on a terminal, among
// the subscriptions the identity can use.
func (o *ConnectOptions) chooseSubscription(ctx context.Context, c Azure, sandbox bool, sandboxSub string, p prompt.Prompter) error {
	if o.Subscription != "" {
		return nil
	}
	f := o.Factory
	def, from := f.Getenv("AZURE_SUBSCRIPTION_ID"), "AZURE_SUBSCRIPTION_ID"
	if def == "" && sandbox {
		def, from = sandboxSub, "the sandbox"
	}
	if def == "" && !sandbox {
		def, from = CLIDefaultSubscription(f.Getenv), "the Azure CLI's default subscription"
	}
	if def != "" && !guidRE.MatchString(def) {
		return cmdutil.FlagErrorf("invalid subscription ID %q in %s: want a GUID; pass --subscription", def, from)
	}
	if !f.IOStreams.CanPrompt() {
		if def == "" {
			return cmdutil.FlagErrorf("--subscription is required when not running interactively (or set AZURE_SUBSCRIPTION_ID, or a default with 'az account set')")
		}
		o.Subscription = def
		return nil
	}
	subs, err := c.Subscriptions(ctx)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return cmdutil.InputErrorf("the signed-in Azure identity has no role in any subscription; pass --subscription, or ask for a role on the VNet's subscription")
	}
	if len(subs) == 1 && (def == "" || strings.EqualFold(def, subs[0].ID)) {
		o.Subscription = subs[0].ID
		return nil
	}
	options := make([]prompt.Option, len(subs))
	chosen := subs[0].ID
	for i, s := range subs {
		options[i] = prompt.Option{Label: fmt.Sprintf("%s  %s", s.Name, s.ID), Value: s.ID}
		if strings.EqualFold(s.ID, def) {
			chosen = s.ID
		}
	}
	id, err := p.Select("Azure subscription", options, chosen)
	if err != nil {
		return err
	}
	o.Subscription = id
	return nil
}

// chooseVNet settles --vnet and --resource-group: the VNet of that name
// (its resource group found from its ID), or, on a terminal, a choice of
// the subscription's VNets. It returns nil when the named VNet cannot be
// found, leaving the refusal, with the valid names, to the provider's Observe.
func (o *ConnectOptions) chooseVNet(ctx context.Context, c Azure, p prompt.Prompter, networkCIDR string) (*azprov.VNet, error) {
	if o.VNet != "" && o.ResourceGroup != "" {
		return c.GetVNet(ctx, o.Subscription, o.ResourceGroup, o.VNet)
	}
	vnets, err := c.VNets(ctx, o.Subscription, o.ResourceGroup)
	if err != nil {
		return nil, err
	}
	if o.VNet != "" {
		var matches []azprov.VNet
		for _, v := range vnets {
			if strings.EqualFold(v.Name, o.VNet) {
				matches = append(matches, v)
			}
		}
		switch len(matches) {
		case 0:
			var names []string
			for _, v := range vnets {
				names = append(names, v.Name+" (resource group "+v.ResourceGroup+")")
			}
			valid := "none"
			if len(names) > 0 {
				valid = strings.Join(names, ", ")
			}
			return nil, cmdutil.InputErrorf("--vnet %s: no virtual network of that name in subscription %s (virtual networks: %s)", o.VNet, o.Subscription, valid)
		case 1:
			o.VNet, o.ResourceGroup = matches[0].Name, matches[0].ResourceGroup
			return &matches[0], nil
		}
		var rgs []string
		for _, v := range matches {
			rgs = append(rgs, v.ResourceGroup)
		}
		return nil, cmdutil.InputErrorf("--vnet %s: %d virtual networks have this name (resource groups %s); pass --resource-group", o.VNet, len(matches), strings.Join(rgs, ", "))
	}
	if len(vnets) == 0 {
		where := "subscription " + o.Subscription
		if o.ResourceGroup != "" {
			where = "resource group " + o.ResourceGroup + " of " + where
		}
		return nil, cmdutil.InputErrorf("no virtual network in %s; pass --subscription or --resource-group for another one", where)
	}
	choices := make([]connectcmd.Choice, len(vnets))
	for i, v := range vnets {
		choices[i] = connectcmd.Choice{Option: prompt.Option{Label: fmt.Sprintf("%s  %s  %s  %s", v.Name, v.ResourceGroup, v.Location, strings.Join(v.Prefixes, ", ")), Value: v.ID},
			Unusable: connectcmd.Overlap(networkCIDR, v.Prefixes)}
	}
	id, err := connectcmd.PickUsable(p, o.Factory.IOStreams.ErrOut, "Virtual network to peer", choices, vnets[0].ID)
	if err != nil {
		return nil, err
	}
	for i := range vnets {
		if vnets[i].ID == id {
			o.VNet, o.ResourceGroup = vnets[i].Name, vnets[i].ResourceGroup
			return &vnets[i], nil
		}
	}
	return nil, fmt.Errorf("no virtual network %s", id)
}

// CLIDefaultSubscription is the Azure CLI's default subscription
// (isDefault in azureProfile.json, under AZURE_CONFIG_DIR or ~/.azure),
// or "" when there is none.
func CLIDefaultSubscription(getenv func(string) string) string {
	dir := getenv("AZURE_CONFIG_DIR")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".azure")
	}
	b, err := os.ReadFile(filepath.Join(dir, "azureProfile.json"))
	if err != nil {
		return ""
	}
	// The CLI writes the file with a byte-order mark.
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var profile struct {
		Subscriptions []struct {
			ID        string `json:"id"`
			IsDefault bool   `json:"isDefault"`
		} `json:"subscriptions"`
	}
	if json.Unmarshal(b, &profile) != nil {
		return ""
	}
	for _, s := range profile.Subscriptions {
		if s.IsDefault {
			return s.ID
		}
	}
	return ""
}
