package redisbroker

import (
	"context"
	"sync"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// eventsQueue bounds the events channel messages waiting for Redis.
const eventsQueue = 1024

// event is one message of the events channel on its way to the log.
type event struct {
	channel string
	text    []byte
	opts    engine.PublishOptions
}

// forwarder puts the local store's events channel messages
// (docs/PROTOCOL.md §8) in the log, in order, so that the events of every
// process reach the events channel's subscribers in every process. The
// store hands them over without waiting; while Redis cannot be reached
// they are dropped, and the drops are logged.
type forwarder struct {
	e     *Engine
	queue chan event
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newForwarder(e *Engine) *forwarder {
	f := &forwarder{e: e, queue: make(chan event, eventsQueue), quit: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

// take is the store's engine.EventSink.
func (f *forwarder) take(channel string, text []byte, opts engine.PublishOptions) {
	select {
	case f.queue <- event{channel, text, opts}:
	default:
		f.e.logger.Warn("events channel message dropped: too many waiting for Redis")
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
				f.e.logger.Warn("events channel messages were dropped while Redis was unreachable", zap.Int("dropped", dropped))
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
