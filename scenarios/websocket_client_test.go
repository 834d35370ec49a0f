package scenarios_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The raw websocket client of the scenarios (docs/PROTOCOL.md §6.5): the
// handshake and frames byte for byte, over a rawConn.

const (
	// wsKey is the Sec-WebSocket-Key of the scenarios' handshakes.
	wsKey = "/mQoZf6pRiv8+6o72GncLQ=="
	// wsHandshake is the 101 answer for wsKey, byte for byte (docs/PROTOCOL.md §6.5.2).
	wsHandshake = "HTTP/1.1 101 Switching Protocols\r\n" +
		"Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\n" +
		"Cache-Control: no-cache, no-store, must-revalidate\r\n" +
		"Upgrade: WebSocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: RaIOIcQ6CBoc74B9EKdH0avYZnw=\r\n" +
		"\r\n"
	// wsClose, wsPing and wsPong are the server's empty control frames.
	wsClose = "\x88\x00"
	wsPing  = "\x89\x00"
	wsPong  = "\x8a\x00"
)

// wsRequestHeaders are the headers of the scenarios' raw handshake.
var wsRequestHeaders = []string{
	"Connection: Upgrade",
	"Sec-WebSocket-Key: " + wsKey,
	"Upgrade: websocket",
	"Sec-WebSocket-Version: 8",
}

// wsMask is the masking key of the client frames the scenarios build.
var wsMask = []byte{0x37, 0xFA, 0x21, 0x3D}

// websocketSite renders the push_stream_websocket handler of /ws/<channels>
// for config.Site, with the baseline subscriber settings plus settings.
func websocketSite(settings map[string]string) string {
	return handlerSite("push_stream_websocket", "", "ws", "^/ws/(.*)$",
		mergeSettings(baselineSub, map[string]string{"channels_path": "{re.ws.1}"}, settings))
}

// wsConn is a raw websocket connection for byte-exact checks.
type wsConn struct {
	*rawConn
}

// wsRequest is a raw GET request with the given protocol and header lines.
func wsRequest(proto, path string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s %s\r\n", path, proto)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// wsHead reads a response head exactly as sent, up to and including the
// empty line.
func wsHead(c *rawConn) string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	var b strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			c.t.Fatalf("reading response head %q: %v", b.String(), err)
		}
		if line == "\r\n" {
			return b.String()
		}
	}
}

// wsOpen performs the scenarios' HTTP/1.0 handshake on path and checks the
// 101 answer byte for byte.
func wsOpen(t *testing.T, path string) *wsConn {
	t.Helper()
	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.0", path, wsRequestHeaders...))
	if head := wsHead(c); head != wsHandshake {
		t.Fatalf("handshake of %s:\n got %q\nwant %q", path, head, wsHandshake)
	}
	return &wsConn{c}
}

// read reads exactly n bytes.
func (c *wsConn) read(n int) []byte {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	buf := make([]byte, n)
	if got, err := io.ReadFull(c.r, buf); err != nil {
		c.t.Fatalf("reading %d bytes: got %q: %v", n, abbreviate(string(buf[:got])), err)
	}
	return buf
}

// expect reads len(want) bytes and compares them with want.
func (c *wsConn) expect(want string) {
	c.t.Helper()
	if got := c.read(len(want)); string(got) != want {
		c.t.Fatalf("got %q, want %q", abbreviate(string(got)), abbreviate(want))
	}
}

// expectEOF checks that the server closes the connection without sending
// anything more.
func (c *wsConn) expectEOF() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	got, err := io.ReadAll(c.r)
	if len(got) > 0 {
		c.t.Fatalf("got %q, want the connection closed", abbreviate(string(got)))
	}
	if err != nil && !connClosed(err) {
		c.t.Fatalf("want the connection closed, got %v", err)
	}
}

// expectSilence checks that nothing arrives for a short while.
func (c *wsConn) expectSilence() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	b, err := c.r.Peek(1)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("want nothing, got %q (%v)", b, err)
	}
}

// frame reads one server frame and checks it is unmasked and final.
func (c *wsConn) frame() (first byte, payload []byte) {
	c.t.Helper()
	h := c.read(2)
	if h[1]&0x80 != 0 {
		c.t.Fatalf("server frame %x is masked", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(c.read(2)))
	case 127:
		n = binary.BigEndian.Uint64(c.read(8))
	}
	return h[0], c.read(int(n))
}

// send writes raw bytes.
func (c *wsConn) send(p []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(p); err != nil {
		c.t.Fatalf("writing frame: %v", err)
	}
}

// wsHex decodes bytes written as in the scenarios: "81 05 48 65".
func wsHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wsServerFrame is an unmasked final frame as the server sends it
// (docs/PROTOCOL.md §6.5.4).
func wsServerFrame(first byte, payload string) string {
	n := len(payload)
	var head []byte
	switch {
	case n <= 125:
		head = []byte{first, byte(n)}
	case n < 1<<16:
		head = binary.BigEndian.AppendUint16([]byte{first, 126}, uint16(n))
	default:
		head = binary.BigEndian.AppendUint64([]byte{first, 127}, uint64(n))
	}
	return string(head) + payload
}

// wsText is the server's text frame of payload.
func wsText(payload string) string { return wsServerFrame(0x81, payload) }

// wsClientFrame builds a client frame; first is the FIN bit and opcode;
// a nil mask sends it unmasked.
func wsClientFrame(first byte, payload []byte, mask []byte) []byte {
	n := len(payload)
	var maskBit byte
	if mask != nil {
		maskBit = 0x80
	}
	var f []byte
	switch {
	case n <= 125:
		f = []byte{first, maskBit | byte(n)}
	case n < 1<<16:
		f = binary.BigEndian.AppendUint16([]byte{first, maskBit | 126}, uint16(n))
	default:
		f = binary.BigEndian.AppendUint64([]byte{first, maskBit | 127}, uint64(n))
	}
	if mask == nil {
		return append(f, payload...)
	}
	f = append(f, mask...)
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	return f
}
