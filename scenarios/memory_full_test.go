package scenarios_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// memoryFullConfig is a small cap with short clockwork: messages expire
// after 1 s and their memory comes back 1 s after that.
func memoryFullConfig() config {
	return config{
		Global: map[string]string{"shared_memory_size": "129k", "message_ttl": "1s", "max_messages_stored_per_channel": ""},
		Timing: timing{sweepInterval: "200ms", trashDelay: "1s"},
	}
}

// fillOnOneConnection publishes messages of size bytes to id on one keep-alive connection until
// an answer is not a 200, and returns how many were, with that answer. A
// memory-full 500 must end the connection (docs/PROTOCOL.md §1.7, as
// nginx), or a client that reads until the body or the connection ends
// waits forever.
func fillOnOneConnection(t *testing.T, id string, size int) int {
	t.Helper()
	return fillChannelsOnOneConnection(t, func(int) string { return id }, size)
}

// fillChannelsOnOneConnection is fillOnOneConnection with the n-th
// message published to channel(n).
func fillChannelsOnOneConnection(t *testing.T, channel func(n int) string, size int) int {
	t.Helper()
	c := dialRaw(t)
	body := strings.Repeat("m", size)
	for n := 0; n < 10_000; n++ {
		c.send(http.MethodPost, "/pub?id="+channel(n), body)
		res := c.head()
		if res.Status == http.StatusOK {
			c.readBody(res)
			continue
		}
		if res.Status != http.StatusInternalServerError || res.Header("Connection") != "close" || res.Header("Content-Length") != "0" {
			t.Fatalf("after %d publishes: %q", n, res.StatusLine+"\r\n"+res.Head)
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
		if rest, err := io.ReadAll(c.r); err != nil || len(rest) != 0 {
			t.Fatalf("after the 500: %q, %v; want the connection closed", rest, err)
		}
		return n
	}
	t.Fatal("the memory cap never refused a publish")
	return 0
}

// TestMemoryFullClosesAndRefills: docs/SCENARIOS.md
// mix/cleanup_memory_spec.rb's pattern on one keep-alive connection: fill
// until the 500, which closes the connection; once the messages expired
// and the trash is freed, the same number fits again.
func TestMemoryFullClosesAndRefills(t *testing.T) {
	t.Parallel()
	load(t, memoryFullConfig())
	id := channelID(t)
	first := fillOnOneConnection(t, id, 1000)
	waitFor(t, "the store to empty", func() bool {
		sum := stats(t, "")
		return num(t, sum, "stored_messages") == 0 && num(t, sum, "messages_in_trash") == 0
	})
	second := fillOnOneConnection(t, id, 1000)
	if second < first-1 || second > first+1 {
		t.Fatalf("%d publishes fit after the trash was freed, %d before", second, first)
	}
}

// TestMemoryFullChannelClosesToo: docs/SCENARIOS.md
// mix/cleanup_memory_spec.rb #6's pattern, one new channel per message
// with store_messages off: the cap is reached by a channel, not by a
// message, and that 500 closes the connection as well.
func TestMemoryFullChannelClosesToo(t *testing.T) {
	t.Parallel()
	c := memoryFullConfig()
	c.Pub = map[string]string{"store_messages": "off"}
	load(t, c)
	id := channelID(t)
	if n := fillChannelsOnOneConnection(t, func(n int) string { return fmt.Sprint(id, "_", n) }, 1); n == 0 {
		t.Fatal("no channel fit")
	}
}

// TestMemoryFullRefusesDelete: with the cap full a DELETE is refused with
// the same 500 and close, and the channel stays, as in nginx, whose
// channel-deleted message needs memory too.
func TestMemoryFullRefusesDelete(t *testing.T) {
	t.Parallel()
	c := memoryFullConfig()
	c.PubMode = "admin"
	c.Global["message_ttl"] = "1m"
	load(t, c)
	id := channelID(t)
	fillOnOneConnection(t, id, 1000)
	fillOnOneConnection(t, id, 1) // to the last byte
	conn := dialRaw(t)
	conn.send(http.MethodDelete, "/pub?id="+id, "")
	if res := conn.head(); res.Status != http.StatusInternalServerError || res.Header("Connection") != "close" {
		t.Fatalf("DELETE at the cap: %q", res.StatusLine+"\r\n"+res.Head)
	}
	if _, err := conn.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("connection after the refused DELETE: %v", err)
	}
	if res := do(t, http.MethodGet, "/pub?id="+id, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("channel after the refused DELETE: status %d", res.StatusCode)
	}
}
