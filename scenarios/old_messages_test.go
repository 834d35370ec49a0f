package scenarios_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Scenarios of misc/spec/subscriber/receive_old_message_spec.rb
// (docs/SCENARIOS.md). Every example runs in five modes at once: the baseline
// /sub/ handler streams, and the configuration adds a polling, a
// long-polling, an eventsource and a websocket handler with the same
// settings, so the messages published once are read by all five.

// oldMode is one subscriber mode and the path prefix of its handler.
type oldMode struct {
	name   string
	prefix string
}

var oldModes = []oldMode{
	{"streaming", "/sub/"},
	{"polling", "/oldpoll/"},
	{"long-polling", "/oldlp/"},
	{"eventsource", "/oldes/"},
	{"websocket", "/oldws/"},
}

// oldJSONTemplate is the spec's message template, as written in the
// Caddyfile.
const oldJSONTemplate = `"{\"channel\":\"~channel~\", \"id\":\"~id~\", \"message\":\"~text~\"}\r\n"`

// oldMessagesConfig renders the spec's baseline changes (header and
// footer off, the JSON template, ping 1s) with changes on the streaming
// handler and on four extra handlers, one per other mode.
func oldMessagesConfig(changes map[string]string) config {
	settings := mergeSettings(map[string]string{
		"header_template":       "",
		"footer_template":       "",
		"message_template":      oldJSONTemplate,
		"ping_message_interval": "1s",
	}, changes)
	var site strings.Builder
	for _, m := range oldModes[1:] {
		site.WriteString(subscriberSite(strings.Trim(m.prefix, "/"), "^"+m.prefix+"(.*)$", m.name, settings))
	}
	return config{Sub: settings, Site: site.String()}
}

// oldRequest is one subscriber request in one mode, sent but not read.
type oldRequest struct {
	mode oldMode
	conn *rawConn
}

// openInEveryMode sends the same request path (channels and query) with
// the same headers in every mode. The websocket request is an HTTP/1.1
// upgrade with Sec-WebSocket-Version 8.
func openInEveryMode(t *testing.T, path string, headers ...string) []oldRequest {
	t.Helper()
	var reqs []oldRequest
	for _, m := range oldModes {
		c := dialRaw(t)
		hs := append([]string(nil), headers...)
		if m.name == "websocket" {
			hs = append(hs, wsRequestHeaders...)
		}
		c.send(http.MethodGet, m.prefix+path, "", hs...)
		reqs = append(reqs, oldRequest{mode: m, conn: c})
	}
	return reqs
}

// readOldMessages reads what a request received before its first ping
// (streaming, eventsource, websocket) or its whole answer (polling,
// long-polling), and normalises it like the upstream reader: lines split
// at LF (a CR before it dropped), `: ` and `data: ` prefixes stripped,
// `id: ` lines and empty lines dropped. streamPing is the streaming ping
// chunk of the template.
func readOldMessages(t *testing.T, req oldRequest, streamPing string) ([]string, *rawResponse) {
	t.Helper()
	c := &rawConn{t: t, conn: req.conn.conn, r: req.conn.r}
	res := c.head()
	var pieces []string
	switch req.mode.name {
	case "websocket":
		if res.Status != http.StatusSwitchingProtocols {
			t.Fatalf("handshake status %d", res.Status)
		}
		pieces = textFramesUntilPing(t, c)
	case "polling", "long-polling":
		if res.Status != http.StatusOK {
			t.Fatalf("status %d, want 200\n%s", res.Status, res.Head)
		}
		if res.Header("Last-Modified") == "" || res.Header("Etag") == "" {
			t.Errorf("Last-Modified %q, Etag %q: want both set", res.Header("Last-Modified"), res.Header("Etag"))
		}
		pieces = []string{c.responseBody(res)}
	default:
		if res.Status != http.StatusOK {
			t.Fatalf("status %d, want 200\n%s", res.Status, res.Head)
		}
		ping := streamPing
		if req.mode.name == "eventsource" {
			ping = ": -1\n"
		}
		for {
			chunk := c.mustChunk()
			if chunk == ping {
				break
			}
			pieces = append(pieces, chunk)
		}
	}
	var lines []string
	for _, piece := range pieces {
		for _, line := range strings.Split(piece, "\n") {
			line = strings.TrimSuffix(line, "\r")
			line = strings.TrimPrefix(line, ": ")
			line = strings.TrimPrefix(line, "data: ")
			if line == "" || strings.HasPrefix(line, "id: ") {
				continue
			}
			lines = append(lines, line)
		}
	}
	return lines, res
}

