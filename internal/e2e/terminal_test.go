package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/dragonflydb/dfpeer/internal/iostreams/screentest"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

const spinnerRunes = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

// colourSGR matches an SGR sequence that sets a foreground or background
// colour (bold and reverse are allowed under NO_COLOR).
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.buf.String()
}

// A full sandbox run at 80x24 and at 60 columns leaves exactly what a user
// should see in the scrollback: finished steps, no stacked copies of the
// live line. Before the live line was cut to the terminal's width, an
// Azure run at 80x24 left 67 copies. The screen is emulated (wrap at the
// margin, \r, erase-line) over everything the terminal received.
func TestProgressLeavesNoStackedLines(t *testing.T) {
	runs := []struct {
		name string
		args []string
	}{
		{"azure", []string{"--sandbox", "azure", "connect", "--network", "demo-azure", "--vnet", "app-vnet", "--yes", "--no-input"}},
		{"gcp", []string{"--sandbox", "gcp", "connect", "--network", "demo-gcp", "--vpc", "app-network", "--yes", "--no-input"}},
	}
	for _, r := range runs {
		for _, cols := range []uint16{80, 60} {
			t.Run(fmt.Sprintf("%s/%dx24", r.name, cols), func(t *testing.T) {
				environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm-256color"}
				tm := startPTYWith(t, ptyOptions{cols: cols, rows: 24}, environ, r.args...)
				if code := tm.wait(); code != 0 {
					t.Fatalf("exit %d:\n%s", code, tm.output())
				}
				raw := tm.output()
				// The live renderer really ran and redrew: otherwise there
				// would be nothing to stack.
				redraws := strings.Count(raw, "\r\x1b[K")
				if redraws < 10 {
					t.Fatalf("only %d redraws; was the live line used?\n%s", redraws, raw)
				}
				// Every live line fits without reaching the last column.
				wide, first := 0, ""
				for _, seg := range strings.Split(raw, "\r\x1b[K") {
					line, _, _ := strings.Cut(seg, "\r")
					line, _, _ = strings.Cut(line, "\n")
					if strings.ContainsAny(line, spinnerRunes) && ansi.StringWidth(line) > int(cols)-1 {
						if wide++; wide == 1 {
							first = line
						}
					}
				}
				if wide > 0 {
					t.Errorf("%d live lines wider than %d columns, first %d wide: %q", wide, cols-1, ansi.StringWidth(first), first)
				}
				scr := screentest.New(int(cols), 24)
				scr.Write([]byte(raw))
				stacked := 0
				for _, l := range scr.Lines() {
					if strings.ContainsAny(l, spinnerRunes) {
						stacked++
					}
				}
				t.Logf("%s at %d columns: %d redraws, %d rows in the scrollback, %d stacked progress rows", r.name, cols, redraws, len(scr.Lines()), stacked)
				if stacked != 0 {
					t.Errorf("%d stacked progress rows left in the scrollback", stacked)
					t.Logf("scrollback:\n%s", scr)
				}
				if n := scr.Count("✓ Waiting for the connection to become active"); n != 1 {
					t.Errorf("%d rows of the finished wait, want 1:\n%s", n, scr)
				}
			})
		}
	}
}

// With NO_COLOR the focused button of the confirmation is marked in text,
// the marker follows the arrow keys, and the text cursor shows without
// colour.
func TestNoColorShowsFocus(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	environ := append(env(t, sb), "NO_COLOR=1")
	tm := startPTY(t, environ, "aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC,
		"--route-table", sb.Demo.AWSApp.MainRouteTableID, "--security-group", sb.Demo.AWSApp.DefaultSecurityGroupID)
	tm.expect("Connection name")
	tm.expect("app-vpc-demo-aws_") // the cursor, at the end of the default
	tm.send("\r")
	tm.expect("Make these changes?")
	tm.expect("> Yes")
	if row := confirmRow(tm); !strings.Contains(row, "> Yes") || strings.Contains(row, "> No") {
		t.Fatalf("focus on Yes not shown: %q", row)
	}
	tm.send("\x1b[C") // → moves the focus to No
	tm.expect("> No")
	if row := confirmRow(tm); !strings.Contains(row, "> No") || strings.Contains(row, "> Yes") {
		t.Fatalf("focus on No not shown: %q", row)
	}
	tm.send("\r")
	if code := tm.wait(); code != 130 {
		t.Fatalf("answering No: exit %d\n%s", code, tm.output())
	}
	if n := len(sb.DF.Connections()); n != 0 {
		t.Fatalf("%d connections after answering No", n)
	}
	if m := colourSGR.FindString(tm.output()); m != "" {
		t.Errorf("colour code %q under NO_COLOR", m)
	}
}

