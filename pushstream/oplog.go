package pushstream

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// The operator log: warnings about what an operator should act on,
// written at most once per period each however often the cause repeats.
// Channel ids never appear in them (they may carry user data; the
// per-subscriber debug lines have the details).

// operatorLogPeriod is the shortest time between two lines of one
// warning.
const operatorLogPeriod = time.Minute

var (
	// memoryRefusals reports publishes (and channel creations) refused
	// because shared_memory_size is full: the cause of a publisher's 500.
	memoryRefusals = &rateLimitedWarning{
		message: "push stream publishes refused: shared_memory_size is full",
		period:  operatorLogPeriod,
		now:     time.Now,
	}
	// brokerRefusals reports publishes and deletes the broker could not
	// append, with Redis's error: the cause of a publisher's 503, which
	// may be an outage (the broker logs its start and end too) or a
	// command Redis refused (an ACL without EVALSHA, maxmemory reached).
	brokerRefusals = &rateLimitedWarning{
		message: "push stream publishes or deletes refused: the Redis broker failed",
		period:  operatorLogPeriod,
		now:     time.Now,
	}
	// slowSubscribers reports subscribers closed for falling behind.
	slowSubscribers = &rateLimitedWarning{
		message: "push stream subscribers closed for falling behind",
		period:  operatorLogPeriod,
		now:     time.Now,
	}
)

// noteMemoryRefusal counts a publish the memory cap refused in the
// metrics and the operator log.
func noteMemoryRefusal(logger *zap.Logger, e engine.Engine) {
	rejectPublish(rejectedNoMemory)
	memoryRefusals.note(logger, memoryFields(e)...)
}

// memoryFields are the fields of a memory refusal warning.
func memoryFields(e engine.Engine) []zap.Field {
	fields := []zap.Field{zap.Int64("shared_memory_size", e.Settings().SharedMemorySize)}
	if f, ok := e.(storeFigures); ok {
		fields = append(fields, zap.Int64("memory_used", f.MemoryUsed()))
	}
	return fields
}

// rateLimitedWarning logs the first occurrence of its cause in a period
// at once, and counts the others: the next line, written by the next
// occurrence after the period or by flush, says how many there were
// (`count`) since the previous line.
type rateLimitedWarning struct {
	message string
	period  time.Duration
	now     func() time.Time

	mu      sync.Mutex
	last    time.Time
	pending int64
	logger  *zap.Logger
	fields  []zap.Field
}

// note records one occurrence, logging it with fields through logger
// unless a line was written less than a period ago.
func (w *rateLimitedWarning) note(logger *zap.Logger, fields ...zap.Field) {
	w.mu.Lock()
	w.pending++
	w.logger, w.fields = logger, fields
	now := w.now()
	if now.Sub(w.last) < w.period {
		w.mu.Unlock()
		return
	}
	count := w.take(now)
	w.mu.Unlock()
	logger.Warn(w.message, append(fields, zap.Int64("count", count))...)
}

// flush writes the line for the occurrences counted since the last one,
// if a period has passed since it.
func (w *rateLimitedWarning) flush() {
	w.mu.Lock()
	now := w.now()
	if w.pending == 0 || now.Sub(w.last) < w.period {
		w.mu.Unlock()
		return
	}
	logger, fields := w.logger, w.fields
	count := w.take(now)
	w.mu.Unlock()
	logger.Warn(w.message, append(fields, zap.Int64("count", count))...)
}

// take resets the count for a line written at now and returns it; w.mu
// must be held.
func (w *rateLimitedWarning) take(now time.Time) int64 {
	count := w.pending
	w.pending, w.last = 0, now
	w.logger, w.fields = nil, nil
	return count
}

// operatorLogFlusher writes, once a period, the counts the operator log
// warnings hold. Each config's app runs one from Start to Stop; two at
// once during a reload write each count once all the same.
type operatorLogFlusher struct {
	stop chan struct{}
	done chan struct{}
}

// startOperatorLogFlusher starts a flusher ticking every period.
func startOperatorLogFlusher(period time.Duration, warnings ...*rateLimitedWarning) *operatorLogFlusher {
	f := &operatorLogFlusher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		ticker := time.NewTicker(period)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				for _, w := range warnings {
					w.flush()
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
func (f *operatorLogFlusher) Stop() {
	if f == nil {
		return
	}
	close(f.stop)
	<-f.done
}
