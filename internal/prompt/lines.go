package prompt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Lines asks questions one line at a time, for terminals that cannot move
// the cursor (TERM=dumb) and for screen readers: it only ever writes whole
// lines and reads what the user typed up to Enter. Enter alone always keeps
// the default shown in brackets, and a multi-select takes the numbers typed
// as the new selection, so typing the number of a ticked item keeps it
// ticked (huh's accessible mode toggles it off instead).
type Lines struct {
	In  io.Reader
	Out io.Writer

	once  sync.Once
	lines chan lineRead
}

type lineRead struct {
	text string
	err  error
}

// start reads In in one goroutine for the Prompter's whole life: a reader
// per question would each buffer ahead and lose what the next one needs.
func (l *Lines) start() {
	l.lines = make(chan lineRead)
	go func() {
		r := bufio.NewReader(l.In)
		for {
			s, err := r.ReadString('\n')
			if s != "" || err == nil {
				l.lines <- lineRead{text: strings.TrimRight(s, "\r\n")}
			}
			if err != nil {
				l.lines <- lineRead{err: err}
				close(l.lines)
				return
			}
		}
	}()
}

// readLine waits for a line. Ctrl-C reaches a line-mode terminal as
// SIGINT, not as a key, so it is watched here to return ErrAborted instead
// of waiting for an Enter that will not come; end of input aborts too.
func (l *Lines) readLine() (string, error) {
	l.once.Do(l.start)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	select {
	case r, ok := <-l.lines:
		if !ok || r.err != nil {
			fmt.Fprintln(l.Out)
			return "", ErrAborted
		}
		return strings.TrimSpace(r.text), nil
	case <-sig:
		fmt.Fprintln(l.Out)
		return "", ErrAborted
	}
}

// ask prints prompt and reads an answer until check accepts it.
func (l *Lines) ask(prompt string, check func(string) error) error {
	for {
		fmt.Fprint(l.Out, prompt)
		s, err := l.readLine()
		if err != nil {
			return err
		}
		if err := check(s); err != nil {
			fmt.Fprintf(l.Out, "  %s\n", printable(err.Error()))
			continue
		}
		return nil
	}
}

func (l *Lines) Select(title string, options []Option, def string) (string, error) {
	fmt.Fprintln(l.Out, printable(title))
	defIdx := 0
	for i, o := range options {
		fmt.Fprintf(l.Out, "  %d. %s\n", i+1, printable(o.Label))
		if o.Value == def {
			defIdx = i + 1
		}
	}
	prompt := fmt.Sprintf("Number (1-%d): ", len(options))
	if defIdx > 0 {
		prompt = fmt.Sprintf("Number (1-%d) [%d]: ", len(options), defIdx)
	}
	value := def
	err := l.ask(prompt, func(s string) error {
		if s == "" && defIdx > 0 {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > len(options) {
			return fmt.Errorf("enter a number from 1 to %d", len(options))
		}
		value = options[n-1].Value
		return nil
	})
	return value, err
}

func (l *Lines) MultiSelect(title string, options []Option, defaults []string) ([]string, error) {
	fmt.Fprintln(l.Out, printable(title))
	ticked := map[string]bool{}
	for _, d := range defaults {
		ticked[d] = true
	}
	var defNums []string
	for i, o := range options {
		mark := "[ ]"
		if ticked[o.Value] {
			mark = "[x]"
			defNums = append(defNums, strconv.Itoa(i+1))
		}
		fmt.Fprintf(l.Out, "  %d. %s %s\n", i+1, mark, printable(o.Label))
	}
	prompt := "Numbers, separated by spaces: "
	if len(defNums) > 0 {
		prompt = fmt.Sprintf("Numbers, separated by spaces [%s]: ", strings.Join(defNums, " "))
	}
	value := append([]string(nil), defaults...)
	err := l.ask(prompt, func(s string) error {
		if s == "" {
			if len(value) == 0 {
				return fmt.Errorf("select at least one: enter numbers from 1 to %d", len(options))
			}
			return nil
		}
		seen := map[int]bool{}
		var chosen []string
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 || n > len(options) {
				return fmt.Errorf("%q is not a number from 1 to %d", f, len(options))
			}
			if !seen[n] {
				seen[n] = true
				chosen = append(chosen, options[n-1].Value)
			}
		}
		value = chosen
		return nil
	})
	return value, err
}

func (l *Lines) Input(title, def string, validate func(string) error) (string, error) {
	prompt := printable(title) + ": "
	if def != "" {
		prompt = fmt.Sprintf("%s [%s]: ", printable(title), printable(def))
	}
	value := def
	err := l.ask(prompt, func(s string) error {
		v := s
		if v == "" {
			v = def
		}
		if validate != nil {
			if err := validate(v); err != nil {
				return err
			}
		}
		value = v
		return nil
	})
	return value, err
}

func (l *Lines) Confirm(title string, def bool) (bool, error) {
	choices := "[y/N]"
	if def {
		choices = "[Y/n]"
	}
	value := def
	err := l.ask(fmt.Sprintf("%s %s: ", printable(title), choices), func(s string) error {
		switch strings.ToLower(s) {
		case "":
		case "y", "yes":
			value = true
		case "n", "no":
			value = false
		default:
			return fmt.Errorf("answer y or n")
		}
		return nil
	})
	return value, err
}

// printable keeps server-supplied text (names, labels) from being read as
// terminal controls.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
