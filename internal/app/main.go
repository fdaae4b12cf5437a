// Package app runs dfpeer: it builds the Factory and the command tree,
// executes them, and turns the outcome into an exit code and one line of
// error.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/root"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// Main is the whole program; cmd/dfpeer exits with its result.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ios := iostreams.System()
	// --sandbox remembers its state between runs: the sandbox is saved
	// (and its lock released) once the command is done.
	sb := sandbox.NewCLI(ctx, ios.ErrOut, os.Getenv, os.Args[1:])
	f := cmdutil.NewFactory(ios, sb.Start)
	code := Run(ctx, f, os.Args[1:])
	if err := sb.Stop(); err != nil {
		fmt.Fprintf(ios.ErrOut, "%s %v\n", ios.ErrColorScheme().Red("error:"), err)
		if code == cmdutil.ExitOK {
			code = cmdutil.ExitError
		}
	}
	return code
}

// Run executes args against f and returns the exit code. Tests call it with
// a test Factory.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	executed, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	// A signal cancels ctx; whatever error the interrupted call produced,
	// the user's intent was to stop.
	if errors.Is(ctx.Err(), context.Canceled) && !errors.Is(err, cmdutil.ErrCancelled) {
		err = cmdutil.ErrCancelled
	}
	printError(f, executed, err)
	return cmdutil.ExitCode(err)
}

// maxErrorLine bounds the error line, in characters: long enough for any
// message of ours with a full API error, short enough to read.
const maxErrorLine = 600

func printError(f *cmdutil.Factory, cmd *cobra.Command, err error) {
	w := f.IOStreams.ErrOut
	cs := f.IOStreams.ErrColorScheme()
	if cmdutil.Silent(err) {
		return
	}
	msg := err.Error()
	if errors.Is(err, cmdutil.ErrCancelled) {
		msg = "cancelled"
	}
	// The message may carry server text (an API or cloud error, a status
	// detail) and values the user typed (a 100 KB --name): it is shown with
	// control characters made visible, on one line, and cut in the middle
	// so that both what was wrong and what would be valid stay readable.
	fmt.Fprintf(w, "%s %s\n", cs.Red("error:"), textsafe.Middle(strings.TrimSpace(msg), maxErrorLine))

	var (
		flagErr *cmdutil.FlagError
		hintErr *cmdutil.HintError
		timeout *cmdutil.TimeoutError
		dfAuth  *dfcloud.AuthError
	)
	switch {
	case errors.As(err, &flagErr) && cmd != nil:
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	case errors.As(err, &hintErr) && hintErr.Hint != "":
		fmt.Fprintln(w, textsafe.Middle(hintErr.Hint, maxErrorLine))
	case errors.As(err, &timeout) && timeout.Hint != "":
		fmt.Fprintln(w, textsafe.Middle(timeout.Hint, maxErrorLine))
	case errors.As(err, &dfAuth):
		fmt.Fprintln(w, "Check DFCLOUD_API_KEY (or --api-key-file): the Dragonfly Cloud API refused the key.")
	}
}
