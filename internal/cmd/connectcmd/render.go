package connectcmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
)

// WriteSummary prints the outcome of a connect run for a person.
func WriteSummary(w io.Writer, cs *iostreams.ColorScheme, r *peering.Result) {
	icon := cs.SuccessIcon()
	if r.Status != "active" {
		icon = cs.WarningIcon()
	}
	fmt.Fprintf(w, "%s Connection %s (%s) is %s\n", icon, r.Name, r.ConnectionID, r.Status)
	if r.StatusDetail != "" {
		fmt.Fprintf(w, "  Detail:   %s\n", r.StatusDetail)
	}
	fmt.Fprintf(w, "  Network:  %s\n", r.NetworkID)
	fmt.Fprintf(w, "  Peering:  %s\n", cmdutil.Dash(r.PeerConnectionID))
	for _, rt := range r.Routes {
		fmt.Fprintf(w, "  Route:    %s in %s → %s (%s)\n", rt.Destination, rt.RouteTable, rt.Target, rt.Action)
	}
	for _, fr := range r.FirewallRules {
		name := fr.Target
		if fr.Name != "" {
			name = fr.Name + " in " + fr.Target
		}
		fmt.Fprintf(w, "  Firewall: %s: allow %s %d from %s (%s)\n", name, fr.Protocol, fr.Port, fr.Source, fr.Action)
	}
}

// NextStepHint is printed on stderr after a successful run.
func NextStepHint(r *peering.Result) string {
	if r.Status == "active" {
		return fmt.Sprintf("Next: create a datastore on network %s with a private endpoint; your VPC reaches it over the peering.", r.NetworkID)
	}
	return fmt.Sprintf("The connection is %s. Follow it with: dfpeer connections wait %s --for active", r.Status, r.ConnectionID)
}

// WritePlan prints the plan as a list a person can check.
func WritePlan(w io.Writer, p *peering.Plan) {
	fmt.Fprintf(w, "Plan for connection %s (%s):\n", p.Name, p.Provider)
	shown := p.Shown()
	width := 0
	for _, c := range shown {
		width = max(width, len(c.Action))
	}
	for _, c := range shown {
		fmt.Fprintf(w, "  %-*s  %s: %s\n", width, c.Action, strings.ReplaceAll(string(c.Kind), "_", " "), c.Detail)
		if c.Target != "" && c.Target != "Dragonfly Cloud" {
			fmt.Fprintf(w, "  %-*s    in %s\n", width, "", c.Target)
		}
	}
}
