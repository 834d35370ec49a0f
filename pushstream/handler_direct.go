package pushstream

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/netpoll"
)

// Events of a direct connection besides the poller's.
const (
	evDeliver uint32 = 1 << (8 + iota)
	evTTL
	evPing
	evStall
)

// maxReadsPerEvent bounds the reads one handling does before letting
// deliveries through; the rest is read on the next turn.
const maxReadsPerEvent = 16

// directConn drives one hijacked HTTP/1.1 stream or websocket with no
// goroutine of its own. Whoever has news for it posts an event: the
// poller (readable, writable, hang-up), a publisher (deliveries) or a
// timer (TTL, ping, a write stalled too long). The first to find the
// connection free handles every pending event and the others return at
// once, so a publisher never waits for a subscriber.
//
// Writes never block: what the socket does not take waits in unsent, and
// no delivery is taken from the queue until it has gone out, so a client
// that stops reading fills its bounded queue and is closed as slow, or is
// closed when unsent bytes stall for writeTimeout. The lock is held only
// around non-blocking system calls.
type directConn struct {
	h    *SubscriberHandler
	sub  *Subscriber
	conn net.Conn
	io   *netpoll.Conn
	out  sink
	// client reads websocket frames; nil for streams, whose input is
	// only watched for the end of the connection.
	client *clientFrames

	events atomic.Uint32

	// mu serialises the handling of events; it guards the fields below.
	mu               sync.Mutex
	ended            bool
	unsent           []byte
	held             holdBuffer
	ttl, ping, stall *time.Timer
	lastDelivery     time.Time
}

// clientFrames is the websocket input of a direct connection.
type clientFrames struct {
	reader   frameReader
	input    []byte
	channels []*Channel
}

// start watches c's connection and, before any event is handled,
// runs begin (the opening bytes) and writes the old messages; then it
// hands the subscriber to the store's wake-ups and arms the timers. It
// returns false, having written nothing, when the poller cannot watch
// the connection.
func (c *directConn) start(begin func() error, backlogs [][]*Message) bool {
	poller, err := netpoll.Default()
	if err != nil {
		return false
	}
	c.mu.Lock()
	if c.io, err = poller.Watch(c.conn, c); err != nil {
		c.mu.Unlock()
		return false
	}
	// Like nginx on a long response, leave Nagle's algorithm on: messages
	// that follow each other faster than the client acknowledges share
	// packets instead of costing one each.
	if tcp, ok := c.conn.(interface{ SetNoDelay(bool) error }); ok {
		_ = tcp.SetNoDelay(false)
	}
	if err := begin(); err != nil || writeBacklogs(c.out, backlogs) != nil {
		c.end("write failed", false)
		c.mu.Unlock()
		return true
	}
	if ttl := time.Duration(c.h.SubscriberConnectionTTL); ttl > 0 {
		c.ttl = time.AfterFunc(ttl, func() { c.post(evTTL) })
	}
	if interval := time.Duration(c.h.PingMessageInterval); interval > 0 {
		c.lastDelivery = time.Now()
		c.ping = time.AfterFunc(interval, func() { c.post(evPing) })
	}
	c.sub.Drive(func() { c.post(evDeliver) })
	c.mu.Unlock()
	// Deliveries queued so far, and input that arrived before watching.
	c.post(evDeliver | netpoll.Readable)
	return true
}

// writeBacklogs writes the old messages a subscriber asked for.
func writeBacklogs(out sink, backlogs [][]*Message) error {
	for _, backlog := range backlogs {
		for _, msg := range backlog {
			if err := out.message(msg); err != nil {
				return err
			}
		}
	}
	return nil
}

// OnEvents implements netpoll.Handler.
func (c *directConn) OnEvents(ev uint32) { c.post(ev) }

// post records ev and handles pending events unless someone else is
// handling them, in which case that one sees ev before it lets go.
func (c *directConn) post(ev uint32) {
	c.events.Or(ev)
	for c.events.Load() != 0 && c.mu.TryLock() {
		if ev := c.events.Swap(0); ev != 0 && !c.ended {
			c.handle(ev)
		}
		c.mu.Unlock()
	}
}

// handle acts on pending events; c.mu must be held.
func (c *directConn) handle(ev uint32) {
	if ev&(netpoll.Readable|netpoll.Hangup) != 0 {
		if reason := c.readInput(); reason != "" {
			c.end(reason, false)
			return
		}
	}
	if ev&netpoll.Writable != 0 && c.flushUnsent() != nil {
		c.end("write failed", false)
		return
	}
	switch {
	case ev&evStall != 0 && len(c.unsent) > 0:
		c.end("too slow: write stalled", false)
		return
	case ev&evTTL != 0:
		c.end("ttl", true)
		return
	case ev&evPing != 0:
		interval := time.Duration(c.h.PingMessageInterval)
		if idle := time.Since(c.lastDelivery); idle < interval {
			c.ping.Reset(interval - idle)
			break
		}
		if c.out.ping() != nil {
			c.end("ping write failed", false)
			return
		}
		c.lastDelivery = time.Now()
		c.ping.Reset(interval)
	}
	if ev&(evDeliver|netpoll.Writable) == 0 {
		return
	}
	// Behind a full socket, deliveries wait in the queue; only the
	// subscriber's end is taken at once.
	if len(c.unsent) > 0 && c.sub.Ended() == EndNone {
		return
	}
	batch, end := c.sub.Take()
	// Held pieces keep their own chunks or frames here, so any batch is
	// worth one write.
	if reason, finish := c.h.deliver(c.sub, c.out, batch, end, 2); reason != "" {
		c.end(reason, finish)
		return
	}
	if len(batch) > 0 && c.ping != nil {
		c.lastDelivery = time.Now()
	}
}

