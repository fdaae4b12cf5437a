package dfcloud_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/dfcloudsim"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

// BenchmarkWaitDetectionLag measures how long after a connection turns
// active WaitConnection (real clock, default options) returns. One op is one
// detection; ops run in concurrent batches of 64 (at least one batch, so a
// single run gives a usable distribution), each connection flipped at a
// random moment within the first 1.2 s of its wait, which covers both the
// growing and the capped poll intervals. Reported: mean lag (ms/op), p95
// and max.
func BenchmarkWaitDetectionLag(b *testing.B) {
	const batch = 64
	e := newEnv(b, envConfig{realNow: true})
	ctx := context.Background()
	var lags []time.Duration
	var mu sync.Mutex
	n := 0
	b.ResetTimer()
	for todo := max(b.N, batch); todo > 0; todo -= batch {
		var wg sync.WaitGroup
		for range min(todo, batch) {
			n++
			c, err := e.client.CreateConnection(ctx, awsConfig(fmt.Sprintf("bench-%d", n)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionInactive), dfcloud.WaitOptions{}); err != nil {
				b.Fatal(err)
			}
			flipAfter := time.Duration(rand.Int64N(int64(1200 * time.Millisecond)))
			var flipped time.Time
			var fmu sync.Mutex
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.AfterFunc(flipAfter, func() {
					fmu.Lock()
					flipped = time.Now()
					e.sim.SetConnectionStatus(c.ConnectionID, dfcloudsim.ConnActive, "")
					fmu.Unlock()
				})
				if _, err := e.client.WaitConnection(ctx, c.ConnectionID, dfcloud.StatusIn(dfcloud.ConnectionActive), dfcloud.WaitOptions{}); err != nil {
					b.Error(err)
					return
				}
				done := time.Now()
				fmu.Lock()
				lag := done.Sub(flipped)
				fmu.Unlock()
				mu.Lock()
				lags = append(lags, lag)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, c := range e.sim.Connections() {
			if c.Status != dfcloudsim.ConnDeleted {
				_ = e.client.DeleteConnection(ctx, c.ConnectionID)
			}
		}
	}
	b.StopTimer()
	if len(lags) == 0 {
		return
	}
	slices.Sort(lags)
	var sum time.Duration
	for _, l := range lags {
		sum += l
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(0, "ns/op") // the iteration time says nothing; the lag does
	b.ReportMetric(ms(sum/time.Duration(len(lags))), "ms/op")
	b.ReportMetric(ms(lags[(len(lags)*95)/100]), "p95-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "max-ms")
	b.ReportMetric(float64(len(lags)), "samples")
}

// BenchmarkLongWaitPolls reports what a 15-minute WaitConnection costs with
// the default options: requests per second on average, and the longest gap
// between two polls (how late a change can be seen). It drives the real
// wait against the simulator on a clock that jumps instead of sleeping.
func BenchmarkLongWaitPolls(b *testing.B) {
	e := newEnv(b, envConfig{})
	ctx := context.Background()
	c, err := e.client.CreateConnection(ctx, awsConfig("long-wait"))
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		clock := &jumpClock{now: time.Unix(0, 0)}
		start := clock.Now()
		polls, maxGap, last := 0, time.Duration(0), start
		_, err := e.client.WaitConnection(ctx, c.ConnectionID, func(*dfcloud.Connection) bool {
			polls++
			now := clock.Now()
			maxGap, last = max(maxGap, now.Sub(last)), now
			return now.Sub(start) >= 15*time.Minute
		}, dfcloud.WaitOptions{Clock: clock})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(polls)/clock.Now().Sub(start).Seconds(), "polls/s")
		b.ReportMetric(maxGap.Seconds(), "max-gap-s")
	}
}

// jumpClock advances instantly.
type jumpClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *jumpClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}
