package transport

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport/internal/netpoll"
)

// WriteTimeout bounds how long written bytes may wait for a client that
// does not read, so that a dead peer is noticed.
const WriteTimeout = 30 * time.Second

// Reasons a Conn gives Session.End when it ends a connection itself.
const (
	EndTTL          = "ttl"
	EndClientGone   = "client gone"
	EndWriteFailed  = "write failed"
	EndWriteStalled = "too slow: write stalled"
	EndPingFailed   = "ping write failed"
)

// Events of a Conn besides the poller's.
const (
	evDeliver uint32 = 1 << (8 + iota)
	evTTL
	evPing
	evStall
)

// maxReadsPerEvent bounds the reads one handling does before letting
// deliveries through; the rest is read on the next turn.
const maxReadsPerEvent = 16

// defaultReadSize is the size of one read of client input unless
// Options say otherwise.
const defaultReadSize = 512

// Options are a Conn's timers; zero disables one.
type Options struct {
	// TTL ends the connection, with the session's Finish, this long
	// after Start.
	TTL time.Duration
	// PingInterval has the session Ping after this long without output.
	PingInterval time.Duration
	// ReadSize is the size of one read of client input; zero means 512
	// bytes, enough where input only tells that the client left. Each
	// readable event allocates it anew, so idle connections hold none.
	ReadSize int
}

// Available tells whether Conns can run here: the poller exists on this
// platform and started.
func Available() bool {
	_, err := netpoll.Default()
	return err == nil
}

// Conn drives one hijacked connection with no goroutine of its own.
// Whoever has news for it posts an event: the poller (readable, writable,
// hang-up), Wake (output pending) or a timer (TTL, ping, a write stalled
// too long). The first to find the Conn free handles every pending event
// and the others return at once, so the caller of Wake never waits for the
// client.
//
// Writes never block: what the socket does not take waits in unsent, and
// the session is not asked to Deliver until it has gone out, so output
// waits where the session keeps it (a bounded queue) and a client that
// stops reading is closed when unsent bytes stall for WriteTimeout. The
// lock is held only around non-blocking system calls.
type Conn struct {
	conn    net.Conn
	opts    Options
	io      *netpoll.Conn
	session Session

	events atomic.Uint32

	// mu serialises the handling of events; it guards the fields below.
	mu               sync.Mutex
	ended            bool
	unsent           []byte
	held             holdBuffer
	ttl, ping, stall *time.Timer
	lastOutput       time.Time
}

// NewConn returns a Conn for a hijacked connection.
func NewConn(conn net.Conn, opts Options) *Conn {
	return &Conn{conn: conn, opts: opts}
}

// Start watches the connection with session and, before any event is
// handled, lets it Begin; then it arms the timers. It returns false,
// having written nothing, when the poller cannot watch the connection
// (not a socket, no poller here): the caller keeps it.
func (c *Conn) Start(session Session) bool {
	poller, err := netpoll.Default()
	if err != nil {
		return false
	}
	c.mu.Lock()
	c.session = session
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
	if reason := session.Begin(); reason != "" {
		c.end(reason, false)
		c.mu.Unlock()
		return true
	}
	if ttl := c.opts.TTL; ttl > 0 {
		c.ttl = time.AfterFunc(ttl, func() { c.post(evTTL) })
	}
	if interval := c.opts.PingInterval; interval > 0 {
		c.lastOutput = time.Now()
		c.ping = time.AfterFunc(interval, func() { c.post(evPing) })
	}
	c.mu.Unlock()
	// Output pending so far, and input that arrived before watching.
	c.post(evDeliver | netpoll.Readable)
	return true
}

// Wake tells the Conn that the session has output pending. It never
// blocks.
func (c *Conn) Wake() { c.post(evDeliver) }

// OnEvents implements netpoll.Handler.
func (c *Conn) OnEvents(ev uint32) { c.post(ev) }

// post records ev and handles pending events unless someone else is
// handling them, in which case that one sees ev before it lets go.
func (c *Conn) post(ev uint32) {
	c.events.Or(ev)
	for c.events.Load() != 0 && c.mu.TryLock() {
		if ev := c.events.Swap(0); ev != 0 && !c.ended {
			c.handle(ev)
		}
		c.mu.Unlock()
	}
}

