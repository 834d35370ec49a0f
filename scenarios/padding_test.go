package scenarios_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Scenarios of misc/spec/subscriber/padding_by_user_agent_spec.rb
// (docs/SCENARIOS.md): every example runs for a streaming and an eventsource
// handler. Bodies are compared byte for byte with docs/PROTOCOL.md §5.7.

// padMode is one of the two handler kinds the spec runs in.
type padMode struct {
	name string
	mode string
	// pattern is the regular expression the spec matches a padded body with.
	pattern *regexp.Regexp
}

var padModes = []padMode{
	{name: "streaming", mode: "", pattern: regexp.MustCompile(`(\r\n)+\r\n\r\n\r\n$`)},
	{name: "eventsource", mode: "eventsource", pattern: regexp.MustCompile(`(:::)+\n$`)},
}

// config applies the spec's baseline changes (padding `[T|t]est 1,0,508`,
// user_agent unset, ttl 1s, header, template and footer off) and then sub.
func (m padMode) config(sub map[string]string) config {
	return config{Sub: mergeSettings(map[string]string{
		"padding_by_user_agent":     `"[T|t]est 1,0,508"`,
		"subscriber_connection_ttl": "1s",
		"header_template":           "",
		"message_template":          "",
		"footer_template":           "",
	}, sub), SubMode: m.mode}
}

// header is what the handler sends for a header template (eventsource
// turns it into a comment, the empty one into `": \n"`).
func (m padMode) header(h string) string {
	if m.mode != "eventsource" {
		return h
	}
	if h == "" {
		return ": \n"
	}
	return ": " + h + "\n"
}

// message is a message formatted with the default template.
func (m padMode) message(text string) string {
	if m.mode != "eventsource" {
		return text
	}
	return "data: " + text + "\n\n"
}

// padding is a padding of n bytes when the largest rule size is lmax:
// the tail of `"\r\n"` pairs, or n-1 colons and a LF for eventsource.
func (m padMode) padding(n, lmax int) string {
	if n == 0 {
		return ""
	}
	if m.mode == "eventsource" {
		return strings.Repeat(":", n-1) + "\n"
	}
	all := strings.Repeat("\r\n", (lmax+1)/2)
	return all[len(all)-n:]
}

// subscribeWithUserAgent opens a subscriber with a User-Agent header
// (none if ua is empty) and checks that the stream started.
func subscribeWithUserAgent(t *testing.T, path, ua string) *rawConn {
	t.Helper()
	var headers []string
	if ua != "" {
		headers = append(headers, "User-Agent: "+ua)
	}
	c, _ := subscribeOK(t, path, headers...)
	return c
}

// expectPaddedBody compares a whole body with the expectation and, when
// padded, with the spec's pattern.
func expectPaddedBody(t *testing.T, m padMode, what, got, want string, padded bool) {
	t.Helper()
	if got != want {
		t.Errorf("%s: body of %d bytes %q, want %d bytes %q", what, len(got), abbreviate(got), len(want), abbreviate(want))
		return
	}
	if padded && !m.pattern.MatchString(got) {
		t.Errorf("%s: body does not match %s", what, m.pattern)
	}
}

// docs/SCENARIOS.md subscriber/padding_by_user_agent_spec.rb #1
func TestPaddingHeader(t *testing.T) {
	t.Parallel()
	for _, m := range padModes {
		t.Run(m.name, func(t *testing.T) {
			load(t, m.config(map[string]string{
				"header_template":       "0123456789",
				"padding_by_user_agent": `"[T|t]est 1,1024,508:[T|t]est 2,4097,0"`,
			}))
			path := "/sub/" + channelID(t)
			subs := []*rawConn{subscribeWithUserAgent(t, path, "Test 1"), subscribeWithUserAgent(t, path, "Test 2"), subscribeWithUserAgent(t, path, "Test 3")}
			header := m.header("0123456789")
			expectPaddedBody(t, m, "Test 1", subs[0].rest(), header+m.padding(1100, 4097), true)
			expectPaddedBody(t, m, "Test 2", subs[1].rest(), header+m.padding(4097, 4097), true)
			expectPaddedBody(t, m, "Test 3", subs[2].rest(), header, false)
		})
	}
}

// docs/SCENARIOS.md subscriber/padding_by_user_agent_spec.rb #2 (ttl 2s so the
// publish surely reaches the three subscribers)
func TestPaddingMessage(t *testing.T) {
	t.Parallel()
	for _, m := range padModes {
		t.Run(m.name, func(t *testing.T) {
			load(t, m.config(map[string]string{"subscriber_connection_ttl": "2s"}))
			id := channelID(t)
			subs := []*rawConn{subscribeWithUserAgent(t, "/sub/"+id, "Test 1"), subscribeWithUserAgent(t, "/sub/"+id, "Test 2"), subscribeWithUserAgent(t, "/sub/"+id, "Test 3")}
			waitSubscribers(t, id, 3)
			publish(t, id, "0123456789")
			base := m.header("") + m.message("0123456789")
			expectPaddedBody(t, m, "Test 1", subs[0].rest(), base+m.padding(500, 508), true)
			expectPaddedBody(t, m, "Test 2", subs[1].rest(), base, false)
			expectPaddedBody(t, m, "Test 3", subs[2].rest(), base, false)
		})
	}
}

// docs/SCENARIOS.md subscriber/padding_by_user_agent_spec.rb #3 (one channel per
// message size instead of one request after the other; ttl 2s)
func TestPaddingMessageSizes(t *testing.T) {
	t.Parallel()
	sizes := []struct{ text, padding int }{
		{1, 545}, {105, 500}, {221, 400}, {331, 300}, {435, 200}, {502, 100}, {550, 0},
	}
	for _, m := range padModes {
		t.Run(m.name, func(t *testing.T) {
			load(t, m.config(map[string]string{
				"padding_by_user_agent":     `"[T|t]est 1,0,545"`,
				"subscriber_connection_ttl": "2s",
			}))
			ids := make([]string, len(sizes))
			subs := make([]*rawConn, len(sizes))
			for i := range sizes {
				ids[i] = channelID(t)
				subs[i] = subscribeWithUserAgent(t, "/sub/"+ids[i], "Test 1")
			}
			for i, size := range sizes {
				waitSubscribers(t, ids[i], 1)
				publish(t, ids[i], strings.Repeat("_", size.text))
			}
			for i, size := range sizes {
				want := m.header("") + m.message(strings.Repeat("_", size.text)) + m.padding(size.padding, 545)
				expectPaddedBody(t, m, "message of "+strconv.Itoa(size.text)+" bytes", subs[i].rest(), want, size.padding > 0)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/padding_by_user_agent_spec.rb #4
func TestPaddingUserAgentFromPlaceholder(t *testing.T) {
	t.Parallel()
	for _, m := range padModes {
		t.Run(m.name, func(t *testing.T) {
			load(t, m.config(map[string]string{
				"padding_by_user_agent": `"[T|t]est 1,1024,512"`,
				"user_agent":            "{query.ua}",
				"header_template":       "0123456789",
			}))
			path := "/sub/" + channelID(t)
			// The User-Agent header is ignored when user_agent is set.
			sub1 := subscribeWithUserAgent(t, path+"?ua=test%201", "")
			sub2 := subscribeWithUserAgent(t, path+"?ua=test%202", "Test 1")
			header := m.header("0123456789")
			expectPaddedBody(t, m, "ua=test 1", sub1.rest(), header+m.padding(1024, 1024), true)
			expectPaddedBody(t, m, "ua=test 2", sub2.rest(), header, false)
		})
	}
}
