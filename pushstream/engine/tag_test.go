package engine

import (
	"sync"
	"testing"
)

// TestTagClockConcurrent: publishes of one second taking tags at the same
// time get each tag once, 1 to n; the next second starts again at 1, and
// a publish of an earlier second seen late starts its second again, as
// the store-wide tag of docs/PROTOCOL.md §1.3 does.
func TestTagClockConcurrent(t *testing.T) {
	t.Parallel()
	var c tagClock
	const goroutines, each = 4, 500
	seen := make([]bool, goroutines*each+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				tag := c.next(100)
				mu.Lock()
				if tag < 1 || int(tag) >= len(seen) || seen[tag] {
					t.Errorf("tag %d handed out twice or out of range", tag)
				} else {
					seen[tag] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, tc := range []struct {
		sec, want int64
	}{{101, 1}, {101, 2}, {100, 1}, {101, 1}, {101, 2}} {
		if got := c.next(tc.sec); got != tc.want {
			t.Fatalf("second %d: tag %d, want %d", tc.sec, got, tc.want)
		}
	}
}
