package scenarios_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Scenarios of docs/SCENARIOS.md misc/spec/mix/events_channel_spec.rb
// (docs/PROTOCOL.md §8).
//
// Each test runs its own Caddy, so every event on its events channel is
// about its own channels. Upstream waits on nginx's clock: a sweep every
// 4 s (docs/PROTOCOL.md §1.6), the 30 s default channel_inactivity_time, TTLs of
// 5 to 50 s. The tests run the store on a shorter clock, set in one place
// below, with the scenarios' TTLs scaled to it in each test.

// evTemplate is the baseline message template of events_channel_spec.
const evTemplate = `"text: ~text~\nchannel: ~channel~"`

// The shortened clock.
const (
	// evSweep is the sweep interval (upstream 4 s).
	evSweep = 200 * time.Millisecond
	// evInactivity is channel_inactivity_time where a scenario waits for
	// an idle channel to be collected (upstream the 30 s default). The
	// other tests keep the default, so that none of their channels is
	// collected while they run.
	evInactivity = time.Second
	// evTolerance is how late an event may come past its model: the
	// tests run 8 at a time under the race detector on 2 cores.
	evTolerance = 5 * time.Second
)

// evSub are the subscriber settings of the events_channel_spec baseline.
func evSub() map[string]string {
	return map[string]string{
		"allow_connections_to_events_channel": "on",
		"message_template":                    evTemplate,
		"header_template":                     "",
		"footer_template":                     "",
		"ping_message_interval":               "",
	}
}

// evConfig is the events_channel_spec baseline with events channel
// eventsID, on a store that sweeps every evSweep.
func evConfig(eventsID string) config {
	return config{
		Global:  map[string]string{"events_channel_id": eventsID},
		Sub:     evSub(),
		PubMode: "admin",
		Pub:     map[string]string{"store_messages": "off"},
		Timing:  timing{sweepInterval: evSweep.String()},
	}
}

// evIDs returns the test's channel prefix and its events channel id.
func evIDs(t *testing.T) (base, events string) {
	base = channelID(t)
	return base, base + "_events"
}

// evText is an event formatted with the baseline template.
func evText(event, channel, events string) string {
	return fmt.Sprintf("text: {\"type\": \"%s\", \"channel\": \"%s\"}\nchannel: %s", event, channel, events)
}

// evNext reads the next event of a stream.
func evNext(t *testing.T, c *rawConn) string {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	return c.mustChunk()
}

// evNextFrame reads the next websocket text message.
func evNextFrame(t *testing.T, ws *wsConn) string {
	t.Helper()
	first, payload := ws.frame()
	if first != 0x81 {
		t.Fatalf("frame %#x %q, want a text frame", first, payload)
	}
	return string(payload)
}

// evSubscribe opens a streaming subscriber and checks its 200.
func evSubscribe(t *testing.T, path string) *rawConn {
	t.Helper()
	c, head := subscribe(t, path)
	if head.Status != http.StatusOK {
		t.Fatalf("subscribe %s: %q", path, head.StatusLine)
	}
	return c
}

// evInfo returns a channel's counts through the publisher's GET.
func evInfo(t *testing.T, id string) (published, stored, subscribers int) {
	t.Helper()
	res := do(t, http.MethodGet, "/pub?id="+id, "", "Accept", "application/json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /pub?id=%s: %d", id, res.StatusCode)
	}
	v := jsonBody(t, res)
	return num(t, v, "published_messages"), num(t, v, "stored_messages"), num(t, v, "subscribers")
}

// evCounts checks a channel's counts.
func evCounts(t *testing.T, id string, published, stored, subscribers int) {
	t.Helper()
	if p, s, n := evInfo(t, id); p != published || s != stored || n != subscribers {
		t.Fatalf("%s: published %d stored %d subscribers %d, want %d %d %d", id, p, s, n, published, stored, subscribers)
	}
}

