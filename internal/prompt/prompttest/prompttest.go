// Package prompttest is a scripted Prompter for tests: queue the prompts a
// command is expected to ask, with their answers; an unexpected prompt fails
// the test, and so does a queued one never asked.
package prompttest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/prompt"
)

type expectation struct {
	kind   string
	title  string // substring of the prompt's title
	answer any
}

// Prompter is the fake.
type Prompter struct {
	t     testing.TB
	queue []expectation
	// Asked records every prompt as "kind: title".
	Asked []string
	// Seen holds the options offered by each Select/MultiSelect, by title.
	Seen map[string][]prompt.Option
}

// New returns a fake that checks at cleanup that every answer was used.
func New(t testing.TB) *Prompter {
	p := &Prompter{t: t, Seen: map[string][]prompt.Option{}}
	t.Cleanup(func() {
		if len(p.queue) > 0 {
			t.Errorf("prompttest: %d expected prompt(s) never asked, first %s %q", len(p.queue), p.queue[0].kind, p.queue[0].title)
		}
	})
	return p
}

// ExpectSelect queues a Select whose title contains title.
func (p *Prompter) ExpectSelect(title, answer string) *Prompter {
	p.queue = append(p.queue, expectation{"select", title, answer})
	return p
}

// ExpectMultiSelect queues a MultiSelect; a nil answer keeps the defaults.
func (p *Prompter) ExpectMultiSelect(title string, answer []string) *Prompter {
	p.queue = append(p.queue, expectation{"multiselect", title, answer})
	return p
}

// ExpectInput queues an Input; answer "" keeps the default.
func (p *Prompter) ExpectInput(title, answer string) *Prompter {
	p.queue = append(p.queue, expectation{"input", title, answer})
	return p
}

// ExpectConfirm queues a Confirm.
func (p *Prompter) ExpectConfirm(title string, answer bool) *Prompter {
	p.queue = append(p.queue, expectation{"confirm", title, answer})
	return p
}

func (p *Prompter) next(kind, title string) (any, error) {
	p.t.Helper()
	p.Asked = append(p.Asked, kind+": "+title)
	if len(p.queue) == 0 {
		p.t.Errorf("prompttest: unexpected %s %q", kind, title)
		return nil, fmt.Errorf("unexpected prompt %q", title)
	}
	e := p.queue[0]
	p.queue = p.queue[1:]
	if e.kind != kind || !strings.Contains(title, e.title) {
		p.t.Errorf("prompttest: got %s %q, want %s containing %q", kind, title, e.kind, e.title)
		return nil, fmt.Errorf("unexpected prompt %q", title)
	}
	return e.answer, nil
}

func (p *Prompter) Select(title string, options []prompt.Option, def string) (string, error) {
	p.Seen[title] = options
	a, err := p.next("select", title)
	if err != nil {
		return "", err
	}
	answer := a.(string)
	for _, o := range options {
		if o.Value == answer {
			return answer, nil
		}
	}
	p.t.Errorf("prompttest: answer %q is not among the options of %q", answer, title)
	return "", fmt.Errorf("bad answer")
}

func (p *Prompter) MultiSelect(title string, options []prompt.Option, defaults []string) ([]string, error) {
	p.Seen[title] = options
	a, err := p.next("multiselect", title)
	if err != nil {
		return nil, err
	}
	if a.([]string) == nil {
		return defaults, nil
	}
	return a.([]string), nil
}

func (p *Prompter) Input(title, def string, validate func(string) error) (string, error) {
	a, err := p.next("input", title)
	if err != nil {
		return "", err
	}
	answer := a.(string)
	if answer == "" {
		answer = def
	}
	if validate != nil {
		if err := validate(answer); err != nil {
			return "", err
		}
	}
	return answer, nil
}

func (p *Prompter) Confirm(title string, def bool) (bool, error) {
	a, err := p.next("confirm", title)
	if err != nil {
		return false, err
	}
	return a.(bool), nil
}
