package aws

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

var help = connectcmd.CloudHelp{
	Name: "AWS", Command: "aws", Find: "--vpc-id vpc-0a1b2c3d4e5f60001",
	Checks: `  AWS: the VPC peering is this connection's and its state (pending
    acceptance, active, expired, rejected, deleted, failed); the route
    tables route the network's CIDR to it; the security groups allow TCP
    --port from the network's CIDR; the VPC's CIDR blocks do not overlap.
`,
	Removes: `  - the routes to this connection's peering (also blackhole ones an
    earlier run left), in every route table of the VPC;
  - the ingress rules dfpeer added (TCP --port from the network's CIDR,
    with dfpeer's description);
  - then the connection (Dragonfly Cloud deletes the VPC peering).
`,
}

func verbText(cmd *cobra.Command, verb connectcmd.Verb) { connectcmd.SetVerbHelp(cmd, verb, help) }

// NewCmdStatus and NewCmdDisconnect return the verbs, as NewCmdConnect
// does connect (runF replaces the run in tests).
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbStatus, runF)
}

func NewCmdDisconnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbDisconnect, runF)
}
