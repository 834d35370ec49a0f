package pushstream

import (
	"context"
	"errors"
	"net/http"
	"time"

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
// §6.4).
func (h *SubscriberHandler) serveStream(w http.ResponseWriter, r *http.Request, channels []*Channel, refs []ChannelRef, sel Selection) {
	sub, backlogs, rerr := h.subscribe(channels, refs, &sel)
	if rerr != nil {
		writeHeaderOnly(w, rerr.status, rerr.explain)
		return
	}
	defer h.store.Unregister(sub)

	contentType := h.contentType
	if h.mode == ModeEventSource {
		contentType = eventSourceContentType
	}
	w.Header()["Content-Type"] = []string{contentType}
	w.WriteHeader(http.StatusOK)
	out := &httpSink{
		stream:  newHTTPStream(w),
		handler: h,
		padding: h.padding.For(h.userAgent(r)),
	}
	// The head goes out at once so that clients see the stream open.
	if out.stream.flush() != nil || out.header() != nil {
		return
	}
	for _, backlog := range backlogs {
		for _, msg := range backlog {
			if err := out.message(msg); err != nil {
				return
			}
		}
	}
	h.run(r.Context(), sub, out, time.Duration(h.SubscriberConnectionTTL), nil)
}

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
			coalesce := len(batch) >= coalesceMin
			if coalesce {
				_ = out.hold(true)
			}
			deleted := false
			for _, d := range batch {
				if out.message(d.Msg) != nil {
					reason = "write failed"
					return
				}
				deleted = deleted || d.Deleted
			}
			if coalesce && out.hold(false) != nil {
				reason = "write failed"
				return
			}
			if len(batch) > 0 && ping != nil {
				ping.Reset(interval)
			}
			switch {
			case end == EndSlow:
				reason = "too slow: queue full"
				return
			case end == EndShutdown:
				reason = "process exit"
				out.finish()
				return
			case deleted && sub.Live() == 0:
				reason = "channels deleted"
				out.finish()
				return
			}
		}
	}
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
	stream  *httpStream
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
	_ = s.stream.write(s.handler.footer)
}
