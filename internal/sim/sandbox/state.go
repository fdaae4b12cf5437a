package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The sandbox remembers what earlier dfpeer processes did in a state file,
// so that `connect` in one process and `connections list` in the next see
// one account, as they would against the real services.
//
// Locking: a process holds an exclusive flock on the lock file for as long
// as it uses the sandbox (flock; LockFileEx on Windows) (load at start, save at exit), rather than locking
// around each change. The simulators live in the process and advance their
// timers lazily, so "each change" would mean reloading every simulator on
// every HTTP request and could never carry a running operation from one
// process to another; holding the lock makes every process see a complete,
// consistent account and makes lost updates impossible. Another process
// waits its turn (it says so), and a process that dies loses only its own
// changes: the file on disk is only ever replaced whole (temp + rename).
const (
	stateFile = "sandbox.json"
	lockFile  = "sandbox.lock"
	// stateVersion changes when a saved state can no longer be loaded.
	stateVersion = 1
)

// StateDir is where the sandbox keeps its state: $XDG_STATE_HOME/dfpeer, or
// ~/.local/state/dfpeer when XDG_STATE_HOME is unset (XDG Base Directory
// specification).
func StateDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("XDG_STATE_HOME %q is not an absolute path", d)
		}
		return filepath.Join(d, "dfpeer"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set XDG_STATE_HOME or HOME")
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "dfpeer"), nil
}

// ResetCommand is how `dfpeer sandbox reset` names itself as a Holder.
const ResetCommand = "dfpeer sandbox reset"

