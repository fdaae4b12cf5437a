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
		WriteRemovalPlan(ios.Out, plan, widthOf(ios, true))
		fmt.Fprintln(ios.ErrOut, "Dry run: nothing was changed.")
		return nil
	}
	WriteRemovalPlan(ios.ErrOut, plan, widthOf(ios, false))
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

// WriteRemovalPlan prints what disconnect removes and what it keeps; cols
// > 0 wraps it (a terminal's width).
func WriteRemovalPlan(w io.Writer, p *peering.Plan, cols int) {
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
		const indent = "            "
		fmt.Fprint(w, wrap(fmt.Sprintf("  %-6s  %s: %s", c.Action, strings.ReplaceAll(string(c.Kind), "_", " "), safe(c.Detail)), cols, indent))
		if c.Target != "" && c.Target != "Dragonfly Cloud" {
			fmt.Fprint(w, wrap(indent+"in "+safe(c.Target), cols, indent+"   "))
		}
		if c.Action == peering.Keep && c.Reason != "" {
			fmt.Fprint(w, wrap(indent+"kept: "+safe(c.Reason), cols, indent+"      "))
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
		WriteHealth(s.IO.Out, s.IO.OutColorScheme(), h, widthOf(s.IO, true))
	}
	if !h.Healthy {
		return cmdutil.ErrProblemsFound
	}
	return nil
}

// WriteHealth prints the checks grouped by side; width > 0 wraps each
// check at word boundaries under its text (a terminal's width).
func WriteHealth(w io.Writer, cs *iostreams.ColorScheme, h *peering.Health, width int) {
	fmt.Fprint(w, wrap(fmt.Sprintf("Connection %s (%s) is %s, network %s", safe(h.Name), cmdutil.Dash(safe(h.ConnectionID)), cmdutil.Dash(safe(h.Status)), safe(h.NetworkID)), width, "  "))
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
			fmt.Fprint(w, wrap(fmt.Sprintf("  %-4s  %s: %s", c.Status, safe(c.Resource), safe(c.Message)), width, "        "))
			if c.Fix != "" && c.Status != peering.OK {
				fmt.Fprint(w, wrap("        fix: "+safe(c.Fix), width, "             "))
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

// wrap breaks line at spaces so that no row is wider than width (0: no
// wrapping), continuing under indent; a word longer than a row stays whole.
func wrap(line string, width int, indent string) string {
	if width <= len(indent)+10 || len([]rune(line)) <= width-1 {
		return line + "\n"
	}
	var b strings.Builder
	row := 0
	for i, word := range strings.Split(line, " ") {
		n := len([]rune(word))
		switch {
		case i == 0:
		case row+1+n > width-1 && row > len(indent):
			b.WriteString("\n" + indent)
			row = len(indent)
		default:
			b.WriteByte(' ')
			row++
		}
		b.WriteString(word)
		row += n
	}
	return b.String() + "\n"
}

// widthOf is the width to wrap a stream's text at: the terminal's, or 0
// (no wrapping) when the stream is not a terminal.
func widthOf(ios *iostreams.IOStreams, stdout bool) int {
	if (stdout && !ios.IsStdoutTTY()) || (!stdout && !ios.IsStderrTTY()) {
		return 0
	}
	return ios.TerminalWidth()
}
