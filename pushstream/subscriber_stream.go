package pushstream

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// serveStream runs a streaming or eventsource subscriber (docs/PROTOCOL.md
// §6.1, §6.4). On plain HTTP/1.1 the connection leaves net/http for a
// transport.Conn; otherwise the request goroutine serves it.
func (h *SubscriberHandler) serveStream(w http.ResponseWriter, r *http.Request, arrival *engine.Arrival, channels []*engine.Channel, refs []wire.ChannelRef, sel engine.Selection) {
	sub, backlogs, rerr := h.subscribe(arrival, "", channels, refs, &sel, h.mode)
	if rerr != nil {
		writeHeaderOnly(w, rerr.status, rerr.explain)
		return
	}
	contentType := h.contentType
	if h.mode == ModeEventSource {
		contentType = eventSourceContentType
	}
	setContentType(w.Header(), contentType)
	padding := h.padding.For(h.userAgent(r))
	if canServeDirectly(w, r) {
		if conn, brw, err := http.NewResponseController(w).Hijack(); err == nil {
			h.serveHijackedStream(conn, brw, streamHead(w.Header()), sub, backlogs, padding)
			return
		}
	}
	defer h.unsubscribe(sub, h.mode)

	w.WriteHeader(http.StatusOK)
	stream := newHTTPStream(w)
	out := &httpSink{stream: stream, handler: h, padding: padding}
	// The head goes out at once so that clients see the stream open.
	if stream.Flush() != nil || out.header() != nil || writeBacklogs(out, backlogs) != nil {
		h.logEnd(endWriteFail)
		return
	}
	h.run(r.Context(), sub, out, nil)
}

// serveHijackedStream serves a stream on its hijacked connection: through
// a transport.Conn, or from this goroutine when the connection is not a
// socket the poller can watch (a listener wrapper's own type).
func (h *SubscriberHandler) serveHijackedStream(conn net.Conn, brw *bufio.ReadWriter, head []byte, sub *engine.Subscriber, backlogs [][]*engine.Message, padding wire.PaddingSizes) {
	_ = conn.SetDeadline(time.Time{})
	c := transport.NewConn(conn, h.connOptions())
	out := &httpSink{stream: transport.NewChunkWriter(c), handler: h, padding: padding}
	begin := func() string {
		if c.Send(head, nil, nil) != nil || out.header() != nil || writeBacklogs(out, backlogs) != nil {
			return endWriteFail
		}
		return ""
	}
	if c.Start(h.newSession(c, sub, out, begin, nil)) {
		return
	}

	defer h.unsubscribe(sub, h.mode)
	defer conn.Close()
	w := transport.NewConnWriter(conn)
	out.stream = transport.NewChunkWriter(w)
	if w.Send(head, nil, nil) != nil || out.header() != nil || writeBacklogs(out, backlogs) != nil {
		h.logEnd(endWriteFail)
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
	h.run(ctx, sub, out, nil)
	_ = conn.Close()
	<-readerDone
}

// connOptions are the timers of this handler's transport.Conns.
func (h *SubscriberHandler) connOptions() transport.Options {
	return transport.Options{
		TTL:          time.Duration(h.SubscriberConnectionTTL),
		PingInterval: time.Duration(h.PingMessageInterval),
	}
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

// canServeDirectly tells whether r's connection may leave net/http for a
// transport.Conn: plain HTTP/1.1, a poller on this platform, and nothing
// between the handler and the connection that rewrites the response.
// `encode`, `templates` or deferred header operations wrap the writer in
// their own types; Caddy's server only adds recorders of its own package.
func canServeDirectly(w http.ResponseWriter, r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.TLS != nil || r.Close || !transport.Available() {
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

// subscribe registers a subscriber of mode and subscribes it to every
// channel in path order, collecting the old messages each reference asks
// for; conn names the client connection of a long-poll, which first gets
// what its channels kept since its previous answer there. The caller ends
// the subscriber with unsubscribe.
func (h *SubscriberHandler) subscribe(arrival *engine.Arrival, conn string, channels []*engine.Channel, refs []wire.ChannelRef, sel *engine.Selection, mode string) (*engine.Subscriber, [][]*engine.Message, *requestError) {
	sub, err := h.store.Register()
	if err != nil {
		return nil, nil, &requestError{http.StatusServiceUnavailable, ""}
	}
	sub.Rejoin(conn)
	var backlogs [][]*engine.Message
	if sel != nil {
		backlogs = make([][]*engine.Message, len(channels))
	}
	for i, ch := range channels {
		var chSel *engine.Selection
		if sel != nil {
			s := *sel
			s.Backtrack = refs[i].Backtrack
			chSel = &s
		}
		backlog, err := h.store.Subscribe(sub, ch, chSel)
		if err != nil {
			h.store.Unregister(sub)
			return nil, nil, &requestError{http.StatusInternalServerError, ""}
		}
		if sel != nil {
			backlogs[i] = h.withGap(ch, chSel, backlog)
		}
	}
	arrival.Done()
	subscriberStarted(mode)
	return sub, backlogs, nil
}
