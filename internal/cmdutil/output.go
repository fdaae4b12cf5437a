package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// PrintJSON writes v as indented JSON followed by a newline: the -o json
// form of every command.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Table writes aligned columns. Empty cells are shown as "-" so columns
// stay parseable with awk.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table with the given header.
func NewTable(w io.Writer, header ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.Row(header...)
	return t
}

// Row adds a row.
func (t *Table) Row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(Dash(c), "\t", " ")
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

// ExactArgs is cobra.ExactArgs with a message that says what to give, as a
// FlagError (exit 2).
func ExactArgs(n int, what string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return FlagErrorf("%s takes %d argument(s), got %d: %s", cmd.CommandPath(), n, len(args), what)
		}
		return nil
	}
}

// NoArgs is cobra.NoArgs as a FlagError (exit 2) that says so plainly.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return FlagErrorf("%s takes no arguments, got %s", cmd.CommandPath(), Quote(strings.Join(args, " ")))
	}
	return nil
}

// Shown prepares server text for a text view: each value through
// textsafe.Clean (control characters visible, long text cut), empty ones
// as "-". JSON output never goes through it: encoding/json escapes.
func Shown(values ...string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = Dash(textsafe.Clean(v))
	}
	return out
}

// Dash shows an empty value as "-", as tables and detail views do.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
