// Package azure implements `dfpeer azure connect` and `dfpeer azure
// permissions`.
package azure

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	azprov "github.com/dragonflydb/dfpeer/internal/provider/azure"
)

// NewCmdAzure returns the `azure` group.
func NewCmdAzure(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "azure <command>",
		Short: "Peer a Dragonfly Cloud network with an Azure VNet",
	}
	cmd.AddCommand(NewCmdConnect(f, nil), NewCmdStatus(f, nil), NewCmdDisconnect(f, nil), newCmdPermissions(f))
	return cmd
}

func newCmdPermissions(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "permissions",
		Short: "Print the directory and RBAC permissions 'dfpeer azure connect' needs",
		Long: `Print what the identity running 'dfpeer azure connect' needs: Microsoft Graph
permissions in the directory (to register the peering application and the
service principals, and to give the application a temporary secret), and
Azure RBAC actions (to read the VNet and its NSGs, add an NSG rule, define
the custom role and assign roles). Also lists the access dfpeer grants.
With -o json, the same as one JSON object.`,
		Example: `  dfpeer azure permissions
  dfpeer azure permissions -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := azprov.PermissionRequirements()
			if f.Globals.JSON() {
				return cmdutil.PrintJSON(f.IOStreams.Out, req)
			}
			writePermissions(f.IOStreams.Out, req)
			return nil
		},
	}
}

func writePermissions(w io.Writer, r azprov.Requirements) {
	fmt.Fprintln(w, "Microsoft Entra ID (Microsoft Graph), for the signed-in identity:")
	fmt.Fprintf(w, "  application permission (service principal, admin consent): %s\n", strings.Join(r.Graph.ApplicationPermissions, ", "))
	fmt.Fprintf(w, "  or a directory role: %s\n", strings.Join(r.Graph.DirectoryRoles, ", "))
	fmt.Fprintln(w, "  used to:")
	for _, op := range r.Graph.Operations {
		fmt.Fprintf(w, "    - %s\n", op)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Azure RBAC, for the signed-in identity, on %s:\n", r.RBAC.Scope)
	for _, a := range r.RBAC.Actions {
		fmt.Fprintf(w, "  %s\n", a)
	}
	fmt.Fprintf(w, "  built-in roles that cover them: %s\n", strings.Join(r.RBAC.BuiltInRoles, "; "))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Access dfpeer grants:")
	for _, g := range r.Granted {
		fmt.Fprintf(w, "  %s: %s on %s\n", g.Principal, g.Role, g.Scope)
		if len(g.Actions) > 0 {
			fmt.Fprintf(w, "    (%s)\n", strings.Join(g.Actions, ", "))
		}
		fmt.Fprintf(w, "    %s\n", g.Why)
	}
}
