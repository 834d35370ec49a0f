package scenarios_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Scenarios of misc/spec/subscriber/long_polling_spec.rb and
// misc/spec/subscriber/polling_spec.rb (docs/SCENARIOS.md), plus the mode
// override, deletion, JSONP and raw chunking rules of docs/PROTOCOL.md §5.2,
// §5.3, §5.6 and §6.3.

// pollContext is one of the two upstream contexts every polling and
// long-polling example runs in: a handler configured in the mode, or a
// streaming handler switched per request by X-Nginx-PushStream-Mode.
type pollContext struct {
	name string
	// mode is the subscriber handler's mode ("" is the streaming default).
	mode string
	// header is the X-Nginx-PushStream-Mode value sent, "" for none.
	header string
}

var (
	longPollContexts = []pollContext{
		{name: "long-polling handler", mode: "long-polling"},
		{name: "streaming handler with mode header", header: "long-polling"},
	}
	pollContexts = []pollContext{
		{name: "polling handler", mode: "polling"},
		{name: "streaming handler with mode header", header: "polling"},
	}
)

// config applies the spec files' baseline changes (ping, header, footer and
// message template off) and then sub.
func (pc pollContext) config(sub map[string]string) config {
	return config{Sub: mergeSettings(plainSub, sub), SubMode: pc.mode}
}

// lines returns the request header lines: `Accept: text/html` (unless extra
// has its own Accept), the mode header of the context, then extra.
func (pc pollContext) lines(extra ...string) []string {
	var hs []string
	hasAccept := false
	for _, h := range extra {
		if strings.HasPrefix(strings.ToLower(h), "accept:") {
			hasAccept = true
		}
	}
	if !hasAccept {
		hs = append(hs, "Accept: text/html")
	}
	if pc.header != "" {
		hs = append(hs, "X-Nginx-PushStream-Mode: "+pc.header)
	}
	return append(hs, extra...)
}

// startPoll sends a GET on a new raw connection without reading the answer.
func startPoll(t *testing.T, pc pollContext, path string, extra ...string) *rawConn {
	t.Helper()
	c := dialRaw(t)
	c.send(http.MethodGet, path, "", pc.lines(extra...)...)
	return c
}

// pollNow sends a request that must be answered without waiting for a
// publish ("immediately" in the scenarios; the bound is generous) and
// reads the answer.
func pollNow(t *testing.T, pc pollContext, path string, extra ...string) (*rawResponse, string) {
	t.Helper()
	c := startPoll(t, pc, path, extra...)
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	return c.readResponse()
}

// sinceEpoch is If-Modified-Since at the Unix epoch.
const sinceEpoch = "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"

// expectNoMessageValidators checks the validators of an answer that
// carries no stored message: Last-Modified about now and Etag W/0.
func expectNoMessageValidators(t *testing.T, res *rawResponse) {
	t.Helper()
	lastModified := res.Header("Last-Modified")
	at, err := http.ParseTime(lastModified)
	if err != nil {
		t.Fatalf("Last-Modified %q: %v", lastModified, err)
	}
	if d := time.Since(at); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("Last-Modified %q is not about now (%v off)", lastModified, d)
	}
	if got := res.Header("Etag"); got != "W/0" {
		t.Errorf("Etag %q, want W/0", got)
	}
}

// expectAnswer checks status and body of an answer.
func expectAnswer(t *testing.T, res *rawResponse, body string, status int, wantBody string) {
	t.Helper()
	if res.Status != status || body != wantBody {
		t.Fatalf("got %d %q, want %d %q\nhead:\n%s", res.Status, body, status, wantBody, res.Head)
	}
}

// expectGzipped checks a 200 answer compressed by `encode` whose
// body gunzips to want, with an Etag of the form W/<tag>.
func expectGzipped(t *testing.T, res *rawResponse, body, want string) {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("status %d\n%s", res.Status, res.Head)
	}
	if !regexp.MustCompile(`^W/\d+$`).MatchString(res.Header("Etag")) {
		t.Errorf("Etag %q, want W/<digits>", res.Header("Etag"))
	}
	if got := res.Header("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip (body %q)\n%s", got, body, res.Head)
	}
	if got := gunzip(t, body); got != want {
		t.Fatalf("gunzipped body %q, want %q", got, want)
	}
}

