// Package iostreams is the one object that knows about the terminal: which
// streams are TTYs, whether prompting is allowed, and whether to use colour.
// Commands take an *IOStreams instead of touching os.Stdout, so tests can
// swap in buffers and pretend to be (or not be) a terminal.
package iostreams

import (
	"bytes"
	"io"
	"os"

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
	color     bool
}

// System returns streams bound to the process's stdin/stdout/stderr.
func System() *IOStreams {
	ios := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
	}
	// NO_COLOR (https://no-color.org): any non-empty value turns colour off.
	_, noColor := os.LookupEnv("NO_COLOR")
	ios.color = ios.stderrTTY && !noColor && os.Getenv("TERM") != "dumb"
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

// SetColorEnabled overrides colour detection.
func (s *IOStreams) SetColorEnabled(v bool) { s.color = v }

// IsStdoutTTY reports whether data goes to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether progress goes to a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// CanPrompt reports whether the user can be asked questions: stdin and
// stderr (where prompts are drawn) are terminals and --no-input is unset.
// A piped stdin implies --no-input.
func (s *IOStreams) CanPrompt() bool {
	return !s.noInput && s.stdinTTY && s.stderrTTY
}

// ColorEnabled reports whether ANSI colour may be written to stderr.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// ColorScheme returns colour helpers that are no-ops when colour is off.
func (s *IOStreams) ColorScheme() *ColorScheme { return &ColorScheme{enabled: s.color} }

// ColorScheme renders the few styles dfpeer uses.
type ColorScheme struct{ enabled bool }

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
