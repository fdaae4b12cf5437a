// Package progress shows the steps of a long operation on stderr: a live
// list with a spinner on a terminal, one plain line per event otherwise
// (CI logs). The flow reports through the Reporter interface and never
// writes to stdout, which is kept for data.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

// Reporter receives step events. Steps run one at a time.
type Reporter interface {
	// Start begins a step.
	Start(title string)
	// Update changes the current step's live detail (e.g. a status).
	Update(detail string)
	// Done ends the current step successfully; note says how (e.g.
	// "created", "already done").
	Done(note string)
	// Fail ends the current step with an error.
	Fail(err error)
	// Info prints a line outside any step.
	Info(msg string)
}

// Titles, details, notes and messages may quote server text (a connection
// name, a status): every renderer shows them through textsafe, so a
// hostile API cannot drive the terminal. Info keeps its line breaks.
func clean(s string) string { return textsafe.Clean(s) }

func cleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = textsafe.Clean(l)
	}
	return strings.Join(lines, "\n")
}

// New picks the renderer for the streams: live on a terminal that can
// redraw a line, plain otherwise (pipes, logs, TERM=dumb).
func New(ios *iostreams.IOStreams) Reporter {
	cs := ios.ErrColorScheme()
	if ios.CanRedraw() {
		return &Live{w: ios.ErrOut, cs: cs, now: time.Now, width: ios.TerminalWidth}
	}
	return &Plain{W: ios.ErrOut, cs: cs, Now: time.Now}
}

// Plain writes one line per event: safe for logs and pipes.
type Plain struct {
	W     io.Writer
	Now   func() time.Time
	cs    *iostreams.ColorScheme
	title string
	start time.Time
}

// NewPlain returns a Plain reporter without colour.
func NewPlain(w io.Writer, now func() time.Time) *Plain {
	return &Plain{W: w, Now: now, cs: &iostreams.ColorScheme{}}
}

func (p *Plain) Start(title string) {
	title = clean(title)
	p.title, p.start = title, p.Now()
	fmt.Fprintf(p.W, "• %s...\n", title)
}

func (p *Plain) Update(detail string) {
	fmt.Fprintf(p.W, "  %s: %s\n", p.title, clean(detail))
}

func (p *Plain) Done(note string) {
	fmt.Fprintf(p.W, "%s %s%s %s\n", p.cs.SuccessIcon(), p.title, suffix(clean(note)), p.cs.Gray("("+elapsed(p.Now().Sub(p.start))+")"))
}

func (p *Plain) Fail(err error) {
	fmt.Fprintf(p.W, "%s %s %s\n", p.cs.FailureIcon(), p.title, p.cs.Gray("("+elapsed(p.Now().Sub(p.start))+")"))
}

func (p *Plain) Info(msg string) { fmt.Fprintln(p.W, cleanLines(msg)) }

func suffix(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

func elapsed(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Live redraws the current step with a spinner and its elapsed time;
// finished steps stay on screen with ✓ or ✗ and their duration.
//
// The live line never reaches the terminal's last column: a line that wraps
// cannot be taken back with \r, and every redraw would leave a copy above.
type Live struct {
	w     io.Writer
	cs    *iostreams.ColorScheme
	now   func() time.Time
	width func() int // columns now, 0 when unknown; asked at every redraw

	mu     sync.Mutex
	title  string
	detail string
	start  time.Time
	frame  int
	stop   chan struct{}
	done   chan struct{}
}

func (l *Live) Start(title string) {
	l.mu.Lock()
	l.title, l.detail, l.start, l.frame = clean(title), "", l.now(), 0
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	l.drawLocked()
	l.mu.Unlock()
	go l.spin(l.stop, l.done)
}

func (l *Live) spin(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.frame++
			l.drawLocked()
			l.mu.Unlock()
		}
	}
}

// NewLive returns a Live reporter without colour that cuts its line to
// width() columns (tests).
func NewLive(w io.Writer, now func() time.Time, width func() int) *Live {
	return &Live{w: w, cs: &iostreams.ColorScheme{}, now: now, width: width}
}

func (l *Live) drawLocked() {
	body := l.title
	if l.detail != "" {
		body += " — " + l.detail
	}
	line := LiveLine(l.cs.Yellow(spinnerFrames[l.frame%len(spinnerFrames)])+" ", body,
		" "+l.cs.Gray("("+elapsed(l.now().Sub(l.start))+")"), l.columns())
	fmt.Fprintf(l.w, "\r\x1b[K%s", line)
}

func (l *Live) columns() int {
	if l.width == nil {
		return 0
	}
	return l.width()
}

// LiveLine joins head, body and tail into one line that fits in width-1
// display columns (0: no limit). The body (title and detail) gives way
// first, so the spinner and the elapsed time stay; on a very narrow
// terminal the whole line is cut. Widths are display columns, so wide
// characters count double and escape codes count nothing.
func LiveLine(head, body, tail string, width int) string {
	line := head + body + tail
	if width <= 0 {
		return line
	}
	limit := width - 1 // the last column would leave the cursor pending a wrap
	if ansi.StringWidth(line) <= limit {
		return line
	}
	room := limit - ansi.StringWidth(head) - ansi.StringWidth(tail)
	if room >= 2 {
		return head + ansi.Truncate(body, room, "…") + tail
	}
	return ansi.Truncate(line, max(limit, 0), "")
}

func (l *Live) Update(detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.detail = clean(detail)
	l.drawLocked()
}

func (l *Live) finish(icon, note string) {
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r\x1b[K%s %s%s %s\n", icon, l.title, suffix(clean(note)), l.cs.Gray("("+elapsed(l.now().Sub(l.start))+")"))
}

func (l *Live) Done(note string) { l.finish(l.cs.SuccessIcon(), note) }
func (l *Live) Fail(err error)   { l.finish(l.cs.FailureIcon(), "") }

func (l *Live) Info(msg string) {
	msg = cleanLines(strings.TrimRight(msg, "\n"))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop != nil {
		fmt.Fprintf(l.w, "\r\x1b[K%s\n", strings.TrimRight(msg, "\n"))
		l.drawLocked()
		return
	}
	fmt.Fprintln(l.w, msg)
}
