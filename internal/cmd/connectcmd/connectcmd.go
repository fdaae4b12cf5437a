// Package connectcmd holds what `dfpeer aws|gcp|azure connect` share: the
// common flags, choosing the Dragonfly network, the connection name, and
// running the peering flow with its plan, confirmation and summary.
package connectcmd

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/progress"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Verb is what a <cloud> command does with the connection: the three
// commands find it the same way and differ in what they do then.
type Verb string

const (
	VerbConnect    Verb = "connect"
	VerbStatus     Verb = "status"
	VerbDisconnect Verb = "disconnect"
)

// Common are the flags every connect, status and disconnect command has.
type Common struct {
	Verb    Verb
	Network string
	Name    string
	// Port is the first --port; Ports all of them (--port may be given
	// more than once: Redis on 6379, Memcached on 6371).
	Port   int
	Ports  []int
	DryRun bool
	NoWait bool
	// Recreate (connect --recreate) replaces a failed or irrecoverable
	// connection.
	Recreate bool
	// ConnectionID (--connection) finds the connection by ID; the
	// network and the cloud side are then read from its configuration.
	ConnectionID string
}

// AddFlags declares the common flags of c.Verb (connect when unset).
func (c *Common) AddFlags(fs *pflag.FlagSet, provider string) {
	if c.Verb == "" {
		c.Verb = VerbConnect
	}
	fs.StringVar(&c.Network, "network", "", fmt.Sprintf("Dragonfly Cloud network, by ID or name (an active %s network)", provider))
	fs.StringVar(&c.Name, "name", "", "connection name, unique in the network (default: derived from your VPC and the network)")
	c.Port, c.Ports = 6379, []int{6379}
	fs.Var(&portList{ports: &c.Ports}, "port", "datastore port to open from the Dragonfly network; repeat for more (e.g. --port 6379 --port 6371 for Memcached)")
	switch c.Verb {
	case VerbConnect:
		fs.BoolVar(&c.DryRun, "dry-run", false, "print the plan and exit without changing anything")
		fs.BoolVar(&c.NoWait, "no-wait", false, "stop once your side is done, without waiting for the connection to become active")
		fs.BoolVar(&c.Recreate, "recreate", false, "replace a failed or irrecoverable connection: delete it, create it again, and point your side at the new peering")
	case VerbDisconnect:
		fs.StringVar(&c.ConnectionID, "connection", "", "the connection's ID (instead of --network, --name and your VPC's flags)")
		fs.BoolVar(&c.DryRun, "dry-run", false, "print what would be removed and exit without changing anything")
		fs.BoolVar(&c.NoWait, "no-wait", false, "stop once the connection's deletion is requested, without waiting for it to be deleted")
	case VerbStatus:
		fs.StringVar(&c.ConnectionID, "connection", "", "the connection's ID (instead of --network, --name and your VPC's flags)")
	}
}

// portList is --port: ports written in decimal only (pflag's IntVar reads
// "010" as octal 8 and "0x1F" as 31, which no one means by a port), each
// use adding one; the first replaces the default.
type portList struct {
	ports *[]int
	set   bool
}

func (p *portList) String() string {
	if p.ports == nil {
		return ""
	}
	s := make([]string, len(*p.ports))
	for i, n := range *p.ports {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (p *portList) Type() string { return "int" }

func (p *portList) Set(s string) error {
	// Digits only (no sign, no 0x, no leading zero); the range is
	// Validate's, with its own message.
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil || (len(s) > 1 && s[0] == '0') {
		return fmt.Errorf("want a decimal TCP port between 1 and 65535, without leading zeros")
	}
	if !p.set {
		*p.ports, p.set = nil, true
	}
	if !slices.Contains(*p.ports, int(n)) {
		*p.ports = append(*p.ports, int(n))
	}
	return nil
}

// Validate checks the common flags' values: before any API call.
func (c *Common) Validate(canPrompt, yes bool) error {
	if len(c.Ports) == 0 && c.Port != 0 { // options built without flags
		c.Ports = []int{c.Port}
	}
	for _, p := range c.Ports {
		if p < 1 || p > 65535 {
			return cmdutil.FlagErrorf("invalid value %d for --port: want a TCP port between 1 and 65535", p)
		}
	}
	if len(c.Ports) > 0 {
		c.Port = c.Ports[0]
	}
	if c.Name != "" {
		if err := ValidateName(c.Name); err != nil {
			return cmdutil.FlagErrorf("invalid value %s for --name: %v", cmdutil.Quote(c.Name), err)
		}
	}
	if c.Network != "" {
		n, err := cmdutil.Arg(c.Network, "--network", "give a network ID or name (see 'dfpeer networks list')")
		if err != nil {
			return err
		}
		c.Network = n
	}
	if c.ConnectionID != "" {
		id, err := cmdutil.Arg(c.ConnectionID, "--connection", "give a connection ID (see 'dfpeer connections list')")
		if err != nil {
			return err
		}
		c.ConnectionID = id
	}
	if !canPrompt && !yes && !c.DryRun && c.Verb != VerbStatus {
		return cmdutil.FlagErrorf("--yes is required when not running interactively (or --dry-run to only print the plan)")
	}
	return nil
}

// RequireFlag fails a non-interactive run that lacks a value, naming the
// flag.
func (c *Common) RequireFlag(value, flag string, canPrompt bool) error {
	if c.ConnectionID != "" {
		return nil // read from the connection
	}
	return RequireFlag(value, flag, canPrompt)
}

// RequireFlag fails a non-interactive run that lacks a value, naming the
// flag.
func RequireFlag(value, flag string, canPrompt bool) error {
	if value == "" && !canPrompt {
		return cmdutil.FlagErrorf("%s is required when not running interactively", flag)
	}
	return nil
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)

// ValidateName checks a connection name: letters, digits, '.', '_' and
// '-', starting with a letter or digit, at most 63 characters.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return errors.New("want 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return nil
}

// DefaultName derives a connection name from the user's VPC and the
// network: lower-case, safe characters, at most 63 long.
func DefaultName(vpc, network string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
				b.WriteRune(r)
			default:
				b.WriteRune('-')
			}
		}
		return strings.Trim(b.String(), "-._")
	}
	name := clean(vpc) + "-" + clean(network)
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-._")
	}
	return strings.TrimLeft(name, "-._")
}

