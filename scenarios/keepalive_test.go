package scenarios_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Tests for docs/SCENARIOS.md "misc/spec/mix/keepalive_spec.rb".

// keepaliveConfig is the baseline change of keepalive_spec.rb.
func keepaliveConfig() config {
	return config{
		Global:  map[string]string{"shared_memory_size": "256m"},
		Sub:     map[string]string{"header_template": "", "message_template": `"~text~"`, "footer_template": ""},
		PubMode: "admin",
	}
}

// docs/SCENARIOS.md mix/keepalive_spec.rb #1
func TestPublisherKeepaliveManyChannels(t *testing.T) {
	t.Parallel()
	// "channels" counts the whole store: start from an empty one, and
	// leave one behind (8000 channels are not for later tests to carry).
	loadFresh(t, keepaliveConfig())
	t.Cleanup(func() { resetStore(t) })
	ch := channelID(t)
	first, second := dialRaw(t), dialRaw(t)
	const rounds, step = 4000, 500
	for n := 1; n <= rounds; n++ {
		i, j := (n-1)/step*step, (n-1)%step+1
		id, other := ch+strconv.Itoa(n), fmt.Sprintf("%s%d_%d", ch, i, j)

		head, body := first.roundTrip(http.MethodPost, "/pub?id="+id, "channel started")
		if head.Status != http.StatusOK || body != channelInfoJSON(id, 1, 1, 0) {
			t.Fatalf("round %d, POST %s: %q, body %q", n, id, head.StatusLine, body)
		}

		head, body = second.roundTrip(http.MethodPost, "/pub?id="+id+"/"+other, "channel started")
		if head.Status != http.StatusOK {
			t.Fatalf("round %d, POST %s/%s: %q", n, id, other, head.StatusLine)
		}
		m := groupHeadRe.FindStringSubmatch(body)
		if m == nil || m[1] != strconv.Itoa(2*n) || m[2] != "0" {
			t.Fatalf("round %d: group head of %q, want %d channels and 0 wildcard channels", n, body, 2*n)
		}
		for _, item := range []string{
			`"channel": "` + id + `", "published_messages": 2, "stored_messages": 2, "subscribers": 0},` + "\r\n",
			`"channel": "` + other + `", "published_messages": 1, "stored_messages": 1, "subscribers": 0}` + "\r\n",
		} {
			if !strings.Contains(body, item) {
				t.Fatalf("round %d: body %q lacks %q", n, body, item)
			}
		}
	}
}

// docs/SCENARIOS.md mix/keepalive_spec.rb #2
func TestPublisherKeepaliveNoChannelInfo(t *testing.T) {
	t.Parallel()
	c := keepaliveConfig()
	c.Pub = map[string]string{"channel_info_on_publish": "off"}
	load(t, c)
	t.Cleanup(func() { resetStore(t) })
	ch := channelID(t)
	const rounds, step = 4000, 500
	for i := 0; i < rounds; i += step {
		conn := dialRaw(t)
		for j := 1; j <= step; j++ {
			head, body := conn.roundTrip(http.MethodPost, fmt.Sprintf("/pub?id=%s%d", ch, i+j), "channel started")
			if head.Status != http.StatusOK || body != "" || head.Header("Content-Length") != "0" {
				t.Fatalf("POST %d: %q, Content-Length %q, body %q", i+j, head.StatusLine, head.Header("Content-Length"), body)
			}
		}
		conn.conn.Close()
	}
}

