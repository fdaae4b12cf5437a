// Package networks implements `dfpeer networks list|get`.
package networks

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// NewCmdNetworks returns the `networks` group.
func NewCmdNetworks(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "networks <command>",
		Aliases: []string{"network"},
		Short:   "List and inspect Dragonfly Cloud private networks",
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil))
	return cmd
}

// ListOptions are the inputs of `networks list`.
type ListOptions struct {
	Out      io.Writer
	JSON     bool
	DFCloud  func() (*dfcloud.Client, error)
	Provider string
}

// NewCmdList returns `networks list`; runF replaces the run function in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the account's private networks",
		Example: `  dfpeer networks list
  dfpeer networks list --provider aws -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out, opts.JSON, opts.DFCloud = f.IOStreams.Out, f.Globals.JSON(), f.DFCloud
			switch opts.Provider {
			case "", "aws", "gcp", "azure":
			default:
				return cmdutil.FlagErrorf("invalid value %s for --provider: want aws, gcp or azure", cmdutil.Quote(opts.Provider))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Provider, "provider", "", "only networks of this cloud: aws, gcp or azure")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	api, err := opts.DFCloud()
	if err != nil {
		return err
	}
	all, err := api.ListNetworks(ctx)
	if err != nil {
		return err
	}
	nets := make([]dfcloud.Network, 0, len(all))
	for _, n := range all {
		if opts.Provider == "" || n.Location.Provider == opts.Provider {
			nets = append(nets, n)
		}
	}
	sort.SliceStable(nets, func(i, j int) bool { return nets[i].Name < nets[j].Name })
	if opts.JSON {
		return cmdutil.PrintJSON(opts.Out, nets)
	}
	t := cmdutil.NewTable(opts.Out, "ID", "NAME", "STATUS", "PROVIDER", "REGION", "CIDR")
	for _, n := range nets {
		t.Row(cmdutil.Shown(n.NetworkID, n.Name, string(n.Status), n.Location.Provider, n.Location.Region, n.CIDRBlock)...)
	}
	return t.Flush()
}

// GetOptions are the inputs of `networks get`.
type GetOptions struct {
	Out     io.Writer
	JSON    bool
	DFCloud func() (*dfcloud.Client, error)
	Network string
}

// NewCmdGet returns `networks get NETWORK`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{}
	return &cobra.Command{
		Use:   "get NETWORK",
		Short: "Show one network, by ID or unique name",
		Args:  cmdutil.ExactArgs(1, "give one network ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := cmdutil.Arg(args[0], "the NETWORK argument", "give a network ID or name (see 'dfpeer networks list')")
			if err != nil {
				return err
			}
			opts.Out, opts.JSON, opts.DFCloud, opts.Network = f.IOStreams.Out, f.Globals.JSON(), f.DFCloud, ref
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
}

func getRun(ctx context.Context, opts *GetOptions) error {
	api, err := opts.DFCloud()
	if err != nil {
		return err
	}
	n, err := cmdutil.ResolveNetwork(ctx, api, opts.Network, "NETWORK")
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.Out, n)
	}
	vpcID, account := "", ""
	if n.VPC != nil {
		vpcID, account = n.VPC.ResourceID, n.VPC.AccountID
	}
	created := ""
	if n.CreatedAt > 0 {
		created = time.Unix(n.CreatedAt, 0).UTC().Format(time.RFC3339)
	}
	// Every field is server text: shown, never interpreted.
	v := cmdutil.Shown(n.NetworkID, n.Name, string(n.Status), n.Location.Provider, n.Location.Region, n.CIDRBlock, vpcID, account, created)
	_, err = fmt.Fprintf(opts.Out, "ID:        %s\nName:      %s\nStatus:    %s\nProvider:  %s\nRegion:    %s\nCIDR:      %s\nVPC:       %s\nAccount:   %s\nCreated:   %s\n",
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8])
	return err
}
