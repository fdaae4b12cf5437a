// Package connections implements `dfpeer connections list|get|wait|delete`,
// the provider-agnostic verbs over Dragonfly Cloud connections.
package connections

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// NewCmdConnections returns the `connections` group.
func NewCmdConnections(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "connections <command>",
		Aliases: []string{"connection", "conn"},
		Short:   "List, inspect, wait for and delete peering connections",
	}
	cmd.AddCommand(NewCmdList(f, nil), NewCmdGet(f, nil), NewCmdWait(f, nil), NewCmdDelete(f, nil))
	return cmd
}

// ListOptions are the inputs of `connections list`.
type ListOptions struct {
	Out     io.Writer
	ErrOut  io.Writer // "No connections", kept off stdout
	JSON    bool
	DFCloud func() (*dfcloud.Client, error)
	Network string
}

// NewCmdList returns `connections list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List peering connections",
		Example: `  dfpeer connections list
  dfpeer connections list --network prod -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out, opts.ErrOut, opts.JSON, opts.DFCloud = f.IOStreams.Out, f.IOStreams.ErrOut, f.Globals.JSON(), f.DFCloud
			if cmd.Flags().Changed("network") {
				n, err := cmdutil.Arg(opts.Network, "--network", "give a network ID or name (see 'dfpeer networks list')")
				if err != nil {
					return err
				}
				opts.Network = n
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Network, "network", "", "only connections of this network (ID or name)")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	api, err := opts.DFCloud()
	if err != nil {
		return err
	}
	networkID := ""
	if opts.Network != "" {
		n, err := cmdutil.ResolveNetwork(ctx, api, opts.Network, "--network")
		if err != nil {
			return err
		}
		networkID = n.NetworkID
	}
	all, err := api.ListConnections(ctx)
	if err != nil {
		return err
	}
	conns := make([]dfcloud.Connection, 0, len(all))
	for _, c := range all {
		if networkID == "" || c.Config.NetworkID == networkID {
			conns = append(conns, c)
		}
	}
	sort.SliceStable(conns, func(i, j int) bool {
		if conns[i].Config.NetworkID != conns[j].Config.NetworkID {
			return conns[i].Config.NetworkID < conns[j].Config.NetworkID
		}
		return conns[i].Config.Name < conns[j].Config.Name
	})
	if opts.JSON {
		return cmdutil.PrintJSON(opts.Out, conns)
	}
	if len(conns) == 0 {
		// A bare header reads like a failure: say it, on stderr, so that
		// stdout stays empty for scripts.
		if opts.ErrOut != nil {
			fmt.Fprintln(opts.ErrOut, "No connections. Create one with 'dfpeer <aws|gcp|azure> connect'.")
		}
		return nil
	}
	t := cmdutil.NewTable(opts.Out, "ID", "NAME", "NETWORK", "STATUS", "PEER ACCOUNT", "PEER VPC", "PEERING")
	for _, c := range conns {
		t.Row(cmdutil.Shown(c.ConnectionID, c.Config.Name, c.Config.NetworkID, string(c.Status), c.Config.Peer.AccountID, c.Config.Peer.VPCID, c.PeerConnectionID)...)
	}
	return t.Flush()
}

// GetOptions are the inputs of `connections get`.
type GetOptions struct {
	Out     io.Writer
	JSON    bool
	DFCloud func() (*dfcloud.Client, error)
	ID      string
}

// NewCmdGet returns `connections get ID`.
func NewCmdGet(f *cmdutil.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{}
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one peering connection",
		Args:  cmdutil.ExactArgs(1, "give one connection ID (see 'dfpeer connections list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := connectionID(args[0])
			if err != nil {
				return err
			}
			opts.Out, opts.JSON, opts.DFCloud, opts.ID = f.IOStreams.Out, f.Globals.JSON(), f.DFCloud, id
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
	c, err := api.GetConnection(ctx, opts.ID)
	if err != nil {
		return notFoundAsInput(err, opts.ID)
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.Out, c)
	}
	return printConnection(opts.Out, c)
}

// printConnection shows every field through cmdutil.Shown: they are server
// text, which must not reach the terminal raw.
func printConnection(w io.Writer, c *dfcloud.Connection) error {
	p := c.Config.Peer
	v := cmdutil.Shown(c.ConnectionID, c.Config.Name, c.Config.NetworkID, string(c.Status), c.StatusDetail, c.PeerConnectionID, p.AccountID, p.VPCID, p.Region)
	_, err := fmt.Fprintf(w, "ID:            %s\nName:          %s\nNetwork:       %s\nStatus:        %s\nDetail:        %s\nPeering:       %s\nPeer account:  %s\nPeer VPC:      %s\nPeer region:   %s\n",
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8])
	if err == nil && p.Azure != nil {
		a := cmdutil.Shown(p.Azure.ResourceGroup, p.Azure.TenantID, p.Azure.AppObjectID)
		_, err = fmt.Fprintf(w, "Resource group: %s\nTenant:        %s\nApp ID:        %s\n", a[0], a[1], a[2])
	}
	return err
}

// connectionID checks the ID argument before anything is asked of the API.
func connectionID(arg string) (string, error) {
	return cmdutil.Arg(arg, "the connection ID argument", "give a connection ID (see 'dfpeer connections list')")
}

func notFoundAsInput(err error, id string) error {
	if dfcloud.IsNotFound(err) {
		return cmdutil.InputErrorf("connection %s not found (see 'dfpeer connections list')", cmdutil.Quote(id))
	}
	return err
}

// WaitOptions are the inputs of `connections wait`.
type WaitOptions struct {
	IO      *iostreams.IOStreams
	JSON    bool
	DFCloud func() (*dfcloud.Client, error)
	ID      string
	For     string
	Timeout time.Duration
	Poll    dfcloud.WaitOptions
}

// NewCmdWait returns `connections wait ID --for STATUS`.
func NewCmdWait(f *cmdutil.Factory, runF func(context.Context, *WaitOptions) error) *cobra.Command {
	opts := &WaitOptions{}
	cmd := &cobra.Command{
		Use:   "wait ID --for inactive|active|deleted",
		Short: "Wait until a connection reaches a status",
		Long: `Wait until a connection reaches a status, showing each status change.

