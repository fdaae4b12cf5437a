// Package sandbox implements `dfpeer sandbox serve|reset`.
package sandbox

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	simsandbox "github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// NewCmdSandbox returns the `sandbox` group.
func NewCmdSandbox(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox <command>",
		Short: "Run the built-in simulators of Dragonfly Cloud and the clouds",
		Long: `The sandbox simulates the Dragonfly Cloud API, AWS (EC2, STS), GCP (Compute
Engine) and Azure, seeded with demo networks and VPCs. Use it to try dfpeer
without an account: 'dfpeer --sandbox <command>' starts it inside the process;
'dfpeer sandbox serve' runs it on its own for other tools.

The sandbox remembers what was done in it between runs, in
$XDG_STATE_HOME/dfpeer/sandbox.json (~/.local/state/dfpeer when
XDG_STATE_HOME is unset); 'dfpeer sandbox reset' starts afresh.`,
	}
	cmd.AddCommand(newCmdServe(f), newCmdReset(f))
	return cmd
}

// ServeOptions are the inputs of `sandbox serve`.
type ServeOptions struct {
	Port  int
	Fresh bool
}

func newCmdServe(f *cmdutil.Factory) *cobra.Command {
	var opts ServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulators on loopback until interrupted",
		Long: `Serve the simulators on 127.0.0.1 until interrupted, and print the
environment variables that point dfpeer (and the cloud SDKs and CLIs) at them.

The served sandbox starts from the remembered state and saves it when
stopped; meanwhile 'dfpeer --sandbox' refuses to run (use the printed
exports instead). With --fresh it starts from the demo data and forgets
everything when stopped, leaving the remembered state alone.

The ports and the Azure simulator's TLS certificate (SSL_CERT_FILE) are new
each time: the exports are good until the sandbox stops.`,
		Example: `  dfpeer sandbox serve --port 8080
  # in another shell, paste the printed exports, then:
  dfpeer networks list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Port < 0 || opts.Port > 65535 {
				return cmdutil.FlagErrorf("invalid value %d for --port: want 0 (any free port) to 65535", opts.Port)
			}
			return serve(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Port, "port", 0, "port of the plain-http listener on 127.0.0.1 (0: any free port)")
	cmd.Flags().BoolVar(&opts.Fresh, "fresh", false, "start from the demo data and remember nothing")
	return cmd
}

func serve(ctx context.Context, f *cmdutil.Factory, opts ServeOptions) (err error) {
	var store *simsandbox.Store
	if !opts.Fresh {
		store, err = simsandbox.LockState(ctx, f.Getenv,
			simsandbox.Holder{PID: os.Getpid(), Command: "dfpeer sandbox serve", Serve: true}, f.IOStreams.ErrOut)
		if err != nil {
			return err
		}
		defer store.Close()
	}
	sb, err := simsandbox.Start(simsandbox.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)), Store: store})
	if err != nil {
		return err
	}
	defer sb.Close()
	for _, line := range sb.Env() {
		fmt.Fprintln(f.IOStreams.Out, line)
	}
	remembered := "a fresh sandbox, forgotten when stopped"
	if store != nil {
		remembered = "state in " + store.Path()
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Sandbox serving on %s (%s); press Ctrl-C to stop.\n", sb.URL, remembered)
	<-ctx.Done()
	if err := sb.Save(); err != nil {
		// Said here: the interrupted command's error line only says
		// "cancelled".
		fmt.Fprintf(f.IOStreams.ErrOut, "%s %v\n", f.IOStreams.ErrColorScheme().Red("error:"), err)
		return err
	}
	return nil
}

func newCmdReset(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Forget everything done in the sandbox",
		Long: `Delete the sandbox's remembered state, so that the next 'dfpeer --sandbox'
starts from the demo data again: no connections, no peerings, no rules.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return reset(cmd.Context(), f)
		},
	}
}

func reset(ctx context.Context, f *cmdutil.Factory) error {
	store, err := simsandbox.LockState(ctx, f.Getenv,
		simsandbox.Holder{PID: os.Getpid(), Command: simsandbox.ResetCommand}, f.IOStreams.ErrOut)
	if err != nil {
		return err
	}
	defer store.Close()
	removed, err := store.Reset()
	if err != nil {
		return err
	}
	if removed {
		fmt.Fprintf(f.IOStreams.ErrOut, "Sandbox reset: removed %s; the next run starts from the demo data.\n", store.Path())
	} else {
		fmt.Fprintf(f.IOStreams.ErrOut, "Sandbox reset: nothing to remove (no %s); the sandbox starts from the demo data.\n", store.Path())
	}
	return nil
}
