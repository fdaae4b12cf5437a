package connectcmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Disconnect is what every disconnect command does once its provider is
// ready: plan the removal, show it, confirm, remove, summarise.
type Disconnect struct {
	IO        *iostreams.IOStreams
	JSON      bool
	Yes       bool
	DryRun    bool
	NoWait    bool
	Timeout   time.Duration
	Poll      dfcloud.WaitOptions
	Prompter  func() prompt.Prompter
	API       peering.RemovalAPI
	Provider  peering.Provider
	Network   *dfcloud.Network
	Name      string
	NameGiven bool
	ID        string
}

// Execute runs the disconnect.
func (d *Disconnect) Execute(ctx context.Context) error {
	ios := d.IO
	opts := peering.DisconnectOptions{API: d.API, Provider: d.Provider, Network: d.Network, Name: d.Name, NameGiven: d.NameGiven, ID: d.ID,
		Report: progress.New(ios), NoWait: d.NoWait, Timeout: d.Timeout, Poll: d.Poll}
	plan, err := peering.MakeRemovalPlan(ctx, opts)
	if err != nil {
		return err
	}
	if d.DryRun {
		if d.JSON {
			return cmdutil.PrintJSON(ios.Out, plan)
		}
		WriteRemovalPlan(ios.Out, plan)
		fmt.Fprintln(ios.ErrOut, "Dry run: nothing was changed.")
		return nil
	}
	WriteRemovalPlan(ios.ErrOut, plan)
	if plan.IsEmpty() {
		res, _ := peering.ApplyRemoval(ctx, opts, plan) // only gathers what is kept
		if d.JSON {
			return cmdutil.PrintJSON(ios.Out, res)
		}
		fmt.Fprintln(ios.ErrOut, "Nothing to disconnect.")
		return nil
	}
	if err := confirm(d.Yes, d.Prompter, "Remove these?", false); err != nil {
		return err
	}
	res, err := peering.ApplyRemoval(ctx, opts, plan)
	if err != nil {
		if res != nil && d.JSON {
			_ = cmdutil.PrintJSON(ios.Out, res)
		}
		return err
	}
	if d.JSON {
		return cmdutil.PrintJSON(ios.Out, res)
	}
	WriteRemoval(ios.Out, ios.OutColorScheme(), res)
	return nil
}

// WriteRemovalPlan prints what disconnect removes and what it keeps.
func WriteRemovalPlan(w io.Writer, p *peering.Plan) {
	if p.Existing != nil {
		fmt.Fprintf(w, "Disconnect %s (%s):\n", safe(p.Name), safe(p.Existing.ConnectionID))
	} else {
		fmt.Fprintf(w, "Disconnect %s (no such connection; dfpeer's leftovers only):\n", safe(p.Name))
	}
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, "  nothing of dfpeer's is left")
		return
	}
	for _, c := range p.Changes {
		fmt.Fprintf(w, "  %-6s  %s: %s\n", c.Action, strings.ReplaceAll(string(c.Kind), "_", " "), safe(c.Detail))
		if c.Target != "" && c.Target != "Dragonfly Cloud" {
			fmt.Fprintf(w, "            in %s\n", safe(c.Target))
		}
		if c.Action == peering.Keep && c.Reason != "" {
			fmt.Fprintf(w, "            kept: %s\n", safe(c.Reason))
		}
	}
}

// WriteRemoval prints the outcome of a disconnect.
func WriteRemoval(w io.Writer, cs *iostreams.ColorScheme, r *peering.Removal) {
	fmt.Fprintf(w, "%s Disconnected %s (%s): %s\n", cs.SuccessIcon(), safe(r.Name), cmdutil.Dash(safe(r.ConnectionID)), safe(r.Status))
	for _, x := range r.Removed {
		fmt.Fprintf(w, "  Removed:  %s%s\n", safe(x.Detail), where(x.Target))
	}
	for _, x := range r.Kept {
		fmt.Fprintf(w, "  Kept:     %s%s: %s\n", safe(x.Detail), where(x.Target), safe(x.Reason))
	}
}

// Status is what every status command does once its provider is ready.
type Status struct {
	IO        *iostreams.IOStreams
	JSON      bool
	API       peering.API
	Provider  peering.Provider
	Network   *dfcloud.Network
	Name      string
	NameGiven bool
	ID        string
	Repair    string
}

// Execute runs the checks and prints them; a failed check is
// cmdutil.ErrProblemsFound (exit 5) after the report.
func (s *Status) Execute(ctx context.Context) error {
	h, err := peering.Diagnose(ctx, peering.StatusOptions{API: s.API, Provider: s.Provider, Network: s.Network,
		Name: s.Name, NameGiven: s.NameGiven, ID: s.ID, Repair: s.Repair})
	if err != nil {
		return err
	}
	if s.JSON {
		if err := cmdutil.PrintJSON(s.IO.Out, h); err != nil {
			return err
		}
	} else {
		WriteHealth(s.IO.Out, s.IO.OutColorScheme(), h)
	}
	if !h.Healthy {
		return cmdutil.ErrProblemsFound
	}
	return nil
}

// WriteHealth prints the checks grouped by side.
func WriteHealth(w io.Writer, cs *iostreams.ColorScheme, h *peering.Health) {
	fmt.Fprintf(w, "Connection %s (%s) in network %s: %s\n", safe(h.Name), cmdutil.Dash(safe(h.ConnectionID)), safe(h.NetworkID), cmdutil.Dash(safe(h.Status)))
	for _, side := range []peering.Side{peering.SideDragonfly, peering.SideCloud} {
		title := "Dragonfly Cloud"
		if side == peering.SideCloud {
			title = strings.ToUpper(h.Provider)
			if h.Provider == "azure" {
				title = "Azure"
			}
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, c := range h.Checks {
			if c.Side != side {
				continue
			}
			fmt.Fprintf(w, "  %-4s  %s: %s\n", c.Status, safe(c.Resource), safe(c.Message))
			if c.Fix != "" && c.Status != peering.OK {
				fmt.Fprintf(w, "        fix: %s\n", safe(c.Fix))
			}
		}
	}
	if h.Healthy {
		fmt.Fprintf(w, "%s healthy\n", cs.SuccessIcon())
	} else {
		fmt.Fprintf(w, "%s problems found\n", cs.FailureIcon())
	}
}

// where is " (in target)", or nothing for Dragonfly Cloud's own side.
func where(target string) string {
	if target == "" || target == "Dragonfly Cloud" {
		return ""
	}
	return " (in " + safe(target) + ")"
}
