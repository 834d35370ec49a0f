package pushstream

import (
	"sync"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/redisbroker"
)

// storePool keeps the one store of the process across config reloads: each
// config's app holds a reference; the last release destroys the store.
var storePool = caddy.NewUsagePool()

const storePoolKey = "push_stream_store"

// storeHolder is what the pool keeps: the store and, once a config asked
// for Redis, the broker engine around it. Both outlive reloads, so a
// reload that changes the Redis address keeps every subscriber.
type storeHolder struct {
	store *engine.Store

	mu       sync.Mutex
	redis    *redisbroker.Engine
	redisKey string
}

// Destruct disconnects the broker, ends every subscriber and stops the
// store's janitor.
func (h *storeHolder) Destruct() error {
	h.useMemory()
	h.store.Destroy(shutdownTimeout)
	return nil
}

// redisEngine returns the broker engine around the store, creating it
// unconnected if needed.
func (h *storeHolder) redisEngine() *redisbroker.Engine {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.redis == nil {
		h.redis = redisbroker.New(h.store, caddy.Log().Named("push_stream.brokers.redis"))
	}
	return h.redis
}

// useRedis connects the broker engine as cfg says, unless it already is
// with the same configuration (key).
func (h *storeHolder) useRedis(cfg redisbroker.Config, key string, logger *zap.Logger) {
	e := h.redisEngine()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.redisKey == key {
		return
	}
	h.redisKey = key
	logger.Info("sharing channels through Redis", zap.String("address", cfg.Address), zap.String("node", e.Node()))
	e.Connect(cfg)
}

// useMemory closes the broker engine, if any: the store is this process's
// own again.
func (h *storeHolder) useMemory() {
	h.mu.Lock()
	e := h.redis
	h.redis, h.redisKey = nil, ""
	h.mu.Unlock()
	if e != nil {
		e.Close()
	}
}