// docs/SCENARIOS.md mix/keepalive_spec.rb #3
func TestPublisherKeepaliveDifferentOperations(t *testing.T) {
	t.Parallel()
	loadFresh(t, keepaliveConfig())
	ch := channelID(t)
	c := dialRaw(t)

	head, body := c.roundTrip(http.MethodGet, "/pub", "")
	if body != "" || !strings.Contains(head.Head, "No channel id provided.") {
		t.Fatalf("GET /pub: head %q, body %q", head.Head, body)
	}

	_, body = c.roundTrip(http.MethodPost, "/pub?id="+ch, "message to be sent")
	if want := channelInfoJSON(ch, 1, 1, 0); body != want {
		t.Fatalf("POST: body %q, want %q", body, want)
	}

	_, body = c.roundTrip(http.MethodGet, "/channels-stats", "")
	for _, re := range []string{
		`"channels": 1, "wildcard_channels": 0, "published_messages": 1, "stored_messages": 1, "messages_in_trash": 0, "channels_in_delete": 0, "channels_in_trash": 0, "subscribers": 0, "uptime": \d+, "by_worker": \[\r\n`,
		`\{"pid": "\d+", "subscribers": 0, "uptime": \d+\}`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("summary %q does not match %q", body, re)
		}
	}

	head, _ = c.roundTrip(http.MethodDelete, "/pub?id="+ch+"_1", "")
	if head.StatusLine != "HTTP/1.1 404 Not Found" {
		t.Errorf("DELETE of a missing channel: %q", head.StatusLine)
	}

	_, body = c.roundTrip(http.MethodGet, "/channels-stats?id=ALL", "")
	if m := groupHeadRe.FindStringSubmatch(body); m == nil || m[1] != "1" || m[2] != "0" {
		t.Errorf("ALL: head of %q, want 1 channel and 0 wildcard channels", body)
	}
	if item := `"channel": "` + ch + `", "published_messages": 1, "stored_messages": 1, "subscribers": 0}` + "\r\n"; !strings.Contains(body, item) {
		t.Errorf("ALL: %q lacks %q", body, item)
	}

	_, body = c.roundTrip(http.MethodGet, "/pub?id="+ch, "")
	if want := channelInfoJSON(ch, 1, 1, 0); body != want {
		t.Errorf("GET: body %q, want %q", body, want)
	}

	_, body = c.roundTrip(http.MethodPost, "/pub?id="+ch+"/broad_"+ch, "message to be sent")
	if m := groupHeadRe.FindStringSubmatch(body); m == nil || m[1] != "1" || m[2] != "1" {
		t.Errorf("POST to two channels: head of %q, want 1 channel and 1 wildcard channel", body)
	}
	items := `"channel": "` + ch + `", "published_messages": 2, "stored_messages": 2, "subscribers": 0},` + "\r\n" +
		`{"channel": "broad_` + ch + `", "published_messages": 1, "stored_messages": 1, "subscribers": 0}` + "\r\n"
	if !strings.Contains(body, items) {
		t.Errorf("POST to two channels: %q lacks %q", body, items)
	}

	_, body = c.roundTrip(http.MethodGet, "/channels-stats?id="+ch, "")
	if want := channelInfoJSON(ch, 2, 2, 0); body != want {
		t.Errorf("stats of %s: %q, want %q", ch, body, want)
	}

	head, _ = c.roundTrip(http.MethodDelete, "/pub?id="+ch, "")
	if !head.hasLine("X-Nginx-PushStream-Explain: Channel deleted.") {
		t.Errorf("DELETE: head %q lacks the exact line %q", head.Head, "X-Nginx-PushStream-Explain: Channel deleted.")
	}
}

// docs/SCENARIOS.md mix/keepalive_spec.rb #4, as the original runs it: each
// publish follows its long-poll at once, on another connection, without
// waiting to see the subscriber counted. The long-poll was sent first, so
// it must get the message although nothing is stored (docs/PROTOCOL.md
// §6.3 "Asking again at once"). A lost message shows as the long-poll's
// timeout instead of an endless wait. The first long-poll is seen counted
// before its publish: on a connection no long-poll was answered on yet,
// only the arrivals rule applies, which cannot see a request the server
// has not read yet (on a busy machine, it may not have).
func TestPublisherKeepaliveLongPolling(t *testing.T) {
	t.Parallel()
	c := keepaliveConfig()
	c.SubMode = "long-polling"
	c.Sub["longpolling_connection_ttl"] = "5s"
	c.Pub = map[string]string{"store_messages": "off"}
	load(t, c)
	ch := channelID(t)
	sub, pub := dialRaw(t), dialRaw(t)
	for n := 1; n <= 500; n++ {
		sub.send(http.MethodGet, "/sub/"+ch, "")
		if n == 1 {
			waitSubscribers(t, ch, 1)
		}
		text := fmt.Sprintf("message to be sent %03d", n)
		if head, _ := pub.roundTrip(http.MethodPost, "/pub?id="+ch, text); head.Status != http.StatusOK {
			t.Fatalf("round %d: POST %q", n, head.StatusLine)
		}
		head := sub.head()
		if head.Status != http.StatusOK {
			t.Fatalf("round %d: long-poll %q: the message published after it was lost", n, head.StatusLine)
		}
		want := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(text), text)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(sub.r, got); err != nil {
			t.Fatalf("round %d: reading the raw body: %v", n, err)
		}
		if string(got) != want {
			t.Fatalf("round %d: raw body %q, want %q", n, got, want)
		}
	}
}
