package pushstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/netpoll"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sink writes one subscriber's output in its mode's framing.
type sink interface {
	// message writes a formatted message (and its padding).
	message(msg *Message) error
	// ping writes the mode's ping.
	ping() error
	// finish writes the footer and ends the response or connection.
	finish()
	// hold buffers later writes until it is called with false, which sends
	// them in one go.
	hold(on bool) error
}

// coalesceMin is how many deliveries a subscriber must be behind before
// its writes are coalesced. A subscriber that keeps up gets one chunk (or
// frame write) per message, as nginx sends them; one that fell behind
// catches up with one write for the whole batch instead of one system call
// per message.
const coalesceMin = 16

// serveStream runs a streaming or eventsource subscriber (PROTOCOL.md §6.1,
// §6.4). On plain HTTP/1.1 the connection leaves net/http for the poller;
// otherwise the request goroutine serves it.
func (h *SubscriberHandler) serveStream(w http.ResponseWriter, r *http.Request, channels []*Channel, refs []ChannelRef, sel Selection) {
	sub, backlogs, rerr := h.subscribe(channels, refs, &sel)
	if rerr != nil {
		writeHeaderOnly(w, rerr.status, rerr.explain)
		return
	}
	contentType := h.contentType
	if h.mode == ModeEventSource {
		contentType = eventSourceContentType
	}
	w.Header()["Content-Type"] = []string{contentType}
	padding := h.padding.For(h.userAgent(r))
	if canServeDirectly(w, r) {
		if conn, brw, err := http.NewResponseController(w).Hijack(); err == nil {
			h.serveHijackedStream(conn, brw, streamHead(w.Header()), sub, backlogs, padding)
			return
		}
	}
	defer h.store.Unregister(sub)

	w.WriteHeader(http.StatusOK)
	stream := newHTTPStream(w)
	out := &httpSink{stream: stream, handler: h, padding: padding}
	// The head goes out at once so that clients see the stream open.
	if stream.flush() != nil || out.header() != nil || writeBacklogs(out, backlogs) != nil {
		return
	}
	h.run(r.Context(), sub, out, time.Duration(h.SubscriberConnectionTTL), nil)
}

// serveHijackedStream serves a stream on its hijacked connection: through
// the poller, or from this goroutine when the connection is not a socket
// the poller can watch (a listener wrapper's own type).
func (h *SubscriberHandler) serveHijackedStream(conn net.Conn, brw *bufio.ReadWriter, head []byte, sub *Subscriber, backlogs [][]*Message, padding PaddingSizes) {
	_ = conn.SetDeadline(time.Time{})
	c := &directConn{h: h, sub: sub, conn: conn}
	out := &httpSink{stream: newChunkWriter(c), handler: h, padding: padding}
	c.out = out
	begin := func() error {
		if err := c.send(head, nil, nil); err != nil {
			return err
		}
		return out.header()
	}
	if c.start(begin, backlogs) {
		return
	}

	defer h.store.Unregister(sub)
	defer conn.Close()
	w := &connWriter{conn: conn}
	out.stream = newChunkWriter(w)
	if w.send(head, nil, nil) != nil || out.header() != nil || writeBacklogs(out, backlogs) != nil {
		return
	}
	// The client's end of the connection ends the subscriber.
	ctx, cancel := context.WithCancel(context.Background())
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		_, _ = io.Copy(io.Discard, brw.Reader)
		cancel()
	}()
	h.run(ctx, sub, out, time.Duration(h.SubscriberConnectionTTL), nil)
	_ = conn.Close()
	<-readerDone
}

// streamHead is the head net/http sends for a chunked 200: the handler's
// headers in sorted order, then Date and Transfer-Encoding.
func streamHead(hdr http.Header) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = hdr.Write(&b)
	b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\nTransfer-Encoding: chunked\r\n\r\n")
	return b.Bytes()
}

// canServeDirectly tells whether r's connection may leave net/http for
// the poller: plain HTTP/1.1, a poller on this platform, and nothing
// between the handler and the connection that rewrites the response.
// `encode`, `templates` or deferred header operations wrap the writer in
// their own types; Caddy's server only adds recorders of its own package.
func canServeDirectly(w http.ResponseWriter, r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.TLS != nil || r.Close {
		return false
	}
	if _, err := netpoll.Default(); err != nil {
		return false
	}
	for {
		t := reflect.TypeOf(w)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.PkgPath() {
		case "net/http":
			return true
		case caddyhttpPackage:
		default:
			return false
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}

// caddyhttpPackage is the package of Caddy's own response writer
// wrappers, which pass the body through unchanged.
var caddyhttpPackage = reflect.TypeOf(caddyhttp.ResponseWriterWrapper{}).PkgPath()

// subscribe registers a subscriber and subscribes it to every channel in
// path order, collecting the old messages each reference asks for.
func (h *SubscriberHandler) subscribe(channels []*Channel, refs []ChannelRef, sel *Selection) (*Subscriber, [][]*Message, *requestError) {
	sub, err := h.store.Register()
	if err != nil {
		return nil, nil, &requestError{http.StatusServiceUnavailable, ""}
	}
	var backlogs [][]*Message
	if sel != nil {
		backlogs = make([][]*Message, len(channels))
	}
	for i, ch := range channels {
		var chSel *Selection
		if sel != nil {
			s := *sel
			s.Backtrack = refs[i].Backtrack
			chSel = &s
		}
		backlog, err := sub.Subscribe(ch, chSel)
		if err != nil {
			h.store.Unregister(sub)
			return nil, nil, &requestError{http.StatusInternalServerError, ""}
		}
		if sel != nil {
			backlogs[i] = backlog
		}
	}
	return sub, backlogs, nil
}

// controlEvent is something a websocket reader asks the writer loop to do;
// it reports whether the subscriber is done.
type controlEvent func() (done bool)

// run delivers live messages, pings and the end of a subscriber until one
// of them ends it (PROTOCOL.md §5.8, §5.9, §4.5, §10). It is the only
// writer of the connection.
func (h *SubscriberHandler) run(ctx context.Context, sub *Subscriber, out sink, ttl time.Duration, control <-chan controlEvent) {
	var ttlC, pingC <-chan time.Time
	if ttl > 0 {
		t := time.NewTimer(ttl)
		defer t.Stop()
		ttlC = t.C
	}
	interval := time.Duration(h.PingMessageInterval)
	var ping *time.Timer
	if interval > 0 {
		ping = time.NewTimer(interval)
		defer ping.Stop()
		pingC = ping.C
	}
	reason := "client gone"
	defer func() { h.logEnd(reason) }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ttlC:
			reason = "ttl"
			out.finish()
			return
		case <-pingC:
			if out.ping() != nil {
				reason = "ping write failed"
				return
			}
			ping.Reset(interval)
		case ev := <-control:
			if ev() {
				reason = "websocket closed"
				return
			}
		case <-sub.Notify():
			batch, end := sub.Take()
			ended, finish := h.deliver(sub, out, batch, end, coalesceMin)
			if ended != "" {
				reason = ended
				if finish {
					out.finish()
				}
				return
			}
			if len(batch) > 0 && ping != nil {
				ping.Reset(interval)
			}
		}
	}
}

