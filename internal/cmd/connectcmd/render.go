package connectcmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// WriteSummary prints the outcome of a connect run for a person.
func WriteSummary(w io.Writer, cs *iostreams.ColorScheme, r *peering.Result) {
	icon := cs.SuccessIcon()
	if r.Status != "active" {
		icon = cs.WarningIcon()
	}
	fmt.Fprintf(w, "%s Connection %s (%s) is %s\n", icon, safe(r.Name), safe(r.ConnectionID), safe(r.Status))
	if r.StatusDetail != "" {
		fmt.Fprintf(w, "  Detail:   %s\n", safe(r.StatusDetail))
	}
	fmt.Fprintf(w, "  Network:  %s\n", safe(r.NetworkID))
	if r.LocalPeering != "" {
		fmt.Fprintf(w, "  Peering:  %s (yours); %s (Dragonfly Cloud's)\n", safe(r.LocalPeering), cmdutil.Dash(safe(r.PeerConnectionID)))
	} else {
		fmt.Fprintf(w, "  Peering:  %s\n", cmdutil.Dash(safe(r.PeerConnectionID)))
	}
	for _, rt := range r.Routes {
		fmt.Fprintf(w, "  Route:    %s in %s → %s (%s)\n", safe(rt.Destination), safe(rt.RouteTable), safe(rt.Target), safe(rt.Action))
	}
	for _, fr := range r.FirewallRules {
		name := fr.Target
		if fr.Name != "" {
			name = fr.Name + " in " + fr.Target
		}
		to := ""
		if fr.AppliesTo != "" {
			to = " to " + safe(fr.AppliesTo)
		}
		fmt.Fprintf(w, "  Firewall: %s: allow %s %d from %s%s (%s)\n", safe(name), safe(fr.Protocol), fr.Port, safe(fr.Source), to, safe(fr.Action))
	}
}

// NextStepHint is printed on stderr after a successful run.
func NextStepHint(r *peering.Result) string {
	if r.Status == "active" {
		return fmt.Sprintf("Next: create a datastore on network %s with a private endpoint; your VPC reaches it over the peering.", r.NetworkID)
	}
	return fmt.Sprintf("The connection is %s. Follow it with: dfpeer connections wait %s --for active", r.Status, r.ConnectionID)
}

// WritePlan prints the plan as a list a person can check; cols > 0 wraps
// it at word boundaries (a terminal's width).
func WritePlan(w io.Writer, p *peering.Plan, cols int) {
	fmt.Fprintf(w, "Plan for connection %s (%s):\n", safe(p.Name), safe(p.Provider))
	shown := p.Shown()
	width := 0
	for _, c := range shown {
		width = max(width, len(c.Action))
	}
	for _, c := range shown {
		indent := strings.Repeat(" ", width+6)
		fmt.Fprint(w, wrap(fmt.Sprintf("  %-*s  %s: %s", width, c.Action, strings.ReplaceAll(string(c.Kind), "_", " "), safe(c.Detail)), cols, indent))
		if c.Target != "" && c.Target != "Dragonfly Cloud" {
			fmt.Fprint(w, wrap(fmt.Sprintf("  %-*s    in %s", width, "", safe(c.Target)), cols, indent+"   "))
		}
	}
}

// safe shows text that may come from a server (names, details, IDs) without
// letting it drive the terminal. Typed strings (actions, statuses) are
// dfpeer's own and pass through their String form.
func safe[T ~string](s T) string { return textsafe.Clean(string(s)) }
