package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/iostreams/screentest"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

func TestLiveLineFitsWidth(t *testing.T) {
	cases := []struct {
		name             string
		head, body, tail string
		width            int
		want             string
	}{
		{"fits", "⠋ ", "Creating", " (1s)", 80, "⠋ Creating (1s)"},
		{"no width known", "⠋ ", strings.Repeat("x", 200), " (1s)", 0, "⠋ " + strings.Repeat("x", 200) + " (1s)"},
		{"body gives way", "⠋ ", "Waiting for the connection", " (1s)", 20, "⠋ Waiting for… (1s)"},
		// Each of 日本語 takes two columns: 8 columns of room hold three and "…".
		{"wide characters", "⠋ ", "日本語のネットワーク", " (1s)", 16, "⠋ 日本語… (1s)"},
		{"too narrow for the tail", "⠋ ", "Waiting", " (12.3s)", 8, "⠋ Waiti"},
	}
	for _, c := range cases {
		got := LiveLine(c.head, c.body, c.tail, c.width)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if c.width > 0 && ansi.StringWidth(got) > c.width-1 {
			t.Errorf("%s: %q is %d columns, terminal %d", c.name, got, ansi.StringWidth(got), c.width)
		}
	}
}

// Escape codes take no columns: a coloured line is cut by what shows.
func TestLiveLineColourCountsNothing(t *testing.T) {
	head := "\x1b[33m⠋\x1b[0m "
	tail := " \x1b[90m(1s)\x1b[0m"
	got := LiveLine(head, "Creating the peering", tail, 20)
	if w := ansi.StringWidth(got); w > 19 {
		t.Fatalf("%q is %d columns", got, w)
	}
	if !strings.HasPrefix(got, head) || !strings.HasSuffix(got, tail) {
		t.Fatalf("colour of the spinner or time lost: %q", got)
	}
}

// syncBuf lets the spinner goroutine write while the test reads.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// A step whose title is wider than the terminal, with a wide-character
// detail, spins for a while: the screen holds one live line, never copies,
// and narrowing the window mid-step is followed.
func TestLiveLeavesOneLineAtAnyWidth(t *testing.T) {
	for _, cols := range []int{80, 60, 30} {
		var buf syncBuf
		var mu sync.Mutex
		width := cols
		l := NewLive(&buf, time.Now, func() int { mu.Lock(); defer mu.Unlock(); return width })
		title := "Waiting for the virtual network peering app-vnet-dfcloud-peering to connect"
		l.Start(title)
		l.Update("ネットワーク接続を待っています")
		time.Sleep(350 * time.Millisecond)
		mu.Lock()
		width = cols - 10 // the user narrows the window
		before := len(buf.Bytes())
		mu.Unlock()
		time.Sleep(250 * time.Millisecond)
		raw := buf.Bytes()
		scr := screentest.New(cols, 24)
		scr.Write(raw[:before])
		if got := scr.Lines(); len(got) != 1 {
			t.Errorf("%d columns: the live line took %d rows:\n%s", cols, len(got), scr)
		}
		scr.Resize(cols - 10)
		scr.Write(raw[before:])
		if got := scr.Lines(); len(got) != 1 || !strings.Contains(got[0], "(") {
			t.Errorf("%d columns narrowed to %d: %d rows, or the time was cut:\n%s", cols, cols-10, len(got), scr)
		}
		l.Done("connected")
		scr.Write(buf.Bytes()[len(raw):])
		// The finished line is printed once and may wrap; it must start
		// on the live line's row, leaving no copy of it.
		if got := scr.Lines(); !strings.HasPrefix(got[0], "✓ Waiting for") || scr.Count("⠋") != 0 {
			t.Errorf("%d columns: after Done:\n%s", cols, scr)
		}
	}
}

func TestNewPicksPlainForDumbTerminal(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetStderrTTY(true)
	ios.SetDumbTerminal(true)
	r := New(ios)
	if _, ok := r.(*Plain); !ok {
		t.Fatalf("TERM=dumb got %T", r)
	}
	r.Start("Creating the peering")
	r.Update("pending")
	r.Done("created")
	out := errOut.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("redraw or escape codes on a dumb terminal: %q", out)
	}
	ios.SetDumbTerminal(false)
	if _, ok := New(ios).(*Live); !ok {
		t.Fatal("a real terminal should get the live renderer")
	}
}

const evil = "name\x1b]0;pwned\x07\x1b[2J\rFORGED\u009b"

// Titles, details, notes and messages can quote server text: neither
// renderer lets it drive the terminal. The live renderer's own \r\x1b[K
// redraws are the only escapes it writes.
func TestServerTextShownEscaped(t *testing.T) {
	var plain, live bytes.Buffer
	now := func() time.Time { return time.Unix(0, 0) }
	for _, r := range []Reporter{NewPlain(&plain, now), &Live{w: &live, cs: &iostreams.ColorScheme{}, now: now}} {
		r.Start("Deleting connection " + evil)
		r.Update(evil + " after 1s")
		r.Info("warning: " + evil + "\nsecond line")
		r.Done(evil)
	}
	for _, l := range strings.Split(plain.String(), "\n") {
		if textsafe.HasControl(l) {
			t.Errorf("plain: raw control character in %q", l)
		}
	}
	if !strings.Contains(plain.String(), `name\x1b]0;pwned\x07\x1b[2J\rFORGED\u009b`) || !strings.Contains(plain.String(), "\nsecond line\n") {
		t.Errorf("plain output:\n%s", plain.String())
	}
	ours := strings.ReplaceAll(live.String(), "\r\x1b[K", "")
	for _, l := range strings.Split(ours, "\n") {
		if textsafe.HasControl(l) {
			t.Errorf("live: raw control character in %q", l)
		}
	}
}
