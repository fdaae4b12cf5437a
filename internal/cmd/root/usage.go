package root

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

// strictUsage makes every usage mistake in the tree an error with exit 2,
// one line on stderr and nothing on stdout. Out of the box, cobra prints a
// group's help on stdout and exits 0 for `dfpeer aws conect` (a typo in CI
// would pass), and reports extra arguments as plain errors (exit 1).
//
//   - a group (a command with subcommands and nothing to run) refuses an
//     unknown subcommand, suggesting the closest ones, and refuses to run
//     without a subcommand, listing them;
//   - every argument check of a runnable command returns a FlagError;
//   - a runnable command that declares no argument check takes none.
//
// Help goes to stdout only when asked for: --help, -h or `dfpeer help X`.
func strictUsage(cmd *cobra.Command) {
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.SuggestionsMinimumDistance = 2
		cmd.Args = unknownSubcommand
		cmd.RunE = func(c *cobra.Command, args []string) error {
			return cmdutil.FlagErrorf("%s needs a command: %s", c.CommandPath(), subcommandList(c))
		}
	} else if cmd.Runnable() {
		check := cmd.Args
		if check == nil {
			check = cobra.NoArgs
		}
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			var flagErr *cmdutil.FlagError
			if err == nil || errors.As(err, &flagErr) {
				return err
			}
			return &cmdutil.FlagError{Err: err}
		}
	}
	for _, c := range cmd.Commands() {
		strictUsage(c)
	}
}

// unknownSubcommand refuses any argument given to a group: the first one is
// a subcommand cobra did not find.
func unknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	} else {
		msg += "; valid commands: " + subcommandList(c)
	}
	return cmdutil.FlagErrorf("%s", msg)
}

func subcommandList(c *cobra.Command) string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return strings.Join(names, ", ")
}

// newHelpCmd replaces cobra's `help`, which prints the root's usage on
// stdout and exits 0 for an unknown topic.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Show the help of any command, e.g. 'dfpeer help aws connect'.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return cmdutil.FlagErrorf("unknown help topic %q: valid topics: %s", strings.Join(args, " "), subcommandList(c.Root()))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}