// ChooseNetwork resolves --network, or on a terminal offers the account's
// active networks of the provider.
func ChooseNetwork(ctx context.Context, api cmdutil.NetworkGetter, p prompt.Prompter, ref, provider string) (*dfcloud.Network, error) {
	if ref != "" {
		n, err := cmdutil.ResolveNetwork(ctx, api, ref, "--network")
		if err != nil {
			return nil, err
		}
		return n, cmdutil.RequireProvider(n, provider, "--network")
	}
	all, err := api.ListNetworks(ctx)
	if err != nil {
		return nil, err
	}
	var options []prompt.Option
	byID := map[string]*dfcloud.Network{}
	for i := range all {
		n := &all[i]
		if n.Location.Provider != provider || n.Status != dfcloud.NetworkActive {
			continue
		}
		byID[n.NetworkID] = n
		options = append(options, prompt.Option{Label: fmt.Sprintf("%s  %s  %s  (%s)", n.Name, n.Location.Region, n.CIDRBlock, n.NetworkID), Value: n.NetworkID})
	}
	if len(options) == 0 {
		return nil, cmdutil.InputErrorf("no active %s network in this Dragonfly Cloud account: create one in the console first (see 'dfpeer networks list')", provider)
	}
	sort.Slice(options, func(i, j int) bool { return options[i].Label < options[j].Label })
	id, err := p.Select("Dragonfly Cloud network", options, options[0].Value)
	if err != nil {
		return nil, err
	}
	return byID[id], nil
}

// ChooseName returns --name, or the derived default (offered for editing
// on a terminal).
func ChooseName(p prompt.Prompter, canPrompt bool, given, derived string) (string, error) {
	if given != "" {
		return given, nil
	}
	if !canPrompt {
		return derived, nil
	}
	return p.Input("Connection name", derived, ValidateName)
}

// Run is what every connect command does once its provider is ready: run
// the flow, then print the plan (dry run) or the summary.
type Run struct {
	IO       *iostreams.IOStreams
	JSON     bool
	Yes      bool
	Timeout  time.Duration
	Poll     dfcloud.WaitOptions
	Prompter func() prompt.Prompter
	API      peering.API
	Provider peering.Provider
	Network  *dfcloud.Network
	Name     string
	Common   Common
	// Repair is the connect command line that fixes what status finds.
	Repair string
	// Equivalent is the command line that repeats this run without
	// questions; it is shown before the plan when questions were asked.
	Equivalent string
}

// ConnectionReader is what FromConnection needs of the Dragonfly client.
type ConnectionReader interface {
	GetConnection(ctx context.Context, id string) (*dfcloud.Connection, error)
	GetNetwork(ctx context.Context, id string) (*dfcloud.Network, error)
}

// FromConnection reads the connection --connection names and its network,
// refusing one of another cloud; the command fills its own flags from the
// connection's peer.
func FromConnection(ctx context.Context, api ConnectionReader, id, provider string) (*dfcloud.Connection, *dfcloud.Network, error) {
	id = strings.TrimSpace(id)
	conn, err := api.GetConnection(ctx, id)
	if dfcloud.IsNotFound(err) || (err == nil && conn.Status == dfcloud.ConnectionDeleted) {
		return nil, nil, cmdutil.InputErrorf("--connection %s: no such connection (see 'dfpeer connections list')", id)
	}
	if err != nil {
		return nil, nil, err
	}
	net, err := api.GetNetwork(ctx, conn.Config.NetworkID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading network %s of connection %s: %w", conn.Config.NetworkID, id, err)
	}
	if net.Location.Provider != provider {
		return nil, nil, cmdutil.InputErrorf("--connection %s: it peers network %s on %s, not %s; use 'dfpeer %s …'",
			id, net.Name, net.Location.Provider, provider, net.Location.Provider)
	}
	return conn, net, nil
}

