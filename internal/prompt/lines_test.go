package prompt

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func linesWith(input string) (*Lines, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &Lines{In: strings.NewReader(input), Out: out}, out
}

var tables = []Option{{"rtb-main (main)", "rtb-1"}, {"rtb-private", "rtb-2"}, {"rtb-legacy", "rtb-3"}}

// Typing the number of a ticked item keeps it ticked: the numbers typed
// are the selection.
func TestLinesMultiSelectTypedNumbersAreTheSelection(t *testing.T) {
	l, out := linesWith("1 3\n")
	got, err := l.MultiSelect("Route tables", tables, []string{"rtb-1", "rtb-2"})
	if err != nil || !slices.Equal(got, []string{"rtb-1", "rtb-3"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if !strings.Contains(out.String(), "1. [x] rtb-main (main)") || !strings.Contains(out.String(), "3. [ ] rtb-legacy") || !strings.Contains(out.String(), "[1 2]: ") {
		t.Errorf("ticks or default not shown:\n%s", out)
	}
}

func TestLinesMultiSelectEnterKeepsDefaultsAndReasksOnBadInput(t *testing.T) {
	l, out := linesWith("4\n\n")
	got, err := l.MultiSelect("Route tables", tables, []string{"rtb-2"})
	if err != nil || !slices.Equal(got, []string{"rtb-2"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if !strings.Contains(out.String(), `"4" is not a number from 1 to 3`) {
		t.Errorf("no complaint about 4:\n%s", out)
	}
	l, out = linesWith("\n2\n")
	got, err = l.MultiSelect("Security groups", tables, nil)
	if err != nil || !slices.Equal(got, []string{"rtb-2"}) || !strings.Contains(out.String(), "select at least one") {
		t.Fatalf("got %v, %v:\n%s", got, err, out)
	}
}

func TestLinesInputEnterKeepsDefault(t *testing.T) {
	l, _ := linesWith("\n")
	got, err := l.Input("Connection name", "app-vnet-demo-azure", nil)
	if err != nil || got != "app-vnet-demo-azure" {
		t.Fatalf("got %q, %v", got, err)
	}
	l, out := linesWith("bad name\ngood-name\n")
	got, err = l.Input("Connection name", "dflt", func(s string) error {
		if strings.Contains(s, " ") {
			return errors.New("no spaces")
		}
		return nil
	})
	if err != nil || got != "good-name" || !strings.Contains(out.String(), "no spaces") {
		t.Fatalf("got %q, %v:\n%s", got, err, out)
	}
}

func TestLinesSelectAndConfirm(t *testing.T) {
	l, out := linesWith("\n0\n2\n\nn\n")
	got, err := l.Select("VNet", tables, "rtb-3")
	if err != nil || got != "rtb-3" || !strings.Contains(out.String(), "Number (1-3) [3]: ") {
		t.Fatalf("Enter: got %q, %v:\n%s", got, err, out)
	}
	// The same Lines reads on: one reader for the whole process.
	got, err = l.Select("VNet", tables, "")
	if err != nil || got != "rtb-2" || !strings.Contains(out.String(), "enter a number from 1 to 3") {
		t.Fatalf("got %q, %v:\n%s", got, err, out)
	}
	ok, err := l.Confirm("Make these changes?", true)
	if err != nil || !ok {
		t.Fatalf("Enter on [Y/n]: %v %v", ok, err)
	}
	ok, err = l.Confirm("Make these changes?", true)
	if err != nil || ok {
		t.Fatalf("n: %v %v", ok, err)
	}
	if _, err := l.Confirm("Again?", true); !errors.Is(err, ErrAborted) {
		t.Fatalf("end of input: %v", err)
	}
}

func TestLinesShowsServerTextInert(t *testing.T) {
	l, out := linesWith("1\n")
	l.Select("VPC", []Option{{"evil\x1b]0;pwned\x07", "v"}}, "")
	if strings.Contains(out.String(), "\x1b") {
		t.Fatalf("escape reached the terminal: %q", out)
	}
}

// Without colour the focused button and the cursor are still marked.
func TestMarkedThemeShowsFocusWithoutColour(t *testing.T) {
	lipgloss.SetDefaultRenderer(lipgloss.NewRenderer(io.Discard))
	lipgloss.SetColorProfile(termenv.Ascii)
	th := markedTheme(huh.ThemeCharm())
	yes := th.Focused.FocusedButton.Render("Yes")
	no := th.Focused.BlurredButton.Render("No")
	if !strings.Contains(yes, "> Yes") || strings.Contains(no, ">") {
		t.Fatalf("focused %q, blurred %q", yes, no)
	}
	if strings.Contains(yes, "\x1b") {
		t.Fatalf("colour in an Ascii render: %q", yes)
	}
	if got := th.Focused.TextInput.Cursor.Render(" "); got != "_" {
		t.Fatalf("cursor at the end %q", got)
	}
}
