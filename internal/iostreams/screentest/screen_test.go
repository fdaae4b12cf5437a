package screentest

import "testing"

func TestRedrawInPlace(t *testing.T) {
	s := New(10, 5)
	s.Write([]byte("ab\r\x1b[Kcd\r\x1b[Kef\n"))
	if got := s.String(); got != "ef" {
		t.Fatalf("%q", got)
	}
}

// A line wider than the screen wraps, and \r only returns to the start of
// the last row: the copy above stays, as on a real terminal.
func TestWrapLeavesCopies(t *testing.T) {
	s := New(5, 5)
	s.Write([]byte("abcdefg\r\x1b[Kabcdefg\r\x1b[Kx\n"))
	if got := s.Count("abcde"); got != 2 {
		t.Fatalf("%d rows with abcde:\n%s", got, s)
	}
}

func TestWideCharactersAndCursorUp(t *testing.T) {
	s := New(4, 5)
	s.Write([]byte("日本語"))
	if got := s.Lines(); len(got) != 2 || got[0] != "日本" || got[1] != "語" {
		t.Fatalf("%q", got)
	}
	s.Write([]byte("\x1b[1A\r\x1b[2Kxy"))
	if got := s.Lines(); got[0] != "xy" {
		t.Fatalf("%q", got)
	}
}
