package cmdutil

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// A wait that gave up because the API stopped answering is an error (1),
// even when the last failure was a client timeout.
func TestExitCodeNoAnswer(t *testing.T) {
	err := fmt.Errorf("waiting: %w", &dfcloud.NoAnswerError{ConnectionID: "c", Polls: 5, Err: context.DeadlineExceeded})
	if got := ExitCode(err); got != ExitError {
		t.Errorf("exit %d, want %d", got, ExitError)
	}
}

func TestArticlesAndNames(t *testing.T) {
	for in, want := range map[string]string{"aws": "an AWS", "azure": "an Azure", "gcp": "a GCP", "": "an unknown-provider"} {
		if got := WithArticle(ProviderName(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if got := ProviderName("x\x1b[2J"); strings.ContainsRune(got, 0x1b) {
		t.Errorf("provider name not cleaned: %q", got)
	}
}

func TestQuoteCuts(t *testing.T) {
	if got := Quote("prod"); got != `"prod"` {
		t.Errorf("%s", got)
	}
	got := Quote(strings.Repeat("x", 100_000))
	if len(got) > 120 || !strings.HasSuffix(got, "(100000 characters in all)") {
		t.Errorf("%d bytes: %.140s", len(got), got)
	}
}