// textFramesUntilPing reads server frames after the handshake until the
// ping frame "\x89\x00" and returns the payloads of the text frames.
func textFramesUntilPing(t *testing.T, c *rawConn) []string {
	t.Helper()
	ws := &wsConn{c}
	var payloads []string
	for {
		first, payload := ws.frame()
		switch first {
		case 0x89:
			if len(payload) != 0 {
				t.Fatalf("ping frame with payload %q", payload)
			}
			return payloads
		case 0x81:
			payloads = append(payloads, string(payload))
		default:
			t.Fatalf("unexpected frame %#x %q (frames so far %q)", first, payload, payloads)
		}
	}
}

// expectInEveryMode reads every request and compares its lines; etag,
// when set, is the Etag the polling and long-polling answers must carry.
func expectInEveryMode(t *testing.T, reqs []oldRequest, streamPing string, want []string, etag string) {
	t.Helper()
	for _, req := range reqs {
		t.Run(req.mode.name, func(t *testing.T) {
			got, res := readOldMessages(t, req, streamPing)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if polling := req.mode.name == "polling" || req.mode.name == "long-polling"; polling && etag != "" && res.Header("Etag") != etag {
				t.Errorf("Etag %q, want %q", res.Header("Etag"), etag)
			}
		})
	}
}

// oldMessageJSON is the spec template's line for a message.
func oldMessageJSON(channel string, id int, message string) string {
	return fmt.Sprintf(`{"channel":"%s", "id":"%d", "message":"%s"}`, channel, id, message)
}

// The streaming pings of the spec's templates (ping text " ").
const (
	oldJSONPing = `{"channel":"", "id":"-1", "message":" "}` + "\r\n"
	oldTextPing = " \r\n"
)

// publishInOneSecond publishes bodies to a new channel, all in one second
// and the first one with tag 1, and returns the channel and that second
// (the spec's "now taken before msg <index>"). It retries on another new
// channel if the publishes straddled a second boundary.
func publishInOneSecond(t *testing.T, bodies []string) (string, int64) {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		id := channelID(t)
		second := sleepToNextSecond()
		for _, body := range bodies {
			publish(t, id, body)
		}
		if time.Now().Unix() == second {
			return id, second
		}
	}
	t.Fatal("could not publish within one second")
	return "", 0
}

