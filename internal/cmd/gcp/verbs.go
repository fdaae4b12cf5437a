package gcp

import (
	"github.com/dragonflydb/dfpeer/internal/cmd/connectcmd"
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