// confirmRow is the screen row holding the Yes/No buttons now.
func confirmRow(tm *term) string {
	scr := screentest.New(120, 40)
	scr.Write([]byte(tm.output()))
	row := ""
	for _, l := range scr.Lines() {
		if strings.Contains(l, "Yes") && strings.Contains(l, "No") && !strings.Contains(l, "toggle") {
			row = l
		}
	}
	return row
}

// `dfpeer … > out.txt` at a terminal: the summary in the file has no
// escape codes while the progress on the terminal keeps its colour.
func TestStdoutToFileHasNoEscapes(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	out, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tm := startPTYWith(t, ptyOptions{stdout: out}, env(t, sb), "aws", "connect", "--network", "demo-aws", "--vpc-id", sandbox.DemoAWSVPC, "--yes", "--no-input")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d\n%s", code, tm.output())
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "Connection app-vpc-demo-aws") {
		t.Fatalf("no summary in the file:\n%s", data)
	}
	if strings.Contains(string(data), "\x1b") {
		t.Fatalf("escape codes in the file: %q", data)
	}
	if !strings.Contains(string(data), "✓ Connection app-vpc-demo-aws") {
		t.Errorf("the summary lost its icon:\n%s", data)
	}
	if !strings.Contains(tm.output(), "\x1b[32m✓") {
		t.Errorf("the terminal (stderr) lost its colour:\n%q", tm.output())
	}
}

// TERM=dumb: questions come line by line, Enter keeps the default name,
// typing the number of a pre-ticked route table keeps it ticked, and
// nothing is redrawn or coloured.
func TestDumbTerminalRun(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	var environ []string
	for _, kv := range env(t, sb) {
		if !strings.HasPrefix(kv, "TERM=") {
			environ = append(environ, kv)
		}
	}
	tm := startPTY(t, append(environ, "TERM=dumb"), "aws", "connect")
	tm.expect("Dragonfly Cloud network")
	tm.expect("[1]: ")
	tm.send("\r")
	tm.expect("VPC to peer")
	tm.expect("[1]: ")
	tm.send("\r")
	tm.expect("Route tables to add the route to")
	tm.expect("1. [x] " + sb.Demo.AWSApp.MainRouteTableID)
	tm.expect("[1 2]: ")
	tm.send("1\r") // the main table, ticked already: stays ticked
	tm.expect("Security groups to open TCP 6379 in")
	tm.expect("[1]: ")
	tm.send("\r")
	tm.expect("Connection name [app-vpc-demo-aws]: ")
	tm.send("\r")
	tm.expect("Make these changes? [Y/n]: ")
	tm.send("\r")
	if code := tm.wait(); code != 0 {
		t.Fatalf("exit %d\n%s", code, tm.output())
	}
	conns := sb.DF.Connections()
	if len(conns) != 1 || conns[0].Config.Name != "app-vpc-demo-aws" || conns[0].Status != "active" {
		t.Fatalf("connections %+v", conns)
	}
	routed := func(rt string) bool {
		routes, _ := sb.AWS.RouteTable(rt)
		for _, r := range routes {
			if r.Destination == "192.168.0.0/16" && r.Target == conns[0].PeerConnectionID {
				return true
			}
		}
		return false
	}
	if !routed(sb.Demo.AWSApp.MainRouteTableID) || routed(sb.Demo.AWSPrivateRT) {
		t.Errorf("typed 1: main table routed %v, private table routed %v", routed(sb.Demo.AWSApp.MainRouteTableID), routed(sb.Demo.AWSPrivateRT))
	}
	raw := tm.output()
	if strings.Contains(raw, "\x1b") {
		t.Errorf("escape sequence on a dumb terminal: %q", raw)
	}
	if strings.Contains(strings.ReplaceAll(raw, "\r\n", "\n"), "\r") {
		t.Errorf("a \\r redraw on a dumb terminal: %q", raw)
	}
	if !strings.Contains(raw, "✓ Waiting for the connection to become active") {
		t.Errorf("no plain progress lines:\n%s", raw)
	}
}

// TERM=dumb: Ctrl-C at a question (SIGINT, the terminal is in line mode)
// cancels with exit 130 and changes nothing.
func TestDumbTerminalCtrlC(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	var environ []string
	for _, kv := range env(t, sb) {
		if !strings.HasPrefix(kv, "TERM=") {
			environ = append(environ, kv)
		}
	}
	tm := startPTY(t, append(environ, "TERM=dumb"), "aws", "connect", "--network", "demo-aws")
	tm.expect("VPC to peer")
	tm.expect("[1]: ")
	tm.send("\x03")
	if code := tm.wait(); code != 130 {
		t.Fatalf("exit %d\n%s", code, tm.output())
	}
	if n := len(sb.DF.Connections()); n != 0 {
		t.Fatalf("%d connections after Ctrl-C", n)
	}
}
