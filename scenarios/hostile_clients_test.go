package scenarios_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every subscriber location takes anonymous connections: these tests are
// what a hostile client tries (docs/PROTOCOL.md §10.1).

// serverCPU returns the CPU time t's Caddy has used so far, from
// /proc/<pid>/stat (user and system clock ticks).
func serverCPU(t *testing.T) time.Duration {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", serverOf(t).cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}

// publishingWebSocket is a websocket location that publishes what its
// clients send, with a 2 MiB message limit.
func publishingWebSocket() config {
	return wsConfig(map[string]string{"websocket_max_message_size": "2m", "store_messages": "off"})
}

// TestHostileSlowLargeFrame: a client that announces a large frame and
// trickles it costs the server CPU in proportion to the bytes, as the same
// frame sent at once does: no byte is parsed twice.
func TestHostileSlowLargeFrame(t *testing.T) {
	t.Parallel()
	load(t, publishingWebSocket())
	id := channelID(t)
	frame := wsClientFrame(0x81, []byte(strings.Repeat("x", 1<<20)), wsMask)

	whole := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	before := serverCPU(t)
	whole.send(frame)
	if first, payload := whole.frame(); first != 0x81 || len(payload) != 1<<20 {
		t.Fatalf("echo of the whole frame: %#x, %d bytes", first, len(payload))
	}
	cpuWhole := serverCPU(t) - before

	slow := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 2)
	before = serverCPU(t)
	for piece := frame; len(piece) > 0; {
		n := min(1024, len(piece))
		slow.send(piece[:n])
		piece = piece[n:]
		time.Sleep(time.Millisecond)
	}
	for _, c := range []*wsConn{whole, slow} {
		if first, payload := c.frame(); first != 0x81 || len(payload) != 1<<20 {
			t.Fatalf("echo of the trickled frame: %#x, %d bytes", first, len(payload))
		}
	}
	cpuSlow := serverCPU(t) - before
	t.Logf("server CPU: %v for 1 MiB at once, %v for it in 1 KiB pieces", cpuWhole, cpuSlow)
	// Parsed again on every read, the trickled frame costs about 1000
	// times the whole one; parsed once, a read costs a system call and a
	// wake-up. The slack covers the clock's 10 ms ticks.
	if cpuSlow > 3*cpuWhole+500*time.Millisecond {
		t.Fatalf("server CPU %v for the trickled frame, %v for the whole one", cpuSlow, cpuWhole)
	}
}

// TestHostileMessageOverLimit: a message over websocket_max_message_size
// is refused as soon as its header says so, with close status 1009; so is
// a fragmented one whose fragments add up past it.
func TestHostileMessageOverLimit(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"websocket_max_message_size": "1k"}))
	id := channelID(t)

	ws := wsOpen(t, "/ws/"+id)
	// Only the header of a 1 GiB frame: nothing is waited for.
	ws.send(wsClientFrame(0x81, nil, nil)[:1])
	ws.send([]byte{0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4})
	ws.expect("\x88\x02\x03\xF1")
	ws.expectEOF()

	frag := wsOpen(t, "/ws/"+id)
	part := []byte(strings.Repeat("y", 600))
	frag.send(wsClientFrame(0x01, part, wsMask))
	frag.send(wsClientFrame(0x80, part, wsMask))
	frag.expect("\x88\x02\x03\xF1")
	frag.expectEOF()

	// Within the limit, a message is published as usual.
	ok := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	ok.send(wsClientFrame(0x81, []byte("fits"), wsMask))
	ok.expect(wsText("fits"))
}

// TestHostileDataOnSubscriberOnlyLocation: a location without
// websocket_allow_publish keeps no client data: a 4 MiB text frame is read
// and dropped (no limit applies, nothing is published) and the connection
// goes on answering pings.
func TestHostileDataOnSubscriberOnlyLocation(t *testing.T) {
	t.Parallel()
	c := wsConfig(nil)
	c.Site = websocketSite(wsTemplatesOff)
	load(t, c)
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	ws.send(wsClientFrame(0x81, []byte(strings.Repeat("z", 4<<20)), wsMask))
	ws.send(wsClientFrame(0x89, nil, wsMask))
	ws.expect("\x8A\x00")
	expectChannelCounts(t, id, 0, 0, 1)
}

// TestHostileFrameSplits: frames cut at random places, as reads of a
// socket deliver them, are answered as when sent whole.
func TestHostileFrameSplits(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"store_messages": "off"}))
	id := channelID(t)
	stream := append(wsHex(t, wsFragmentedHello1), wsHex(t, wsFragmentedHello2)...)
	stream = append(stream, wsClientFrame(0x89, nil, wsMask)...)
	stream = append(stream, wsClientFrame(0x81, []byte("é "+strings.Repeat("w", 300)), wsMask)...)
	// The pong is written while the input is read, the published
	// messages when the store hands them over: the order between them
	// may vary.
	want := []string{wsText("Hello"), "\x8A\x00", wsText("é " + strings.Repeat("w", 300))}
	slices.Sort(want)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		ws := wsOpen(t, "/ws/"+id)
		waitSubscribers(t, id, 1)
		for rest := stream; len(rest) > 0; {
			n := 1 + rng.IntN(min(len(rest), 40))
			ws.send(rest[:n])
			rest = rest[n:]
			time.Sleep(time.Millisecond)
		}
		var got []string
		for range want {
			first, payload := ws.frame()
			got = append(got, wsServerFrame(first, string(payload)))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: frames %q, want %q", round, got, want)
		}
		ws.conn.Close()
		waitSubscribers(t, id, 0)
		t.Logf("round %d passed", round)
	}
}

