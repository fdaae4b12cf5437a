// Package archtest holds tests of the code's shape: which packages may
// depend on which.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreImportsNoCLI keeps the flow, the providers and the simulators
// free of the command layer: they return typed values (plans, refusals)
// and the commands turn them into terminal output, flag names and exit
// codes. A violation here usually means a message naming a flag, or a
// rendering, moved to the wrong side.
func TestCoreImportsNoCLI(t *testing.T) {
	forbidden := []string{
		"github.com/spf13/cobra",
		"github.com/charmbracelet/huh",
		"github.com/dragonflydb/dfpeer/internal/prompt",
		"github.com/dragonflydb/dfpeer/internal/iostreams",
		"github.com/dragonflydb/dfpeer/internal/cmdutil",
		"github.com/dragonflydb/dfpeer/internal/progress",
	}
	for _, pattern := range []string{"./internal/peering/...", "./internal/provider/...", "./internal/sim/..."} {
		cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}`, "../../"+strings.TrimPrefix(pattern, "./"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pattern, err, out)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		own := "github.com/dragonflydb/dfpeer/" + strings.TrimSuffix(strings.TrimPrefix(pattern, "./"), "/...")
		listed := false
		for d := range deps {
			listed = listed || d == own || strings.HasPrefix(d, own+"/")
		}
		if !listed {
			t.Fatalf("go list -deps %s did not list %s itself: the check reads nothing", pattern, own)
		}
		for _, f := range forbidden {
			if deps[f] {
				t.Errorf("%s depends on %s; it must not (see internal/problem for typed refusals)", pattern, f)
			}
		}
	}
}