// deliver writes a batch taken from sub, coalesced from coalesceFrom
// deliveries on. A non-empty reason says the subscriber ends, and finish
// whether its footer is due.
func (h *SubscriberHandler) deliver(sub *Subscriber, out sink, batch []Delivery, end EndReason, coalesceFrom int) (reason string, finish bool) {
	coalesce := len(batch) >= coalesceFrom
	if coalesce {
		_ = out.hold(true)
	}
	deleted := false
	for _, d := range batch {
		if out.message(d.Msg) != nil {
			return "write failed", false
		}
		deleted = deleted || d.Deleted
	}
	if coalesce && out.hold(false) != nil {
		return "write failed", false
	}
	switch {
	case end == EndSlow:
		return "too slow: queue full", false
	case end == EndShutdown:
		return "process exit", true
	case deleted && sub.Live() == 0:
		return "channels deleted", true
	}
	return "", false
}

// logEnd logs at debug level why a subscriber ended.
func (h *SubscriberHandler) logEnd(reason string) {
	if c := h.logger.Check(zapcore.DebugLevel, "push stream subscriber ended"); c != nil {
		c.Write(zap.String("mode", h.mode), zap.String("reason", reason))
	}
}

// httpStream writes pieces of a response body, each flushed at once so
// that every piece is its own chunk, even through `encode`.
type httpStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// held defers flushing until hold(false).
	held bool
}

func newHTTPStream(w http.ResponseWriter) *httpStream {
	rc := http.NewResponseController(w)
	// Server-wide read deadlines must not end a long-lived subscriber;
	// a writer without deadline support simply ignores this.
	_ = rc.SetReadDeadline(time.Time{})
	return &httpStream{w: w, rc: rc}
}

// write sends p and flushes it, within writeTimeout.
func (s *httpStream) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return s.withDeadline(func() error {
		if _, err := s.w.Write(p); err != nil || s.held {
			return err
		}
		return s.flushNow()
	})
}

// hold defers flushes while on; turning it off flushes.
func (s *httpStream) hold(on bool) error {
	s.held = on
	if on {
		return nil
	}
	return s.flush()
}

// end does nothing: net/http ends the chunked body when the handler
// returns.
func (s *httpStream) end() error { return nil }

// flush sends what was written so far, within writeTimeout.
func (s *httpStream) flush() error { return s.withDeadline(s.flushNow) }

func (s *httpStream) flushNow() error {
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// withDeadline runs a write with a deadline and clears it afterwards, so
// an idle subscriber is never cut by a stale deadline.
func (s *httpStream) withDeadline(write func() error) error {
	deadlineSet := s.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) == nil
	err := write()
	if deadlineSet {
		_ = s.rc.SetWriteDeadline(time.Time{})
	}
	return err
}

// httpSink is the sink of streaming and eventsource subscribers.
type httpSink struct {
	stream  bodyWriter
	handler *SubscriberHandler
	padding PaddingSizes
}

// eventSourcePing is the eventsource ping comment (PROTOCOL.md §5.8).
var eventSourcePing = []byte(": -1\n")

func (s *httpSink) header() error {
	h := s.handler
	if len(h.header) == 0 {
		return nil
	}
	if err := s.stream.write(h.header); err != nil {
		return err
	}
	return s.stream.write(s.padding.HeaderPadding(len(h.header), h.eventSource != nil))
}

func (s *httpSink) message(msg *Message) error {
	h := s.handler
	out := msg.Rendered(h.formatter)
	if err := s.stream.write(out); err != nil {
		return err
	}
	written := len(out)
	if h.eventSource != nil {
		written -= h.eventSource.PrefixLen(msg)
	}
	return s.stream.write(s.padding.MessagePadding(written, h.eventSource != nil))
}

func (s *httpSink) ping() error {
	h := s.handler
	if h.eventSource != nil {
		return s.stream.write(eventSourcePing)
	}
	ping := newSyntheticMessage(PingMessageID, "", []byte(h.store.Settings().PingText))
	return s.message(ping)
}

func (s *httpSink) hold(on bool) error { return s.stream.hold(on) }

func (s *httpSink) finish() {
	if s.stream.write(s.handler.footer) == nil {
		_ = s.stream.end()
	}
}