// hostileIDs are channel ids that would break a format written raw; each
// is percent-encoded into a subscriber path.
var hostileIDs = []string{
	`x","published_messages": 999, "y":"`,
	"line\rchannel: fake",
	"<name>injected",
	"a&b<c>'\"",
	"tab\there",
}

// TestHostileIDsInStatistics: ids any subscriber can create come out of
// every statistics format and the events channel escaped: the JSON and
// XML parse and name the id, YAML and plain keep one field a line.
func TestHostileIDsInStatistics(t *testing.T) {
	t.Parallel()
	c := config{Global: map[string]string{"events_channel_id": "events"}}
	c.Sub = map[string]string{"allow_connections_to_events_channel": "on", "header_template": "", "footer_template": "", "message_template": `"~text~\n"`}
	load(t, c)
	prefix := channelID(t) + "_"
	for _, id := range hostileIDs {
		res := do(t, http.MethodGet, "/sub/"+url.PathEscape(prefix+id), "", "X-Nginx-PushStream-Mode", "polling")
		if res.StatusCode != http.StatusNotModified {
			t.Fatalf("polling %q: status %d", id, res.StatusCode)
		}
	}

	res := do(t, http.MethodGet, "/channels-stats?id="+url.QueryEscape(prefix)+"*", "", "Accept", "application/json")
	var group struct {
		Infos []struct {
			Channel string `json:"channel"`
		} `json:"infos"`
	}
	if err := json.Unmarshal([]byte(res.body), &group); err != nil {
		t.Fatalf("JSON statistics do not parse: %v\n%s", err, res.body)
	}
	names := map[string]bool{}
	for _, info := range group.Infos {
		names[info.Channel] = true
	}
	for _, id := range hostileIDs {
		if !names[prefix+id] {
			t.Errorf("JSON statistics lack %q: %v", id, names)
		}
	}

	res = do(t, http.MethodGet, "/channels-stats?id="+url.QueryEscape(prefix)+"*", "", "Accept", "application/xml")
	var root struct {
		Channels []struct {
			Name string `xml:"name"`
		} `xml:"infos>channel"`
	}
	if err := xml.Unmarshal([]byte(res.body), &root); err != nil || len(root.Channels) != len(hostileIDs) {
		t.Fatalf("XML statistics: %v, %d channels\n%s", err, len(root.Channels), res.body)
	}

	for _, accept := range []string{"application/yaml", "text/plain"} {
		res = do(t, http.MethodGet, "/channels-stats?id="+url.QueryEscape(prefix)+"*", "", "Accept", accept)
		for _, line := range strings.Split(res.body, "\r\n") {
			if strings.Contains(line, "fake") && !strings.Contains(line, "channel: ") {
				t.Fatalf("%s: a channel id started a line of its own: %q", accept, line)
			}
		}
	}

	// Every event about them is valid JSON naming the id.
	poll := do(t, http.MethodGet, "/sub/events.b100", "", "X-Nginx-PushStream-Mode", "polling")
	created := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(poll.body), "\n") {
		var event struct{ Type, Channel string }
		if err := json.Unmarshal([]byte(line), &event); err != nil {
			t.Fatalf("event %q is not JSON: %v", line, err)
		}
		created[event.Channel] = true
	}
	for _, id := range hostileIDs {
		if !created[prefix+id] {
			t.Errorf("no event names %q: %v", id, created)
		}
	}
}

// TestHostileIDInEventSource: a CR in a channel id never reaches an
// EventSource stream raw, where it would start a field of the
// subscriber's choosing. (HTTP itself keeps CR and LF out of the Event-Id
// and Event-Type headers; the formatter escapes them all the same.)
func TestHostileIDInEventSource(t *testing.T) {
	t.Parallel()
	load(t, config{SubMode: "eventsource", Sub: map[string]string{
		"header_template": "", "footer_template": "", "message_template": `"~channel~|~event-type~|~text~"`,
	}})
	id := channelID(t) + "\rdata: injected"
	sub, head := subscribe(t, "/sub/"+url.PathEscape(id))
	if head.Status != http.StatusOK {
		t.Fatalf("status %d", head.Status)
	}
	if got := sub.mustChunk(); got != ": \n" {
		t.Fatalf("first chunk %q", got)
	}
	waitSubscribers(t, url.QueryEscape(id), 1)
	publish(t, url.QueryEscape(id), "hi", "Event-Id", "1", "Event-Type", "kind")
	got := sub.mustChunk()
	want := "id: 1\nevent: kind\ndata: " + channelIDPrefix(id) + `\rdata: injected|kind|hi` + "\n\n"
	if got != want {
		t.Fatalf("event %q, want %q", got, want)
	}
}

