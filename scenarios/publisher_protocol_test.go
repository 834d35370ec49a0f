package scenarios_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// docs/PROTOCOL.md §4 (publisher) details that no upstream example checks.

// docs/PROTOCOL.md §3.1, §4.1, §9.1: with allowed_origins, every publisher
// answer carries the CORS headers, OPTIONS, 405 and errors included, and
// the anti-cache headers.
func TestPublisherCORSOnEveryResponse(t *testing.T) {
	t.Parallel()
	for _, m := range publisherModes {
		t.Run(m.name, func(t *testing.T) {
			load(t, config{PubMode: m.mode, Pub: map[string]string{"allowed_origins": "custom.domain.com"}})
			ch := channelID(t)
			check := func(name string, res response, status int, explain string, headerOnly bool) {
				t.Helper()
				t.Run(name, func(t *testing.T) {
					if headerOnly {
						expectHeaderOnly(t, res, status, explain)
					} else if res.StatusCode != status {
						t.Errorf("status %d, want %d", res.StatusCode, status)
					}
					expectCORS(t, res.Header, "custom.domain.com", m.allow)
					expectAntiCache(t, res.Header)
				})
			}
			check("OPTIONS", do(t, http.MethodOptions, "/pub?id="+ch, ""), http.StatusOK, "", true)
			for _, method := range []string{http.MethodHead, http.MethodPatch} {
				res := do(t, method, "/pub?id="+ch, "")
				check(method, res, http.StatusMethodNotAllowed, "", method != http.MethodHead)
				if got := res.Header.Get("Allow"); got != m.allow {
					t.Errorf("%s: Allow %q, want %q", method, got, m.allow)
				}
			}
			if m.mode == "" {
				res := do(t, http.MethodDelete, "/pub?id="+ch, "")
				check("DELETE", res, http.StatusMethodNotAllowed, "", true)
				if got := res.Header.Get("Allow"); got != m.allow {
					t.Errorf("DELETE: Allow %q, want %q", got, m.allow)
				}
			}
			check("no_id", do(t, http.MethodGet, "/pub?id=", ""), http.StatusBadRequest, "No channel id provided.", true)
			check("ALL", do(t, http.MethodPost, "/pub?id=ALL", "x"), http.StatusForbidden, "Channel id not authorized for this method.", true)
			check("missing", do(t, http.MethodGet, "/pub?id="+ch, ""), http.StatusNotFound, "", true)
			check("empty_post", do(t, http.MethodPost, "/pub?id="+ch, ""), http.StatusBadRequest, "Empty post requests are not allowed.", true)
			check("publish", do(t, http.MethodPost, "/pub?id="+ch, "x"), http.StatusOK, "", false)
			check("info", do(t, http.MethodGet, "/pub?id="+ch, ""), http.StatusOK, "", false)
			if m.mode == "admin" {
				check("delete", do(t, http.MethodDelete, "/pub?id="+ch, ""), http.StatusOK, "Channel deleted.", true)
			}
		})
	}
}

// postChunked sends a POST with a chunked body made of the given chunks
// and reads the head of the answer.
func postChunked(c *rawConn, path string, chunks ...string) *rawResponse {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n", path)
	for _, chunk := range chunks {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	b.WriteString("0\r\n\r\n")
	c.write(b.String())
	return c.head()
}

// docs/PROTOCOL.md §3.2: a body over max_body_size is answered 413, whether a
// Content-Length announces it (then no channel is created) or a chunked
// body overflows while being read; a chunked body within the limit is
// published.
func TestPublisherBodySizeChunked(t *testing.T) {
	t.Parallel()
	load(t, config{Pub: map[string]string{"max_body_size": "2k"}})
	body := upstreamBody(40, 10) // 4042 bytes

	t.Run("chunked_overflow", func(t *testing.T) {
		ch := channelID(t)
		chunks := []string{body[:1000], body[1000:2000], body[2000:3000], body[3000:]}
		if head := postChunked(dialRaw(t), "/pub?id="+ch, chunks...); head.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %q, want 413", head.StatusLine)
		}
		// Nothing was published (the channel itself may exist).
		if res := do(t, http.MethodGet, "/pub?id="+ch, ""); res.StatusCode == http.StatusOK {
			if got := num(t, jsonBody(t, res), "published_messages"); got != 0 {
				t.Fatalf("published_messages %d after a 413", got)
			}
		}
	})

	t.Run("chunked_within_limit", func(t *testing.T) {
		ch := channelID(t)
		c := dialRaw(t)
		head := postChunked(c, "/pub?id="+ch, body[:1000], body[1000:2000])
		if head.Status != http.StatusOK {
			t.Fatalf("status %q, want 200", head.StatusLine)
		}
		if got, want := c.readBody(head), channelInfoJSON(ch, 1, 1, 0); got != want {
			t.Fatalf("body %q, want %q", got, want)
		}
	})

	t.Run("content_length_overflow", func(t *testing.T) {
		ch := channelID(t)
		if res := do(t, http.MethodPost, "/pub?id="+ch, body); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", res.StatusCode)
		}
		expectHeaderOnly(t, do(t, http.MethodGet, "/pub?id="+ch, ""), http.StatusNotFound, "")
	})

	t.Run("exactly_max", func(t *testing.T) {
		ch := channelID(t)
		if res := do(t, http.MethodPost, "/pub?id="+ch, strings.Repeat("x", 2048)); res.StatusCode != http.StatusOK {
			t.Fatalf("2048-byte body: status %d, want 200", res.StatusCode)
		}
	})
}

