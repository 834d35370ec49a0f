package pushstream

import (
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/oplog"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/redisbroker"
	"go.uber.org/zap"
)

// beginOperating is the operator's side of an app's Start: it logs the
// store-wide settings this config changes (a reload's effect) and starts
// the operator log's flusher. It runs before the settings are applied.
func (a *App) beginOperating() {
	if changes := settingsChanges(*a.store.Settings(), a.settings); len(changes) > 0 {
		a.logger.Info("push stream settings changed", changes...)
	}
	if a.settings.SharedMemorySize < a.store.MemoryUsed() {
		a.logger.Warn("push stream shared_memory_size is below the memory in use: publishes are refused until enough is freed",
			zap.Int64("shared_memory_size", a.settings.SharedMemorySize), zap.Int64("memory_used", a.store.MemoryUsed()))
	}
	a.flusher = oplog.StartFlusher(operatorLogPeriod, memoryRefusals, brokerRefusals, slowSubscribers, redisbroker.ApplyRefusals)
}

// endOperating stops what beginOperating started.
func (a *App) endOperating() {
	a.flusher.Stop()
	a.flusher = nil
}
