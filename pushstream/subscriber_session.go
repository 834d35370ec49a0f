package pushstream

import (
	"context"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// sink writes one subscriber's output in its mode's framing.
type sink interface {
	// message writes a formatted message (and its padding).
	message(msg *engine.Message) error
	// ping writes the mode's ping.
	ping() error
	// finish writes the footer and ends the response or connection.
	finish()
	// hold buffers later writes until it is called with false, which sends
	// them in one go.
	hold(on bool) error
}

// coalesceMin is how many deliveries a subscriber served by its request
// goroutine must be behind before its writes are coalesced. A subscriber
// that keeps up gets one chunk (or frame write) per message, as nginx
// sends them; one that fell behind catches up with one write for the
// whole batch instead of one system call per message. On a
// transport.Conn held pieces keep their own chunks or frames, so any
// batch is worth one write.
const (
	coalesceMin       = 16
	coalesceMinDirect = 2
)

// writeBacklogs writes the old messages a subscriber asked for.
func writeBacklogs(out sink, backlogs [][]*engine.Message) error {
	for _, backlog := range backlogs {
		for _, msg := range backlog {
			if err := out.message(msg); err != nil {
				return err
			}
		}
	}
	return nil
}

// controlEvent is something a websocket reader asks the writer loop to do;
// it reports whether the subscriber is done.
type controlEvent func() (done bool)

// run serves a subscriber from its request goroutine: live messages,
// pings and its end until one of them ends it (docs/PROTOCOL.md §5.8,
// §5.9, §4.5, §10). It is the only writer of the connection.
func (h *SubscriberHandler) run(ctx context.Context, sub *engine.Subscriber, out sink, control <-chan controlEvent) {
	var ttlC, pingC <-chan time.Time
	if ttl := time.Duration(h.SubscriberConnectionTTL); ttl > 0 {
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
	reason := endClientGone
	defer func() { h.logEnd(reason) }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ttlC:
			// What was queued before the TTL goes out first, as on a
			// transport.Conn (select picks either of two ready cases).
			reason = endTTL
			batch, end := sub.Take()
			if ended, finish := h.deliver(sub, out, batch, end, coalesceMin); ended != "" {
				reason = ended
				if !finish {
					return
				}
			}
			out.finish()
			return
		case <-pingC:
			if out.ping() != nil {
				reason = endPingFail
				return
			}
			ping.Reset(interval)
		case ev := <-control:
			if ev() {
				reason = endWebSocketClosed
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
func (h *SubscriberHandler) deliver(sub *engine.Subscriber, out sink, batch []engine.Delivery, end engine.EndReason, coalesceFrom int) (reason string, finish bool) {
	coalesce := len(batch) >= coalesceFrom
	if coalesce {
		_ = out.hold(true)
	}
	deleted := false
	for _, d := range batch {
		if out.message(d.Msg) != nil {
			return endWriteFail, false
		}
		deleted = deleted || d.Deleted
	}
	if coalesce && out.hold(false) != nil {
		return endWriteFail, false
	}
	switch {
	case end == engine.EndSlow:
		return endSlowQueue, false
	case end == engine.EndShutdown:
		return endShutdown, true
	case deleted && sub.Live() == 0:
		return endDeleted, true
	}
	return "", false
}

// logEnd counts a subscriber's end in the metrics, logs it at debug
// level and reports a slow subscriber to the operator log.
func (h *SubscriberHandler) logEnd(reason string) {
	closed := closedReason(reason)
	subscribersClosed.WithLabelValues(closed).Inc()
	if closed == closedSlow {
		slowSubscribers.Note(h.logger, zap.String("mode", h.mode))
	}
	if c := h.logger.Check(zapcore.DebugLevel, "push stream subscriber ended"); c != nil {
		c.Write(zap.String("mode", h.mode), zap.String("reason", reason))
	}
}

// unsubscribe unregisters a subscriber of mode that subscribe returned.
func (h *SubscriberHandler) unsubscribe(sub *engine.Subscriber, mode string) {
	h.store.Unregister(sub)
	subscriberStopped(mode)
}

// session is a subscriber carried by a transport.Conn.
type session struct {
	h    *SubscriberHandler
	sub  *engine.Subscriber
	wake func()
	out  sink
	// begin writes the opening bytes and returns why the connection ends,
	// or "".
	begin func() string
	// client answers websocket input; nil for streams, whose input is
	// dropped.
	client *clientInput
}

// newSession returns the session of sub on c.
func (h *SubscriberHandler) newSession(c *transport.Conn, sub *engine.Subscriber, out sink, begin func() string, client *clientInput) *session {
	return &session{h: h, sub: sub, wake: c.Wake, out: out, begin: begin, client: client}
}

// Begin implements transport.Session: from now on the Conn hears of
// deliveries, and takes those queued so far once Begin returns.
func (s *session) Begin() string {
	s.sub.Drive(s.wake)
	begin := s.begin
	s.begin = nil // what it holds (head, old messages) is not needed again
	return begin()
}

// Input implements transport.Session.
func (s *session) Input(p []byte) string {
	if s.client == nil {
		return ""
	}
	return s.client.read(p)
}

// Deliver implements transport.Session.
func (s *session) Deliver() (wrote bool, end string, finish bool) {
	batch, ended := s.sub.Take()
	end, finish = s.h.deliver(s.sub, s.out, batch, ended, coalesceMinDirect)
	return len(batch) > 0, end, finish
}

// Ending implements transport.Session.
func (s *session) Ending() bool { return s.sub.Ended() != engine.EndNone }

// Ping implements transport.Session.
func (s *session) Ping() error { return s.out.ping() }

// Finish implements transport.Session.
func (s *session) Finish() { s.out.finish() }

// Closed implements transport.Session.
func (s *session) Closed(reason string) {
	if s.client != nil {
		s.client.close()
	}
	s.h.unsubscribe(s.sub, s.h.mode)
	s.h.logEnd(reason)
}

// httpSink is the sink of streaming and eventsource subscribers.
type httpSink struct {
	stream  transport.BodyWriter
	handler *SubscriberHandler
	padding wire.PaddingSizes
}

// eventSourcePing is the eventsource ping comment (docs/PROTOCOL.md §5.8).
var eventSourcePing = []byte(": -1\n")

func (s *httpSink) header() error {
	h := s.handler
	if len(h.header) == 0 {
		return nil
	}
	if err := s.stream.Write(h.header); err != nil {
		return err
	}
	return s.stream.Write(s.padding.HeaderPadding(len(h.header), h.eventSource != nil))
}

func (s *httpSink) message(msg *engine.Message) error {
	h := s.handler
	out := msg.Rendered(h.formatter)
	if err := s.stream.Write(out); err != nil {
		return err
	}
	written := len(out)
	if h.eventSource != nil {
		written -= h.eventSource.PrefixLen(msg)
	}
	return s.stream.Write(s.padding.MessagePadding(written, h.eventSource != nil))
}

func (s *httpSink) ping() error {
	h := s.handler
	if h.eventSource != nil {
		return s.stream.Write(eventSourcePing)
	}
	ping := engine.NewSyntheticMessage(engine.PingMessageID, "", []byte(h.store.Settings().PingMessageText))
	return s.message(ping)
}

func (s *httpSink) hold(on bool) error { return s.stream.Hold(on) }

func (s *httpSink) finish() {
	if s.stream.Write(s.handler.footer) == nil {
		_ = s.stream.End()
	}
}
