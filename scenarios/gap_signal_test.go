package scenarios_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The gap signal (docs/PROTOCOL.md §11): with gap_signal on, a subscriber
// that resumes from a point older than what a channel keeps gets the gap
// message first (streaming, eventsource, websocket), or the
// X-Nginx-PushStream-Gap header and the gap message (polling,
// long-polling), then what is kept. Off, the old-message scenarios above
// already pin the original protocol.

// gapConfig is the old-message configuration of every mode with the gap
// signal on, and two stored messages per channel, plus a polling handler
// with CORS and default templates.
func gapConfig() config {
	c := oldMessagesConfig(map[string]string{
		"message_template": `"~id~|~channel~|~text~\r\n"`,
		"gap_signal":       "on",
		"gap_message_text": `"missed\tsome"`,
	})
	c.Global = map[string]string{"max_messages_stored_per_channel": "2"}
	c.Site += subscriberSite("gappoll", "^/gappoll/(.*)$", "polling", map[string]string{
		"gap_signal":      "on",
		"allowed_origins": "https://app.example",
	})
	return c
}

// expectGapInEveryMode reads every request and compares its lines with
// want; with gap, the eventsource stream must name the gap event and the
// polling answers must carry the header.
func expectGapInEveryMode(t *testing.T, reqs []oldRequest, want []string, gap bool) {
	t.Helper()
	for _, req := range reqs {
		t.Run(req.mode.name, func(t *testing.T) {
			got, res := readOldMessages(t, req, "-1|| \r\n")
			want := want
			if gap && req.mode.name == "eventsource" {
				want = append([]string{"event: gap"}, want...)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if req.mode.name != "polling" && req.mode.name != "long-polling" {
				return
			}
			if h, want := res.Header("X-Nginx-PushStream-Gap"), map[bool]string{true: "1"}[gap]; h != want {
				t.Errorf("X-Nginx-PushStream-Gap %q, want %q", h, want)
			}
		})
	}
}

func TestGapSignalInEveryMode(t *testing.T) {
	t.Parallel()
	load(t, gapConfig())
	id := channelID(t)
	for _, n := range []string{"1", "2", "3", "4"} {
		publish(t, id, "msg "+n, "Event-Id", "e"+n)
	}
	gapLine := "-4|" + id + "|missed\tsome"

	t.Run("evicted last event id", func(t *testing.T) {
		reqs := openInEveryMode(t, id, "Last-Event-Id: e1")
		expectGapInEveryMode(t, reqs, []string{gapLine, "3|" + id + "|msg 3", "4|" + id + "|msg 4"}, true)
	})
	t.Run("kept last event id", func(t *testing.T) {
		reqs := openInEveryMode(t, id, "Last-Event-Id: e3")
		expectGapInEveryMode(t, reqs, []string{"4|" + id + "|msg 4"}, false)
	})
	t.Run("backtrack beyond what is kept", func(t *testing.T) {
		reqs := openInEveryMode(t, id+".b3")
		expectGapInEveryMode(t, reqs, []string{gapLine, "3|" + id + "|msg 3", "4|" + id + "|msg 4"}, true)
	})
	t.Run("since the epoch", func(t *testing.T) {
		reqs := openInEveryMode(t, id, "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")
		expectGapInEveryMode(t, reqs, []string{gapLine, "3|" + id + "|msg 3", "4|" + id + "|msg 4"}, true)
	})
	t.Run("polling position", func(t *testing.T) { expectGapOncePolling(t, id) })
	t.Run("eventsource gap has no id", func(t *testing.T) {
		c := dialRaw(t)
		c.send(http.MethodGet, "/oldes/"+id, "", "Last-Event-Id: e1")
		if res := c.head(); res.Status != http.StatusOK {
			t.Fatalf("status %d", res.Status)
		}
		// The browser's last event id stays what it was, not the gap's.
		chunk := c.mustChunk()
		for strings.HasPrefix(chunk, ":") { // the stream's opening comment
			chunk = c.mustChunk()
		}
		if !strings.HasPrefix(chunk, "event: gap\ndata: "+gapLine) || strings.Contains(chunk, "id:") {
			t.Fatalf("first event %q, want the gap event without an id line", chunk)
		}
	})
	t.Run("two channels with a gap", func(t *testing.T) {
		other := channelID(t)
		for _, n := range []string{"1", "2", "3", "4"} {
			publish(t, other, "msg "+n)
		}
		res := do(t, http.MethodGet, "/oldpoll/"+id+"/"+other, "", "If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")
		want := gapLine + "\r\n3|" + id + "|msg 3\r\n4|" + id + "|msg 4\r\n" +
			"-4|" + other + "|missed\tsome\r\n3|" + other + "|msg 3\r\n4|" + other + "|msg 4\r\n"
		if res.StatusCode != http.StatusOK || res.Header.Get("X-Nginx-PushStream-Gap") != "2" || res.body != want {
			t.Fatalf("poll of two channels: %d, gap header %q, body %q; want 200, 2, %q",
				res.StatusCode, res.Header.Get("X-Nginx-PushStream-Gap"), res.body, want)
		}
	})
	t.Run("no tag to give", func(t *testing.T) {
		// Backtracking beyond what is kept with a position after the last
		// publish: the gap alone, and no channel's tag for the Etag.
		res := do(t, http.MethodGet, "/gappoll/"+id+".b3", "", "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")
		if res.StatusCode != http.StatusOK || res.Header.Get("X-Nginx-PushStream-Gap") != "1" || res.Header.Get("Etag") != "W/0" {
			t.Fatalf("backtrack past the last publish: %d, gap header %q, Etag %q, body %q; want 200, 1, W/0",
				res.StatusCode, res.Header.Get("X-Nginx-PushStream-Gap"), res.Header.Get("Etag"), res.body)
		}
	})
}

// expectGapOncePolling: a polling client that follows the answer's
// Last-Modified and Etag hears of a gap once; a cross-origin page may read
// the header. Messages 3 and 4 of id are kept, 1 and 2 dropped.
func expectGapOncePolling(t *testing.T, id string) {
	t.Helper()
	first := do(t, http.MethodGet, "/gappoll/"+id, "", "If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")
	if first.StatusCode != http.StatusOK || first.Header.Get("X-Nginx-PushStream-Gap") != "1" ||
		first.Header.Get("Access-Control-Expose-Headers") != "X-Nginx-PushStream-Gap" || first.body != "gapmsg 3msg 4" {
		t.Fatalf("first poll: %d %v %q", first.StatusCode, first.Header, first.body)
	}
	next := do(t, http.MethodGet, "/gappoll/"+id, "",
		"If-Modified-Since", first.Header.Get("Last-Modified"), "If-None-Match", first.Header.Get("Etag"))
	if next.StatusCode != http.StatusNotModified || next.Header.Get("X-Nginx-PushStream-Gap") != "" {
		t.Fatalf("following poll: %d %v, want a 304 without a gap", next.StatusCode, next.Header)
	}
}

// Messages that expired leave a gap too, and a long-poll that has one
// is answered at once with it instead of waiting for the next message.
func TestGapSignalAfterExpiry(t *testing.T) {
	t.Parallel()
	c := gapConfig()
	c.Global["message_ttl"] = "1s"
	c.Timing = timing{sweepInterval: "100ms"}
	load(t, c)
	id := channelID(t)
	publish(t, id, "msg 1", "Event-Id", "e1")
	// Held by a subscriber, the channel outlives its messages.
	holder := dialRaw(t)
	holder.send(http.MethodGet, "/sub/"+id, "")
	if res := holder.head(); res.Status != http.StatusOK {
		t.Fatalf("holder: status %d", res.Status)
	}
	waitForEvery(t, "the message to expire", 100*time.Millisecond, func() bool {
		return num(t, stats(t, id), "stored_messages") == 0
	})
	res := do(t, http.MethodGet, "/oldlp/"+id, "", "Last-Event-Id", "e1")
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Nginx-PushStream-Gap") != "1" || res.body != "-4|"+id+"|missed\tsome\r\n" {
		t.Fatalf("long-poll after expiry: %d %v %q", res.StatusCode, res.Header, res.body)
	}
	if res.Header.Get("Last-Modified") == "" || res.Header.Get("Etag") == "" {
		t.Fatalf("long-poll after expiry: no position in %v", res.Header)
	}
}