// evWaitCounts waits for a channel's counts (sweeps publish on their own
// schedule).
func evWaitCounts(t *testing.T, id string, published, stored, subscribers int) {
	t.Helper()
	var p, s, n int
	deadline := time.Now().Add(waitLimit)
	for {
		if p, s, n = evInfo(t, id); p == published && s == stored && n == subscribers {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: published %d stored %d subscribers %d, want %d %d %d", id, p, s, n, published, stored, subscribers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// evHeaderOnly checks a header-only 403 with the explain text.
func evHeaderOnly(t *testing.T, res response, status int, explain string) {
	t.Helper()
	if res.StatusCode != status || res.body != "" || res.Header.Get("X-Nginx-PushStream-Explain") != explain {
		t.Fatalf("status %d body %q explain %q, want %d, no body, %q", res.StatusCode, res.body, res.Header.Get("X-Nginx-PushStream-Explain"), status, explain)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #1
func TestEventsChannelCreated(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	load(t, evConfig(events))
	ev := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	publish(t, base, "body")
	if got, want := evNext(t, ev), evText("channel_created", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #2
func TestEventsChannelDestroyedOnDelete(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	load(t, evConfig(events))
	publish(t, base, "body")
	ev := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	start := time.Now()
	res := do(t, http.MethodDelete, "/pub?id="+base, "")
	if res.StatusCode != http.StatusOK || res.body != "" {
		t.Fatalf("DELETE: %d %q", res.StatusCode, res.body)
	}
	// Published by the next sweep (docs/PROTOCOL.md §1.6).
	if got, want := evNext(t, ev), evText("channel_destroyed", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if elapsed := time.Since(start); elapsed > evSweep+evTolerance {
		t.Fatalf("channel_destroyed %v after the DELETE, want it by the next sweep, at most %v", elapsed.Round(10*time.Millisecond), evSweep)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #3 (channel_inactivity_time
// evInactivity instead of the 30 s default).
func TestEventsChannelDestroyedWhenCollected(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	c := evConfig(events)
	c.Global["channel_inactivity_time"] = evInactivity.String()
	load(t, c)
	start := time.Now()
	publish(t, base, "not stored")
	ev := evSubscribe(t, "/sub/"+events)
	if got, want := evNext(t, ev), evText("channel_destroyed", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Collected by the first sweep after its inactivity time, never
	// before (docs/PROTOCOL.md §1.6).
	if elapsed := time.Since(start); elapsed < evInactivity || elapsed > evInactivity+evSweep+evTolerance {
		t.Fatalf("collected after %v, want between %v and %v", elapsed.Round(10*time.Millisecond), evInactivity, evInactivity+evSweep)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #4
func TestEventsClientSubscribed(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	load(t, evConfig(events))
	publish(t, base, "body")
	ev := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	evSubscribe(t, "/sub/"+base)
	if got, want := evNext(t, ev), evText("client_subscribed", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #5
func TestEventsClientSubscribedWebSocket(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	c := evConfig(events)
	c.SubMode = "websocket"
	load(t, c)
	publish(t, base, "body")
	ev := wsOpen(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	wsOpen(t, "/sub/"+base)
	if got, want := evNextFrame(t, ev), evText("client_subscribed", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #6
func TestEventsClientSubscribedLongPolling(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	c := evConfig(events)
	c.SubMode = "long-polling"
	load(t, c)
	publish(t, base, "body")
	ev := dialRaw(t)
	ev.send(http.MethodGet, "/sub/"+events, "")
	waitSubscribers(t, events, 1)
	lp := dialRaw(t)
	lp.send(http.MethodGet, "/sub/"+base, "")
	res := ev.head()
	if body, want := ev.rest(), evText("client_subscribed", base, events); res.Status != http.StatusOK || body != want {
		t.Fatalf("events long poll: %q body %q, want %q", res.StatusLine, body, want)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #7 (ttl 2s instead of 5s, the
// events subscriber as soon as the first is counted instead of at 2 s)
func TestEventsClientUnsubscribedOnTTL(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	base, events := evIDs(t)
	c := evConfig(events)
	c.Sub["subscriber_connection_ttl"] = ttl.String()
	load(t, c)
	start := time.Now()
	evSubscribe(t, "/sub/"+base)
	waitSubscribers(t, base, 1)
	// The events subscriber has the same TTL but started later: it is
	// still there when the first subscriber's TTL ends it.
	ev := evSubscribe(t, "/sub/"+events)
	if got, want := evNext(t, ev), evText("client_unsubscribed", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// The TTL counts from the subscription (docs/PROTOCOL.md §5.9).
	if elapsed := time.Since(start); elapsed < ttl || elapsed > ttl+evTolerance {
		t.Fatalf("client_unsubscribed %v after subscribing, want %v", elapsed.Round(10*time.Millisecond), ttl)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #8
func TestEventsClientUnsubscribedOnDelete(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	c := evConfig(events)
	c.Sub["subscriber_connection_ttl"] = "50s"
	load(t, c)
	evSubscribe(t, "/sub/"+base)
	waitSubscribers(t, base, 1)
	ev := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	if res := do(t, http.MethodDelete, "/pub?id="+base, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	if got, want := evNext(t, ev), evText("client_unsubscribed", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #9 (message_ttl 2s and
// channel_inactivity_time evInactivity instead of 5s and 30 s). Message
// times are whole seconds: a 2 s message lives at least 1 s, so each
// count below lasts long enough to be seen.
func TestEventsMessagesExpire(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	base, events := evIDs(t)
	c := evConfig(events)
	c.Global["message_ttl"] = ttl.String()
	c.Global["channel_inactivity_time"] = evInactivity.String()
	c.Pub["store_messages"] = "on"
	load(t, c)
	publish(t, base, "body")
	evCounts(t, base, 1, 1, 0)
	evCounts(t, events, 1, 1, 0)

	// The message expires, then the channel is collected: channel_destroyed
	// is published after channel_created expired.
	waitFor(t, base+" collected", func() bool {
		return do(t, http.MethodGet, "/pub?id="+base, "").StatusCode == http.StatusNotFound
	})
	evWaitCounts(t, events, 2, 1, 0)
	// Then channel_destroyed expires too.
	evWaitCounts(t, events, 2, 0, 0)
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #10 (ttl 5s instead of 25s,
// channel_inactivity_time evInactivity instead of 30 s). The TTL must be
// longer than the subscriptions and the deletions take.
func TestEventsManySubscribers(t *testing.T) {
	t.Parallel()
	const ttl = 5 * time.Second
	base, events := evIDs(t)
	c := evConfig(events)
	c.Sub["header_template"] = "H"
	c.Sub["subscriber_connection_ttl"] = ttl.String()
	c.Global["channel_inactivity_time"] = evInactivity.String()
	load(t, c)
	start := time.Now()
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s_%d", base, i+1)
		sub := evSubscribe(t, "/sub/"+ids[i])
		if got := sub.mustChunk(); got != "H" {
			t.Fatalf("header of %s: %q", ids[i], got)
		}
	}
	// 20 channel_created and 20 client_subscribed; 20 stored at most.
	evWaitCounts(t, events, 40, 20, 0)

	for _, id := range ids[:10] {
		if res := do(t, http.MethodDelete, "/pub?id="+id, ""); res.StatusCode != http.StatusOK {
			t.Fatalf("DELETE %s: %d", id, res.StatusCode)
		}
	}
	// 10 client_unsubscribed at once, 10 channel_destroyed at the sweep.
	evWaitCounts(t, events, 60, 20, 0)
	if elapsed := time.Since(start); elapsed >= ttl {
		t.Fatalf("the subscriptions and deletions took %v, longer than the %v TTL", elapsed.Round(10*time.Millisecond), ttl)
	}

	// The TTL ends the other 10 subscribers, then their channels are
	// collected.
	evWaitCounts(t, events, 80, 20, 0)
	if elapsed := time.Since(start); elapsed < ttl {
		t.Fatalf("subscribers ended after %v, before their %v TTL", elapsed.Round(10*time.Millisecond), ttl)
	}
	all := do(t, http.MethodGet, "/channels-stats?id=ALL", "", "Accept", "application/json").body
	for _, id := range ids {
		if strings.Contains(all, `"channel": "`+id+`"`) {
			t.Errorf("%s still listed", id)
		}
	}
	if want := `{"channel": "` + events + `", "published_messages": 80, "stored_messages": 20, "subscribers": 0}`; !strings.Contains(all, want) {
		t.Errorf("ALL lacks %s:\n%s", want, all)
	}
}

// evSiteHandler renders an extra handler of the events scenarios.
func evSiteHandler(directive, name, pattern string, settings map[string]string) string {
	return fmt.Sprintf("\t@%s path_regexp %s %s\n\t%s @%s {\n%s\t}\n",
		name, name, pattern, directive, name, block(baselineSub, settings, "\t\t"))
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #11
func TestEventsWebSocketPublish(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	other := base + "_other_valid_channel"
	c := evConfig(events)
	c.Site = evSiteHandler("push_stream_websocket", "ws", "^/ws/(.*)$", mergeSettings(evSub(), map[string]string{
		"channels_path":           "{re.ws.1}",
		"websocket_allow_publish": "on",
		"store_messages":          "on",
	}))
	load(t, c)

	evHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+events, "body"), http.StatusForbidden, "Only internal routines can change events channel.")

	ws := wsOpen(t, "/ws/"+events+"/"+other)
	if got, want := evNextFrame(t, ws), evText("client_subscribed", other, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	ws.send(wsClientFrame(0x81, []byte("any content"), wsMask))
	// Published to other_valid_channel only; the sender receives it.
	if got, want := evNextFrame(t, ws), "text: any content\nchannel: "+other; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	evCounts(t, events, 2, 2, 1)
	evCounts(t, other, 1, 1, 1)
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #12
func TestEventsChannelCannotBeDeleted(t *testing.T) {
	t.Parallel()
	_, events := evIDs(t)
	load(t, evConfig(events))
	evHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+events, ""), http.StatusForbidden, "Only internal routines can change events channel.")
	evCounts(t, events, 0, 0, 0)
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #13
func TestEventsSubscriptionAllowedPerHandler(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	other := base + "_other_valid_channel"
	c := evConfig(events)
	c.Sub["allow_connections_to_events_channel"] = "off"
	site := func(directive, name, pattern, allow string) string {
		s := mergeSettings(evSub(), map[string]string{"channels_path": "{re." + name + ".1}", "allow_connections_to_events_channel": allow})
		return evSiteHandler(directive, name, pattern, s)
	}
	c.Site = site("push_stream_websocket", "ws", "^/ws/(.*)$", "off") +
		site("push_stream_subscriber", "subev", "^/sub_to_events_channel_only_here/(.*)$", "on") +
		site("push_stream_websocket", "wsev", "^/ws_to_events_channel_only_here/(.*)$", "on")
	load(t, c)
	path := events + "/" + other
	const explain = "Subscription to events channel is not allowed."

	evHeaderOnly(t, do(t, http.MethodGet, "/sub/"+path, ""), http.StatusForbidden, explain)

	ws := wsOpen(t, "/ws/"+path)
	reason := "\x03\xf0" + `{"http_status": 403, "explain":"` + explain + `"}`
	ws.expect("\x88" + string([]byte{byte(len(reason))}) + reason)
	ws.expectEOF()

	stream := evSubscribe(t, "/sub_to_events_channel_only_here/"+path)
	if got, want := evNext(t, stream), evText("client_subscribed", other, events); got != want {
		t.Fatalf("streaming: got %q, want %q", got, want)
	}
	ws = wsOpen(t, "/ws_to_events_channel_only_here/"+path)
	if got, want := evNextFrame(t, ws), evText("client_subscribed", other, events); got != want {
		t.Fatalf("websocket: got %q, want %q", got, want)
	}
}

// evMessage is an event formatted with the #14 JSON template.
type evMessage struct {
	Text struct {
		Type    string `json:"type"`
		Channel string `json:"channel"`
	} `json:"text"`
	Channel string `json:"channel"`
	Tag     int    `json:"tag"`
	Time    string `json:"time"`
	ID      string `json:"id"`
}

// evNextSecond sleeps until just after the next whole second: the
// scenario is about tags within one second and across seconds.
func evNextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 30*time.Millisecond).Sub(now))
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #14
func TestEventsTagAndTime(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	c := evConfig(events)
	c.Sub["message_template"] = `"{\"text\": ~text~, \"channel\": \"~channel~\", \"tag\": ~tag~, \"time\": \"~time~\", \"id\": \"~id~\"}"`
	load(t, c)
	ev := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	read := func(ch string) evMessage {
		t.Helper()
		var m evMessage
		chunk := evNext(t, ev)
		if err := json.Unmarshal([]byte(chunk), &m); err != nil {
			t.Fatalf("event %q: %v", chunk, err)
		}
		if m.Text.Type != "client_subscribed" || m.Text.Channel != ch || m.Channel != events {
			t.Fatalf("event %q, want client_subscribed for %s", chunk, ch)
		}
		return m
	}
	// Two subscriptions in one second, then one in the next. A slow
	// machine may cross a second boundary between the first two: retry.
	for attempt := 1; ; attempt++ {
		ch := fmt.Sprintf("%s_%d", base, attempt)
		publish(t, ch, "body")
		if got := evNext(t, ev); !strings.Contains(got, `{"type": "channel_created", "channel": "`+ch+`"}`) {
			t.Fatalf("got %q, want the channel_created event of %s", got, ch)
		}
		evNextSecond()
		evSubscribe(t, "/sub/"+ch)
		evSubscribe(t, "/sub/"+ch)
		evNextSecond()
		evSubscribe(t, "/sub/"+ch)
		m0, m1, m2 := read(ch), read(ch), read(ch)
		if m0.Time != m1.Time && attempt < 3 {
			t.Logf("attempt %d crossed a second: %+v %+v", attempt, m0, m1)
			continue
		}
		if m1.Time != m0.Time || m1.Tag != m0.Tag+1 {
			t.Errorf("second event %+v, want the time of %+v and tag + 1", m1, m0)
		}
		if m2.Time == m0.Time || m2.Tag != m0.Tag {
			t.Errorf("third event %+v, want another time than %+v and the same tag", m2, m0)
		}
		return
	}
}

// docs/SCENARIOS.md mix/events_channel_spec.rb #15 [C]: after a reload the
// first events subscriber survives and keeps receiving (docs/PROTOCOL.md §10).
func TestEventsReload(t *testing.T) {
	t.Parallel()
	base, events := evIDs(t)
	c := evConfig(events)
	load(t, c)
	before := stats(t, "")
	ev1 := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 1)
	publish(t, base, "body")
	if got, want := evNext(t, ev1), evText("channel_created", base, events); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	sum := stats(t, "")
	if got, want := num(t, sum, "channels"), num(t, before, "channels")+1; got != want {
		t.Errorf("channels %d, want %d (events and %s)", got, want, base)
	}
	if workers, _ := sum["by_worker"].([]any); len(workers) != 1 {
		t.Errorf("by_worker %v, want one entry", sum["by_worker"])
	}

	// A harmless change forces a real reload.
	c.Site = "\trespond /events-reload-marker 204\n"
	reloadAndSettle(t, c)
	if res := do(t, http.MethodGet, "/events-reload-marker", ""); res.StatusCode != http.StatusNoContent {
		t.Fatalf("new config not running: %d", res.StatusCode)
	}
	ev2 := evSubscribe(t, "/sub/"+events)
	waitSubscribers(t, events, 2)
	publish(t, base+"_1", "body")
	want := evText("channel_created", base+"_1", events)
	if got := evNext(t, ev2); got != want {
		t.Fatalf("new subscriber: got %q, want %q", got, want)
	}
	if got := evNext(t, ev1); got != want {
		t.Fatalf("subscriber from before the reload: got %q, want %q", got, want)
	}
	sum = stats(t, "")
	if got, want := num(t, sum, "channels"), num(t, before, "channels")+2; got != want {
		t.Errorf("channels %d, want %d", got, want)
	}
	if got, want := num(t, sum, "published_messages"), num(t, before, "published_messages")+2; got != want {
		t.Errorf("published_messages %d, want %d", got, want)
	}
	if got, want := num(t, sum, "subscribers"), num(t, before, "subscribers")+2; got != want {
		t.Errorf("subscribers %d, want %d (both events subscribers)", got, want)
	}
}
