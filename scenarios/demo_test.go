package scenarios_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestThreeTerminalDemo is the README walkthrough: a streaming subscriber
// receives a published message, the publisher answers with the channel
// info and the statistics count the channel.
func TestThreeTerminalDemo(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: map[string]string{"header_template": "", "footer_template": "", "message_template": `"~text~"`}})
	id := channelID(t)
	sub, head := subscribe(t, "/sub/"+id)
	if head.Status != http.StatusOK || head.Header("Transfer-Encoding") != "chunked" {
		t.Fatalf("subscriber head: %q", head.Head)
	}
	waitSubscribers(t, id, 1)
	res := publish(t, id, "Hello World!")
	want := `{"channel": "` + id + `", "published_messages": 1, "stored_messages": 1, "subscribers": 1}` + "\r\n"
	if res.body != want {
		t.Fatalf("publish body %q, want %q", res.body, want)
	}
	if got := sub.mustChunk(); got != "Hello World!" {
		t.Fatalf("subscriber got %q", got)
	}
	summary := stats(t, "")
	if num(t, summary, "channels") < 1 || num(t, summary, "published_messages") < 1 {
		t.Fatalf("summary %v", summary)
	}
	if !strings.Contains(do(t, http.MethodGet, "/channels-stats?id=ALL", "").body, `"channel": "`+id+`"`) {
		t.Fatal("channel missing from ALL")
	}
}

// TestIdleTimeoutsDoNotCutStreams: Caddy's read and write idle timeouts
// must not end a subscriber that waits longer than them between messages
// (docs/PROTOCOL.md §10, implementation notes).
func TestIdleTimeoutsDoNotCutStreams(t *testing.T) {
	t.Parallel()
	load(t, config{
		Options: "\tservers {\n\t\ttimeouts {\n\t\t\tread_body_idle 500ms\n\t\t\twrite_idle 500ms\n\t\t\tidle 500ms\n\t\t}\n\t}",
		Sub:     map[string]string{"header_template": `"H"`, "footer_template": "", "message_template": `"~text~"`, "ping_message_interval": ""},
	})
	id := channelID(t)
	sub, _ := subscribe(t, "/sub/"+id)
	if got := sub.mustChunk(); got != "H" {
		t.Fatalf("header %q", got)
	}
	// The point of the test is elapsed idle time beyond the timeouts.
	time.Sleep(1500 * time.Millisecond)
	publish(t, id, "still here")
	if got := sub.mustChunk(); got != "still here" {
		t.Fatalf("got %q", got)
	}
}
