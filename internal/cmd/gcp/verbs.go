package gcp

import (
	"context"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/spf13/cobra"
)

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

// NewCmdStatus and NewCmdDisconnect return the verbs, as NewCmdConnect
// does connect (runF replaces the run in tests).
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbStatus, runF)
}

func NewCmdDisconnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbDisconnect, runF)
}
