package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateDir(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	if d, err := StateDir(get); err != nil || d != "/home/u/.local/state/dfpeer" {
		t.Errorf("default: %q %v", d, err)
	}
	env["XDG_STATE_HOME"] = "/x/state"
	if d, err := StateDir(get); err != nil || d != "/x/state/dfpeer" {
		t.Errorf("XDG_STATE_HOME: %q %v", d, err)
	}
	env["XDG_STATE_HOME"] = "relative"
	if _, err := StateDir(get); err == nil || !strings.Contains(err.Error(), "XDG_STATE_HOME") {
		t.Errorf("a relative XDG_STATE_HOME was accepted: %v", err)
	}
}

// A second holder waits, is told who it waits for, and gets in once the
// first is done; a serve holder is refused at once.
func TestOpenStoreLocks(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := OpenStore(ctx, dir, Holder{PID: 1, Command: "dfpeer --sandbox aws connect"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan Holder, 1)
	got := make(chan error, 1)
	go func() {
		second, err := OpenStore(ctx, dir, Holder{PID: 2, Command: "dfpeer --sandbox connections list"}, func(h Holder) { waited <- h })
		if err == nil {
			second.Close()
		}
		got <- err
	}()
	select {
	case h := <-waited:
		if h.PID != 1 || h.Command != "dfpeer --sandbox aws connect" {
			t.Errorf("told it waits for %+v", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second process was not told it waits")
	}
	select {
	case err := <-got:
		t.Fatalf("the second process got in while the first held the state: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	first.Close()
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	served, err := OpenStore(ctx, dir, Holder{PID: 3, Command: "dfpeer sandbox serve", Serve: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	_, err = OpenStore(ctx, dir, Holder{PID: 4, Command: "dfpeer --sandbox connections list"}, func(Holder) { t.Error("waits for serve") })
	var busy *BusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "use the exports it printed") {
		t.Errorf("with serve holding the state: %v", err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	served.Close()
	blocker, _ := OpenStore(ctx, dir, Holder{PID: 5}, nil)
	defer blocker.Close()
	if _, err := OpenStore(ctx2, dir, Holder{PID: 6}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

// The state survives a sandbox's end and comes back in the next; a broken
// file names itself and the way out.
func TestSandboxSaveLoad(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(context.Background(), dir, Holder{PID: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sb, err := Start(Options{Fast: true, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	sb.GCP.AddProject("remembered-project")
	if err := sb.Save(); err != nil {
		t.Fatal(err)
	}
	want := sb.GCP.Snapshot()
	sb.Close()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("state directory holds %d files, want the state and the lock", len(entries))
	}

	again, err := Start(Options{Fast: true, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.GCP.Snapshot(); string(got) != string(want) {
		t.Errorf("GCP state after reload differs:\n%s\nvs\n%s", got, want)
	}

	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Start(Options{Fast: true, Store: store})
	if err == nil || !strings.Contains(err.Error(), "dfpeer sandbox reset") || !strings.Contains(err.Error(), stateFile) {
		t.Errorf("broken state: %v", err)
	}
	if removed, err := store.Reset(); !removed || err != nil {
		t.Errorf("reset: %v %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); !os.IsNotExist(err) {
		t.Errorf("state file after reset: %v", err)
	}
}
