// Package prompt asks the user for what dfpeer could not discover. Commands
// depend on the Prompter interface; huh.go is the only file in the project
// that imports huh, and prompttest provides a scripted fake for tests.
package prompt

import "github.com/dragonflydb/dfpeer/internal/problem"

// ErrAborted is returned when the user presses Ctrl-C or Esc at a prompt.
var ErrAborted = problem.ErrCancelled

// Option is one choice in a select: what the user sees and what the
// command gets back.
type Option struct {
	Label string
	Value string
}

// Prompter asks questions on the terminal. Every method returns ErrAborted
// when the user presses Ctrl-C or Esc.
type Prompter interface {
	Select(title string, options []Option, def string) (string, error)
	MultiSelect(title string, options []Option, defaults []string) ([]string, error)
	Input(title, def string, validate func(string) error) (string, error)
	Confirm(title string, def bool) (bool, error)
}