// handle acts on pending events; c.mu must be held.
func (c *Conn) handle(ev uint32) {
	if ev&(netpoll.Readable|netpoll.Hangup) != 0 {
		if reason := c.readInput(); reason != "" {
			c.end(reason, false)
			return
		}
	}
	if ev&netpoll.Writable != 0 && c.flushUnsent() != nil {
		c.end(EndWriteFailed, false)
		return
	}
	switch {
	case ev&evStall != 0 && len(c.unsent) > 0:
		c.end(EndWriteStalled, false)
		return
	case ev&evTTL != 0:
		// Output queued before the TTL fired goes out before the closing
		// bytes, as nginx writes a message when it is published.
		if ev&evDeliver != 0 && len(c.unsent) == 0 {
			if _, reason, finish := c.session.Deliver(); reason != "" {
				c.end(reason, finish)
				return
			}
		}
		c.end(EndTTL, true)
		return
	case ev&evPing != 0:
		interval := c.opts.PingInterval
		if idle := time.Since(c.lastOutput); idle < interval {
			c.ping.Reset(interval - idle)
			break
		}
		if c.session.Ping() != nil {
			c.end(EndPingFailed, false)
			return
		}
		c.lastOutput = time.Now()
		c.ping.Reset(interval)
	}
	if ev&(evDeliver|netpoll.Writable) == 0 {
		return
	}
	// Behind a full socket, output waits with the session; only its end
	// is taken at once.
	if len(c.unsent) > 0 && !c.session.Ending() {
		return
	}
	wrote, reason, finish := c.session.Deliver()
	if reason != "" {
		c.end(reason, finish)
		return
	}
	if wrote && c.ping != nil {
		c.lastOutput = time.Now()
	}
}

// readInput hands what the client sent to the session. It returns why
// the connection ends, or "".
func (c *Conn) readInput() string {
	size := c.opts.ReadSize
	if size <= 0 {
		size = defaultReadSize
	}
	buf := make([]byte, size)
	for range maxReadsPerEvent {
		n, err := c.io.Read(buf)
		if errors.Is(err, syscall.EAGAIN) {
			return ""
		}
		if err != nil || n == 0 {
			return EndClientGone
		}
		if reason := c.session.Input(buf[:n]); reason != "" {
			return reason
		}
	}
	// More may be waiting: come back after other events.
	c.events.Or(netpoll.Readable)
	return ""
}

// Send implements RawWriter without blocking; it is for the session,
// which runs with c.mu held.
func (c *Conn) Send(a, b, d []byte) error {
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

// Hold implements RawWriter; it is for the session, which runs with c.mu
// held.
func (c *Conn) Hold(on bool) error { return c.held.hold(on, c.Send) }

// flushUnsent sends what the socket refused before; c.mu must be held.
func (c *Conn) flushUnsent() error {
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
		c.stall.Reset(WriteTimeout)
	}
	return nil
}

// armStall starts the clock on unsent bytes; c.mu must be held.
func (c *Conn) armStall() {
	if c.stall == nil {
		c.stall = time.AfterFunc(WriteTimeout, func() { c.post(evStall) })
		return
	}
	c.stall.Reset(WriteTimeout)
}

// end ends the connection: with the session's closing bytes when finish
// is set, then the connection closes. c.mu must be held.
func (c *Conn) end(reason string, finish bool) {
	if finish {
		c.session.Finish()
	}
	c.ended = true
	for _, t := range [...]*time.Timer{c.ttl, c.ping, c.stall} {
		if t != nil {
			t.Stop()
		}
	}
	c.io.Unwatch()
	c.session.Closed(reason)
	unsent := c.unsent
	c.unsent = nil
	if !finish || len(unsent) == 0 {
		_ = c.conn.Close()
		return
	}
	// The closing bytes wait behind bytes the client has not read yet:
	// let them go out within WriteTimeout, then close.
	go func() {
		_ = c.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
		_, _ = c.conn.Write(unsent)
		_ = c.conn.Close()
	}()
}
