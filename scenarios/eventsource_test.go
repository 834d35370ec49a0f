package scenarios_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
)

// Scenarios of misc/spec/subscriber/event_source_spec.rb (docs/SCENARIOS.md),
// plus a client that reads the stream the way a WHATWG EventSource does.

// eventSourceConfig applies the spec file's baseline changes (eventsource
// mode; header, message template, footer and ping off) and then sub.
func eventSourceConfig(sub map[string]string) config {
	return config{Sub: mergeSettings(plainSub, sub), SubMode: "eventsource"}
}

// esEvent is an event as an EventSource dispatches it.
type esEvent struct {
	Type, Data, LastEventID string
}

// esParser interprets an event stream as the WHATWG HTML "event stream
// interpretation" does: lines end at CRLF, LF or CR; `:` starts a comment;
// `field: value` with one optional space; a blank line dispatches.
type esParser struct {
	r           *bufio.Reader
	skipLF      bool
	lastEventID string
}

// newESParser returns a parser of the event stream r.
func newESParser(r io.Reader) *esParser { return &esParser{r: bufio.NewReader(r)} }

// line reads one line without its terminator. A CR ends a line at once; a
// LF right after it is skipped when it arrives, so a stream is never read
// ahead of what the server has sent.
func (p *esParser) line() (string, error) {
	var b strings.Builder
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		if p.skipLF {
			p.skipLF = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\r':
			p.skipLF = true
			return b.String(), nil
		case '\n':
			return b.String(), nil
		}
		b.WriteByte(c)
	}
}

// next returns the next dispatched event.
func (p *esParser) next() (esEvent, error) {
	var data strings.Builder
	eventType := ""
	for {
		line, err := p.line()
		if err != nil {
			return esEvent{}, err
		}
		if line == "" {
			if data.Len() == 0 {
				eventType = ""
				continue
			}
			ev := esEvent{Type: eventType, Data: strings.TrimSuffix(data.String(), "\n"), LastEventID: p.lastEventID}
			if ev.Type == "" {
				ev.Type = "message"
			}
			return ev, nil
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			eventType = value
		case "data":
			data.WriteString(value + "\n")
		case "id":
			if !strings.Contains(value, "\x00") {
				p.lastEventID = value
			}
		}
	}
}

