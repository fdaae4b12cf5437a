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

// Question is one question of a step asked with Ask: a multi-select when
// it has Options, else a text input.
type Question struct {
	Title    string
	Options  []Option
	Defaults []string // a multi-select's preselection
	Default  string   // an input's default
	Validate func(string) error
	// Answer is filled in: the choices, or the input as its one element.
	Answer []string
}

// Former is a Prompter that can ask several questions as one form, where
// the user can go back to an earlier answer and revise it.
type Former interface {
	Form(qs []*Question) error
}

// Ask asks the questions of one step: as one form where the prompter can
// (back navigation), else one after another.
func Ask(p Prompter, qs []*Question) error {
	if len(qs) == 0 {
		return nil
	}
	if f, ok := p.(Former); ok {
		return f.Form(qs)
	}
	for _, q := range qs {
		if len(q.Options) > 0 {
			v, err := p.MultiSelect(q.Title, q.Options, q.Defaults)
			if err != nil {
				return err
			}
			q.Answer = v
			continue
		}
		v, err := p.Input(q.Title, q.Default, q.Validate)
		if err != nil {
			return err
		}
		q.Answer = []string{v}
	}
	return nil
}
