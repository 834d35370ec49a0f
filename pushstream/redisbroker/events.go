package redisbroker

import (
	"context"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// forwardQueue bounds the messages waiting for Redis in a forwarder.
const forwardQueue = 1024

// event is one message on its way to the log without a caller waiting.
type event struct {
	channel string
	text    []byte
	opts    engine.PublishOptions
}

// forwarder puts messages whose publisher does not wait in the log, in
// order: the local store's events channel messages (docs/PROTOCOL.md §8),
// so that the events of every process reach the events channel's
// subscribers in every process, and websocket clients' messages, which
// are read on the poller's goroutine and must not wait for Redis. While
// Redis cannot be reached, or while the queue is full, they are dropped,
// and the drops are logged with a count once Redis takes one again.
type forwarder struct {
	e     *Engine
	queue chan event
	full  atomic.Int64 // dropped for a full queue, not yet logged
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newForwarder(e *Engine) *forwarder {
	f := &forwarder{e: e, queue: make(chan event, forwardQueue), quit: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

// take is the store's engine.EventSink.
func (f *forwarder) take(channel string, text []byte, opts engine.PublishOptions) {
	select {
	case f.queue <- event{channel, text, opts}:
	default:
		f.full.Add(1)
	}
}

// run appends the queued events until stop.
func (f *forwarder) run() {
	defer close(f.done)
	var dropped int64
	for {
		select {
		case <-f.quit:
			return
		case ev := <-f.queue:
			l := f.e.current()
			if l == nil {
				dropped++
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.cfg.WriteTimeout+l.cfg.ReadTimeout)
			_, err := appendEntry(ctx, l.client, l.keys, f.e.Store.Settings(), opPublish, ev.channel, ev.text, ev.opts, "")
			cancel()
			if err != nil {
				dropped++
				continue
			}
			if dropped += f.full.Swap(0); dropped > 0 {
				f.e.logger.Warn("events channel and websocket client messages were dropped: Redis was unreachable or too slow", zap.Int64("dropped", dropped))
				dropped = 0
			}
		}
	}
}

// stop ends run; it is safe to call more than once.
func (f *forwarder) stop() {
	f.once.Do(func() { close(f.quit) })
	<-f.done
}