// docs/PROTOCOL.md §4.3: an empty body is refused after the channels were
// created, whether announced by Content-Length 0 or as a chunked body of
// zero bytes.
func TestPublisherEmptyBody(t *testing.T) {
	t.Parallel()
	load(t, config{})
	t.Run("content_length", func(t *testing.T) {
		ch := channelID(t)
		expectHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+ch, ""), http.StatusBadRequest, "Empty post requests are not allowed.")
		res := do(t, http.MethodGet, "/pub?id="+ch, "")
		if res.StatusCode != http.StatusOK || res.body != channelInfoJSON(ch, 0, 0, 0) {
			t.Fatalf("GET after the empty POST: status %d body %q, want the created channel", res.StatusCode, res.body)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		ch := channelID(t)
		head := postChunked(dialRaw(t), "/pub?id="+ch)
		if head.Status != http.StatusBadRequest || head.Header("X-Nginx-PushStream-Explain") != "Empty post requests are not allowed." {
			t.Fatalf("head %q\r\n%s", head.StatusLine, head.Head)
		}
		if res := do(t, http.MethodGet, "/pub?id="+ch, ""); res.StatusCode != http.StatusOK {
			t.Fatalf("GET after the empty POST: status %d, want the created channel", res.StatusCode)
		}
	})
	t.Run("put", func(t *testing.T) {
		expectHeaderOnly(t, do(t, http.MethodPut, "/pub?id="+channelID(t), ""), http.StatusBadRequest, "Empty post requests are not allowed.")
	})
}