// publishWithEventIDs publishes the spec's four messages with event ids.
func publishWithEventIDs(t *testing.T, id string) {
	t.Helper()
	publish(t, id, "msg 1", "Event-Id", "event 1")
	publish(t, id, "msg 2", "Event-Id", "event 2")
	publish(t, id, "msg 3")
	publish(t, id, "msg 4", "Event-Id", "event 3")
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #1
func TestOldMessagesBacktrackMultiChannel(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{"header_template": `"HEADER\r\n"`}))
	c1, c2, c3 := channelID(t), channelID(t), channelID(t)
	for i := 1; i <= 3; i++ {
		for _, id := range []string{c1, c2, c3} {
			publish(t, id, fmt.Sprintf("body%d", i))
		}
	}
	reqs := openInEveryMode(t, c1+"/"+c2+".b5/"+c3+".b2")
	expectInEveryMode(t, reqs, oldJSONPing, []string{
		"HEADER",
		oldMessageJSON(c2, 1, "body1"), oldMessageJSON(c2, 2, "body2"), oldMessageJSON(c2, 3, "body3"),
		oldMessageJSON(c3, 2, "body2"), oldMessageJSON(c3, 3, "body3"),
	}, "")
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #2, #3. Upstream
// sleeps 1,1,1,2,2,2,3,3,3 s between the publishes and asks for what is
// newer than now - 10 s, which falls between c2's body2 and c3's body2.
// The same split is made here with one pause of about two seconds: the
// first five publishes, a whole second without publishes (the
// If-Modified-Since second), then the last four.
func TestOldMessagesIfModifiedSinceMultiChannel(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{"header_template": `"HEADER\r\n"`}))
	c1, c2, c3 := channelID(t), channelID(t), channelID(t)
	publish(t, c1, "body1")
	publish(t, c2, "body1")
	publish(t, c3, "body1")
	publish(t, c1, "body2")
	publish(t, c2, "body2")
	since := time.Now().Unix() + 1
	time.Sleep(time.Until(time.Unix(since+1, 0)) + 20*time.Millisecond)
	publish(t, c3, "body2")
	publish(t, c1, "body3")
	publish(t, c2, "body3")
	publish(t, c3, "body3")
	ims := "If-Modified-Since: " + time.Unix(since, 0).UTC().Format(http.TimeFormat)

	t.Run("#2 if-modified-since", func(t *testing.T) {
		reqs := openInEveryMode(t, c1+"/"+c2+"/"+c3, ims)
		expectInEveryMode(t, reqs, oldJSONPing, []string{
			"HEADER",
			oldMessageJSON(c1, 3, "body3"), oldMessageJSON(c2, 3, "body3"),
			oldMessageJSON(c3, 2, "body2"), oldMessageJSON(c3, 3, "body3"),
		}, "")
	})
	t.Run("#3 if-modified-since and backtrack mixed", func(t *testing.T) {
		reqs := openInEveryMode(t, c1+"/"+c2+".b5/"+c3, ims)
		expectInEveryMode(t, reqs, oldJSONPing, []string{
			"HEADER",
			oldMessageJSON(c1, 3, "body3"),
			oldMessageJSON(c2, 1, "body1"), oldMessageJSON(c2, 2, "body2"), oldMessageJSON(c2, 3, "body3"),
			oldMessageJSON(c3, 2, "body2"), oldMessageJSON(c3, 3, "body3"),
		}, "")
	})
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #4
func TestOldMessagesByLastEventID(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{"message_template": `"~text~\r\n"`}))
	id := channelID(t)
	publishWithEventIDs(t, id)
	reqs := openInEveryMode(t, id, "Last-Event-Id: event 2")
	expectInEveryMode(t, reqs, oldTextPing, []string{"msg 3", "msg 4"}, "")
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #5
func TestOldMessagesIfModifiedSinceTiedByIfNoneMatch(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{"message_template": `"~text~\r\n"`}))
	var bodies []string
	for i := 0; i < 10; i++ {
		bodies = append(bodies, fmt.Sprintf("msg %d", i))
	}
	id, second := publishInOneSecond(t, bodies)
	reqs := openInEveryMode(t, id,
		"If-Modified-Since: "+time.Unix(second, 0).UTC().Format(http.TimeFormat), "If-None-Match: 6")
	expectInEveryMode(t, reqs, oldTextPing, []string{"msg 6", "msg 7", "msg 8", "msg 9"}, "W/10")
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #6
func TestOldMessagesPublishedInTheSecondOfConnecting(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{"message_template": `"~text~"`}))
	id, second := publishInOneSecond(t, []string{"msg 1"})
	reqs := openInEveryMode(t, id,
		"If-Modified-Since: "+time.Unix(second, 0).UTC().Format(http.TimeFormat), "If-None-Match: 0")
	expectInEveryMode(t, reqs, " ", []string{"msg 1"}, "W/1")
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #7
func TestOldMessagesTimeAndTagFromSettings(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{
		"message_template":           `"~text~\r\n"`,
		"last_received_message_time": "{query.time}",
		"last_received_message_tag":  "{query.tag}",
	}))
	var bodies []string
	for i := 0; i < 10; i++ {
		bodies = append(bodies, fmt.Sprintf("msg %d", i))
	}
	id, second := publishInOneSecond(t, bodies)
	when := strings.ReplaceAll(url.QueryEscape(time.Unix(second, 0).UTC().Format(http.TimeFormat)), "+", "%20")
	reqs := openInEveryMode(t, id+"?time="+when+"&tag=6")
	expectInEveryMode(t, reqs, oldTextPing, []string{"msg 6", "msg 7", "msg 8", "msg 9"}, "W/10")
}

// docs/SCENARIOS.md subscriber/receive_old_message_spec.rb #8
func TestOldMessagesEventIDFromSetting(t *testing.T) {
	t.Parallel()
	load(t, oldMessagesConfig(map[string]string{
		"message_template": `"~text~\r\n"`,
		"last_event_id":    "{query.event_id}",
	}))
	id := channelID(t)
	publishWithEventIDs(t, id)
	reqs := openInEveryMode(t, id+"?event_id=event%202")
	expectInEveryMode(t, reqs, oldTextPing, []string{"msg 3", "msg 4"}, "")
}
