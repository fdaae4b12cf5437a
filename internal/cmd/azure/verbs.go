package azure

import (
	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
)

var help = connectcmd.CloudHelp{
	Name: "Azure", Command: "azure", Find: "--vnet app-vnet",
	Checks: `  Azure: the application, service principals, custom role and role
    assignments exist; your VNet's peering to Dragonfly's exists and points
    at it; the NSG rules dfpeer added are in place; no client secret an
    interrupted run left.
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
