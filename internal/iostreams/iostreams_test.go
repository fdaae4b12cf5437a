package iostreams

import (
	"testing"
)

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	ios := System()
	if ios.ColorEnabled() {
		t.Fatal("NO_COLOR set, colour still enabled")
	}
	if got := ios.ColorScheme().Green("ok"); got != "ok" {
		t.Fatalf("colour codes with NO_COLOR: %q", got)
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
