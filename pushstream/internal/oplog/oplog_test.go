package oplog

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestWarning logs the first occurrence at once, counts the
// rest of the period, and reports them with the next line: from the next
// occurrence after the period, or from flush.
func TestWarning(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	logger := zap.New(core)
	clock := &testClock{now: time.Unix(1_000_000, 0)}
	w := &Warning{Message: "refused", Period: time.Minute, Now: clock.Now}
	counts := func() []int64 {
		var c []int64
		for _, e := range logs.AllUntimed() {
			c = append(c, e.ContextMap()["count"].(int64))
		}
		return c
	}
	want := func(when string, expected ...int64) {
		t.Helper()
		got := counts()
		if len(got) != len(expected) {
			t.Fatalf("%s: lines with counts %v, want %v", when, got, expected)
		}
		for i := range got {
			if got[i] != expected[i] {
				t.Fatalf("%s: lines with counts %v, want %v", when, got, expected)
			}
		}
	}

	w.Note(logger, zap.Int64("memory_used", 1))
	want("first occurrence", 1)
	for range 4 {
		clock.Add(time.Second)
		w.Note(logger)
	}
	w.Flush()
	want("within the period", 1)
	clock.Add(time.Minute)
	w.Flush()
	want("flushed after the period", 1, 4)
	w.Flush()
	want("nothing pending", 1, 4)
	clock.Add(time.Minute)
	w.Note(logger)
	want("next occurrence after the period", 1, 4, 1)
	if e := logs.AllUntimed()[0]; e.Level != zap.WarnLevel || e.Message != "refused" || e.ContextMap()["memory_used"] != int64(1) {
		t.Fatalf("first line: %v %q %v", e.Level, e.Message, e.ContextMap())
	}
}

// TestFlusherStops flushes a pending count on a tick, then
// stops the flusher's goroutine.
func TestFlusherStops(t *testing.T) {
	t.Parallel()
	core, _ := observer.New(zap.InfoLevel)
	logged := make(chan struct{}, 2)
	logger := zap.New(core, zap.Hooks(func(zapcore.Entry) error {
		logged <- struct{}{}
		return nil
	}))
	clock := &testClock{now: time.Unix(1_000_000, 0)}
	w := &Warning{Message: "slow", Period: time.Minute, Now: clock.Now}
	w.Note(logger)
	<-logged
	w.Note(logger)
	clock.Add(time.Minute)
	f := StartFlusher(time.Millisecond, w)
	<-logged
	f.Stop()
	var nilFlusher *Flusher
	nilFlusher.Stop()
}
