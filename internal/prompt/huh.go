package prompt

import (
	"errors"
	"io"
	"sync"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// Huh is the terminal Prompter, drawn on stderr so stdout stays clean for
// data. Callers must only use it when IOStreams.CanPrompt() is true: huh
// falls back to /dev/tty otherwise and fails without one.
//
// Use one Huh for the whole process: in Plain mode it owns the reading of
// In.
type Huh struct {
	In  io.Reader
	Out io.Writer
	// Color is whether Out may be coloured (IOStreams.ErrColorScheme).
	// Without colour the default theme's focus, shown by colour alone,
	// would vanish, so a text marker shows it instead.
	Color bool
	// Plain asks line by line instead of drawing forms: for TERM=dumb,
	// where nothing may be redrawn.
	Plain bool

	once         sync.Once
	lines        *Lines
	rendererOnce sync.Once
}

func (h *Huh) plain() *Lines {
	h.once.Do(func() { h.lines = &Lines{In: h.In, Out: h.Out} })
	return h.lines
}

func (h *Huh) run(fields ...huh.Field) error {
	if h.Out != nil {
		// Colour follows the stream the form is drawn on, not stdout
		// (lipgloss's default): `dfpeer … > out.txt` keeps coloured
		// prompts, and NO_COLOR/TERM are read for stderr. Once: a new
		// renderer asks the terminal for its background again.
		h.rendererOnce.Do(func() { lipgloss.SetDefaultRenderer(lipgloss.NewRenderer(h.Out)) })
	}
	theme := huh.ThemeCharm()
	if !h.Color {
		theme = markedTheme(theme)
	}
	form := huh.NewForm(huh.NewGroup(fields...)).WithShowHelp(true).WithTheme(theme)
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

// markedTheme shows in text what t shows in colour: the focused button
// reads "> Yes" (the other "  No", so the row does not shift as the focus
// moves), and the text cursor is an underscore at the end of the text or
// underlines the character it is on.
func markedTheme(t *huh.Theme) *huh.Theme {
	focused := func(s string) string { return "> " + s }
	blurred := func(s string) string { return "  " + s }
	cursor := func(s string) string {
		if s == " " || s == "" {
			return "_"
		}
		return s + "\u0332" // combining low line: no extra column
	}
	for _, fs := range []*huh.FieldStyles{&t.Focused, &t.Blurred} {
		fs.FocusedButton = fs.FocusedButton.Transform(focused)
		fs.BlurredButton = fs.BlurredButton.Transform(blurred)
		fs.TextInput.Cursor = fs.TextInput.Cursor.Transform(cursor)
	}
	return t
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
	if h.Plain {
		return h.plain().Select(title, options, def)
	}
	value := def
	field := huh.NewSelect[string]().Title(textsafe.Clean(title)).Options(huhOptions(options)...).Value(&value)
	return value, h.run(field)
}

func (h *Huh) MultiSelect(title string, options []Option, defaults []string) ([]string, error) {
	if h.Plain {
		return h.plain().MultiSelect(title, options, defaults)
	}
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
	if h.Plain {
		return h.plain().Input(title, def, validate)
	}
	value := def
	field := huh.NewInput().Title(textsafe.Clean(title)).Value(&value)
	if validate != nil {
		field = field.Validate(validate)
	}
	return value, h.run(field)
}

func (h *Huh) Confirm(title string, def bool) (bool, error) {
	if h.Plain {
		return h.plain().Confirm(title, def)
	}
	value := def
	field := huh.NewConfirm().Title(textsafe.Clean(title)).Affirmative("Yes").Negative("No").Value(&value)
	return value, h.run(field)
}

// Form asks the questions as one group: Enter moves on, Shift+Tab goes
// back to revise an earlier answer. On TERM=dumb they are asked line by
// line.
func (h *Huh) Form(qs []*Question) error {
	if h.Plain {
		return Ask(h.plain(), qs)
	}
	fields := make([]huh.Field, len(qs))
	multi := make([][]string, len(qs))
	text := make([]string, len(qs))
	for i, q := range qs {
		if len(q.Options) > 0 {
			multi[i] = append([]string(nil), q.Defaults...)
			fields[i] = huh.NewMultiSelect[string]().Title(textsafe.Clean(q.Title)).Options(huhOptions(q.Options)...).Value(&multi[i]).
				Validate(func(v []string) error {
					if len(v) == 0 {
						return errors.New("select at least one (space toggles)")
					}
					return nil
				})
			continue
		}
		text[i] = q.Default
		in := huh.NewInput().Title(textsafe.Clean(q.Title)).Value(&text[i])
		if q.Validate != nil {
			in = in.Validate(q.Validate)
		}
		fields[i] = in
	}
	if err := h.run(fields...); err != nil {
		return err
	}
	for i, q := range qs {
		if len(q.Options) > 0 {
			q.Answer = multi[i]
		} else {
			q.Answer = []string{text[i]}
		}
	}
	return nil
}
