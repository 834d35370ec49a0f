package pushstream

import (
	"time"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/oplog"
)

// The operator log: warnings about what an operator should act on,
// written at most once per period each however often the cause repeats
// (package oplog).
// Channel ids never appear in them (they may carry user data; the
// per-subscriber debug lines have the details).

// operatorLogPeriod is the shortest time between two lines of one
// warning.
const operatorLogPeriod = time.Minute

var (
	// memoryRefusals reports publishes (and channel creations) refused
	// because shared_memory_size is full: the cause of a publisher's 500.
	memoryRefusals = &oplog.Warning{
		Message: "push stream publishes refused: shared_memory_size is full",
		Period:  operatorLogPeriod,
		Now:     time.Now,
	}
	// brokerRefusals reports publishes and deletes the broker could not
	// append, with Redis's error: the cause of a publisher's 503, which
	// may be an outage (the broker logs its start and end too) or a
	// command Redis refused (an ACL without EVALSHA, maxmemory reached).
	brokerRefusals = &oplog.Warning{
		Message: "push stream publishes or deletes refused: the Redis broker failed",
		Period:  operatorLogPeriod,
		Now:     time.Now,
	}
	// slowSubscribers reports subscribers closed for falling behind.
	slowSubscribers = &oplog.Warning{
		Message: "push stream subscribers closed for falling behind",
		Period:  operatorLogPeriod,
		Now:     time.Now,
	}
)

// noteMemoryRefusal counts a publish the memory cap refused in the
// metrics and the operator log.
func noteMemoryRefusal(logger *zap.Logger, e engine.Engine) {
	rejectPublish(rejectedNoMemory)
	memoryRefusals.Note(logger, memoryFields(e)...)
}

// memoryFields are the fields of a memory refusal warning.
func memoryFields(e engine.Engine) []zap.Field {
	fields := []zap.Field{zap.Int64("shared_memory_size", e.Settings().SharedMemorySize)}
	if f, ok := e.(storeFigures); ok {
		fields = append(fields, zap.Int64("memory_used", f.MemoryUsed()))
	}
	return fields
}
