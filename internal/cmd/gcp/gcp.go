// Package gcp implements `dfpeer gcp connect` and `dfpeer gcp permissions`.
package gcp

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	gcpprov "github.com/dragonflydb/dfpeer/internal/provider/gcp"
)

// NewCmdGCP returns the `gcp` group.
func NewCmdGCP(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gcp <command>",
		Short: "Peer a Dragonfly Cloud network with a GCP VPC network",
	}
	cmd.AddCommand(NewCmdConnect(f, nil), NewCmdStatus(f, nil), NewCmdDisconnect(f, nil), newCmdPermissions(f))
	return cmd
}

func newCmdPermissions(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "permissions",
		Short: "Print the IAM permissions 'dfpeer gcp connect' needs",
		Long: `Print the IAM permissions 'dfpeer gcp connect' uses in your project, what
each is for, and predefined roles that grant them. Grant the roles, or a
custom role with exactly these permissions, to the account that runs dfpeer.`,
		Example: `  dfpeer gcp permissions
  dfpeer gcp permissions -o json | jq -r '.permissions[].permission'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writePermissions(f)
		},
	}
}

// permissionsDoc is the -o json form of `dfpeer gcp permissions`.
type permissionsDoc struct {
	Permissions       []gcpprov.Permission `json:"permissions"`
	Roles             any                  `json:"roles"`
	CustomRoleCommand string               `json:"custom_role_command"`
}

func writePermissions(f *cmdutil.Factory) error {
	names := make([]string, len(gcpprov.Permissions))
	for i, p := range gcpprov.Permissions {
		names[i] = p.Name
	}
	custom := fmt.Sprintf("gcloud iam roles create dfpeer --project PROJECT_ID --title dfpeer --permissions %s", strings.Join(names, ","))
	out := f.IOStreams.Out
	if f.Globals.JSON() {
		return cmdutil.PrintJSON(out, permissionsDoc{Permissions: gcpprov.Permissions, Roles: gcpprov.Roles, CustomRoleCommand: custom})
	}
	fmt.Fprintln(out, "Permissions 'dfpeer gcp connect' uses in your project:")
	t := cmdutil.NewTable(out, "PERMISSION", "USED FOR")
	for _, p := range gcpprov.Permissions {
		t.Row(p.Name, p.Why)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nPredefined roles that grant them together:")
	for _, r := range gcpprov.Roles {
		fmt.Fprintf(out, "  %s  (%s)\n", r.Name, r.Why)
	}
	fmt.Fprintf(out, "\nOr a custom role with exactly these permissions:\n  %s\n", custom)
	return nil
}