// channelIDPrefix is the part of id before its first CR.
func channelIDPrefix(id string) string {
	prefix, _, _ := strings.Cut(id, "\r")
	return prefix
}

// TestHostileJSONPCallback: a callback that is not a JavaScript
// identifier path is refused before any channel is created; a good one is
// served as a script that the browser must not sniff into anything else.
func TestHostileJSONPCallback(t *testing.T) {
	t.Parallel()
	load(t, config{})
	id := channelID(t)
	for _, bad := range []string{"alert(document.domain)//", "a;b", "1a", "a..b", "%0a"} {
		res := do(t, http.MethodGet, "/sub/"+id+"?callback="+url.QueryEscape(bad), "", "X-Nginx-PushStream-Mode", "polling")
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("X-Nginx-PushStream-Explain") != "Invalid JSONP callback name." {
			t.Fatalf("callback %q: status %d, explain %q", bad, res.StatusCode, res.Header.Get("X-Nginx-PushStream-Explain"))
		}
	}
	if n := num(t, stats(t, ""), "channels"); n != 0 {
		t.Fatalf("refused requests created %d channels", n)
	}
	publish(t, id, "msg")
	res := do(t, http.MethodGet, "/sub/"+id+".b1?callback=PushStream.cb_1", "", "X-Nginx-PushStream-Mode", "polling")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/javascript" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("good callback: %d %v", res.StatusCode, res.Header)
	}
	if !strings.Contains(res.body, "PushStream.cb_1([") {
		t.Fatalf("body %q", res.body)
	}
}

// TestHostileNoSniff: every answer with a body says nosniff.
func TestHostileNoSniff(t *testing.T) {
	t.Parallel()
	load(t, config{})
	id := channelID(t)
	if res := publish(t, id, "x"); res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("publisher answer: %v", res.Header)
	}
	if res := do(t, http.MethodGet, "/channels-stats", ""); res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("statistics answer: %v", res.Header)
	}
	_, head := subscribe(t, "/sub/"+id)
	if head.Header("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("stream head: %q", head.Head)
	}
}

// TestHostileRepeatedChannel: a path naming one channel many times is one
// subscription, which gets each message once.
func TestHostileRepeatedChannel(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: map[string]string{"header_template": "", "footer_template": "", "message_template": `"~text~"`}, Global: map[string]string{"max_subscribers_per_channel": "2"}})
	id := channelID(t)
	sub, head := subscribe(t, "/sub/"+strings.Repeat(id+"/", 500)+id+".b1")
	if head.Status != http.StatusOK {
		t.Fatalf("status %d", head.Status)
	}
	waitSubscribers(t, id, 1)
	// The limit of two still lets a second client in.
	if _, head := subscribe(t, "/sub/"+id); head.Status != http.StatusOK {
		t.Fatalf("second client: status %d", head.Status)
	}
	waitSubscribers(t, id, 2)
	publish(t, id, "once")
	publish(t, id, "twice")
	if got := sub.mustChunk() + sub.mustChunk(); got != "oncetwice" {
		t.Fatalf("got %q", got)
	}
}

// TestHostileWebSocketOrigin: with allowed_origins set, a browser page of
// another origin cannot open a websocket (and so cannot publish through
// websocket_allow_publish); the allowed origin and clients that send no
// Origin can.
func TestHostileWebSocketOrigin(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(map[string]string{"allowed_origins": "https://app.example"}))
	id := channelID(t)
	for origin, want := range map[string]int{
		"https://evil.example": http.StatusForbidden,
		"https://app.example":  http.StatusSwitchingProtocols,
		"":                     http.StatusSwitchingProtocols,
	} {
		c := dialRaw(t)
		headers := append([]string(nil), wsRequestHeaders...)
		if origin != "" {
			headers = append(headers, "Origin: "+origin)
		}
		c.write(wsRequest("HTTP/1.1", "/ws/"+id, append(headers, "Host: localhost")...))
		if head := c.head(); head.Status != want {
			t.Fatalf("Origin %q: status %d, want %d", origin, head.Status, want)
		}
	}
}

// TestHostileReservedOpcode: garbage after the handshake whose first byte
// announces a reserved opcode (`W` is FIN=0, opcode 7) ends the connection
// with a close frame at once (RFC 6455 §5.2), without waiting for the
// payload its second byte announces.
func TestHostileReservedOpcode(t *testing.T) {
	t.Parallel()
	load(t, wsConfig(nil))
	id := channelID(t)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 1)
	ws.send([]byte("WRITE SOMETHING UNKNOWN\r\n"))
	ws.expect("\x88\x00")
	ws.expectEOF()
	waitSubscribers(t, id, 0)
}
