package scenarios_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Scenarios of docs/SCENARIOS.md misc/spec/subscriber/websocket_spec.rb and the
// wire details of docs/PROTOCOL.md §6.5. Byte-exact checks use raw sockets; one
// test uses gorilla/websocket as an independent client.

const (
	wsMissingHeaders   = "Don't have at least one of the mandatory headers: Connection, Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version"
	wsVersionExplain   = "Version not supported. Supported versions: 8, 13"
	wsJSONTemplate     = `"{\"channel\":\"~channel~\", \"id\":\"~id~\", \"message\":\"~text~\"}"`
	wsChannelTemplate  = `"{\"channel\":\"~channel~\", \"message\":\"~text~\"}"`
	wsArabic           = "أَبْجَدِيَّة عَ"
	wsMaskedHello      = "81 85 37 FA 21 3D 7F 9F 4D 51 58"
	wsUnmaskedHello    = "81 05 48 65 6C 6C 6F"
	wsFragmentedHello1 = "01 03 48 65 6C"
	wsFragmentedHello2 = "80 02 6C 6F"
)

// wsHandler is the extra `/ws/(.*)` handler of the websocket_spec baseline.
var wsHandler = map[string]string{
	"channels_path":           "{re.ws.1}",
	"websocket_allow_publish": "on",
	"store_messages":          "on",
}

// wsTemplatesOff is the websocket_spec baseline change: header, template
// and footer off.
var wsTemplatesOff = map[string]string{"header_template": "", "message_template": "", "footer_template": ""}

