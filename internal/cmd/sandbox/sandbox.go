// Package sandbox implements `dfpeer sandbox serve`.
package sandbox

import (
	"context"
	"fmt"
	"net"
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
'dfpeer sandbox serve' runs it on its own for other tools.`,
	}
	cmd.AddCommand(newCmdServe(f))
	return cmd
}

func newCmdServe(f *cmdutil.Factory) *cobra.Command {
	var port int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulators on loopback until interrupted",
		Long: `Serve the simulators on 127.0.0.1 until interrupted, and print the
environment variables that point dfpeer (and the cloud SDKs and CLIs) at them.`,
		Example: `  dfpeer sandbox serve --port 8080
  # in another shell, paste the printed exports, then:
  dfpeer networks list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if port < 0 || port > 65535 {
				return cmdutil.FlagErrorf("invalid value %d for --port: want 0 (any free port) to 65535", port)
			}
			return serve(cmd.Context(), f, port)
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "port of the plain-http listener on 127.0.0.1 (0: any free port)")
	return cmd
}

func serve(ctx context.Context, f *cmdutil.Factory, port int) error {
	sb, err := simsandbox.Start(simsandbox.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	if err != nil {
		return err
	}
	defer sb.Close()
	for _, line := range sb.Env() {
		fmt.Fprintln(f.IOStreams.Out, line)
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "Sandbox serving on %s; press Ctrl-C to stop.\n", sb.URL)
	<-ctx.Done()
	return nil
}
