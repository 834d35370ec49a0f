package pushstream

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

const (
	explainWSHeaders = "Don't have at least one of the mandatory headers: Connection, Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version"
	explainWSVersion = "Version not supported. Supported versions: 8, 13"
	explainWSHTTP11  = "WebSocket needs an HTTP/1.1 Upgrade request."
)

// readSize is the size of one read of websocket input.
const readSize = 4096

// serveWebSocket runs a websocket subscriber (docs/PROTOCOL.md §6.5).
func (h *SubscriberHandler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, subscriberMethods)
		return
	}
	setAntiCache(hdr)
	key, hasKey := firstHeader(r, "Sec-WebSocket-Key")
	version, hasVersion := firstHeader(r, "Sec-WebSocket-Version")
	_, hasUpgrade := firstHeader(r, "Upgrade")
	_, hasConnection := firstHeader(r, "Connection")
	if r.ProtoMajor != 1 {
		writeHeaderOnly(w, http.StatusBadRequest, explainWSHTTP11)
		return
	}
	if !hasKey || !hasVersion || !hasUpgrade || !hasConnection {
		writeHeaderOnly(w, http.StatusBadRequest, explainWSHeaders)
		return
	}
	if version != "8" && version != "13" {
		hdr["Sec-WebSocket-Version"] = []string{"8, 13"}
		writeHeaderOnly(w, http.StatusBadRequest, explainWSVersion)
		return
	}
	if !originAllowed(r, evaluate(r, h.AllowedOrigins)) {
		writeHeaderOnly(w, http.StatusForbidden, explainOriginNotAllowed)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeHeaderOnly(w, http.StatusInternalServerError, "")
		return
	}
	direct := false
	defer func() {
		if !direct {
			_ = conn.Close()
		}
	}()
	_ = conn.SetDeadline(time.Time{})
	ws := &wsSink{out: transport.NewFrameWriter(transport.NewConnWriter(conn)), handler: h}
	if ws.write(wire.Handshake(key)) != nil {
		return
	}

	refs := subscriberRefs(r, h.ChannelsPath)
	if len(refs) == 0 {
		return
	}
	channels, rerr := h.admit(refs)
	if rerr != nil {
		_ = ws.write(wire.CloseFrameWithReason(rerr.status, rerr.explain))
		return
	}
	sel := h.selection(r)
	sub, backlogs, rerr := h.subscribe(nil, "", channels, refs, &sel, h.mode)
	if rerr != nil {
		_ = ws.write(wire.CloseFrameWithReason(rerr.status, rerr.explain))
		return
	}
	if direct = h.serveDirectWebSocket(conn, brw, sub, channels, backlogs); direct {
		return
	}
	defer h.unsubscribe(sub, h.mode)
	if len(h.header) > 0 && ws.write(wire.TextFrame(h.header)) != nil || writeBacklogs(ws, backlogs) != nil {
		h.logEnd(endWriteFail)
		return
	}

	control := make(chan controlEvent)
	loopDone := make(chan struct{})
	readerDone := make(chan struct{})
	in := h.newClientInput(channels, nil)
	go func() {
		defer close(readerDone)
		defer in.close()
		h.readClient(brw.Reader, in, ws, control, loopDone)
	}()
	h.run(r.Context(), sub, ws, control)
	close(loopDone)
	// Closing the connection ends the reader; wait so no goroutine outlives
	// the request.
	_ = conn.Close()
	<-readerDone
}

// originAllowed tells whether a websocket request may connect: with
// allowed_origins set (and not `*`), a browser's Origin header must name
// that origin, so that no other site's page can subscribe, or publish with
// websocket_allow_publish, in its visitors' name. Clients that send no
// Origin (not browsers) and locations without allowed_origins are let in,
// as nginx does.
func originAllowed(r *http.Request, allowed string) bool {
	if allowed == "" || allowed == "*" {
		return true
	}
	origin, ok := firstHeader(r, "Origin")
	return !ok || strings.EqualFold(origin, allowed)
}

// serveDirectWebSocket hands a subscribed websocket to a transport.Conn.
// It returns false, having written nothing, when the connection is not a
// socket the poller can watch (TLS, a listener wrapper's own type).
func (h *SubscriberHandler) serveDirectWebSocket(conn net.Conn, brw *bufio.ReadWriter, sub *engine.Subscriber, channels []*engine.Channel, backlogs [][]*engine.Message) bool {
	opts := h.connOptions()
	opts.ReadSize = readSize
	c := transport.NewConn(conn, opts)
	frames := transport.NewFrameWriter(c)
	out := &wsSink{out: frames, handler: h}
	in := h.newClientInput(channels, out.write)
	var early []byte
	if n := brw.Reader.Buffered(); n > 0 {
		peeked, _ := brw.Reader.Peek(n)
		early = append([]byte(nil), peeked...)
	}
	begin := func() string {
		if len(h.header) > 0 && frames.Write(wire.TextFrame(h.header)) != nil {
			return endWriteFail
		}
		if writeBacklogs(out, backlogs) != nil {
			return endWriteFail
		}
		return in.read(early)
	}
	return c.Start(h.newSession(c, sub, out, begin, in))
}

// clientInput reads what a websocket client sends and answers it
// (docs/PROTOCOL.md §6.5.7).
type clientInput struct {
	h        *SubscriberHandler
	parser   wire.FrameParser
	channels []*engine.Channel
	// reply writes an answer frame.
	reply func([]byte) error
}

