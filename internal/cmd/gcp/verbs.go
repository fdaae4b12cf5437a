package gcp

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

// NewCmdStatus returns `dfpeer gcp status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbStatus, runF)
}

// NewCmdDisconnect returns `dfpeer gcp disconnect`.
func NewCmdDisconnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbDisconnect, runF)
}

var help = connectcmd.CloudHelp{
	Name: "GCP", Command: "gcp", Find: "--project acme-app --vpc app-network",
	Checks: `  GCP: your network's peering to Dragonfly's exists, points at it and is
    ACTIVE; the firewall rule dfpeer-<name> allows TCP --port from the
    network's CIDR; no enabled deny rule blocks it; no subnet range
    overlaps the network.
`,
	Removes: `  - the firewall rule dfpeer-<name> (only with dfpeer's content);
  - your network's peering to Dragonfly's network (dfpeer-<name>);
  - then the connection.
`,
}
