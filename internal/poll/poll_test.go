package poll

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

// fakeClock advances instantly: After fires at once and moves Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	c.mu.Unlock()
	return ch
}

// Over a 15-minute wait the default schedule averages at most one request
// a second, and a change at any moment is seen within max(0.5 s, 10% of the
// time waited) and never later than 2 s.
func TestLongWaitSchedule(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	start := clock.Now()
	var polls []time.Time
	err := Until(context.Background(), Options{Clock: clock}, func(context.Context) (bool, error) {
		polls = append(polls, clock.Now())
		return clock.Now().Sub(start) >= 15*time.Minute, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := polls[len(polls)-1].Sub(start)
	if rate := float64(len(polls)) / total.Seconds(); rate > 1 {
		t.Errorf("%d polls in %s: %.2f/s, want at most 1/s", len(polls), total, rate)
	}
	for i := 1; i < len(polls); i++ {
		gap := polls[i].Sub(polls[i-1])
		waited := polls[i-1].Sub(start)
		if gap > 2*time.Second || gap > max(DefaultMax, waited/10) {
			t.Fatalf("poll %d came %s after the previous one, %s into the wait", i, gap, waited)
		}
	}
}

func TestTimeoutIsTyped(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	err := Until(context.Background(), Options{Clock: clock, Timeout: time.Second, What: "op-1 to be DONE", Hint: "run it again"},
		func(context.Context) (bool, error) { return false, Retry(errors.New("503 busy")) })
	var te *problem.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.Hint != "run it again" {
		t.Fatalf("got %v", err)
	}
	if want := "op-1 to be DONE"; !contains(err.Error(), want) || !contains(err.Error(), "503 busy") {
		t.Errorf("%q does not say what was waited for and the last error", err)
	}
}

func TestErrorEndsAtOnce(t *testing.T) {
	calls := 0
	boom := errors.New("boom")
	err := Until(context.Background(), Options{Clock: &fakeClock{}}, func(context.Context) (bool, error) { calls++; return false, boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