// readInput reads what the client sent: websocket frames are answered,
// anything sent on a stream is dropped. It returns why the connection
// ends, or "".
func (c *directConn) readInput() string {
	var discard []byte
	if c.client == nil {
		discard = make([]byte, 512)
	}
	for range maxReadsPerEvent {
		buf := discard
		if c.client != nil {
			if in := c.client.input; cap(in)-len(in) < 512 {
				c.client.input = append(in, make([]byte, 4096)...)[:len(in)]
			}
			buf = c.client.input[len(c.client.input):cap(c.client.input)]
		}
		n, err := c.io.Read(buf)
		if errors.Is(err, syscall.EAGAIN) {
			return c.answerFrames()
		}
		if err != nil || n == 0 {
			return "client gone"
		}
		if c.client != nil {
			c.client.input = c.client.input[:len(c.client.input)+n]
			if reason := c.answerFrames(); reason != "" {
				return reason
			}
		}
	}
	// More may be waiting: come back after other events.
	c.events.Or(netpoll.Readable)
	return ""
}

// answerFrames acts on every complete websocket message of the input and
// keeps an incomplete one for later. It returns why the connection ends,
// or "".
func (c *directConn) answerFrames() string {
	f := c.client
	if f == nil {
		return ""
	}
	for len(f.input) > 0 {
		r := bytes.NewReader(f.input)
		f.reader.r = r
		fragOpen, fragOpcode, fragLen := f.reader.fragOpen, f.reader.fragOpcode, len(f.reader.fragments)
		msg, err := f.reader.next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// An incomplete message: parse it again once the rest is in.
			f.reader.fragOpen, f.reader.fragOpcode = fragOpen, fragOpcode
			f.reader.fragments = f.reader.fragments[:fragLen]
			return ""
		}
		f.input = f.input[len(f.input)-r.Len():]
		reply, done := c.h.answerClient(msg, err, f.channels)
		if reply != nil && c.send(reply, nil, nil) != nil {
			return "write failed"
		}
		if done {
			return "websocket closed"
		}
	}
	// Nothing is kept for an idle connection.
	f.input = nil
	return ""
}

// send implements rawWriter without blocking; c.mu must be held.
func (c *directConn) send(a, b, d []byte) error {
	if c.held.add(a, b, d) {
		return nil
	}
	if len(c.unsent) > 0 {
		c.unsent = append(append(append(c.unsent, a...), b...), d...)
		return nil
	}
	n, err := c.io.Write(a, b, d)
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		return err
	}
	for _, p := range [...][]byte{a, b, d} {
		if n >= len(p) {
			n -= len(p)
			continue
		}
		c.unsent = append(c.unsent, p[n:]...)
		n = 0
	}
	if len(c.unsent) > 0 {
		c.armStall()
	}
	return nil
}

// hold implements rawWriter; c.mu must be held.
func (c *directConn) hold(on bool) error { return c.held.hold(on, c.send) }

// flushUnsent sends what the socket refused before; c.mu must be held.
func (c *directConn) flushUnsent() error {
	if len(c.unsent) == 0 {
		return nil
	}
	n, err := c.io.Write(c.unsent, nil, nil)
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		return err
	}
	c.unsent = c.unsent[n:]
	switch {
	case len(c.unsent) == 0:
		c.unsent = nil
		c.stall.Stop()
	case n > 0:
		c.stall.Reset(writeTimeout)
	}
	return nil
}

// armStall starts the clock on unsent bytes; c.mu must be held.
func (c *directConn) armStall() {
	if c.stall == nil {
		c.stall = time.AfterFunc(writeTimeout, func() { c.post(evStall) })
		return
	}
	c.stall.Reset(writeTimeout)
}

// end finishes the subscriber: with its footer when finish is set, then
// the connection closes. c.mu must be held.
func (c *directConn) end(reason string, finish bool) {
	if finish {
		c.out.finish()
	}
	c.ended = true
	for _, t := range [...]*time.Timer{c.ttl, c.ping, c.stall} {
		if t != nil {
			t.Stop()
		}
	}
	c.io.Unwatch()
	c.h.store.Unregister(c.sub)
	c.h.logEnd(reason)
	unsent := c.unsent
	c.unsent = nil
	if !finish || len(unsent) == 0 {
		_ = c.conn.Close()
		return
	}
	// The footer waits behind bytes the client has not read yet: let
	// them go out within writeTimeout, then close.
	go func() {
		_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, _ = c.conn.Write(unsent)
		_ = c.conn.Close()
	}()
}