// docs/PROTOCOL.md §4.4: GET never creates; missing ids of a list are skipped;
// one found gives the single form, several the group form in listed order.
func TestPublisherGetInfoGroupWithMissingID(t *testing.T) {
	t.Parallel()
	load(t, config{})
	ch := channelID(t)
	ch1, ch2, missing := ch+"_1", ch+"_2", ch+"_missing"
	publish(t, ch1, "one")
	publish(t, ch2, "two")
	publish(t, ch2, "three")

	res := do(t, http.MethodGet, "/pub?id="+ch1+"/"+missing+"/"+ch2, "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("group: status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	m := groupHeadRe.FindStringSubmatchIndex(res.body)
	if m == nil {
		t.Fatalf("group body %q has no group head", res.body)
	}
	items := strings.TrimSuffix(channelInfoJSON(ch1, 1, 1, 0), "\r\n") + ",\r\n" + strings.TrimSuffix(channelInfoJSON(ch2, 2, 2, 0), "\r\n") + "\r\n]}\r\n"
	if got := res.body[m[1]:]; got != items {
		t.Fatalf("group items %q, want %q", got, items)
	}

	res = do(t, http.MethodGet, "/pub?id="+missing+"/"+ch2, "")
	if res.StatusCode != http.StatusOK || res.body != channelInfoJSON(ch2, 2, 2, 0) {
		t.Fatalf("one of two found: status %d body %q, want the single form", res.StatusCode, res.body)
	}

	expectHeaderOnly(t, do(t, http.MethodGet, "/pub?id="+missing+"/"+missing+"x", ""), http.StatusNotFound, "")
	// GET did not create the missing channels.
	expectHeaderOnly(t, do(t, http.MethodGet, "/pub?id="+missing, ""), http.StatusNotFound, "")
}

// docs/PROTOCOL.md §4.1: DELETE on a normal publisher is a 405 and deletes
// nothing.
func TestPublisherDeleteInNormalMode(t *testing.T) {
	t.Parallel()
	load(t, config{})
	ch := channelID(t)
	publish(t, ch, "body")
	res := do(t, http.MethodDelete, "/pub?id="+ch, "")
	expectHeaderOnly(t, res, http.StatusMethodNotAllowed, "")
	if got := res.Header.Get("Allow"); got != "GET, POST, PUT" {
		t.Errorf("Allow %q, want %q", got, "GET, POST, PUT")
	}
	expectAntiCache(t, res.Header)
	if res := do(t, http.MethodGet, "/pub?id="+ch, ""); res.StatusCode != http.StatusOK || res.body != channelInfoJSON(ch, 1, 1, 0) {
		t.Fatalf("channel after DELETE: status %d body %q", res.StatusCode, res.body)
	}
}

// docs/PROTOCOL.md §0.1: header names are written exactly as spelled (a raw
// socket sees them byte for byte; Go's canonical form would be
// X-Nginx-Pushstream-Explain).
func TestPublisherHeaderSpelling(t *testing.T) {
	t.Parallel()
	load(t, config{PubMode: "admin", Pub: map[string]string{"allowed_origins": "custom.domain.com"}})
	ch := channelID(t)
	expectLine := func(what string, head *rawResponse, line string) {
		t.Helper()
		if !head.hasLine(line) {
			t.Errorf("%s: head lacks the exact line %q:\n%s", what, line, head.Head)
		}
	}
	c := dialRaw(t)
	head, _ := c.roundTrip(http.MethodGet, "/pub?id=", "")
	expectLine("no id", head, "X-Nginx-PushStream-Explain: No channel id provided.")
	expectLine("no id", head, "Access-Control-Allow-Origin: custom.domain.com")
	expectLine("no id", head, "Access-Control-Allow-Methods: GET, POST, PUT, DELETE")
	expectLine("no id", head, "Access-Control-Allow-Headers: "+corsAllowHeaders)
	expectLine("no id", head, "Expires: Thu, 01 Jan 1970 00:00:01 GMT")
	expectLine("no id", head, "Cache-Control: no-cache, no-store, must-revalidate")

	head, _ = c.roundTrip(http.MethodPost, "/pub?id=ALL", "x")
	expectLine("ALL", head, "X-Nginx-PushStream-Explain: Channel id not authorized for this method.")

	head, _ = c.roundTrip(http.MethodPatch, "/pub?id="+ch, "")
	expectLine("PATCH", head, "Allow: GET, POST, PUT, DELETE")

	if head, _ = c.roundTrip(http.MethodPost, "/pub?id="+ch, "x"); head.Status != http.StatusOK {
		t.Fatalf("POST: %q", head.StatusLine)
	}
	head, _ = c.roundTrip(http.MethodDelete, "/pub?id="+ch, "")
	expectLine("DELETE", head, "X-Nginx-PushStream-Explain: Channel deleted.")
}

// docs/PROTOCOL.md §4.2 step 5: a failing id aborts the request, channels
// created for the ids before it stay; the events channel can be read but
// not changed through the publisher.
func TestPublisherPathErrors(t *testing.T) {
	t.Parallel()
	events := channelID(t)
	load(t, config{PubMode: "admin", Global: map[string]string{"events_channel_id": events}})

	t.Run("earlier_channels_stay", func(t *testing.T) {
		ch := channelID(t)
		expectHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+ch+"/ALL", "x"), http.StatusForbidden, "Channel id not authorized for this method.")
		if res := do(t, http.MethodGet, "/pub?id="+ch, ""); res.StatusCode != http.StatusOK || res.body != channelInfoJSON(ch, 0, 0, 0) {
			t.Fatalf("channel before the refused id: status %d body %q, want created and empty", res.StatusCode, res.body)
		}
	})

	t.Run("events_channel", func(t *testing.T) {
		const explain = "Only internal routines can change events channel."
		expectHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+events, "x"), http.StatusForbidden, explain)
		expectHeaderOnly(t, do(t, http.MethodPut, "/pub?id="+events, "x"), http.StatusForbidden, explain)
		expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+events, ""), http.StatusForbidden, explain)
		res := do(t, http.MethodGet, "/pub?id="+events, "")
		if res.StatusCode != http.StatusOK || jsonField(t, res.body, "channel") != events {
			t.Fatalf("GET of the events channel: status %d body %q", res.StatusCode, res.body)
		}
	})
}

// docs/PROTOCOL.md §2.3: the publisher parses backtracks and ignores them.
func TestPublisherBacktrackIgnored(t *testing.T) {
	t.Parallel()
	load(t, config{})
	ch := channelID(t)
	res := publish(t, ch+".b2", "x")
	if res.body != channelInfoJSON(ch, 1, 1, 0) {
		t.Fatalf("POST %s.b2: body %q, want the info of %s", ch, res.body, ch)
	}
}