// Holder is the process holding the sandbox state, as it wrote itself into
// the lock file.
type Holder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Serve   bool   `json:"serve"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another dfpeer process"
	}
	return fmt.Sprintf("%q (pid %d)", h.Command, h.PID)
}

// BusyError says the state is held by `dfpeer sandbox serve`, which holds
// it until stopped: waiting would be forever.
type BusyError struct {
	Dir    string
	Holder Holder
	Self   Holder
}

func (e *BusyError) Error() string {
	switch {
	case e.Self.Serve:
		return fmt.Sprintf("the sandbox state in %s is already served by %s: stop it first, or pass --fresh to serve a separate, fresh sandbox", e.Dir, e.Holder)
	case e.Self.Command == ResetCommand:
		return fmt.Sprintf("the sandbox state in %s is in use by %s: stop it first (it saves the state when stopped), then reset", e.Dir, e.Holder)
	}
	return fmt.Sprintf("the sandbox state in %s is in use by %s: use the exports it printed instead of --sandbox, or stop it first", e.Dir, e.Holder)
}

// Store is the sandbox's state directory, locked by this process.
type Store struct {
	Dir  string
	lock *os.File
}

// OpenStore takes the lock on dir's sandbox state for self, creating dir
// if needed. While another process holds it, waiting is called once with
// that process and OpenStore waits until it is done or ctx ends; a holder
// that is `sandbox serve` fails at once with a *BusyError.
func OpenStore(ctx context.Context, dir string, self Holder, waiting func(Holder)) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox state: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sandbox state: %w", err)
	}
	told := false
	for {
		locked, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sandbox state: locking %s: %w", f.Name(), err)
		}
		if locked {
			break
		}
		h := readHolder(f)
		if h.Serve {
			f.Close()
			return nil, &BusyError{Dir: dir, Holder: h, Self: self}
		}
		if !told && waiting != nil {
			waiting(h)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Say who holds it, for a process that has to wait. Best effort: the
	// lock is what matters.
	if b, err := json.Marshal(self); err == nil {
		if f.Truncate(0) == nil {
			_, _ = f.WriteAt(append(b, '\n'), 0)
		}
	}
	return &Store{Dir: dir, lock: f}, nil
}

func readHolder(f *os.File) Holder {
	var h Holder
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	_ = json.Unmarshal(b[:n], &h)
	return h
}

// Path is the state file.
func (st *Store) Path() string { return filepath.Join(st.Dir, stateFile) }

// savedState is the state file: one section per simulator.
type savedState struct {
	Version int             `json:"version"`
	SavedAt time.Time       `json:"saved_at"`
	DFCloud json.RawMessage `json:"dfcloud"`
	AWS     json.RawMessage `json:"aws"`
	GCP     json.RawMessage `json:"gcp"`
	Azure   json.RawMessage `json:"azure"`
}

// load reads the saved state; ok is false when there is none yet.
func (st *Store) load() (s savedState, ok bool, err error) {
	b, err := os.ReadFile(st.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("reading the sandbox state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, st.unreadable(err)
	}
	if s.Version != stateVersion {
		return s, false, st.unreadable(fmt.Errorf("version %d, want %d", s.Version, stateVersion))
	}
	return s, true, nil
}

func (st *Store) unreadable(err error) error {
	return fmt.Errorf("the sandbox state %s cannot be loaded (%v); run 'dfpeer sandbox reset' to start afresh", st.Path(), err)
}

// save replaces the state file atomically: a reader (or a crash) sees the
// old file or the new one, never part of one.
func (st *Store) save(s savedState) error {
	s.Version = stateVersion
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(st.Dir, stateFile+".tmp*")
	if err != nil {
		return fmt.Errorf("saving the sandbox state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the sandbox state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the sandbox state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving the sandbox state: %w", err)
	}
	if err := os.Rename(tmp.Name(), st.Path()); err != nil {
		return fmt.Errorf("saving the sandbox state: %w", err)
	}
	if d, err := os.Open(st.Dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Reset deletes the saved state (the lock file stays: removing a lock
// file others may be waiting on would let two processes in at once). It
// reports whether there was any.
func (st *Store) Reset() (bool, error) {
	err := os.Remove(st.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("removing the sandbox state: %w", err)
	}
	return true, nil
}

// Close releases the lock.
func (st *Store) Close() error {
	if st == nil || st.lock == nil {
		return nil
	}
	err := st.lock.Close() // closing the descriptor drops the flock
	st.lock = nil
	return err
}

// commandLine is how a holder is shown to a waiting process: the command
// words only ("dfpeer --sandbox aws connect"), never flag values.
func commandLine(args []string) string {
	words := []string{"dfpeer"}
	for _, a := range args {
		if a == "--sandbox" || !strings.HasPrefix(a, "-") {
			words = append(words, a)
			continue
		}
		break
	}
	return strings.Join(words, " ")
}

// load replaces the seeded state with the saved one, if any.
func (sb *Sandbox) load() error {
	s, ok, err := sb.store.load()
	if err != nil || !ok {
		return err
	}
	// The clouds first: Dragonfly's simulator calls into them.
	for _, part := range []struct {
		name string
		data json.RawMessage
		load func([]byte) error
	}{
		{"AWS", s.AWS, sb.AWS.LoadState},
		{"GCP", s.GCP, sb.GCP.LoadState},
		{"Azure", s.Azure, sb.Azure.LoadState},
		{"Dragonfly Cloud", s.DFCloud, sb.DF.LoadState},
	} {
		if len(part.data) == 0 {
			return sb.store.unreadable(fmt.Errorf("no %s section", part.name))
		}
		if err := part.load(part.data); err != nil {
			return sb.store.unreadable(fmt.Errorf("%s: %w", part.name, err))
		}
	}
	return nil
}

// Save writes the simulators' state to the Store (a no-op without one).
// Operations still running complete first (see gcpsim and azuresim
// SaveState), so call it when the process is done with the sandbox.
func (sb *Sandbox) Save() error {
	if sb.store == nil {
		return nil
	}
	var s savedState
	var err error
	// Dragonfly's first: bringing it up to date may call into the clouds.
	if s.DFCloud, err = sb.DF.SaveState(); err != nil {
		return fmt.Errorf("saving the Dragonfly Cloud simulator: %w", err)
	}
	if s.AWS, err = sb.AWS.SaveState(); err != nil {
		return fmt.Errorf("saving the AWS simulator: %w", err)
	}
	if s.GCP, err = sb.GCP.SaveState(); err != nil {
		return fmt.Errorf("saving the GCP simulator: %w", err)
	}
	if s.Azure, err = sb.Azure.SaveState(); err != nil {
		return fmt.Errorf("saving the Azure simulator: %w", err)
	}
	s.SavedAt = time.Now().UTC()
	return sb.store.save(s)
}
