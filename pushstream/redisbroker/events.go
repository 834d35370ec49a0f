package redisbroker

import (
	"context"
	"sync"

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
// Redis cannot be reached they are dropped, and the drops are logged.
type forwarder struct {
	e     *Engine
	queue chan event
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
		f.e.logger.Warn("message dropped: too many waiting for Redis", zap.String("kind", "events channel or websocket client"))
	}
}

// run appends the queued events until stop.
func (f *forwarder) run() {
	defer close(f.done)
	dropped := 0
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
			switch {
			case err != nil:
				dropped++
			case dropped > 0:
				f.e.logger.Warn("events channel and websocket client messages were dropped while Redis was unreachable", zap.Int("dropped", dropped))
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