// CommandLine spells a dfpeer command with its flags, leaving out empty
// values and quoting what a shell would split: the repair status offers.
func CommandLine(words []string, flags ...string) string {
	parts := append([]string{"dfpeer"}, words...)
	for i := 0; i+1 < len(flags); i += 2 {
		if v := flags[i+1]; v != "" {
			parts = append(parts, flags[i], shellQuote(v))
		}
	}
	return strings.Join(parts, " ")
}

// Repeat spells a repeatable flag once per value, for CommandLine.
func Repeat(flag string, values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, flag, v)
	}
	return out
}

// PortFlags spells --port for a command line: nothing for the default
// (6379 alone), else once per port.
func PortFlags(ports []int) []string {
	if len(ports) == 0 || (len(ports) == 1 && ports[0] == 6379) {
		return nil
	}
	var out []string
	for _, p := range ports {
		out = append(out, "--port", strconv.Itoa(p))
	}
	return out
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Execute does the command's verb: connect (plan, confirm, apply), status
// or disconnect.
func (r *Run) Execute(ctx context.Context) error {
	switch r.Common.Verb {
	case VerbStatus:
		return (&Status{IO: r.IO, JSON: r.JSON, API: r.API, Provider: r.Provider, Network: r.Network,
			Name: r.Name, NameGiven: r.Common.Name != "", Repair: r.Repair}).Execute(ctx)
	case VerbDisconnect:
		api, ok := r.API.(peering.RemovalAPI)
		if !ok {
			return fmt.Errorf("disconnect: the Dragonfly client cannot delete connections")
		}
		return (&Disconnect{IO: r.IO, JSON: r.JSON, Yes: r.Yes, DryRun: r.Common.DryRun, NoWait: r.Common.NoWait,
			Timeout: r.Timeout, Poll: r.Poll, Prompter: r.Prompter, API: api, Provider: r.Provider, Network: r.Network,
			Name: r.Name, NameGiven: r.Common.Name != ""}).Execute(ctx)
	}
	return r.connect(ctx)
}

// connect plans, shows the plan, and (unless --dry-run, or declined)
// applies it, then prints the summary.
func (r *Run) connect(ctx context.Context) error {
	ios := r.IO
	opts := peering.Options{
		API: r.API, Provider: r.Provider, Network: r.Network, Name: r.Name, NameGiven: r.Common.Name != "",
		Report: progress.New(ios), NoWait: r.Common.NoWait, Timeout: r.Timeout, Poll: r.Poll, Recreate: r.Common.Recreate,
	}
	plan, err := peering.MakePlan(ctx, opts)
	if err != nil {
		return err
	}
	if r.Common.DryRun {
		if r.JSON {
			return cmdutil.PrintJSON(ios.Out, plan)
		}
		WritePlan(ios.Out, plan, widthOf(ios, true))
		fmt.Fprintln(ios.ErrOut, "Dry run: nothing was changed.")
		return nil
	}
	if r.Equivalent != "" && ios.CanPrompt() {
		fmt.Fprintf(ios.ErrOut, "To repeat this without questions:\n%s", shellWrap(r.Equivalent+" --yes", widthOf(ios, false)))
	}
	WritePlan(ios.ErrOut, plan, widthOf(ios, false))
	if err := confirm(r.Yes, r.Prompter, "Make these changes?", true); err != nil {
		return err
	}
	res, err := peering.Apply(ctx, opts, plan)
	if err != nil {
		// A failed run still reports what it got done, for scripts.
		if res != nil && res.ConnectionID != "" && r.JSON {
			_ = cmdutil.PrintJSON(ios.Out, res)
		}
		return err
	}
	if r.JSON {
		return cmdutil.PrintJSON(ios.Out, res)
	}
	WriteSummary(ios.Out, ios.OutColorScheme(), res)
	fmt.Fprintln(ios.ErrOut, NextStepHint(res))
	return nil
}

// confirm asks (unless --yes) whether to go ahead; no is ErrCancelled.
func confirm(yes bool, p func() prompt.Prompter, question string, def bool) error {
	if yes {
		return nil
	}
	ok, err := p().Confirm(question, def)
	if err != nil {
		return err
	}
	if !ok {
		return cmdutil.ErrCancelled
	}
	return nil
}

// shellWrap lays a command out for copying: indented, and at a terminal's
// width broken between flags with shell line continuations.
func shellWrap(cmd string, width int) string {
	words := strings.Split(cmd, " ")
	var b strings.Builder
	b.WriteString("  ")
	row := 2
	for i, w := range words {
		// Keep a flag with its value: break only before a flag.
		if i > 0 && width > 0 && strings.HasPrefix(w, "--") {
			next := len(w)
			if i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
				next += 1 + len(words[i+1])
			}
			if row+1+next+2 > width-1 {
				b.WriteString(" \\\n    ")
				row = 4
				b.WriteString(w)
				row += len(w)
				continue
			}
		}
		if i > 0 {
			b.WriteByte(' ')
			row++
		}
		b.WriteString(w)
		row += len(w)
	}
	return b.String() + "\n"
}
