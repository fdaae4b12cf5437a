package connectcmd

import (
	"strings"
	"testing"
)

func TestShellWrapKeepsFlagsWithValues(t *testing.T) {
	cmd := "dfpeer aws connect --network demo-aws --vpc-id vpc-0a1b2c3d4e5f60001 --route-table rtb-1 --name app --yes"
	got := shellWrap(cmd, 40)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("not wrapped at 40 columns:\n%s", got)
	}
	var words []string
	for i, l := range lines {
		if len(l) > 39 && strings.Count(l, " ") > 3 {
			t.Errorf("line %d is %d wide: %q", i, len(l), l)
		}
		if i < len(lines)-1 && !strings.HasSuffix(l, " \\") {
			t.Errorf("line %d does not continue: %q", i, l)
		}
		f := strings.Fields(strings.TrimSuffix(l, " \\"))
		if i > 0 && !strings.HasPrefix(f[0], "--") {
			t.Errorf("line %d starts inside a flag's value: %q", i, l)
		}
		words = append(words, f...)
	}
	if strings.Join(words, " ") != cmd {
		t.Errorf("the wrapped command reads %q", strings.Join(words, " "))
	}
	if got := shellWrap(cmd, 0); got != "  "+cmd+"\n" {
		t.Errorf("without a width: %q", got)
	}
}

func TestWrapAtWords(t *testing.T) {
	got := wrap("  ok    sg-1: allow inbound TCP 6379 from 192.168.0.0/16 to every instance", 30, "        ")
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if len(l) > 29 {
			t.Errorf("%q is wider than 29", l)
		}
	}
	if !strings.HasPrefix(strings.Split(got, "\n")[1], "        ") {
		t.Errorf("continuation not indented:\n%s", got)
	}
}
