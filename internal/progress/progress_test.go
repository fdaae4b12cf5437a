package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/iostreams"
	"github.com/dragonflydb/dfpeer/internal/textsafe"
)

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
