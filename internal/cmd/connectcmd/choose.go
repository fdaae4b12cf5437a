package connectcmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/prompt"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// Choice is one option of a pick, with why it cannot be peered ("" when
// it can).
type Choice struct {
	prompt.Option
	Unusable string
}

// PickUsable offers choices with the unusable ones marked, so a refusal
// that depends on this one answer comes right after it: picking one anyway
// says why and asks again, keeping every earlier answer. The default is
// def if usable, else the first usable choice.
func PickUsable(p prompt.Prompter, w io.Writer, title string, choices []Choice, def string) (string, error) {
	options := make([]prompt.Option, len(choices))
	why, shown := map[string]string{}, map[string]string{}
	first := ""
	for i, c := range choices {
		options[i] = c.Option
		shown[c.Value], _, _ = strings.Cut(c.Label, "  ")
		if c.Unusable != "" {
			options[i].Label += "  (cannot peer: " + c.Unusable + ")"
			why[c.Value] = c.Unusable
		} else if first == "" {
			first = c.Value
		}
	}
	if _, bad := why[def]; bad || def == "" {
		def = first
	}
	if def == "" && len(choices) > 0 {
		def = choices[0].Value
	}
	for {
		v, err := p.Select(title, options, def)
		if err != nil {
			return "", err
		}
		reason, bad := why[v]
		if !bad {
			return v, nil
		}
		fmt.Fprintf(w, "%s cannot be peered: %s. Choose another.\n", textsafe.Clean(shown[v]), textsafe.Clean(reason))
		if first == "" {
			return "", fmt.Errorf("none of the choices can be peered")
		}
	}
}

// Overlap says why address blocks cannot be peered with the network's
// CIDR ("" when none overlaps).
func Overlap(networkCIDR string, blocks []string) string {
	b, err := peering.FirstOverlap(networkCIDR, blocks)
	if err != nil || b == "" {
		return ""
	}
	return fmt.Sprintf("%s overlaps the network's %s", b, networkCIDR)
}
