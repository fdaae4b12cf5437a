package iostreams

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/creack/pty"
)

// openPTY returns the terminal end of a fresh pseudo-terminal of the given
// size.
func openPTY(t *testing.T, cols, rows uint16) *os.File {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Cols: cols, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	return tty
}

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	t.Setenv("TERM", "xterm-256color")
	tty := openPTY(t, 80, 24)
	ios := fromFiles(tty, tty, tty)
	if ios.OutColorScheme().Enabled() || ios.ErrColorScheme().Enabled() {
		t.Fatal("NO_COLOR set, colour still enabled")
	}
	if got := ios.ErrColorScheme().Green("ok"); got != "ok" {
		t.Fatalf("colour codes with NO_COLOR: %q", got)
	}
}

// `dfpeer … > out.txt` at a terminal: stderr is coloured, stdout (a file)
// is not.
func TestColourPerStream(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	tty := openPTY(t, 80, 24)
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	ios := fromFiles(tty, file, tty)
	if ios.OutColorScheme().Enabled() {
		t.Error("stdout is a file, yet its scheme is coloured")
	}
	if got := ios.OutColorScheme().SuccessIcon(); got != "✓" {
		t.Errorf("stdout icon %q", got)
	}
	if !ios.ErrColorScheme().Enabled() {
		t.Error("stderr is a colour terminal, yet its scheme is plain")
	}
	ios = fromFiles(tty, tty, file)
	if !ios.OutColorScheme().Enabled() || ios.ErrColorScheme().Enabled() {
		t.Errorf("stdout a terminal, stderr a file: out %v err %v", ios.OutColorScheme().Enabled(), ios.ErrColorScheme().Enabled())
	}
}

func TestDumbTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	tty := openPTY(t, 80, 24)
	ios := fromFiles(tty, tty, tty)
	if !ios.IsDumbTerminal() || ios.CanRedraw() {
		t.Errorf("TERM=dumb: dumb %v, can redraw %v", ios.IsDumbTerminal(), ios.CanRedraw())
	}
	if ios.OutColorScheme().Enabled() || ios.ErrColorScheme().Enabled() {
		t.Error("TERM=dumb gets colour")
	}
	if !ios.IsStderrTTY() {
		t.Error("a dumb terminal is still a terminal")
	}
}

// The width is asked on every call, so a resize is seen at the next redraw.
func TestTerminalWidthFollowsResize(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(ptmx, &pty.Winsize{Cols: 80, Rows: 24})
	ios := fromFiles(tty, tty, tty)
	if w := ios.TerminalWidth(); w != 80 {
		t.Fatalf("width %d, want 80", w)
	}
	pty.Setsize(ptmx, &pty.Winsize{Cols: 60, Rows: 24})
	if w := ios.TerminalWidth(); w != 60 {
		t.Fatalf("after resize width %d, want 60", w)
	}
	test, _, _, _ := Test()
	if w := test.TerminalWidth(); w != 0 {
		t.Fatalf("buffers have width %d", w)
	}
}

func TestCanPrompt(t *testing.T) {
	ios, _, _, _ := Test()
	if ios.CanPrompt() {
		t.Fatal("buffers are not a terminal")
	}
	ios.SetStdinTTY(true)
	ios.SetStderrTTY(true)
	if !ios.CanPrompt() {
		t.Fatal("terminal on stdin and stderr should prompt")
	}
	ios.SetNoInput(true)
	if ios.CanPrompt() {
		t.Fatal("--no-input must forbid prompts")
	}
}