// expectLongPollTimeout long-polls a channel nobody publishes to and
// checks the timeout answer: 304, Last-Modified about now, Etag W/0,
// after at least ttl and within a generous bound above it.
func expectLongPollTimeout(t *testing.T, pc pollContext, ttl, upper time.Duration) {
	t.Helper()
	id := channelID(t)
	start := time.Now()
	res, body := startPoll(t, pc, "/sub/"+id).readResponse()
	elapsed := time.Since(start)
	expectAnswer(t, res, body, http.StatusNotModified, "")
	if elapsed < ttl-100*time.Millisecond || elapsed > upper {
		t.Errorf("answered after %v, want about %v", elapsed, ttl)
	}
	expectNoMessageValidators(t, res)
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #1
func TestLongPollingDisconnectsAfterMessage(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			id := channelID(t)
			c := startPoll(t, pc, "/sub/"+id)
			waitSubscribers(t, id, 1)
			publish(t, id, "body")
			res, body := c.readResponse()
			expectAnswer(t, res, body, http.StatusOK, "body")

			lm, etag := res.Header("Last-Modified"), res.Header("Etag")
			c = startPoll(t, pc, "/sub/"+id, "If-Modified-Since: "+lm, "If-None-Match: "+etag)
			waitSubscribers(t, id, 1)
			publish(t, id, "body 1")
			res, body = c.readResponse()
			expectAnswer(t, res, body, http.StatusOK, "body 1")
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #2
func TestLongPollingOldMessagesByLastEventID(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			id := channelID(t)
			publish(t, id, "msg 1", "Event-Id", "event 1")
			publish(t, id, "msg 2", "Event-Id", "event 2")
			publish(t, id, "msg 3")
			publish(t, id, "msg 4", "Event-Id", "event 3")
			res, body := pollNow(t, pc, "/sub/"+id, "Last-Event-Id: event 2")
			expectAnswer(t, res, body, http.StatusOK, "msg 3msg 4")
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #3 (subscriber_connection_ttl
// shortened from 10s to 2s).
func TestLongPollingTimeoutBySubscriberTTL(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{"subscriber_connection_ttl": "2s"}))
			expectLongPollTimeout(t, pc, 2*time.Second, 5*time.Second)
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #4 (ttl 30s and lp ttl 1s
// instead of 10s and 5s: the long-polling value must win).
func TestLongPollingTimeoutOverridesSubscriberTTL(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{
				"subscriber_connection_ttl":  "30s",
				"longpolling_connection_ttl": "1s",
			}))
			expectLongPollTimeout(t, pc, time.Second, 10*time.Second)
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #5 (lp ttl 1s instead of 3s)
func TestLongPollingTimeoutOnlyLongPollingTTL(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{"longpolling_connection_ttl": "1s"}))
			expectLongPollTimeout(t, pc, time.Second, 4*time.Second)
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #6 (ttl 2s and ping 500ms
// instead of 5s and 1s): long-polling subscribers get no pings.
func TestLongPollingNoPing(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{
				"subscriber_connection_ttl": "2s",
				"ping_message_interval":     "500ms",
			}))
			expectLongPollTimeout(t, pc, 2*time.Second, 5*time.Second)
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #7
func TestLongPollingTimeoutWithBody(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{
				"subscriber_connection_ttl": "1s",
				"timeout_with_body":         "on",
				"message_template":          `"{\"id\":\"~id~\", \"message\":\"~text~\", \"channel\":\"~channel~\", \"tag\":\"~tag~\", \"time\":\"~time~\"}"`,
			}))
			id := channelID(t)
			start := time.Now()
			res, body := startPoll(t, pc, "/sub/"+id).readResponse()
			if elapsed := time.Since(start); elapsed < 900*time.Millisecond || elapsed > 4*time.Second {
				t.Errorf("answered after %v, want about 1s", elapsed)
			}
			if res.Status != http.StatusOK {
				t.Fatalf("status %d, want 200\n%s", res.Status, res.Head)
			}
			var msg map[string]string
			if err := json.Unmarshal([]byte(body), &msg); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			want := map[string]string{"id": "-3", "message": "Timed out", "channel": "", "tag": "0", "time": "Thu, 01 Jan 1970 00:00:00 GMT"}
			expectFields(t, msg, want)
			expectNoMessageValidators(t, res)

			res, body = startPoll(t, pc, "/sub/"+id+"?callback=callback_function").readResponse()
			expectAnswer(t, res, body, http.StatusOK,
				`callback_function([{"id":"-3", "message":"Timed out", "channel":"", "tag":"0", "time":"Thu, 01 Jan 1970 00:00:00 GMT"}]);`)
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #8
func TestLongPollingMoreThanOneChannel(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{
				"message_template": `"{\"id\":\"~id~\", \"message\":\"~text~\", \"channel\":\"~channel~\"}"`,
			}))
			c1, c2 := channelID(t), channelID(t)
			path := "/sub/" + c1 + "/" + c2
			c := startPoll(t, pc, path, "If-Modified-Since: Thu, 1 Jan 1970 00:00:00 GMT", "If-None-Match: 0")
			waitSubscribers(t, c1, 1)
			// Both publishes in one second, so the tags are consecutive.
			sleepToNextSecond()
			publish(t, c1, "published message")
			publish(t, c2, "published message")

			res, body := c.readResponse()
			if res.Status != http.StatusOK {
				t.Fatalf("first answer %d %q", res.Status, body)
			}
			if got := jsonField(t, body, "channel"); got != c1 {
				t.Fatalf("first answer is for channel %q, want %q", got, c1)
			}
			res2, body2 := pollNow(t, pc, path,
				"If-Modified-Since: "+res.Header("Last-Modified"), "If-None-Match: "+res.Header("Etag"))
			if res2.Status != http.StatusOK {
				t.Fatalf("second answer %d %q", res2.Status, body2)
			}
			if got := jsonField(t, body2, "channel"); got != c2 {
				t.Fatalf("second answer is for channel %q, want %q", got, c2)
			}
			if t1, t2 := etagTag(t, res.Header("Etag")), etagTag(t, res2.Header("Etag")); t2 != t1+1 {
				t.Fatalf("Etag tags %d then %d, want consecutive", t1, t2)
			}
		})
	}
}

