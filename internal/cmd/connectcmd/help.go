package connectcmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

// CloudHelp is what the status and disconnect help of one cloud says
// about it.
type CloudHelp struct {
	Name     string // "AWS"
	Command  string // "aws"
	Find     string // the flags that find the connection in an example
	Checks   string // what status checks on this cloud, one item a line
	Removes  string // what disconnect removes on this cloud, one item a line
	Keeps    string // what disconnect keeps although it is related
	Extra    string // the cloud's own note, if any
	Examples string // extra examples
}

// SetVerbHelp fills the help of a status or disconnect command.
func SetVerbHelp(cmd *cobra.Command, verb Verb, h CloudHelp) {
	switch verb {
	case VerbStatus:
		cmd.Use = "status"
		cmd.Aliases = []string{"doctor"}
		cmd.Short = fmt.Sprintf("Check both sides of a connection to an %s network and say how to fix what is wrong", h.Name)
		cmd.Long = fmt.Sprintf(`Read both sides of a connection and say, check by check, what is wrong
and how to fix it. Read-only: it never changes anything.

The connection is found as 'dfpeer %[1]s connect' finds it (the same
flags), or by --connection ID alone. It checks:

  Dragonfly Cloud: the connection's status and detail; for pending or
    inactive, which side it waits for; failed or irrecoverable explained,
    with the repair ('connect --recreate').
%[2]s
Each check is ok, warn or fail; warn and fail say the fix: a dfpeer
command where dfpeer can fix it (usually the same 'connect' again),
otherwise the exact change to make.

Exit codes: 0 healthy (no check failed), 5 problems found, 2 bad input or
connection not found, 4 credentials, 1 could not check.`, h.Command, h.Checks)
		cmd.Example = fmt.Sprintf(`  dfpeer %[1]s status --network prod %[2]s
  dfpeer %[1]s status --connection CONNECTION_ID -o json`, h.Command, h.Find)
	case VerbDisconnect:
		cmd.Use = "disconnect"
		cmd.Short = fmt.Sprintf("Take down what 'dfpeer %s connect' made: your side, then the connection", h.Command)
		cmd.Long = fmt.Sprintf(`Take down exactly what 'dfpeer %[1]s connect' made, and nothing else: your
side first, then the Dragonfly connection (waiting until it is deleted).

It removes, only where it is dfpeer's (recognised by the names and
descriptions connect gives, and by pointing at this connection):
%[2]s
Anything that looks related but is not dfpeer's is left alone and listed
as kept, with why.%[3]s

The plan is shown and confirmed first (--yes skips, --dry-run stops
there). A run interrupted anywhere is finished by running it again; a
connection that is already gone is not an error ("nothing to
disconnect"), after removing any dfpeer leftovers that still point at the
network.%[4]s`, h.Command, h.Removes, h.Keeps, h.Extra)
		cmd.Example = fmt.Sprintf(`  dfpeer %[1]s disconnect --network prod %[2]s --dry-run
  dfpeer %[1]s disconnect --connection CONNECTION_ID --yes%[3]s`, h.Command, h.Find, h.Examples)
	}
}
