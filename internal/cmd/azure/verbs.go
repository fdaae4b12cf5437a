package azure

import (
	"context"

	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/spf13/cobra"
)

var help = connectcmd.CloudHelp{
	Name: "Azure", Command: "azure", Find: "--vnet app-vnet",
	Checks: `  Azure: the application, service principals, custom role and role
    assignments exist; your VNet's peering to Dragonfly's exists, points at
    it, is Connected and FullyInSync (after an address-space change: which
    side must sync, and how); no NSG on the VNet's subnets denies the port
    from the network CIDR ahead of an allow; no route table on them sends
    the CIDR to None or a virtual appliance; the address space stays clear
    of the CIDR; with remote gateways, the VNet still has its gateway; no
    client secret an interrupted run left.
`,
	Removes: `  - your VNet's peering to Dragonfly Cloud's VNet;
  - the NSG rules dfpeer added (described as dfpeer's);
  - then the connection;
  - then, unless --keep-identity and only when no other live connection
    uses the same VNet or application: the two role assignments dfpeer
    made on the VNet, the application and its service principal, and the
    custom role dfcloud-peering-role once no assignment of it remains.
`,
	Keeps: ` Dragonfly Cloud's own service principal in your tenant is
always kept: other VNets may use it.`,
}

// NewCmdStatus and NewCmdDisconnect return the verbs, as NewCmdConnect
// does connect (runF replaces the run in tests).
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbStatus, runF)
}

func NewCmdDisconnect(f *cmdutil.Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	return newCmd(f, connectcmd.VerbDisconnect, runF)
}
