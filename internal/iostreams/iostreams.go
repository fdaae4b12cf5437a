// Package iostreams is the one object that knows about the terminal: which
// streams are TTYs, whether prompting is allowed, whether each stream gets
// colour, and how wide the terminal is. Commands take an *IOStreams instead
// of touching os.Stdout, so tests can swap in buffers and pretend to be (or
// not be) a terminal.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/mattn/go-isatty"
)

// IOStreams bundles the standard streams with what is known about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data: tables, JSON
	ErrOut io.Writer // progress, hints, prompts, errors

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noInput   bool
	// Colour is decided per stream: `dfpeer … > out.txt` at a terminal
	// must not write escape codes into the file because stderr is a TTY.
	stdoutColor bool
	stderrColor bool
	dumb        bool // TERM=dumb: no cursor movement, no line redraws
	width       func() int
}

// System returns streams bound to the process's stdin/stdout/stderr.
func System() *IOStreams { return fromFiles(os.Stdin, os.Stdout, os.Stderr) }

func fromFiles(stdin, stdout, stderr *os.File) *IOStreams {
	ios := &IOStreams{
		In:        stdin,
		Out:       stdout,
		ErrOut:    stderr,
		stdinTTY:  isTerminal(stdin),
		stdoutTTY: isTerminal(stdout),
		stderrTTY: isTerminal(stderr),
		dumb:      os.Getenv("TERM") == "dumb",
	}
	// NO_COLOR (https://no-color.org): any non-empty value turns colour off.
	noColor := os.Getenv("NO_COLOR") != ""
	ios.stdoutColor = ios.stdoutTTY && !noColor && !ios.dumb
	ios.stderrColor = ios.stderrTTY && !noColor && !ios.dumb
	// Asked on every call, not once: the user may resize the window while
	// a step is running, and the live line must follow.
	// A terminal that will not tell its size (some serial consoles say
	// 0x0) is taken to be the classic 80 columns: cutting too early beats
	// wrapping.
	ios.width = func() int {
		if !ios.stderrTTY {
			return 0
		}
		w, _, err := term.GetSize(stderr.Fd())
		if err != nil || w <= 0 {
			return 80
		}
		return w
	}
	return ios
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetStdinTTY, SetStdoutTTY and SetStderrTTY let tests pretend.
func (s *IOStreams) SetStdinTTY(v bool)  { s.stdinTTY = v }
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// SetNoInput forbids prompting (the --no-input flag).
func (s *IOStreams) SetNoInput(v bool) { s.noInput = v }

// SetColorEnabled overrides colour detection for both streams.
func (s *IOStreams) SetColorEnabled(v bool) { s.stdoutColor, s.stderrColor = v, v }

// SetDumbTerminal lets tests pretend TERM=dumb.
func (s *IOStreams) SetDumbTerminal(v bool) { s.dumb = v }

// SetTerminalWidth lets tests fix the width the live progress line is cut
// to; a function so a test can also resize.
func (s *IOStreams) SetTerminalWidth(f func() int) { s.width = f }

// IsStdoutTTY reports whether data goes to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether progress goes to a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// IsDumbTerminal reports TERM=dumb: the terminal cannot move the cursor or
// erase a line, so nothing may be redrawn.
func (s *IOStreams) IsDumbTerminal() bool { return s.dumb }

// CanRedraw reports whether stderr can hold a live, redrawn line: a
// terminal that understands \r and erase-line.
func (s *IOStreams) CanRedraw() bool { return s.stderrTTY && !s.dumb }

// TerminalWidth is stderr's width in columns now; 0 when stderr is not a
// terminal.
func (s *IOStreams) TerminalWidth() int {
	if s.width == nil {
		return 0
	}
	return s.width()
}

// CanPrompt reports whether the user can be asked questions: stdin and
// stderr (where prompts are drawn) are terminals and --no-input is unset.
// A piped stdin implies --no-input.
func (s *IOStreams) CanPrompt() bool {
	return !s.noInput && s.stdinTTY && s.stderrTTY
}

// OutColorScheme is for what is written to Out (stdout): coloured only
// when stdout itself is a colour terminal.
func (s *IOStreams) OutColorScheme() *ColorScheme { return &ColorScheme{enabled: s.stdoutColor} }

// ErrColorScheme is for what is written to ErrOut (stderr): progress,
// prompts, errors.
func (s *IOStreams) ErrColorScheme() *ColorScheme { return &ColorScheme{enabled: s.stderrColor} }

// ColorScheme renders the few styles dfpeer uses.
type ColorScheme struct{ enabled bool }

// Enabled reports whether this scheme writes colour codes.
func (c *ColorScheme) Enabled() bool { return c.enabled }

func (c *ColorScheme) wrap(code, s string) string {
	if !c.enabled {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (c *ColorScheme) Green(s string) string  { return c.wrap("32", s) }
func (c *ColorScheme) Red(s string) string    { return c.wrap("31", s) }
func (c *ColorScheme) Yellow(s string) string { return c.wrap("33", s) }
func (c *ColorScheme) Bold(s string) string   { return c.wrap("1", s) }
func (c *ColorScheme) Gray(s string) string   { return c.wrap("90", s) }

// SuccessIcon, FailureIcon and WarningIcon are the step markers.
func (c *ColorScheme) SuccessIcon() string { return c.Green("✓") }
func (c *ColorScheme) FailureIcon() string { return c.Red("✗") }
func (c *ColorScheme) WarningIcon() string { return c.Yellow("!") }
