package pushstream

import (
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
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{})
	ws := &wsSink{conn: conn, handler: h}
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
	defer h.store.Unregister(sub)
	if len(h.header) > 0 && ws.write(textFrame(h.header)) != nil {
		return
	}
	for _, backlog := range backlogs {
		for _, msg := range backlog {
			if ws.message(msg) != nil {
				return
			}
		}
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
	send := func(ev controlEvent) bool {
		select {
		case control <- ev:
			return true
		case <-loopDone:
			return false
		}
	}
	for {
		msg, err := reader.next()
		switch {
		case errors.Is(err, errFrameProtocol):
			send(ws.closeWith(wsCloseFrame))
			return
		case err != nil:
			send(ws.closeWith(nil))
			return
		}
		switch msg.opcode {
		case opText:
			if h.WebsocketAllowPublish && len(msg.payload) > 0 {
				h.publishFromClient(channels, msg.payload)
			}
		case opPing:
			if !send(func() bool { return ws.write(wsPongFrame) != nil }) {
				return
			}
		case opPong:
		case opClose:
			send(ws.closeWith(wsCloseFrame))
			return
		default:
			send(ws.closeWith(wsCloseFrame))
			return
		}
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

// wsSink is the sink of websocket subscribers: one frame per piece, each
// write bounded by writeTimeout.
type wsSink struct {
	conn    net.Conn
	handler *SubscriberHandler
	// held collects frames while writes are coalesced; nil otherwise.
	held    []byte
	holding bool
}

func (s *wsSink) write(p []byte) error {
	if s.holding {
		s.held = append(s.held, p...)
		return nil
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := s.conn.Write(p)
	return err
}

// maxHeldCapacity is the largest coalescing buffer kept between batches.
const maxHeldCapacity = 64 << 10

// hold collects frames while on; turning it off writes them at once.
func (s *wsSink) hold(on bool) error {
	s.holding = on
	if on || len(s.held) == 0 {
		return nil
	}
	err := s.write(s.held)
	if cap(s.held) > maxHeldCapacity {
		s.held = nil
	} else {
		s.held = s.held[:0]
	}
	return err
}

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

// closeWith returns a control event that writes frame (if any) and ends
// the subscriber.
func (s *wsSink) closeWith(frame []byte) controlEvent {
	return func() bool {
		if frame != nil {
			_ = s.write(frame)
		}
		return true
	}
}
