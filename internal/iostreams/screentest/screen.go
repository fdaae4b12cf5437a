// Package screentest emulates just enough of a terminal to see what a user
// would: text wraps at the right margin, \r and erase-line redraw in place,
// cursor-up moves back over earlier rows. Tests feed it a program's raw
// terminal output and count what is left in the scrollback.
package screentest

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Screen is an emulated terminal with unlimited scrollback.
type Screen struct {
	cols, rows  int
	lines       [][]cell
	row, col    int
	pendingWrap bool // xterm: the last column was written, wrap on the next character
	pending     []byte
}

type cell struct {
	s string // a character, "" for the right half of a wide one
}

// New returns an empty screen cols wide and rows high (rows limits how far
// up the cursor may move, as on a real terminal).
func New(cols, rows int) *Screen {
	return &Screen{cols: cols, rows: rows, lines: [][]cell{nil}}
}

// Write feeds raw terminal output.
func (s *Screen) Write(p []byte) (int, error) {
	data := append(s.pending, p...)
	s.pending = nil
	i := 0
	for i < len(data) {
		b := data[i]
		switch {
		case b == 0x1b:
			n, ok := s.escape(data[i:])
			if !ok { // incomplete sequence: wait for more
				s.pending = append([]byte(nil), data[i:]...)
				return len(p), nil
			}
			i += n
		case b == '\r':
			s.col, s.pendingWrap = 0, false
			i++
		case b == '\n':
			s.lineFeed()
			i++
		case b == '\b':
			if s.col > 0 {
				s.col--
			}
			s.pendingWrap = false
			i++
		case b == '\t':
			s.col = min((s.col/8+1)*8, s.cols-1)
			i++
		case b < 0x20 || b == 0x7f:
			i++
		default:
			if !utf8.FullRune(data[i:]) {
				s.pending = append([]byte(nil), data[i:]...)
				return len(p), nil
			}
			// One grapheme cluster at a time, measured as the terminal would.
			g, w := graphemeAt(data[i:])
			s.put(g, w)
			i += len(g)
		}
	}
	return len(p), nil
}

// graphemeAt returns the character at the start of b with the zero-width
// runes (combining marks, variation selectors) that follow it, and its
// display width.
func graphemeAt(b []byte) (string, int) {
	_, size := utf8.DecodeRune(b)
	g := string(b[:size])
	rest := b[size:]
	for len(rest) > 0 && rest[0] >= 0x80 {
		r2, n := utf8.DecodeRune(rest)
		if ansi.StringWidth(string(r2)) != 0 {
			break
		}
		g += string(rest[:n])
		rest = rest[n:]
	}
	return g, ansi.StringWidth(g)
}

func (s *Screen) lineFeed() {
	s.row++
	s.pendingWrap = false
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
}

func (s *Screen) put(g string, w int) {
	if w == 0 {
		return
	}
	if s.pendingWrap || s.col+w > s.cols {
		s.col = 0
		s.lineFeed()
	}
	line := s.lines[s.row]
	for len(line) < s.col+w {
		line = append(line, cell{s: " "})
	}
	line[s.col] = cell{s: g}
	for k := 1; k < w; k++ {
		line[s.col+k] = cell{}
	}
	s.lines[s.row] = line
	s.col += w
	if s.col >= s.cols {
		s.col = s.cols - 1
		s.pendingWrap = true
	}
}

// escape handles the sequence at the start of b and returns its length;
// ok is false when b ends before the sequence does.
func (s *Screen) escape(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '[': // CSI: parameters, intermediates, one final byte
		for j := 2; j < len(b); j++ {
			if b[j] >= 0x40 && b[j] <= 0x7e {
				s.csi(string(b[2:j]), b[j])
				return j + 1, true
			}
		}
		return 0, false
	case ']', 'P', '_', '^': // OSC, DCS, APC, PM: up to BEL or ST
		for j := 2; j < len(b); j++ {
			if b[j] == 0x07 {
				return j + 1, true
			}
			if b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\' {
				return j + 2, true
			}
		}
		return 0, false
	default:
		return 2, true
	}
}

func (s *Screen) csi(params string, final byte) {
	if strings.HasPrefix(params, "?") || strings.HasPrefix(params, ">") {
		return // private modes: cursor visibility, bracketed paste…
	}
	n := 0
	if p, _, _ := strings.Cut(params, ";"); p != "" {
		n, _ = strconv.Atoi(p)
	}
	atLeast1 := max(n, 1)
	top := max(len(s.lines)-s.rows, 0)
	switch final {
	case 'K':
		line := s.lines[s.row]
		switch n {
		case 0:
			if s.col < len(line) {
				line = line[:s.col]
			}
		case 1:
			for k := 0; k <= s.col && k < len(line); k++ {
				line[k] = cell{s: " "}
			}
		case 2:
			line = nil
		}
		s.lines[s.row] = line
	case 'J':
		if n == 0 {
			if s.col < len(s.lines[s.row]) {
				s.lines[s.row] = s.lines[s.row][:s.col]
			}
			for k := s.row + 1; k < len(s.lines); k++ {
				s.lines[k] = nil
			}
		}
	case 'A':
		s.row = max(s.row-atLeast1, top)
	case 'B':
		for k := 0; k < atLeast1; k++ {
			s.lineFeed()
		}
	case 'C':
		s.col = min(s.col+atLeast1, s.cols-1)
	case 'D':
		s.col = max(s.col-atLeast1, 0)
	case 'G':
		s.col = min(atLeast1-1, s.cols-1)
	case 'H', 'f':
		r, c, _ := strings.Cut(params, ";")
		rn, _ := strconv.Atoi(r)
		cn, _ := strconv.Atoi(c)
		s.row = top + max(rn, 1) - 1
		for len(s.lines) <= s.row {
			s.lines = append(s.lines, nil)
		}
		s.col = min(max(cn, 1)-1, s.cols-1)
	}
	s.pendingWrap = false
}

// Resize changes the width as a terminal without reflow (xterm) does:
// rows keep their text up to the new margin.
func (s *Screen) Resize(cols int) {
	s.cols = cols
	for i, l := range s.lines {
		if len(l) > cols {
			s.lines[i] = l[:cols]
		}
	}
	s.col = min(s.col, cols-1)
	s.pendingWrap = false
}

// Lines returns every row of the scrollback and screen, trailing spaces
// trimmed, trailing empty rows dropped.
func (s *Screen) Lines() []string {
	out := make([]string, len(s.lines))
	for i, l := range s.lines {
		var sb strings.Builder
		for _, c := range l {
			sb.WriteString(c.s)
		}
		out[i] = strings.TrimRight(sb.String(), " ")
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// String is the whole scrollback, one row a line.
func (s *Screen) String() string { return strings.Join(s.Lines(), "\n") }

// Count returns how many rows contain sub.
func (s *Screen) Count(sub string) int {
	n := 0
	for _, l := range s.Lines() {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}