// etagTag parses a `W/<n>` Etag.
func etagTag(t *testing.T, etag string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(etag, "W/"))
	if err != nil || !strings.HasPrefix(etag, "W/") {
		t.Fatalf("Etag %q is not W/<digits>", etag)
	}
	return n
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #9
func TestLongPollingDeleteChannel(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			cfg := pc.config(map[string]string{
				"message_template": `"{\"id\":\"~id~\", \"message\":\"~text~\", \"channel\":\"~channel~\"}"`,
			})
			cfg.PubMode = "admin"
			load(t, cfg)
			id := channelID(t)
			plain := startPoll(t, pc, "/sub/"+id)
			jsonp := startPoll(t, pc, "/sub/"+id+"?callback=callback_function")
			waitSubscribers(t, id, 2)

			del := do(t, http.MethodDelete, "/pub?id="+id, "")
			if del.StatusCode != http.StatusOK || del.body != "" || explainHeader(del) != "Channel deleted." {
				t.Fatalf("DELETE: %d %q explain %q", del.StatusCode, del.body, explainHeader(del))
			}
			res, body := plain.readResponse()
			if res.Status != http.StatusOK || jsonField(t, body, "channel") != id || jsonField(t, body, "id") != "-2" {
				t.Fatalf("plain long-poll: %d %q", res.Status, body)
			}
			res, body = jsonp.readResponse()
			expectAnswer(t, res, body, http.StatusOK,
				`callback_function([{"id":"-2", "message":"Channel deleted", "channel":"`+id+`"}]);`)
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #10
func TestLongPollingJSONPCallback(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			id := channelID(t)
			c := startPoll(t, pc, "/sub/"+id+"?callback=callback_function")
			waitSubscribers(t, id, 1)
			publish(t, id, "body")
			res, body := c.readResponse()
			expectAnswer(t, res, body, http.StatusOK, "callback_function([body]);")
		})
	}
}