Exits 0 when the status is reached, 1 when the connection reaches a status it
cannot leave (failed, irrecoverable, deleted), 3 when --timeout runs out.`,
		Example: `  dfpeer connections wait 7gq1x2 --for active --timeout 20m`,
		Args:    cmdutil.ExactArgs(1, "give one connection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := connectionID(args[0])
			if err != nil {
				return err
			}
			opts.IO, opts.JSON, opts.DFCloud, opts.ID, opts.Timeout, opts.Poll = f.IOStreams, f.Globals.JSON(), f.DFCloud, id, f.Globals.Timeout, f.Tuning.Poll
			switch opts.For {
			case "inactive", "active", "deleted":
			case "":
				return cmdutil.FlagErrorf("--for is required: inactive, active or deleted")
			default:
				return cmdutil.FlagErrorf("invalid value %s for --for: want inactive, active or deleted", cmdutil.Quote(opts.For))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return waitRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.For, "for", "", "status to wait for: inactive, active or deleted")
	return cmd
}

func waitRun(ctx context.Context, opts *WaitOptions) error {
	api, err := opts.DFCloud()
	if err != nil {
		return err
	}
	rep := progress.New(opts.IO)
	want := dfcloud.ConnectionStatus(opts.For)
	rep.Start(fmt.Sprintf("Waiting for connection %s to be %s", cmdutil.Quote(opts.ID), want))
	c, err := peering.WaitStatus(ctx, api, opts.ID, want, opts.Timeout, opts.Poll, rep)
	if err != nil {
		rep.Fail(err)
		return notFoundAsInput(err, opts.ID)
	}
	rep.Done(string(c.Status))
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, c)
	}
	return nil
}

// DeleteOptions are the inputs of `connections delete`.
type DeleteOptions struct {
	IO       *iostreams.IOStreams
	JSON     bool
	DFCloud  func() (*dfcloud.Client, error)
	Prompter func() prompt.Prompter
	ID       string
	Yes      bool
	Wait     bool
	Timeout  time.Duration
	Poll     dfcloud.WaitOptions
}

// NewCmdDelete returns `connections delete ID`.
func NewCmdDelete(f *cmdutil.Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a peering connection",
		Long: `Delete a peering connection in Dragonfly Cloud. Dragonfly removes its side of
