package simstate

import (
	"bytes"
	"math/rand"
	"net/netip"
	"sync"
	"testing"
	"time"
)

type rec struct {
	name  string
	when  time.Time
	cidr  netip.Prefix
	hash  [4]byte
	extra []map[string]any
	run   func()
}

type world struct {
	opts  string // skipped: runtime wiring
	mu    sync.Mutex
	rng   *rand.Rand
	byID  map[string]*rec
	order []*rec // the same records as byID
	seq   uint64
	neg   int32
	ok    bool
}

func newWorld() *world {
	return &world{opts: "runtime", rng: rand.New(rand.NewSource(7)), byID: map[string]*rec{}}
}

func TestRoundTripKeepsIdentityTimeAndRNG(t *testing.T) {
	a := newWorld()
	r := &rec{name: "a", when: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), cidr: netip.MustParsePrefix("10.0.0.0/16"),
		hash: [4]byte{1, 2, 3, 255}, extra: []map[string]any{{"reason": "x", "n": 1.5}}, run: func() {}}
	a.byID["a"] = r
	a.order = []*rec{r}
	a.seq, a.neg, a.ok = 1<<63+5, -7, true
	a.mu.Lock()   // a held mutex is not saved, nor copied into the target
	a.rng.Int63() // move the generator along
	data, err := Encode(a, "opts")
	if err != nil {
		t.Fatal(err)
	}
	b := newWorld()
	b.opts = "other"
	if err := Decode(data, b, "opts"); err != nil {
		t.Fatal(err)
	}
	a.mu.Unlock()
	if !b.mu.TryLock() {
		t.Error("the target's mutex came back locked")
	}
	if b.opts != "other" {
		t.Errorf("skipped field was overwritten: %q", b.opts)
	}
	if b.byID["a"] != b.order[0] {
		t.Error("two references to one record became two records")
	}
	got := b.byID["a"]
	if got.name != "a" || !got.when.Equal(r.when) || got.cidr != r.cidr || got.hash != r.hash || got.extra[0]["reason"] != "x" || got.run != nil {
		t.Errorf("record = %+v, want %+v (without run)", got, r)
	}
	if b.seq != a.seq || b.neg != a.neg || !b.ok {
		t.Errorf("numbers = %d %d %v", b.seq, b.neg, b.ok)
	}
	if x, y := a.rng.Int63(), b.rng.Int63(); x != y {
		t.Errorf("generator did not continue: %d vs %d", x, y)
	}
	again, err := Encode(b, "opts")
	if err != nil {
		t.Fatal(err)
	}
	// Both generators have drawn once more; encode a again to compare.
	first, _ := Encode(a, "opts")
	if !bytes.Equal(first, again) {
		t.Errorf("encode(decode(x)) != x:\n%s\n%s", first, again)
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	if err := Decode([]byte(`{"seq": "not a number"}`), newWorld()); err == nil {
		t.Error("a string for a number was accepted")
	}
	if err := Decode([]byte(`{"order": [{"$ref": 9}]}`), newWorld()); err == nil {
		t.Error("a dangling reference was accepted")
	}
}