// wsConfig is the websocket_spec baseline with settings applied to both
// the /sub handler and the /ws handler (upstream sets them per server).
func wsConfig(settings map[string]string) config {
	return config{
		Sub:  mergeSettings(wsTemplatesOff, settings),
		Site: websocketSite(mergeSettings(wsTemplatesOff, wsHandler, settings)),
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #1
func TestWebSocketMethodNotAllowed(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	for _, method := range []string{"HEAD", "PUT", "POST", "DELETE", "OPTIONS"} {
		c := dialRaw(t)
		c.write(strings.Replace(wsRequest("HTTP/1.0", "/ws/"+id, wsRequestHeaders...), "GET", method, 1))
		res := c.head()
		if res.Status != http.StatusMethodNotAllowed || !strings.Contains(res.Head, "Allow: GET") {
			t.Errorf("%s: %q\n%s", method, res.StatusLine, res.Head)
		}
		// docs/PROTOCOL.md §6.5.1: no anti-cache headers on the websocket 405.
		if res.HasHeader("Expires") || res.HasHeader("Cache-Control") {
			t.Errorf("%s: anti-cache headers on the 405:\n%s", method, res.Head)
		}
	}
	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.0", "/ws/"+id, wsRequestHeaders...))
	if head := wsHead(c); strings.Contains(head, " 405 ") {
		t.Errorf("GET answered %q", head)
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #2
func TestWebSocketMandatoryHeaders(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	for i := 0; i < len(wsRequestHeaders); i++ {
		c := dialRaw(t)
		c.write(wsRequest("HTTP/1.0", "/ws/"+id, wsRequestHeaders[:i]...))
		res := c.head()
		body, _ := io.ReadAll(c.r)
		if res.Status != http.StatusBadRequest || len(body) != 0 {
			t.Errorf("with %q: %q, body %q", wsRequestHeaders[:i], res.StatusLine, body)
		}
		if !strings.Contains(res.Head, "X-Nginx-PushStream-Explain: "+wsMissingHeaders) {
			t.Errorf("with %q: explain missing:\n%s", wsRequestHeaders[:i], res.Head)
		}
		// docs/PROTOCOL.md §6.5.1: this 400 carries the anti-cache headers.
		if res.Header("Expires") != "Thu, 01 Jan 1970 00:00:01 GMT" || res.Header("Cache-Control") != "no-cache, no-store, must-revalidate" {
			t.Errorf("with %q: anti-cache headers missing:\n%s", wsRequestHeaders[:i], res.Head)
		}
	}
	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.0", "/ws/"+id, wsRequestHeaders...))
	head := wsHead(c)
	if !strings.HasPrefix(head, "HTTP/1.1 101 Switching Protocols\r\n") || strings.Contains(head, wsMissingHeaders) {
		t.Errorf("with every header: %q", head)
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #3
func TestWebSocketVersion(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	headers := append([]string(nil), wsRequestHeaders[:3]...)
	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.0", "/ws/"+id, append(headers, "Sec-WebSocket-Version: 7")...))
	res := c.head()
	body, _ := io.ReadAll(c.r)
	if res.Status != http.StatusBadRequest || len(body) != 0 ||
		!strings.Contains(res.Head, "Sec-WebSocket-Version: 8, 13") ||
		!strings.Contains(res.Head, "X-Nginx-PushStream-Explain: "+wsVersionExplain) {
		t.Errorf("version 7: %q body %q\n%s", res.StatusLine, body, res.Head)
	}
	for _, version := range []string{"8", "13"} {
		c := dialRaw(t)
		c.write(wsRequest("HTTP/1.0", "/ws/"+id, append(headers, "Sec-WebSocket-Version: "+version)...))
		head := wsHead(c)
		if !strings.HasPrefix(head, "HTTP/1.1 101 ") || strings.Contains(head, "Sec-WebSocket-Version: 8, 13") || strings.Contains(head, wsVersionExplain) {
			t.Errorf("version %s: %q", version, head)
		}
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #4 and #21; docs/PROTOCOL.md §6.5.2
// (the whole 101 head byte for byte, for the documented key).
func TestWebSocketHandshake(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.0", "/ws/"+channelID(t), wsRequestHeaders...))
	head := wsHead(c)
	for _, line := range []string{
		"HTTP/1.1 101 Switching Protocols\r\n",                       // #4
		"\r\nUpgrade: WebSocket\r\n",                                 // #4
		"\r\nConnection: Upgrade\r\n",                                // #4
		"\r\nSec-WebSocket-Accept: RaIOIcQ6CBoc74B9EKdH0avYZnw=\r\n", // #4
		"\r\nExpires: Thu, 01 Jan 1970 00:00:01 GMT\r\n",             // #21
		"\r\nCache-Control: no-cache, no-store, must-revalidate\r\n", // #21
	} {
		if !strings.Contains(head, line) {
			t.Errorf("handshake lacks %q", line)
		}
	}
	// docs/PROTOCOL.md §6.5.2: exactly these bytes, no Server or Date.
	if head != wsHandshake {
		t.Fatalf("handshake:\n got %q\nwant %q", head, wsHandshake)
	}
	// #4: nothing after the header block at first (no header template).
	(&wsConn{c}).expectSilence()
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #5
func TestWebSocketHeaderTemplate(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"header_template": "HEADER_TEMPLATE"}))
	c := wsOpen(t, "/ws/"+channelID(t))
	c.expect("\x81\x0fHEADER_TEMPLATE")
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #6
func TestWebSocketPing(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"ping_message_interval": "1s"}))
	c := wsOpen(t, "/ws/"+channelID(t))
	c.expect(wsPing)
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #7 and #9; docs/PROTOCOL.md §6.5.8
// (finalisation on TTL).
func TestWebSocketTTL(t *testing.T) {
	t.Parallel()
	t.Run("#7 close frame", func(t *testing.T) {
		load(t, wsConfig(map[string]string{"subscriber_connection_ttl": "1s"}))
		c := wsOpen(t, "/ws/"+channelID(t))
		c.expect(wsClose)
		c.expectEOF()
	})
	t.Run("#9 footer then close frame", func(t *testing.T) {
		load(t, wsConfig(map[string]string{"subscriber_connection_ttl": "1s", "footer_template": "FOOTER_TEMPLATE"}))
		c := wsOpen(t, "/ws/"+channelID(t))
		c.expect("\x81\x0fFOOTER_TEMPLATE\x88\x00")
		c.expectEOF()
	})
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #8; docs/PROTOCOL.md §6.5.6 (close
// frame with reason, byte for byte).
func TestWebSocketValidationCloseFrame(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"authorized_channels_only": "on"}))
	c := wsOpen(t, "/ws/"+channelID(t)+".b1")
	c.expect("\x88I\x03\xf0{\"http_status\": 403, \"explain\":\"Subscriber could not create channels.\"}")
	c.expectEOF()
}

// docs/PROTOCOL.md §6.5.5: a path without a channel is closed after the 101
// without any frame.
func TestWebSocketNoChannel(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	c := wsOpen(t, "/ws/")
	c.expectEOF()
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #10
func TestWebSocketPublishedMessage(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	c := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	publish(t, id, "Hello")
	c.expect("\x81\x05Hello")
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #11 and #12; docs/PROTOCOL.md §6.5.4
// (7-bit, 16-bit and 64-bit lengths and their boundaries).
func TestWebSocketFrameLengths(t *testing.T) {
	t.Parallel()
	// One max_body_size large enough for both scenarios (65k and 70k
	// upstream); the stored copies are not needed here.
	c := wsConfig(nil)
	c.Pub = map[string]string{"max_body_size": "70k", "store_messages": "off"}
	load(t, c)
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	for _, tc := range []struct {
		name string
		size int
		head string
	}{
		{"125 bytes", 125, "\x81\x7d"},
		{"126 bytes", 126, "\x81\x7e\x00\x7e"},
		{"#11 65535 bytes", 65535, "\x81\x7e\xff\xff"},
		{"#12 65536 bytes", 65536, "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Repeat("a", tc.size)
			publish(t, id, body)
			ws.t = t
			ws.expect(tc.head + body)
		})
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #13
func TestWebSocketOldMessagesWithTemplate(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"message_template": `"{\"text\":\"~text~\"}"`, "subscriber_connection_ttl": "1s"}))
	id := channelID(t)
	publish(t, id, "body")
	ws := wsOpen(t, "/ws/"+id+".b1")
	ws.expect("\x81\x0f{\"text\":\"body\"}")
	ws.expect(wsClose)

	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.0", "/sub/"+id+".b1"))
	if res := c.head(); res.Status != http.StatusOK {
		t.Fatalf("stream: %q", res.StatusLine)
	}
	body, err := io.ReadAll(c.r)
	if err != nil || string(body) != `{"text":"body"}` {
		t.Fatalf("stream body %q (%v), want %q", body, err, `{"text":"body"}`)
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #14; docs/PROTOCOL.md §6.5.7
// (masked frame published to every channel of the connection).
func TestWebSocketPublishToSeveralChannels(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"message_template": wsJSONTemplate}))
	base := channelID(t)
	ch1, ch2 := base+"_ch1", base+"_ch2"
	ws := wsOpen(t, "/ws/"+ch2+"/"+ch1)
	waitSubscribers(t, ch1, 1)
	ws.send(wsHex(t, "81 85 BD D0 E5 2A D5 B5 89 46 D2"))
	ws.expect(wsText(`{"channel":"`+ch2+`", "id":"1", "message":"hello"}`) +
		wsText(`{"channel":"`+ch1+`", "id":"1", "message":"hello"}`))

	all := statsAnswer(t, "ALL").body
	info2 := `{"channel": "` + ch2 + `", "published_messages": 1, "stored_messages": 1, "subscribers": 1}`
	info1 := `{"channel": "` + ch1 + `", "published_messages": 1, "stored_messages": 1, "subscribers": 1}`
	if i2, i1 := strings.Index(all, info2), strings.Index(all, info1); i2 < 0 || i1 < 0 || i2 > i1 {
		t.Fatalf("ALL lacks %s then %s:\n%s", info2, info1, all)
	}
	for _, id := range []string{ch1, ch2} {
		sub, _ := subscribeOK(t, "/sub/"+id+".b1")
		if got, want := sub.mustChunk(), `{"channel":"`+id+`", "id":"1", "message":"hello"}`; got != want {
			t.Fatalf("old message of %s: %q, want %q", id, got, want)
		}
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #15; docs/PROTOCOL.md §6.5.7 (64-bit
// client frame lengths).
func TestWebSocketLargeClientMessages(t *testing.T) {
	t.Parallel()
	c := wsConfig(map[string]string{"message_template": wsJSONTemplate})
	c.Global = map[string]string{"shared_memory_size": "15m"}
	// Not stored: a stored 4 MiB message would occupy the shared store's
	// memory cap for the rest of the test process.
	// Upstream has no limit but the memory cap; ours is 64 KiB unless set.
	c.Site = websocketSite(mergeSettings(wsTemplatesOff, wsHandler, map[string]string{"message_template": wsJSONTemplate, "store_messages": "off", "websocket_max_message_size": "5m"}))
	load(t, c)
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	for i, size := range []int{4194304, 10204} {
		msg := make([]byte, size)
		for j := range msg {
			msg[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[j%36]
		}
		ws.send(wsClientFrame(0x81, msg, wsMask))
		first, payload := ws.frame()
		// The baseline's 10 s ping may come first on a busy machine.
		for first == wsPing[0] && len(payload) == 0 {
			first, payload = ws.frame()
		}
		want := fmt.Sprintf(`{"channel":"%s", "id":"%d", "message":"%s"}`, id, i+1, msg)
		if first != 0x81 || string(payload) != want {
			t.Fatalf("echo of %d bytes: first byte %#x, payload %d bytes %q", size, first, len(payload), abbreviate(string(payload)))
		}
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #16
func TestWebSocketLowBitrate(t *testing.T) {
	t.Parallel()
	c := wsConfig(map[string]string{"message_template": wsChannelTemplate})
	c.Global = map[string]string{"shared_memory_size": "15m"}
	load(t, c)
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	// Upstream sends one byte every 2 s; the point is a frame arriving in
	// many separate reads, so shorter gaps keep the meaning.
	for _, b := range wsHex(t, wsMaskedHello) {
		ws.send([]byte{b})
		time.Sleep(200 * time.Millisecond)
	}
	ws.expect(wsText(`{"channel":"` + id + `", "message":"Hello"}`))
	expectChannelCounts(t, id, 1, 1, 1)
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #17, #18, #19, #26 and
// docs/PROTOCOL.md §6.5.7 (control frames, unsupported opcodes, close with a
// status code, a control frame between fragments).
func TestWebSocketClientControlFrames(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))

	t.Run("#17 ping", func(t *testing.T) {
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		ws.send(wsHex(t, "89 05 48 65 6C 6C 6F"))
		ws.expect(wsPong)
		ws.expectSilence()
		expectChannelCounts(t, id, 0, 0, 1)
	})
	t.Run("#18 pong", func(t *testing.T) {
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		ws.send(wsHex(t, "8A 80 BD D0 E5 2A"))
		// The next bytes answer the ping sent after the pong: the pong
		// itself got no reply.
		ws.send(wsHex(t, "89 00"))
		ws.expect(wsPong)
		expectChannelCounts(t, id, 0, 0, 1)
	})
	t.Run("#19 close", func(t *testing.T) {
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		waitSubscribers(t, id, 1)
		ws.send(wsHex(t, "88 80 BD D0 E5 2A"))
		ws.expect(wsClose)
		ws.expectEOF()
		waitChannelCounts(t, id, 0, 0, 0)
	})
	t.Run("close with a status code", func(t *testing.T) {
		// docs/PROTOCOL.md §6.5.7, §10.1: answered "\x88\x00" whatever the payload
		// (1000 = 03 E8 is not UTF-8).
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		waitSubscribers(t, id, 1)
		ws.send(wsClientFrame(0x88, []byte{0x03, 0xE8}, wsMask))
		ws.expect(wsClose)
		ws.expectEOF()
		waitChannelCounts(t, id, 0, 0, 0)
	})
	t.Run("#26 binary frame", func(t *testing.T) {
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		waitSubscribers(t, id, 1)
		ws.send(wsClientFrame(0x82, []byte("Hello"), wsMask))
		ws.expect(wsClose)
		ws.expectEOF()
		waitChannelCounts(t, id, 0, 0, 0)
	})
	t.Run("control frame between fragments", func(t *testing.T) {
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		waitSubscribers(t, id, 1)
		ws.send(wsHex(t, wsFragmentedHello1))
		ws.send(wsHex(t, "89 00"))
		ws.expect(wsClose)
		ws.expectEOF()
		waitChannelCounts(t, id, 0, 0, 0)
	})
	t.Run("continuation without a started message", func(t *testing.T) {
		id := channelID(t)
		ws := wsOpen(t, "/ws/"+id)
		waitSubscribers(t, id, 1)
		ws.send(wsHex(t, wsFragmentedHello2))
		ws.expect(wsClose)
		ws.expectEOF()
		waitChannelCounts(t, id, 0, 0, 0)
	})
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #20 (no UTF-8 check on output)
func TestWebSocketBinaryBody(t *testing.T) {
	t.Parallel()
	c := wsConfig(map[string]string{"message_template": `"~text~|"`})
	c.Pub = map[string]string{"max_body_size": "130k", "store_messages": "off"}
	load(t, c)
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	body := make([]byte, 0, 131072)
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			body = append(body, byte(a), byte(b))
		}
	}
	publish(t, id, string(body))
	ws.expect("\x81\x7f\x00\x00\x00\x00\x00\x02\x00\x01" + string(body) + "|")
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #22 [C]: bytes after the close
// frame are never parsed as an HTTP request.
func TestWebSocketBytesAfterClose(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"subscriber_connection_ttl": "1s"}))
	c := dialRaw(t)
	c.write(wsRequest("HTTP/1.1", "/ws/"+channelID(t), append([]string{"Host: localhost"}, wsRequestHeaders...)...))
	if head := wsHead(c); head != wsHandshake {
		t.Fatalf("handshake %q", head)
	}
	ws := &wsConn{c}
	ws.expect(wsClose)
	// The server may already have closed: a failing write is fine.
	_, _ = c.conn.Write([]byte("WRITE SOMETHING UNKNOWN\r\n"))
	// No HTTP answer (such as a 400) comes back: the connection just ends.
	ws.expectEOF()
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #23 [C]: a websocket survives a
// config reload (docs/PROTOCOL.md §10) and garbage it sends is not parsed as HTTP.
func TestWebSocketSurvivesReload(t *testing.T) {
	t.Parallel()
	c := wsConfig(map[string]string{"ping_message_interval": "1s"})
	load(t, c)
	id := channelID(t)
	publish(t, id, "before")
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	if n := num(t, stats(t, ""), "subscribers"); n < 1 {
		t.Fatalf("store-wide subscribers %d", n)
	}

	// A real reload: the new config differs.
	c.Site += "\trespond /ws-reload-marker 204\n"
	load(t, c)
	if res := do(t, http.MethodGet, "/ws-reload-marker", ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("new config not running: %d", res.StatusCode)
	}
	expectChannelCounts(t, id, 1, 1, 1)
	publish(t, id, "after")
	// Pings may come before the message; the message must arrive.
	for {
		first, payload := ws.frame()
		if first == 0x89 && len(payload) == 0 {
			continue
		}
		if first != 0x81 || string(payload) != "after" {
			t.Fatalf("after reload: frame %#x %q", first, payload)
		}
		break
	}
	// Still a websocket: the garbage is read as frames, and its first
	// byte, a FIN=0 frame of reserved opcode 7, is answered with a close
	// frame (docs/PROTOCOL.md §10.1), not with an HTTP error.
	_, _ = ws.conn.Write([]byte("WRITE SOMETHING UNKNOWN\r\n"))
	for {
		first, payload := ws.frame()
		if first == 0x89 && len(payload) == 0 {
			continue
		}
		if first != 0x88 || len(payload) != 0 {
			t.Fatalf("after garbage: frame %#x %q, want a close frame", first, payload)
		}
		break
	}
	waitSubscribers(t, id, 0)
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #24
func TestWebSocketUTF8Text(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	if !strings.HasPrefix(wsArabic, "\xd8\xa3\xd9\x8e") {
		t.Fatalf("test text encoded as %x", wsArabic)
	}
	ws.send(wsClientFrame(0x81, []byte(wsArabic), wsMask))
	ws.expect(wsText(wsArabic))
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #25; docs/PROTOCOL.md §6.5.7
// (invalid UTF-8 closes without a frame).
func TestWebSocketInvalidUTF8(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	ws.send(wsClientFrame(0x81, []byte(wsArabic[1:]), wsMask))
	ws.expectEOF()
	waitChannelCounts(t, id, 0, 0, 0)
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #27, #28, #29 (unmasked,
// masked and fragmented client frames).
func TestWebSocketClientFrameKinds(t *testing.T) {
	t.Parallel()
	c := wsConfig(map[string]string{"message_template": wsChannelTemplate})
	c.SubMode = "long-polling"
	c.Global = map[string]string{"shared_memory_size": "15m"}
	load(t, c)
	for _, tc := range []struct {
		name   string
		frames []string
	}{
		{"#27 unmasked", []string{wsUnmaskedHello}},
		{"#28 masked", []string{wsMaskedHello}},
		{"#29 fragmented", []string{wsFragmentedHello1, wsFragmentedHello2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := channelID(t)
			ws := wsOpen(t, "/ws/"+id)
			waitSubscribers(t, id, 1)
			for _, f := range tc.frames {
				ws.send(wsHex(t, f))
			}
			want := `{"channel":"` + id + `", "message":"Hello"}`
			ws.expect(wsText(want))

			lp := dialRaw(t)
			lp.send(http.MethodGet, "/sub/"+id+".b1", "")
			res := lp.head()
			if body := lp.rest(); res.Status != http.StatusOK || body != want {
				t.Fatalf("long-polling: %q body %q, want %q", res.StatusLine, body, want)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/websocket_spec.rb #30
func TestWebSocketMixedFramesOnOneConnection(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"message_template": wsJSONTemplate}))
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	kinds := [][]string{
		{wsUnmaskedHello}, {wsMaskedHello}, {wsFragmentedHello1, wsFragmentedHello2}, {wsMaskedHello},
		{wsUnmaskedHello}, {wsFragmentedHello1, wsFragmentedHello2}, {wsUnmaskedHello}, {wsMaskedHello},
	}
	for i, frames := range kinds {
		for _, f := range frames {
			ws.send(wsHex(t, f))
		}
		ws.expect(wsText(fmt.Sprintf(`{"channel":"%s", "id":"%d", "message":"Hello"}`, id, i+1)))
	}
}

// docs/PROTOCOL.md §4.5, §6.5.8: a deleted channel sends the channel-deleted
// message; with no subscription left the footer frame and "\x88\x00"
// follow and the connection closes.
func TestWebSocketChannelDeleted(t *testing.T) {
	t.Parallel()
	c := wsConfig(map[string]string{"footer_template": "FOOTER_TEMPLATE"})
	c.PubMode = "admin"
	load(t, c)
	base := channelID(t)
	a, b := base+"_a", base+"_b"
	ws := wsOpen(t, "/ws/"+a+"/"+b)
	waitSubscribers(t, b, 1)

	if res := do(t, http.MethodDelete, "/pub?id="+a, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %d", a, res.StatusCode)
	}
	ws.expect("\x81\x0fChannel deleted")
	// Still subscribed to b: no footer, no close.
	publish(t, b, "still here")
	ws.expect(wsText("still here"))

	if res := do(t, http.MethodDelete, "/pub?id="+b, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %d", b, res.StatusCode)
	}
	ws.expect("\x81\x0fChannel deleted" + "\x81\x0fFOOTER_TEMPLATE" + wsClose)
	ws.expectEOF()
}

// docs/PROTOCOL.md §6.5.2: the websocket handler answers an HTTP/2
// request with a 4xx at once instead of hanging it.
func TestWebSocketHTTP2Refused(t *testing.T) {
	t.Parallel()
	// A second site, served over TLS so that HTTP/2 is negotiated.
	base, h2 := loadWithTLSSite(t, wsConfig(nil), websocketSite(mergeSettings(wsTemplatesOff, wsHandler)))
	h2.Timeout = waitLimit
	url := base + "/ws/" + channelID(t)
	get := func(headers map[string]string) (*http.Response, string, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header[k] = []string{v}
		}
		res, err := h2.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res, string(body), err
	}

	// The internal certificate may take a moment after the load.
	var lastErr error
	waitFor(t, "the TLS site to answer", func() bool {
		_, _, lastErr = get(nil)
		return lastErr == nil
	})
	for name, headers := range map[string]map[string]string{
		"plain GET": nil,
		// Connection and Upgrade are forbidden in HTTP/2; a client can
		// still send the websocket key and version.
		"websocket headers": {"Sec-WebSocket-Key": wsKey, "Sec-WebSocket-Version": "13"},
	} {
		res, body, err := get(headers)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.ProtoMajor != 2 {
			t.Fatalf("%s: negotiated %s, want HTTP/2", name, res.Proto)
		}
		if res.StatusCode < 400 || res.StatusCode >= 500 || res.StatusCode == http.StatusNotFound {
			t.Errorf("%s: status %d body %q, want a websocket handler 4xx", name, res.StatusCode, body)
		}
		t.Logf("%s: %d, explain %q", name, res.StatusCode, res.Header.Get("X-Nginx-PushStream-Explain"))
	}
}

// docs/PROTOCOL.md §6.5 with an independent client (gorilla/websocket, RFC 6455
// strict): handshake, a published message, an echoed text message and the
// close on TTL.
func TestWebSocketGorillaClient(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"subscriber_connection_ttl": "3s", "footer_template": "bye"}))
	id := channelID(t)
	dialer := websocket.Dialer{HandshakeTimeout: waitLimit}
	conn, res, err := dialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws/%s", serverOf(t).httpPort, id), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", res.StatusCode)
	}
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	read := func(want string) {
		t.Helper()
		kind, p, err := conn.ReadMessage()
		if err != nil || kind != websocket.TextMessage || string(p) != want {
			t.Fatalf("read: kind %d %q (%v), want text %q", kind, p, err, want)
		}
	}

	waitSubscribers(t, id, 1)
	publish(t, id, "published")
	read("published")

	if err := conn.WriteMessage(websocket.TextMessage, []byte("from gorilla")); err != nil {
		t.Fatal(err)
	}
	read("from gorilla")
	expectChannelCounts(t, id, 2, 2, 1)

	read("bye")
	_, _, err = conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNoStatusReceived) {
		t.Fatalf("want a close frame without status, got %v", err)
	}
}
