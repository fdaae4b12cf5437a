package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"prod", "prod"},
		{"", ""},
		{"café 東京 🚀 a b", "café 東京 🚀 a b"},
		{"evil\x1b]0;pwned\x07\x1b[2J", `evil\x1b]0;pwned\x07\x1b[2J`},
		{"ok\rFAKE", `ok\rFAKE`},
		{"two\nlines\tand tab", `two\nlines\tand tab`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 csi \u009b2J nel \u0085", `c1 csi \u009b2J nel \u0085`},
		{"bidi \u202eevil\u202c \u2066x\u2069", `bidi \u202eevil\u202c \u2066x\u2069`},
		{"sep\u2028x", `sep\u2028x`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"replacement \ufffd kept", "replacement \ufffd kept"},
		{`back\slash`, `back\slash`},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCleanCuts(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	got := Clean(long)
	if want := strings.Repeat("a", Max) + "… (99500 more characters cut)"; got != want {
		t.Errorf("Clean(100 KB) = %.80q… (%d chars)", got, len(got))
	}
	// The limit counts characters shown, escapes included.
	got = CleanN(strings.Repeat("\x1b", 10), 8)
	if want := `\x1b\x1b… (8 more characters cut)`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := CleanN("héllo", 5); got != "héllo" {
		t.Errorf("exactly at the limit: %q", got)
	}
	if got := CleanN("héllo!", 5); got != "héllo… (1 more character cut)" {
		t.Errorf("one over: %q", got)
	}
}

func TestMiddle(t *testing.T) {
	msg := `invalid value "` + strings.Repeat("x", 100_000) + `" for --name: want 1-63 letters`
	got := Middle(msg, 300)
	if !strings.HasPrefix(got, `invalid value "xxx`) || !strings.HasSuffix(got, `x" for --name: want 1-63 letters`) {
		t.Errorf("lost the beginning or the end: %q", got)
	}
	if !strings.Contains(got, "characters cut") || utf8.RuneCountInString(got) > 340 {
		t.Errorf("not cut to about 300 characters: %d", utf8.RuneCountInString(got))
	}
	if got := Middle("short\x1b", 300); got != `short\x1b` {
		t.Errorf("short text: %q", got)
	}
}

func TestHasControl(t *testing.T) {
	if HasControl("plain ascii and ünïcode") {
		t.Error("plain text flagged")
	}
	for _, s := range []string{"a\nb", "\x1b", "\u009b", "\xff", "\u202e"} {
		if !HasControl(s) {
			t.Errorf("%q not flagged", s)
		}
	}
}

// FuzzClean: whatever the input, the output holds no character a terminal
// would interpret, is valid UTF-8, is bounded, and leaves safe text alone.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "prod", "evil\x1b]0;pwned\x07\x1b[2J", "\r\n\t", "\u009b\u202e", "\xff", strings.Repeat("é", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if HasControl(got) {
			t.Fatalf("Clean(%q) = %q still has a control character", s, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Clean(%q) = %q is not valid UTF-8", s, got)
		}
		if n := utf8.RuneCountInString(got); n > Max+40 {
			t.Fatalf("Clean of %d bytes gave %d characters", len(s), n)
		}
		if !HasControl(s) && utf8.RuneCountInString(s) <= Max && got != s {
			t.Fatalf("safe text changed: %q -> %q", s, got)
		}
		m := Middle(s, 120)
		if HasControl(m) || utf8.RuneCountInString(m) > 120+40 {
			t.Fatalf("Middle(%q) = %q", s, m)
		}
	})
}