the peering; routes and firewall rules in your cloud account are left alone.

Asks for confirmation on a terminal; --yes is required with --no-input.`,
		Example: `  dfpeer connections delete 7gq1x2
  dfpeer connections delete 7gq1x2 --yes --wait`,
		Args: cmdutil.ExactArgs(1, "give one connection ID"),
		// `connections remove` is a likely guess: point at delete.
		SuggestFor: []string{"remove", "rm", "del"},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := connectionID(args[0])
			if err != nil {
				return err
			}
			opts.IO, opts.JSON, opts.DFCloud, opts.Prompter = f.IOStreams, f.Globals.JSON(), f.DFCloud, f.Prompter
			opts.ID, opts.Yes, opts.Timeout, opts.Poll = id, f.Globals.Yes, f.Globals.Timeout, f.Tuning.Poll
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.FlagErrorf("--yes is required to delete a connection when not running interactively")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Wait, "wait", false, "wait until the connection is deleted")
	return cmd
}

func deleteRun(ctx context.Context, opts *DeleteOptions) error {
	api, err := opts.DFCloud()
	if err != nil {
		return err
	}
	c, err := api.GetConnection(ctx, opts.ID)
	if err != nil {
		return notFoundAsInput(err, opts.ID)
	}
	if !opts.Yes {
		v := cmdutil.Shown(c.Config.Name, c.ConnectionID, c.PeerConnectionID)
		ok, err := opts.Prompter().Confirm(fmt.Sprintf("Delete connection %s (%s, peering %s)?", v[0], v[1], v[2]), false)
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrCancelled
		}
	}
	// Only Dragonfly's half goes: say what stays on the cloud side, and
	// which command takes it down too.
	cloud := "<aws|gcp|azure>"
	if n, err := api.GetNetwork(ctx, c.Config.NetworkID); err == nil && n.Location.Provider != "" {
		cloud = n.Location.Provider
	}
	fmt.Fprintf(opts.IO.ErrOut, "Note: this deletes Dragonfly Cloud's side only; the routes, rules and peering dfpeer made on your side stay.\n"+
		"To take down both sides, use: dfpeer %s disconnect --connection %s\n", textsafe.Clean(cloud), textsafe.Clean(c.ConnectionID))
	rep := progress.New(opts.IO)
	rep.Start(fmt.Sprintf("Deleting connection %s (%s)", c.Config.Name, c.ConnectionID))
	if err := api.DeleteConnection(ctx, c.ConnectionID); err != nil && !dfcloud.IsNotFound(err) {
		rep.Fail(err)
		return err
	}
	if !opts.Wait {
		rep.Done("deletion started")
		if opts.JSON {
			return cmdutil.PrintJSON(opts.IO.Out, map[string]string{"connection_id": c.ConnectionID, "status": string(dfcloud.ConnectionDeleting)})
		}
		return nil
	}
	final, err := peering.WaitStatus(ctx, api, c.ConnectionID, dfcloud.ConnectionDeleted, opts.Timeout, opts.Poll, rep)
	if err != nil {
		rep.Fail(err)
		return err
	}
	rep.Done("deleted")
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, map[string]string{"connection_id": c.ConnectionID, "status": string(final.Status)})
	}
	return nil
}