// newClientInput returns the input of a websocket subscribed to channels.
// A location that does not publish keeps no data at all: it only answers
// control frames (docs/PROTOCOL.md §6.5.7).
func (h *SubscriberHandler) newClientInput(channels []*engine.Channel, reply func([]byte) error) *clientInput {
	return &clientInput{
		h: h,
		parser: wire.FrameParser{
			MaxMessage: h.maxMessageSize,
			Discard:    !h.WebsocketAllowPublish,
			Budget:     &clientInputBudget,
		},
		channels: channels,
		reply:    reply,
	}
}

// read parses p, which it may change, and acts on every complete
// message. It returns why the connection ends, or "".
func (in *clientInput) read(p []byte) string {
	for len(p) > 0 {
		msg, used, ok, err := in.parser.Next(p)
		p = p[used:]
		if err == nil && !ok {
			continue
		}
		reply, done := in.h.answerClient(msg, err, in.channels)
		if reply != nil && in.reply(reply) != nil {
			return endWriteFail
		}
		switch {
		case errors.Is(err, wire.ErrMessageTooBig):
			return endOverLimit
		case done:
			return endWebSocketClosed
		}
	}
	return ""
}

// close gives back what the input holds.
func (in *clientInput) close() { in.parser.Close() }

// clientInputBudget bounds what every websocket client of the process
// may have sent and the server holds (unfinished messages) together.
var clientInputBudget inputBudget

// maxClientInput is the process-wide bound of clientInputBudget.
const maxClientInput = 64 << 20

// inputBudget is a wire.Budget of maxClientInput bytes.
type inputBudget struct{ used atomic.Int64 }

// Reserve implements wire.Budget.
func (b *inputBudget) Reserve(n int64) bool {
	if b.used.Add(n) > maxClientInput {
		b.used.Add(-n)
		return false
	}
	return true
}

// Release implements wire.Budget.
func (b *inputBudget) Release(n int64) { b.used.Add(-n) }

// errLoopDone means the writer loop ended before taking a reply.
var errLoopDone = errors.New("subscriber loop ended")

// readClient reads client input on a connection served by its request
// goroutine until the connection ends, handing replies and the end to the
// writer loop.
func (h *SubscriberHandler) readClient(r io.Reader, in *clientInput, ws *wsSink, control chan<- controlEvent, loopDone <-chan struct{}) {
	ask := func(ev controlEvent) error {
		select {
		case control <- ev:
			return nil
		case <-loopDone:
			return errLoopDone
		}
	}
	in.reply = func(frame []byte) error {
		return ask(func() bool { return ws.write(frame) != nil })
	}
	buf := make([]byte, readSize)
	for {
		n, err := r.Read(buf)
		if n > 0 && in.read(buf[:n]) != "" {
			break
		}
		if err != nil {
			break
		}
	}
	_ = ask(func() bool { return true })
}

// answerClient acts on what a websocket client sent: a message or the
// error reading it. It returns the frame to answer with, if any, and
// whether the connection ends.
func (h *SubscriberHandler) answerClient(msg wire.ClientMessage, err error, channels []*engine.Channel) (reply []byte, done bool) {
	switch {
	case errors.Is(err, wire.ErrFrameProtocol):
		return wire.CloseFrame, true
	case errors.Is(err, wire.ErrMessageTooBig):
		return wire.CloseFrameTooBig, true
	case err != nil:
		return nil, true
	}
	switch msg.Opcode {
	case wire.OpText:
		if h.WebsocketAllowPublish && len(msg.Payload) > 0 {
			h.publishFromClient(channels, msg.Payload)
		}
		return nil, false
	case wire.OpPing:
		return wire.PongFrame, false
	case wire.OpPong:
		return nil, false
	default:
		// A close frame, or an opcode the module does not take.
		return wire.CloseFrame, true
	}
}

// publishFromClient publishes a client's text message to every channel of
// the connection except the events channel. The payload is the caller's
// to give away.
func (h *SubscriberHandler) publishFromClient(channels []*engine.Channel, text []byte) {
	for _, ch := range channels {
		if ch.IsEvents() || h.store.Lookup(ch.ID) != ch {
			continue
		}
		opts := engine.PublishOptions{Store: h.StoreMessages}
		if q, ok := h.store.(queuedPublisher); ok {
			q.PublishQueued(ch, text, opts)
			continue
		}
		// A full memory cap drops the message; the connection goes on.
		if _, err := h.store.Publish(ch, text, opts); errors.Is(err, engine.ErrNoMemory) {
			noteMemoryRefusal(h.logger, h.store)
		}
	}
}

// wsSink is the sink of websocket subscribers: one frame per piece.
type wsSink struct {
	out     transport.BodyWriter
	handler *SubscriberHandler
}

func (s *wsSink) write(p []byte) error { return s.out.Write(p) }

func (s *wsSink) hold(on bool) error { return s.out.Hold(on) }

func (s *wsSink) message(msg *engine.Message) error {
	return s.write(msg.Rendered(s.handler.formatter))
}

func (s *wsSink) ping() error { return s.write(wire.PingFrame) }

func (s *wsSink) finish() {
	if len(s.handler.footer) > 0 && s.write(wire.TextFrame(s.handler.footer)) != nil {
		return
	}
	_ = s.write(wire.CloseFrame)
}
