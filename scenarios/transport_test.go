package scenarios_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// directConfig streams one message per line, with a footer and a TTL long
// enough to stay out of the way unless a test shortens it.
func directConfig(options string, sub map[string]string) config {
	settings := mergeSettings(map[string]string{
		"header_template":       "",
		"message_template":      `"~text~\n"`,
		"footer_template":       `"bye\n"`,
		"ping_message_interval": "",
	}, sub)
	return config{
		Options: options,
		// Unstored messages stay accounted in the trash for a while.
		Global: map[string]string{"shared_memory_size": "256m"},
		Sub:    settings,
		Pub:    map[string]string{"store_messages": "off"},
		Site:   websocketSite(settings),
	}
}

// openSubscribers opens n raw streams and n raw websockets on id and waits
// until the store counts them.
func openSubscribers(t *testing.T, id string, n int) ([]*rawConn, []*wsConn) {
	t.Helper()
	streams := make([]*rawConn, n)
	sockets := make([]*wsConn, n)
	for i := range n {
		streams[i], _ = subscribeOK(t, "/sub/"+id)
		sockets[i] = wsOpen(t, "/ws/"+id)
	}
	waitSubscribers(t, id, 2*n)
	return streams, sockets
}

// expectEverywhere checks that every stream and websocket got text next.
func expectEverywhere(t *testing.T, streams []*rawConn, sockets []*wsConn, text string) {
	t.Helper()
	for _, c := range streams {
		if got := c.mustChunk(); got != text+"\n" {
			t.Fatalf("stream got %q, want %q", got, text+"\n")
		}
	}
	for _, c := range sockets {
		c.expect(wsText(text + "\n"))
	}
}

// goroutines returns how many goroutines t's Caddy runs, from the
// profile its admin endpoint serves.
func goroutines(t *testing.T) int {
	t.Helper()
	srv := serverOf(t)
	res, err := srv.client.Get(fmt.Sprintf("http://localhost:%d/debug/pprof/goroutine?debug=1", srv.adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var total int
	if _, err := fmt.Fscanf(res.Body, "goroutine profile: total %d", &total); err != nil {
		t.Fatalf("reading the goroutine profile: %v", err)
	}
	return total
}

// TestIdleSubscribersHoldNoGoroutine: on plain HTTP/1.1 an idle stream or
// websocket subscriber is a watched socket, not a goroutine.
func TestIdleSubscribersHoldNoGoroutine(t *testing.T) {
	t.Parallel()
	load(t, directConfig("", nil))
	id := channelID(t)
	before := goroutines(t)
	const n = 40
	streams, sockets := openSubscribers(t, id, n)
	during := goroutines(t)
	if grown := during - before; grown >= n {
		t.Fatalf("%d idle subscribers added %d goroutines", 2*n, grown)
	}
	publish(t, id, "hello")
	expectEverywhere(t, streams, sockets, "hello")

	// Clients leaving end their subscribers.
	for i := range n {
		streams[i].conn.Close()
		sockets[i].conn.Close()
	}
	waitSubscribers(t, id, 0)
}

// TestWrappedConnectionsKeepAGoroutine: behind a listener wrapper whose
// connections are not plain sockets (proxy_protocol), subscribers are
// served from a goroutine each and behave the same.
func TestWrappedConnectionsKeepAGoroutine(t *testing.T) {
	t.Parallel()
	const wrapper = "\tservers {\n\t\tlistener_wrappers {\n\t\t\tproxy_protocol {\n\t\t\t\tallow 127.0.0.0/8\n\t\t\t}\n\t\t}\n\t}\n"
	load(t, directConfig(wrapper, map[string]string{"subscriber_connection_ttl": "3s"}))
	id := channelID(t)
	before := goroutines(t)
	const n = 5
	streams, sockets := openSubscribers(t, id, n)
	if grown := goroutines(t) - before; grown < 2*n {
		t.Fatalf("%d wrapped subscribers added only %d goroutines: not the fallback path", 2*n, grown)
	}
	publish(t, id, "wrapped")
	expectEverywhere(t, streams, sockets, "wrapped")
	// The TTL ends each with its footer: the stream's last chunk, the
	// websocket's close frame.
	for _, c := range streams {
		if got := c.rest(); got != "bye\n" {
			t.Fatalf("stream ended with %q, want the footer", got)
		}
	}
	for _, c := range sockets {
		c.expect(wsText("bye\n") + "\x88\x00")
	}
	waitSubscribers(t, id, 0)
}

// TestClientThatStopsReadingIsClosedAsSlow: a subscriber that never reads
// fills its socket, then its bounded queue, and is closed; publishers are
// never held up and a subscriber that reads gets every message. The metrics
// count it and the log warns of it.
func TestClientThatStopsReadingIsClosedAsSlow(t *testing.T) {
	t.Parallel()
	load(t, directConfig("", nil))
	id := channelID(t)
	stalled, _ := subscribe(t, "/sub/"+id)
	reader, _ := subscribe(t, "/sub/"+id)
	waitSubscribers(t, id, 2)

	text := strings.Repeat("x", 8<<10)
	const messages = 3000 // 24 MiB: beyond any socket buffer plus the queue
	received := make(chan error, 1)
	go func() {
		for i := range messages {
			data, ok := reader.chunk()
			if !ok || data != text+"\n" {
				received <- fmt.Errorf("message %d: got %d bytes, ok %v", i, len(data), ok)
				return
			}
		}
		received <- nil
	}()
	for range messages {
		if res := publish(t, id, text); res.StatusCode != http.StatusOK {
			t.Fatalf("publish: status %d", res.StatusCode)
		}
	}
	if err := <-received; err != nil {
		t.Fatal(err)
	}
	waitSubscribers(t, id, 1)
	// The stalled client finds its stream cut short: no footer, no last
	// chunk.
	_ = stalled.conn.SetReadDeadline(time.Now().Add(waitLimit))
	rest, err := io.ReadAll(stalled.r)
	if err != nil && !connClosed(err) {
		t.Fatalf("stalled client: %v", err)
	}
	if strings.HasSuffix(string(rest), "0\r\n\r\n") {
		t.Fatal("a subscriber closed as slow got a clean end")
	}
	// The operator sees it: in the metrics, and once in the log.
	waitFor(t, "the slow subscriber to be counted", func() bool {
		return scrapeMetrics(t).get(t, `caddy_push_stream_subscribers_closed_total{reason="slow"}`) == 1
	})
	const warning = `"msg":"push stream subscribers closed for falling behind","mode":"streaming","count":1}`
	if log := serverOf(t).log.String(); strings.Count(log, "push stream subscribers closed for falling behind") != 1 || !strings.Contains(log, warning) {
		t.Errorf("not one warning about the slow subscriber:\n%s", log)
	}
	// The flood stays accounted in the trash for a while: later tests
	// start on a new store.
	resetStore(t)
}
