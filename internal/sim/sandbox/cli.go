package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dragonflydb/dfpeer/internal/endpoint"
)

// FastEnv, set to 1, gives `dfpeer --sandbox` near-zero delays. It exists
// for the end-to-end tests, which run the real binary many times.
const FastEnv = "DFPEER_SANDBOX_FAST"

// CLI is the sandbox of one `dfpeer --sandbox` process: started on first
// use with the remembered state loaded and locked, saved and released by
// Stop when the command is done.
type CLI struct {
	ctx    context.Context
	errOut io.Writer
	getenv func(string) string
	args   []string

	sb    *Sandbox
	store *Store
}

// NewCLI prepares the sandbox of a process run with args; nothing happens
// until Start.
func NewCLI(ctx context.Context, errOut io.Writer, getenv func(string) string, args []string) *CLI {
	return &CLI{ctx: ctx, errOut: errOut, getenv: getenv, args: args}
}

// Start locks the remembered state (waiting for another dfpeer using it),
// loads it and starts the simulators. It suits cmdutil.NewFactory.
func (c *CLI) Start() (*endpoint.Sandbox, error) {
	if c.sb != nil {
		return c.sb.Endpoints, nil
	}
	store, err := LockState(c.ctx, c.getenv, Holder{PID: os.Getpid(), Command: commandLine(c.args)}, c.errOut)
	if err != nil {
		return nil, err
	}
	sb, err := Start(Options{Store: store, Fast: c.getenv(FastEnv) == "1"})
	if err != nil {
		store.Close()
		return nil, err
	}
	c.sb, c.store = sb, store
	return sb.Endpoints, nil
}

// Stop saves the state and releases it. It does nothing if the sandbox was
// never started.
func (c *CLI) Stop() error {
	if c.sb == nil {
		return nil
	}
	// The listeners are left to the process's exit: shutting them down
	// gracefully would only wait on the clients' idle connections.
	err := c.sb.Save()
	c.sb = nil
	return errors.Join(err, c.store.Close())
}

// LockState opens the remembered state in the user's state directory for
// self, telling errOut when it has to wait for another process.
func LockState(ctx context.Context, getenv func(string) string, self Holder, errOut io.Writer) (*Store, error) {
	dir, err := StateDir(getenv)
	if err != nil {
		return nil, err
	}
	return OpenStore(ctx, dir, self, func(h Holder) {
		fmt.Fprintf(errOut, "Waiting for %s to finish with the sandbox state in %s…\n", h, dir)
	})
}
