// Package root builds the dfpeer command tree and its global flags.
package root

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/cmd/aws"
	"github.com/dragonflydb/dfpeer/internal/cmd/azure"
	"github.com/dragonflydb/dfpeer/internal/cmd/connections"
	"github.com/dragonflydb/dfpeer/internal/cmd/gcp"
	"github.com/dragonflydb/dfpeer/internal/cmd/networks"
	"github.com/dragonflydb/dfpeer/internal/cmd/sandbox"
	"github.com/dragonflydb/dfpeer/internal/cmd/version"
	"github.com/dragonflydb/dfpeer/internal/cmdutil"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// DefaultTimeout bounds every wait unless --timeout says otherwise.
const DefaultTimeout = 15 * time.Minute

// NewCmdRoot returns a fresh command tree bound to f.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	g := f.Globals
	cmd := &cobra.Command{
		Use:   "dfpeer <command>",
		Short: "Connect a Dragonfly Cloud private network to your VPC",
		Long: `dfpeer connects a Dragonfly Cloud private network to your VPC on AWS, GCP
or Azure in one guided run: it creates the peering connection through the
Dragonfly Cloud API, accepts or creates the peering in your cloud account,
adds routes and firewall rules for the datastore port, and waits until the
connection is active. Re-running a command is safe: finished steps are
recognised and skipped.

Credentials: DFCLOUD_API_KEY (or --api-key-file) for Dragonfly Cloud; each
cloud's own credential chain for the cloud side. Try it without any account:
  dfpeer --sandbox networks list`,
		Example: `  dfpeer networks list
  dfpeer aws connect
  dfpeer aws connect --yes --network prod --vpc-id vpc-0a1b2c3d4e5f60001
  dfpeer gcp connect --yes --network analytics --project my-project --vpc default
  dfpeer --sandbox aws connect --network demo-aws --vpc-id vpc-0a1b2c3d4e5f60001 --yes`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.Output != "text" && g.Output != "json" {
				return cmdutil.FlagErrorf("invalid value %q for --output: want text or json", g.Output)
			}
			if g.Timeout <= 0 {
				return cmdutil.FlagErrorf("invalid value %s for --timeout: want a positive duration such as 15m", g.Timeout)
			}
			if err := checkAPIFlags(cmd, g); err != nil {
				return err
			}
			f.IOStreams.SetNoInput(g.NoInput)
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})
	fl := cmd.PersistentFlags()
	fl.StringVarP(&g.Output, "output", "o", "text", "output format: text or json")
	fl.BoolVar(&g.NoInput, "no-input", false, "never prompt; fail when a value is missing (implied when stdin is not a terminal)")
	fl.BoolVarP(&g.Yes, "yes", "y", false, "do not ask for confirmation")
	fl.DurationVar(&g.Timeout, "timeout", DefaultTimeout, "how long to wait for a connection to reach a status")
	fl.BoolVar(&g.Verbose, "verbose", false, "show each HTTP call (method, URL, status, duration) on stderr, secrets redacted")
	fl.StringVar(&g.APIURL, "api-url", "", "Dragonfly Cloud API base URL (env DFCLOUD_API_URL; default https://api.dragonflydb.cloud)")
	fl.StringVar(&g.APIKeyFile, "api-key-file", "", "read the Dragonfly Cloud API key from this file, or - for stdin (default: env DFCLOUD_API_KEY)")
	fl.BoolVar(&g.Sandbox, "sandbox", false, "run against built-in simulators of Dragonfly Cloud, AWS, GCP and Azure (no account needed; remembered between runs until 'dfpeer sandbox reset')")

	cmd.AddGroup(&cobra.Group{ID: "connect", Title: "Connect a VPC:"}, &cobra.Group{ID: "api", Title: "Dragonfly Cloud:"})
	for _, c := range []*cobra.Command{aws.NewCmdAWS(f), gcp.NewCmdGCP(f), azure.NewCmdAzure(f)} {
		c.GroupID = "connect"
		cmd.AddCommand(c)
	}
	for _, c := range []*cobra.Command{networks.NewCmdNetworks(f), connections.NewCmdConnections(f)} {
		c.GroupID = "api"
		cmd.AddCommand(c)
	}
	cmd.AddCommand(sandbox.NewCmdSandbox(f), version.NewCmdVersion(f))
	// Build cobra's own help and completion commands now rather than at
	// Execute, so that strictUsage covers them too.
	// The completion commands capture the output stream when built.
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetHelpCommand(newHelpCmd())
	cmd.InitDefaultHelpCmd()
	cmd.InitDefaultCompletionCmd()
	strictUsage(cmd)
	return cmd
}

// checkAPIFlags refuses Dragonfly API flags that cannot mean what was
// typed: an empty --api-key-file would silently fall back to
// DFCLOUD_API_KEY, and --sandbox talks to its own simulator, ignoring
// --api-url and --api-key-file.
func checkAPIFlags(cmd *cobra.Command, g *cmdutil.Globals) error {
	fl := cmd.Flags()
	if fl.Changed("api-key-file") && strings.TrimSpace(g.APIKeyFile) == "" {
		return cmdutil.FlagErrorf("--api-key-file is empty: give the path of a file holding the API key, or - to read it from stdin")
	}
	if fl.Changed("api-url") && strings.TrimSpace(g.APIURL) == "" {
		return cmdutil.FlagErrorf("--api-url is empty: give the API's https:// URL, or leave the flag out for %s", dfcloud.DefaultBaseURL)
	}
	if g.Sandbox {
		for _, name := range []string{"api-url", "api-key-file"} {
			if fl.Changed(name) {
				return cmdutil.FlagErrorf("--sandbox cannot be combined with --%s: the sandbox uses its own simulated API and key", name)
			}
		}
	}
	return nil
}
