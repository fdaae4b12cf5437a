package prompt

import (
	"errors"
	"io"

	"github.com/charmbracelet/huh"

	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// Huh is the terminal Prompter, drawn on stderr so stdout stays clean for
// data. Callers must only use it when IOStreams.CanPrompt() is true: huh
// falls back to /dev/tty otherwise and fails without one.
type Huh struct {
	In  io.Reader
	Out io.Writer
}

func (h *Huh) run(field huh.Field) error {
	form := huh.NewForm(huh.NewGroup(field)).WithShowHelp(true)
	if h.In != nil {
		form = form.WithInput(h.In)
	}
	if h.Out != nil {
		form = form.WithOutput(h.Out)
	}
	err := form.Run()
	if errors.Is(err, huh.ErrUserAborted) || errors.Is(err, huh.ErrTimeout) {
		return ErrAborted
	}
	return err
}

func huhOptions(options []Option) []huh.Option[string] {
	out := make([]huh.Option[string], len(options))
	for i, o := range options {
		// Labels carry server text (network, VPC and group names): shown,
		// never interpreted by the terminal.
		out[i] = huh.NewOption(textsafe.Clean(o.Label), o.Value)
	}
	return out
}

func (h *Huh) Select(title string, options []Option, def string) (string, error) {
	value := def
	field := huh.NewSelect[string]().Title(textsafe.Clean(title)).Options(huhOptions(options)...).Value(&value)
	return value, h.run(field)
}

func (h *Huh) MultiSelect(title string, options []Option, defaults []string) ([]string, error) {
	value := append([]string(nil), defaults...)
	field := huh.NewMultiSelect[string]().Title(textsafe.Clean(title)).Options(huhOptions(options)...).Value(&value).
		Validate(func(v []string) error {
			if len(v) == 0 {
				return errors.New("select at least one (space toggles)")
			}
			return nil
		})
	return value, h.run(field)
}

func (h *Huh) Input(title, def string, validate func(string) error) (string, error) {
	value := def
	field := huh.NewInput().Title(textsafe.Clean(title)).Value(&value)
	if validate != nil {
		field = field.Validate(validate)
	}
	return value, h.run(field)
}

func (h *Huh) Confirm(title string, def bool) (bool, error) {
	value := def
	field := huh.NewConfirm().Title(textsafe.Clean(title)).Affirmative("Yes").Negative("No").Value(&value)
	return value, h.run(field)
}