// oldMessagesJSONP is long_polling_spec.rb #11 and polling_spec.rb #5.
func oldMessagesJSONP(t *testing.T, pc pollContext) {
	load(t, pc.config(nil))
	id := channelID(t)
	publish(t, id, "body", "Event-Id", "event_id")
	publish(t, id, "body1")
	res, body := pollNow(t, pc, "/sub/"+id+".b2?callback=callback_function")
	expectAnswer(t, res, body, http.StatusOK, "callback_function([body,body1]);")
	res, body = pollNow(t, pc, "/sub/"+id+"?callback=callback_function", "Last-Event-Id: event_id")
	expectAnswer(t, res, body, http.StatusOK, "callback_function([body1]);")
	res, body = pollNow(t, pc, "/sub/"+id+"?callback=callback_function", sinceEpoch)
	expectAnswer(t, res, body, http.StatusOK, "callback_function([body,body1]);")
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #11
func TestLongPollingOldMessagesJSONP(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) { oldMessagesJSONP(t, pc) })
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #12
func TestLongPollingJSONPMultipleChannels(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			ids := []string{channelID(t), channelID(t), channelID(t)}
			for round := 1; round <= 3; round++ {
				for i, id := range ids {
					publish(t, id, "body"+strconv.Itoa(round)+"_"+strconv.Itoa(i+1))
				}
			}
			res, body := pollNow(t, pc, "/sub/"+ids[0]+".b3/"+ids[1]+".b3/"+ids[2]+".b3?callback=callback_function")
			expectAnswer(t, res, body, http.StatusOK,
				"callback_function([body1_1,body2_1,body3_1,body1_2,body2_2,body3_2,body1_3,body2_3,body3_3]);")
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #13
func TestLongPollingJSONPContentType(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{"content_type": "anything/value"}))
			id := channelID(t)
			c := startPoll(t, pc, "/sub/"+id+"?callback=callback_function", "Accept: otherknown/value")
			waitSubscribers(t, id, 1)
			publish(t, id, "body")
			res, body := c.readResponse()
			expectAnswer(t, res, body, http.StatusOK, "callback_function([body]);")
			if got := res.Header("Content-Type"); got != "application/javascript" {
				t.Fatalf("Content-Type %q, want application/javascript", got)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #14
func TestLongPollingNoCache(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{"longpolling_connection_ttl": "1s"}))
			res, body := startPoll(t, pc, "/sub/"+channelID(t)).readResponse()
			expectAnswer(t, res, body, http.StatusNotModified, "")
			expectAntiCache(t, res.httpHeader())
		})
	}
}

