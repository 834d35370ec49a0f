// Package oplog is the operator log's rate limit: a warning about what
// an operator should act on is written at most once per period however
// often its cause repeats, the next line counting the repeats.
package oplog

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// Warning logs the first occurrence of its cause in a period
// at once, and counts the others: the next line, written by the next
// occurrence after the period or by Flush, says how many there were
// (`count`) since the previous line.
type Warning struct {
	// Message is the line's message.
	Message string
	// Period is the shortest time between two lines.
	Period time.Duration
	// Now is the clock.
	Now func() time.Time

	mu      sync.Mutex
	last    time.Time
	pending int64
	logger  *zap.Logger
	fields  []zap.Field
}

// Note records one occurrence, logging it with fields through logger
// unless a line was written less than a period ago.
func (w *Warning) Note(logger *zap.Logger, fields ...zap.Field) {
	w.mu.Lock()
	w.pending++
	w.logger, w.fields = logger, fields
	now := w.Now()
	if now.Sub(w.last) < w.Period {
		w.mu.Unlock()
		return
	}
	count := w.take(now)
	w.mu.Unlock()
	logger.Warn(w.Message, append(fields, zap.Int64("count", count))...)
}

// Flush writes the line for the occurrences counted since the last one,
// if a period has passed since it.
func (w *Warning) Flush() {
	w.mu.Lock()
	now := w.Now()
	if w.pending == 0 || now.Sub(w.last) < w.Period {
		w.mu.Unlock()
		return
	}
	logger, fields := w.logger, w.fields
	count := w.take(now)
	w.mu.Unlock()
	logger.Warn(w.Message, append(fields, zap.Int64("count", count))...)
}

// take resets the count for a line written at now and returns it; w.mu
// must be held.
func (w *Warning) take(now time.Time) int64 {
	count := w.pending
	w.pending, w.last = 0, now
	w.logger, w.fields = nil, nil
	return count
}

// Flusher writes, once a period, the counts the operator log
// warnings hold. Each config's app runs one from Start to Stop; two at
// once during a reload write each count once all the same.
type Flusher struct {
	stop chan struct{}
	done chan struct{}
}

// StartFlusher starts a flusher ticking every period.
func StartFlusher(period time.Duration, warnings ...*Warning) *Flusher {
	f := &Flusher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		ticker := time.NewTicker(period)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				for _, w := range warnings {
					w.Flush()
				}
			case <-f.stop:
				return
			}
		}
	}()
	return f
}

// Stop stops the flusher and waits for its goroutine to end; it may be
// called on a nil flusher.
func (f *Flusher) Stop() {
	if f == nil {
		return
	}
	close(f.stop)
	<-f.done
}