// parseEvents returns the events of a complete stream text.
func parseEvents(t *testing.T, stream string) []esEvent {
	t.Helper()
	p := newESParser(strings.NewReader(stream))
	var events []esEvent
	for {
		ev, err := p.next()
		if errors.Is(err, io.EOF) {
			return events
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
}

// esClient is an EventSource connection over net/http.
type esClient struct {
	*esParser
	body io.Closer
}

// openEventSource connects like an EventSource: it sends Accept:
// text/event-stream (and Last-Event-ID when reconnecting) and accepts the
// stream only on a 200 with the text/event-stream media type.
func openEventSource(t *testing.T, path, lastEventID string) *esClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, serverOf(t).baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["Accept"] = []string{"text/event-stream"}
	req.Header["Cache-Control"] = []string{"no-cache"}
	if lastEventID != "" {
		req.Header["Last-Event-ID"] = []string{lastEventID}
	}
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if res.StatusCode != http.StatusOK || mediaType != "text/event-stream" {
		t.Fatalf("EventSource would fail the connection: status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	p := newESParser(res.Body)
	p.lastEventID = lastEventID
	return &esClient{esParser: p, body: res.Body}
}

// mustNext returns the next dispatched event and fails if there is none.
func (c *esClient) mustNext(t *testing.T) esEvent {
	t.Helper()
	ev, err := c.next()
	if err != nil {
		t.Fatalf("reading event: %v", err)
	}
	return ev
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #1
func TestEventSourceContentType(t *testing.T) {
	t.Parallel()
	load(t, eventSourceConfig(map[string]string{"header_template": "header"}))
	id := channelID(t)
	sub, head := subscribeOK(t, "/sub/"+id)
	if got := head.Header("Content-Type"); got != "text/event-stream; charset=utf-8" {
		t.Fatalf("Content-Type %q", got)
	}
	if got := sub.mustChunk(); got != ": header\n" {
		t.Fatalf("first chunk %q", got)
	}
	// An EventSource client opens the stream.
	openEventSource(t, "/sub/"+id, "")
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #2, #3
func TestEventSourceHeaderLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, header, want string
	}{
		{"#2 split lines", `"header line 1\nheader line 2\rheader line 3\r\nheader line 4"`,
			": header line 1\n: header line 2\n: header line 3\n: header line 4\n"},
		{"#3 escaped newline", `"header line 1\\nheader line 2"`, ": header line 1\\nheader line 2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, eventSourceConfig(map[string]string{"header_template": tc.header}))
			sub, _ := subscribe(t, "/sub/"+channelID(t))
			if got := sub.mustChunk(); got != tc.want {
				t.Fatalf("first chunk %q, want %q", got, tc.want)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #4, #5
func TestEventSourceFooterLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, footer, want string
	}{
		{"#4 split lines", `"footer line 1\nfooter line 2\rfooter line 3\r\nfooter line 4"`,
			": \n: footer line 1\n: footer line 2\n: footer line 3\n: footer line 4\n"},
		{"#5 escaped newline", `"footer line 1\\nfooter line 2"`, ": \n: footer line 1\\nfooter line 2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, eventSourceConfig(map[string]string{"footer_template": tc.footer, "subscriber_connection_ttl": "1s"}))
			sub, _ := subscribe(t, "/sub/"+channelID(t))
			if got := sub.rest(); got != tc.want {
				t.Fatalf("body %q, want %q", got, tc.want)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #6 to #13
func TestEventSourceMessageTemplates(t *testing.T) {
	t.Parallel()
	const jsonTemplate = `"{\"id\":\"~id~\", \"message\":\"~text~\"}"`
	const eventID = "event_id_with_generic_text_01"
	const eventType = "event_type_with_generic_text_01"
	for _, tc := range []struct {
		name     string
		template string
		headers  []string
		body     string
		event    esEvent
	}{
		{"#6 default template without event id", "", nil,
			": \ndata: test message\n\n", esEvent{Type: "message", Data: "test message"}},
		{"#7 default template without event type", "", nil,
			": \ndata: test message\n\n", esEvent{Type: "message", Data: "test message"}},
		{"#8 default template with event id", "", []string{"Event-Id", eventID},
			": \nid: " + eventID + "\ndata: test message\n\n", esEvent{Type: "message", Data: "test message", LastEventID: eventID}},
		{"#9 default template with event type", "", []string{"Event-type", eventType},
			": \nevent: " + eventType + "\ndata: test message\n\n", esEvent{Type: eventType, Data: "test message"}},
		{"#10 custom template without event id", jsonTemplate, nil,
			": \ndata: {\"id\":\"1\", \"message\":\"test message\"}\n\n", esEvent{Type: "message", Data: `{"id":"1", "message":"test message"}`}},
		{"#11 custom template without event type", jsonTemplate, nil,
			": \ndata: {\"id\":\"1\", \"message\":\"test message\"}\n\n", esEvent{Type: "message", Data: `{"id":"1", "message":"test message"}`}},
		{"#12 custom template with event id", jsonTemplate, []string{"Event-Id", eventID},
			": \nid: " + eventID + "\ndata: {\"id\":\"1\", \"message\":\"test message\"}\n\n",
			esEvent{Type: "message", Data: `{"id":"1", "message":"test message"}`, LastEventID: eventID}},
		{"#13 custom template with event type", jsonTemplate, []string{"Event-type", eventType},
			": \nevent: " + eventType + "\ndata: {\"id\":\"1\", \"message\":\"test message\"}\n\n",
			esEvent{Type: eventType, Data: `{"id":"1", "message":"test message"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, eventSourceConfig(map[string]string{"message_template": tc.template}))
			id := channelID(t)
			sub, _ := subscribe(t, "/sub/"+id)
			waitSubscribers(t, id, 1)
			publish(t, id, "test message", tc.headers...)
			got := sub.chunksUntil(func(body string) bool { return strings.Contains(body, "data: ") })
			if got != tc.body {
				t.Fatalf("body %q, want %q", got, tc.body)
			}
			events := parseEvents(t, got)
			if len(events) != 1 || events[0] != tc.event {
				t.Fatalf("EventSource events %+v, want %+v", events, tc.event)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #14, #15
func TestEventSourceMessageLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, chunk, data string
	}{
		{"#14 each line through the template", "line 1\nline 2\rline 3\r\nline 4",
			"data: line 1\ndata: line 2\ndata: line 3\ndata: line 4\n\n", "line 1\nline 2\nline 3\nline 4"},
		{"#15 escaped newline is one line", `line 1\nline 2`, "data: line 1\\nline 2\n\n", `line 1\nline 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, eventSourceConfig(nil))
			id := channelID(t)
			sub, _ := subscribe(t, "/sub/"+id)
			if got := sub.mustChunk(); got != ": \n" {
				t.Fatalf("first chunk %q", got)
			}
			waitSubscribers(t, id, 1)
			publish(t, id, tc.text)
			got := sub.mustChunk()
			if got != tc.chunk {
				t.Fatalf("chunk %q, want %q", got, tc.chunk)
			}
			if events := parseEvents(t, got); len(events) != 1 || events[0].Data != tc.data {
				t.Fatalf("EventSource events %+v, want data %q", events, tc.data)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #16
func TestEventSourcePing(t *testing.T) {
	t.Parallel()
	load(t, eventSourceConfig(map[string]string{
		"ping_message_interval": "1s",
		"message_template":      `"{\"id\":\"~id~\", \"message\":\"~text~\"}"`,
	}))
	sub, _ := subscribe(t, "/sub/"+channelID(t))
	if got := sub.mustChunk(); got != ": \n" {
		t.Fatalf("first chunk %q", got)
	}
	if got := sub.mustChunk(); got != ": -1\n" {
		t.Fatalf("ping chunk %q, want %q", got, ": -1\n")
	}
}

// docs/SCENARIOS.md subscriber/event_source_spec.rb #17 ([C] the nginx `if`
// is a second handler block chosen by a `query tests=on` matcher; both
// blocks adjust their templates once).
func TestEventSourceTemplatesInConditionalBlocks(t *testing.T) {
	t.Parallel()
	settings := map[string]string{
		"header_template":           "header",
		"message_template":          `"msg ~text~"`,
		"footer_template":           "footer",
		"subscriber_connection_ttl": "1s",
	}
	cfg := eventSourceConfig(settings)
	cfg.Site = `
	@subtests {
		path_regexp subtests ^/sub/(.*)$
		query tests=on
	}
	push_stream_subscriber @subtests eventsource {
		channels_path test_{re.subtests.1}
		header_template header
		message_template "msg ~text~"
		footer_template footer
		subscriber_connection_ttl 1s
	}`
	load(t, cfg)
	const want = ": header\ndata: msg test message\n\n: footer\n"
	for _, tc := range []struct{ name, query, channel string }{
		{"plain", "", ""},
		{"tests=on", "?tests=on", "test_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := channelID(t)
			sub, _ := subscribe(t, "/sub/"+id+tc.query)
			if got := sub.mustChunk(); got != ": header\n" {
				t.Fatalf("first chunk %q", got)
			}
			waitSubscribers(t, tc.channel+id, 1)
			publish(t, tc.channel+id, "test message")
			if got := ": header\n" + sub.rest(); got != want {
				t.Fatalf("body %q, want %q", got, want)
			}
		})
	}
}

// docs/PROTOCOL.md §6.4, §5.5: an EventSource client keeps the last event id;
// when it reconnects with Last-Event-ID it resumes with exactly the
// messages it missed, then live ones, without loss or duplicates.
func TestEventSourceClientReconnectsWithLastEventID(t *testing.T) {
	t.Parallel()
	load(t, eventSourceConfig(nil))
	id := channelID(t)
	path := "/sub/" + id
	pub := func(n string) { publish(t, id, "message "+n, "Event-Id", "e"+n, "Event-Type", "tick") }
	var received []esEvent

	first := openEventSource(t, path, "")
	waitSubscribers(t, id, 1)
	pub("1")
	pub("2")
	received = append(received, first.mustNext(t), first.mustNext(t))
	if first.lastEventID != "e2" {
		t.Fatalf("lastEventId %q after two events, want e2", first.lastEventID)
	}
	first.body.Close()
	waitSubscribers(t, id, 0)

	// Published while the client is away; stored by the publisher.
	pub("3")
	pub("4")

	second := openEventSource(t, path, first.lastEventID)
	received = append(received, second.mustNext(t), second.mustNext(t))
	waitSubscribers(t, id, 1)
	pub("5")
	received = append(received, second.mustNext(t))

	for i, ev := range received {
		n := string(rune('1' + i))
		want := esEvent{Type: "tick", Data: "message " + n, LastEventID: "e" + n}
		if ev != want {
			t.Fatalf("event %d is %+v, want %+v (all: %+v)", i+1, ev, want, received)
		}
	}
}
