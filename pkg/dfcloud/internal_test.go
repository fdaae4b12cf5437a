package dfcloud

import (
	"testing"
	"time"
)

func TestBackoffFullJitter(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	caps := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, c := range caps {
		ceiling := c * time.Millisecond
		var maxSeen time.Duration
		var sum time.Duration
		const n = 2000
		for range n {
			d := p.backoff(i + 1)
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: %v outside [0, %v]", i+1, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
			sum += d
		}
		// Full jitter spreads delays over the whole range.
		if mean := sum / n; mean < ceiling*4/10 || mean > ceiling*6/10 || maxSeen < ceiling*9/10 {
			t.Fatalf("attempt %d: mean %v max %v for cap %v: not uniform", i+1, mean, maxSeen, ceiling)
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	p := RetryPolicy{}.withDefaults()
	if p != DefaultRetryPolicy {
		t.Fatalf("%+v", p)
	}
	if p := (RetryPolicy{MaxAttempts: 1, BaseDelay: time.Second, MaxDelay: time.Millisecond}).withDefaults(); p.MaxAttempts != 1 || p.MaxDelay != time.Second {
		t.Fatalf("%+v", p)
	}
}
