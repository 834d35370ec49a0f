package pushstream

import (
	"bufio"
	"crypto/sha1" //nolint:gosec // G505: SHA-1 is what RFC 6455 prescribes for the accept key
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"time"
)

const (
	explainWSHeaders = "Don't have at least one of the mandatory headers: Connection, Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version"
	explainWSVersion = "Version not supported. Supported versions: 8, 13"
	explainWSHTTP11  = "WebSocket needs an HTTP/1.1 Upgrade request."
	wsAcceptGUID     = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// serveWebSocket runs a websocket subscriber (PROTOCOL.md §6.5).
func (h *SubscriberHandler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if r.Method != http.MethodGet {
		hdr["Allow"] = []string{subscriberMethods}
		writeHeaderOnly(w, http.StatusMethodNotAllowed, "")
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
	ws := &wsSink{out: frameWriter{&connWriter{conn: conn}}, handler: h}
	if ws.write(handshake(key)) != nil {
		return
	}

	refs := channelRefs(r, h.ChannelsPath)
	if len(refs) == 0 {
		return
	}
	channels, rerr := h.admit(refs)
	if rerr != nil {
		_ = ws.write(closeFrameWithReason(rerr.status, rerr.explain))
		return
	}
	sel := h.selection(r)
	sub, backlogs, rerr := h.subscribe(channels, refs, &sel)
	if rerr != nil {
		_ = ws.write(closeFrameWithReason(rerr.status, rerr.explain))
		return
	}
	if direct = h.serveDirectWebSocket(conn, brw, sub, channels, backlogs); direct {
		return
	}
	defer h.store.Unregister(sub)
	if len(h.header) > 0 && ws.write(textFrame(h.header)) != nil {
		return
	}
	if writeBacklogs(ws, backlogs) != nil {
		return
	}

	control := make(chan controlEvent)
	loopDone := make(chan struct{})
	readerDone := make(chan struct{})
	reader := &frameReader{r: brw.Reader, maxPayload: h.store.Settings().memoryCap()}
	go func() {
		defer close(readerDone)
		h.readClient(reader, ws, channels, control, loopDone)
	}()
	h.run(r.Context(), sub, ws, time.Duration(h.SubscriberConnectionTTL), control)
	close(loopDone)
	// Closing the connection ends the reader; wait so no goroutine outlives
	// the request.
	_ = conn.Close()
	<-readerDone
}

// serveDirectWebSocket hands a subscribed websocket to the poller. It
// returns false, having written nothing, when the connection is not a
// socket the poller can watch (TLS, a listener wrapper's own type).
func (h *SubscriberHandler) serveDirectWebSocket(conn net.Conn, brw *bufio.ReadWriter, sub *Subscriber, channels []*Channel, backlogs [][]*Message) bool {
	c := &directConn{h: h, sub: sub, conn: conn}
	frames := frameWriter{c}
	c.out = &wsSink{out: frames, handler: h}
	c.client = &clientFrames{
		reader:   frameReader{maxPayload: h.store.Settings().memoryCap()},
		channels: channels,
	}
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		c.client.input = append([]byte(nil), early...)
	}
	begin := func() error {
		if len(h.header) == 0 {
			return nil
		}
		return frames.write(textFrame(h.header))
	}
	return c.start(begin, backlogs)
}

// handshake returns the 101 answer, written byte for byte (PROTOCOL.md §6.5.2).
func handshake(key string) []byte {
	sum := sha1.Sum([]byte(key + wsAcceptGUID)) //nolint:gosec // G401: RFC 6455
	accept := base64.StdEncoding.EncodeToString(sum[:])
	return []byte("HTTP/1.1 101 Switching Protocols\r\n" +
		"Expires: " + antiCacheExpires + "\r\n" +
		"Cache-Control: " + antiCacheControl + "\r\n" +
		"Upgrade: WebSocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
}

// readClient reads client frames until the connection ends, publishing
// text messages and asking the writer loop for replies and closes
// (PROTOCOL.md §6.5.7).
func (h *SubscriberHandler) readClient(reader *frameReader, ws *wsSink, channels []*Channel, control chan<- controlEvent, loopDone <-chan struct{}) {
	for {
		msg, err := reader.next()
		reply, done := h.answerClient(msg, err, channels)
		if reply == nil && !done {
			continue
		}
		ev := func() bool {
			if reply != nil && ws.write(reply) != nil {
				return true
			}
			return done
		}
		select {
		case control <- ev:
		case <-loopDone:
			return
		}
		if done {
			return
		}
	}
}

// answerClient acts on what a websocket client sent: a message or the
// error reading it. It returns the frame to answer with, if any, and
// whether the connection ends.
func (h *SubscriberHandler) answerClient(msg clientMessage, err error, channels []*Channel) (reply []byte, done bool) {
	switch {
	case errors.Is(err, errFrameProtocol):
		return wsCloseFrame, true
	case err != nil:
		return nil, true
	}
	switch msg.opcode {
	case opText:
		if h.WebsocketAllowPublish && len(msg.payload) > 0 {
			h.publishFromClient(channels, msg.payload)
		}
		return nil, false
	case opPing:
		return wsPongFrame, false
	case opPong:
		return nil, false
	default:
		// A close frame, or an opcode the module does not take.
		return wsCloseFrame, true
	}
}

// publishFromClient publishes a client's text message to every channel of
// the connection except the events channel.
func (h *SubscriberHandler) publishFromClient(channels []*Channel, payload []byte) {
	text := append([]byte(nil), payload...)
	for _, ch := range channels {
		if ch.IsEvents() || h.store.Lookup(ch.ID) != ch {
			continue
		}
		// A full memory cap drops the message; the connection goes on.
		_, _ = h.store.Publish(ch, text, PublishOptions{Store: h.StoreMessages})
	}
}

// wsSink is the sink of websocket subscribers: one frame per piece.
type wsSink struct {
	out     bodyWriter
	handler *SubscriberHandler
}

func (s *wsSink) write(p []byte) error { return s.out.write(p) }

func (s *wsSink) hold(on bool) error { return s.out.hold(on) }

func (s *wsSink) message(msg *Message) error {
	return s.write(msg.Rendered(s.handler.formatter))
}

func (s *wsSink) ping() error { return s.write(wsPingFrame) }

func (s *wsSink) finish() {
	if len(s.handler.footer) > 0 && s.write(textFrame(s.handler.footer)) != nil {
		return
	}
	_ = s.write(wsCloseFrame)
}
