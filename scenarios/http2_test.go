package scenarios_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// http2Site serves every non-websocket mode on a TLS site, where Go's
// client and Caddy negotiate HTTP/2.
const http2Site = `
	@sub path_regexp sub ^/sub/(.*)$
	push_stream_subscriber @sub {
		channels_path {re.sub.1}
		header_template H
	}
	@ev path_regexp ev ^/ev/(.*)$
	push_stream_subscriber @ev eventsource {
		channels_path {re.ev.1}
	}
	@lp path_regexp lp ^/lp/(.*)$
	push_stream_subscriber @lp long-polling {
		channels_path {re.lp.1}
	}
	@poll path_regexp poll ^/poll/(.*)$
	push_stream_subscriber @poll polling {
		channels_path {re.poll.1}
	}
	@pub path /pub
	push_stream_publisher @pub {
		channels_path {query.id}
		store_messages on
	}
`

// TestHTTP2Modes: streaming, eventsource, long-polling and polling work
// over HTTP/2 with TLS from Caddy's internal issuer; streams deliver each
// message as it is published.
func TestHTTP2Modes(t *testing.T) {
	t.Parallel()
	base, h2 := loadWithTLSSite(t, config{}, http2Site)
	expectModesOver(t, base, h2, 2)
}

// expectModesOver runs streaming, eventsource, long-polling and polling
// subscribers of the TLS site at base through client, which must speak
// HTTP/protoMajor, and checks that each gets what is published.
func expectModesOver(t *testing.T, base string, client *http.Client, protoMajor int) {
	t.Helper()
	id := channelID(t)
	get := func(path string, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if res.ProtoMajor != protoMajor {
			t.Fatalf("GET %s negotiated %s, want HTTP/%d", path, res.Proto, protoMajor)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	pub := func(body string) {
		t.Helper()
		res, err := client.Post(base+"/pub?id="+id, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.ProtoMajor != protoMajor {
			t.Fatalf("publish: %d over %s", res.StatusCode, res.Proto)
		}
	}
	waitFor(t, "the TLS site to answer", func() bool {
		res, err := client.Get(base + "/pub?id=" + id)
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})

	stream := get("/sub/" + id)
	events := get("/ev/" + id)
	readN := func(r io.Reader, n int) string {
		t.Helper()
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("reading: %v", err)
		}
		return string(buf)
	}
	if got := readN(stream.Body, 1); got != "H" {
		t.Fatalf("stream header %q", got)
	}
	evReader := bufio.NewReader(events.Body)
	if line, _ := evReader.ReadString('\n'); line != ": \n" {
		t.Fatalf("eventsource first line %q", line)
	}
	lpDone := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/lp/"+id, nil)
		res, err := client.Do(req)
		if err != nil {
			lpDone <- nil
			return
		}
		lpDone <- res
	}()
	waitSubscribersAt(t, client, base, id, 3)

	pub("one")
	if got := readN(stream.Body, 3); got != "one" {
		t.Fatalf("stream got %q", got)
	}
	if line, _ := evReader.ReadString('\n'); line != "data: one\n" {
		t.Fatalf("eventsource got %q", line)
	}
	lp := <-lpDone
	if lp == nil {
		t.Fatal("long-poll failed")
	}
	body, _ := io.ReadAll(lp.Body)
	lp.Body.Close()
	if lp.ProtoMajor != protoMajor || string(body) != "one" || lp.Header.Get("Etag") == "" {
		t.Fatalf("long-poll: %s %q etag %q", lp.Proto, body, lp.Header.Get("Etag"))
	}
	poll := get("/poll/"+id, "If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")
	if body, _ := io.ReadAll(poll.Body); poll.StatusCode != http.StatusOK || string(body) != "one" {
		t.Fatalf("polling: %d %q", poll.StatusCode, body)
	}
}

// waitSubscribersAt waits for n subscriptions on a channel of another site.
func waitSubscribersAt(t *testing.T, c *http.Client, base, id string, n int) {
	t.Helper()
	want := fmt.Sprintf(`"subscribers": %d}`, n)
	waitFor(t, want, func() bool {
		res, err := c.Get(base + "/pub?id=" + id)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return strings.Contains(string(body), want)
	})
}