// docs/SCENARIOS.md subscriber/long_polling_spec.rb #15 ([C] nginx gzip is
// Caddy `encode gzip`)
func TestLongPollingGzip(t *testing.T) {
	t.Parallel()
	for _, pc := range longPollContexts {
		t.Run(pc.name, func(t *testing.T) {
			cfg := pc.config(nil)
			cfg.Site = gzipSite
			load(t, cfg)
			id := channelID(t)
			c := startPoll(t, pc, "/sub/"+id, "Accept-Encoding: gzip, compressed")
			waitSubscribers(t, id, 1)
			publish(t, id, "body")
			res, body := c.readResponse()
			expectGzipped(t, res, body, "body")
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #1
func TestPollingNothingStored(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			res, body := pollNow(t, pc, "/sub/"+channelID(t))
			expectAnswer(t, res, body, http.StatusNotModified, "")
			if res.HasHeader("Last-Modified") || res.HasHeader("Etag") {
				t.Fatalf("304 carries Last-Modified/Etag:\n%s", res.Head)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #2
func TestPollingNothingStoredKeepsSentHeaders(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			since := time.Now().UTC().Format(http.TimeFormat)
			res, body := pollNow(t, pc, "/sub/"+channelID(t), "If-Modified-Since: "+since, "If-None-Match: W/3")
			expectAnswer(t, res, body, http.StatusNotModified, "")
			got, err := http.ParseTime(res.Header("Last-Modified"))
			want, _ := http.ParseTime(since)
			if err != nil || !got.Equal(want) {
				t.Errorf("Last-Modified %q, want %q", res.Header("Last-Modified"), since)
			}
			if got := res.Header("Etag"); got != "W/3" {
				t.Errorf("Etag %q, want W/3", got)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #3
func TestPollingSpecificHeaders(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			id := channelID(t)
			// The message must be the first publish of its second to get tag 1.
			sleepToNextSecond()
			publish(t, id, "body")
			res, body := pollNow(t, pc, "/sub/"+id, sinceEpoch)
			expectAnswer(t, res, body, http.StatusOK, "body")
			if res.Header("Last-Modified") == "" {
				t.Error("no Last-Modified")
			}
			if got := res.Header("Etag"); got != "W/1" {
				t.Errorf("Etag %q, want W/1", got)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #4
func TestPollingJSONPCallback(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			id := channelID(t)
			publish(t, id, "body")
			res, body := pollNow(t, pc, "/sub/"+id+"?callback=callback_function", sinceEpoch)
			expectAnswer(t, res, body, http.StatusOK, "callback_function([body]);")
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #5
func TestPollingOldMessagesJSONP(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) { oldMessagesJSONP(t, pc) })
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #6
func TestPollingJSONPContentType(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(map[string]string{"content_type": "anything/value"}))
			id := channelID(t)
			publish(t, id, "body")
			// With a selection the answer is a 200 carrying the JSONP type
			// (docs/PROTOCOL.md §5.3, §5.6). Upstream sends no If-Modified-Since
			// and checks the type of a 304; Go's HTTP server removes
			// Content-Type from every 304, a documented difference (README).
			res, _ := pollNow(t, pc, "/sub/"+id+"?callback=callback_function", "Accept: otherknown/value",
				"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")
			if got := res.Header("Content-Type"); res.Status != 200 || got != "application/javascript" {
				t.Fatalf("status %d: Content-Type %q, want application/javascript\n%s", res.Status, got, res.Head)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #7 ([C] nginx gzip is Caddy
// `encode gzip`)
func TestPollingGzip(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			cfg := pc.config(nil)
			cfg.Site = gzipSite
			load(t, cfg)
			id := channelID(t)
			publish(t, id, "body")
			res, body := pollNow(t, pc, "/sub/"+id, "Accept-Encoding: gzip, compressed", sinceEpoch)
			expectGzipped(t, res, body, "body")
		})
	}
}

// docs/SCENARIOS.md subscriber/polling_spec.rb #8
func TestPollingNoCache(t *testing.T) {
	t.Parallel()
	for _, pc := range pollContexts {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			res, body := pollNow(t, pc, "/sub/"+channelID(t))
			expectAnswer(t, res, body, http.StatusNotModified, "")
			expectAntiCache(t, res.httpHeader())
		})
	}
}

// docs/PROTOCOL.md §5.2: a polling handler answers as long-polling when the
// request asks for long-polling (any case); other values are ignored.
func TestPollingHandlerModeHeaderLongPolling(t *testing.T) {
	t.Parallel()
	load(t, pollContext{mode: "polling"}.config(nil))
	for _, value := range []string{"long-polling", "Long-Polling"} {
		pc := pollContext{mode: "polling", header: value}
		id := channelID(t)
		c := startPoll(t, pc, "/sub/"+id)
		// A polling answer would be an immediate 304; a long-poll waits.
		waitSubscribers(t, id, 1)
		publish(t, id, "body")
		res, body := c.readResponse()
		expectAnswer(t, res, body, http.StatusOK, "body")
	}
	for _, value := range []string{"", "streaming", "eventsource", "polling"} {
		res, body := pollNow(t, pollContext{mode: "polling", header: value}, "/sub/"+channelID(t))
		if res.Status != http.StatusNotModified || body != "" {
			t.Errorf("polling handler with mode header %q: %d %q, want 304", value, res.Status, body)
		}
	}
}

// docs/PROTOCOL.md §5.2: a long-polling handler stays long-polling when the
// request asks for polling.
func TestLongPollingHandlerIgnoresPollingHeader(t *testing.T) {
	t.Parallel()
	load(t, pollContext{mode: "long-polling"}.config(nil))
	for _, value := range []string{"polling", "POLLING"} {
		pc := pollContext{mode: "long-polling", header: value}
		id := channelID(t)
		c := startPoll(t, pc, "/sub/"+id)
		waitSubscribers(t, id, 1)
		publish(t, id, "body")
		res, body := c.readResponse()
		expectAnswer(t, res, body, http.StatusOK, "body")
	}
}

// docs/PROTOCOL.md §6.3 and §4.5: a waiting long-poll on two channels is
// answered by the deletion of one of them with a 200, Last-Modified now,
// Etag W/0, header template + channel-deleted message + footer template,
// and all its subscriptions end.
func TestLongPollingAnsweredByChannelDeletion(t *testing.T) {
	t.Parallel()
	cfg := pollContext{mode: "long-polling"}.config(map[string]string{
		"header_template":  `"HDR|"`,
		"footer_template":  `"|FTR"`,
		"message_template": `"~id~:~channel~:~text~"`,
	})
	cfg.PubMode = "admin"
	load(t, cfg)
	c1, c2 := channelID(t), channelID(t)
	c := startPoll(t, pollContext{}, "/sub/"+c1+"/"+c2)
	waitSubscribers(t, c1, 1)
	waitSubscribers(t, c2, 1)
	del := do(t, http.MethodDelete, "/pub?id="+c1, "")
	if del.StatusCode != http.StatusOK || explainHeader(del) != "Channel deleted." {
		t.Fatalf("DELETE: %d explain %q", del.StatusCode, explainHeader(del))
	}
	res, body := c.readResponse()
	expectAnswer(t, res, body, http.StatusOK, "HDR|-2:"+c1+":Channel deleted|FTR")
	expectNoMessageValidators(t, res)
	if got := res.Header("Content-Type"); got != "text/html" {
		t.Errorf("Content-Type %q, want the handler's text/html", got)
	}
	expectAntiCache(t, res.httpHeader())
	waitSubscribers(t, c2, 0)
}

// docs/PROTOCOL.md §5.6: the callback argument name is matched
// case-insensitively, its value is decoded, and an empty value is no
// callback.
func TestPollingJSONPCallbackNameAndEmptyValue(t *testing.T) {
	t.Parallel()
	for _, pc := range []pollContext{{name: "polling", mode: "polling"}, {name: "long-polling", mode: "long-polling"}} {
		t.Run(pc.name, func(t *testing.T) {
			load(t, pc.config(nil))
			id := channelID(t)
			publish(t, id, "body")
			for _, tc := range []struct{ query, body, contentType string }{
				{"?CallBack=cb", "cb([body]);", "application/javascript"},
				{"?x=1&CALLBACK=cb&callback=other", "cb([body]);", "application/javascript"},
				{"?callback=my%5Fcb", "my_cb([body]);", "application/javascript"},
				{"?callback=", "body", "text/html"},
				{"?callback", "body", "text/html"},
			} {
				res, body := pollNow(t, pc, "/sub/"+id+tc.query, sinceEpoch)
				if res.Status != http.StatusOK || body != tc.body || res.Header("Content-Type") != tc.contentType {
					t.Errorf("%s: %d %q Content-Type %q, want 200 %q %q",
						tc.query, res.Status, body, res.Header("Content-Type"), tc.body, tc.contentType)
				}
			}
		})
	}
}

// docs/PROTOCOL.md §5.3, keepalive_spec.rb #4 style: a long-polling answer
// has no Content-Length and its raw HTTP/1.1 body is exactly one chunk
// and the last chunk; the connection stays usable for the next long-poll.
func TestLongPollingRawChunkedBody(t *testing.T) {
	t.Parallel()
	cfg := pollContext{mode: "long-polling"}.config(nil)
	cfg.Pub = map[string]string{"store_messages": "off"}
	load(t, cfg)
	id := channelID(t)
	c := dialRaw(t)
	for i := 1; i <= 3; i++ {
		c.send(http.MethodGet, "/sub/"+id, "")
		waitSubscribers(t, id, 1)
		msg := "message to be sent 00" + strconv.Itoa(i)
		publish(t, id, msg)
		res := c.head()
		if res.Status != http.StatusOK || res.HasHeader("Content-Length") || res.Header("Transfer-Encoding") != "chunked" {
			t.Fatalf("round %d head:\n%s", i, res.Head)
		}
		want := "16\r\n" + msg + "\r\n0\r\n\r\n"
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c.r, got); err != nil {
			t.Fatalf("round %d: reading body: %v (got %q)", i, err, got)
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Fatalf("round %d: raw body %q, want %q", i, got, want)
		}
	}
}
