// Package textsafe makes text that came from a server safe to show on a
// terminal: a hostile or compromised API (or a proxy in between) must not
// be able to clear the screen, retitle the window, move the cursor or forge
// lines with a carriage return. Control characters and the characters that
// start escape sequences are made visible instead of being interpreted, and
// very long text is cut, saying how much was cut.
//
// The package only imports the standard library so that any layer (the
// error printer, tables, the peering summary) can use it.
package textsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Max is the default limit, in characters, of Clean: enough for any name,
// status detail or API error message meant for a person.
const Max = 500

// Clean returns s with control characters made visible and cut to Max
// characters. It is the form for every single-line field of server text
// (a name, a status, a status detail, an API error message).
func Clean(s string) string { return CleanN(s, Max) }

// CleanN is Clean with a limit of max characters of output before the
// "cut" note; max <= 0 means no limit.
//
// What is made visible, as Go escapes:
//   - C0 controls (ESC as \x1b, BEL as \x07, NUL as \x00, ...), with \t,
//     \n and \r in their short forms: a single-line field keeps one line;
//   - DEL (\x7f) and the C1 controls U+0080–U+009F (\u009b is a one-byte
//     CSI on some terminals);
//   - Unicode bidirectional and line/paragraph separator controls, which can
//     make text display in another order than it is stored;
//   - bytes that are not valid UTF-8 (\xff).
//
// Ordinary Unicode (accents, CJK, emoji) and plain spaces are kept.
// Backslashes are kept as they are: the point is that the terminal never
// interprets anything, not that the output can be decoded back.
func CleanN(s string, max int) string {
	if max <= 0 {
		max = int(^uint(0) >> 1)
	}
	if safePrefix(s) == len(s) && utf8.RuneCountInString(s) <= max {
		return s // the common case: nothing to do, no allocation
	}
	var b strings.Builder
	n := 0 // characters written
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := visible(s[i:i+size], r, size)
		w := utf8.RuneCountInString(piece)
		if n+w > max {
			rest := utf8.RuneCountInString(s[i:])
			fmt.Fprintf(&b, "… (%d more %s cut)", rest, plural(rest, "character", "characters"))
			return b.String()
		}
		b.WriteString(piece)
		n += w
		i += size
	}
	return b.String()
}

// Middle returns s cleaned like Clean but, when it is longer than max
// characters, keeps its beginning and its end and cuts the middle. It is
// the form for our own messages that quote a value the user gave: "invalid
// value "…" for --name: want …" keeps what was wrong and what would be
// valid however long the value was.
func Middle(s string, max int) string {
	clean := CleanN(s, 0)
	total := utf8.RuneCountInString(clean)
	if max <= 0 || total <= max {
		return clean
	}
	tail := max / 3
	head := max - tail
	runes := []rune(clean)
	cut := total - head - tail
	return string(runes[:head]) + fmt.Sprintf(" … (%d %s cut) … ", cut, plural(cut, "character", "characters")) + string(runes[total-tail:])
}

// HasControl reports whether s holds anything Clean would make visible: a
// check for tests and for callers that refuse such input outright.
func HasControl(s string) bool { return safePrefix(s) != len(s) }

// safePrefix returns the length of the longest prefix of s that needs no
// escaping.
func safePrefix(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, size) {
			return i
		}
		i += size
	}
	return len(s)
}

func needsEscape(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1:
		return true // invalid UTF-8
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidirectional formatting
	case r == 0x2028, r == 0x2029:
		return true // line and paragraph separators
	}
	return false
}

// visible is the printable form of one decoded rune (raw is its bytes).
func visible(raw string, r rune, size int) string {
	if !needsEscape(r, size) {
		return raw
	}
	switch {
	case r == utf8.RuneError && size <= 1:
		return fmt.Sprintf(`\x%02x`, raw[0])
	case r == '\t':
		return `\t`
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
