package scenarios_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Tests for docs/SCENARIOS.md "misc/spec/publisher/properties_spec.rb".

// publisherModes are the two publisher modes examples 1-25 run in, with the
// methods each one allows.
var publisherModes = []struct {
	name, mode, allow string
}{
	{"normal", "", "GET, POST, PUT"},
	{"admin", "admin", "GET, POST, PUT, DELETE"},
}

// htmlAccept is the Accept header the upstream publisher examples send.
var htmlAccept = []string{"Accept", "text/html"}

// propertiesJSONTemplate is the message template of properties examples 30-37.
const propertiesJSONTemplate = `{"id":"~id~", "channel":"~channel~", "text":"~text~"}`

// expectSummary checks fields of the summarized statistics.
func expectSummary(t *testing.T, started time.Time, want map[string]int) {
	t.Helper()
	sum := stats(t, "")
	for k, v := range want {
		if got := num(t, sum, k); got != v {
			t.Errorf("summary %s = %d, want %d (%v after the store started; summary %v)", k, got, v, time.Since(started).Round(time.Millisecond), sum)
		}
	}
}

// upstreamBody builds the upstream test bodies: `^`, rows times (`0123456789`
// repeated reps times + `|`), `$`.
func upstreamBody(rows, reps int) string {
	return "^" + strings.Repeat(strings.Repeat("0123456789", reps)+"|", rows) + "$"
}

// deletedMessage is the channel-deleted message of propertiesJSONTemplate.
func deletedMessage(id, text string) string {
	return `{"id":"-2", "channel":"` + id + `", "text":"` + text + `"}`
}

// docs/SCENARIOS.md publisher/properties_spec.rb #1-#25, each in normal and
// admin mode.
func TestPublisherProperties(t *testing.T) {
	t.Parallel()
	for _, m := range publisherModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			propertiesInMode(t, m.mode, m.allow)
		})
	}
}

// propertiesInMode runs properties examples 1-25 on a publisher in mode,
// which allows the methods allow.
func propertiesInMode(t *testing.T, mode, allow string) {
	// #1
	t.Run("01_no_channel_id", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		res := do(t, http.MethodGet, "/pub?id=", "", htmlAccept...)
		expectHeaderOnly(t, res, http.StatusBadRequest, "No channel id provided.")
	})

	// #2
	t.Run("02_get_nonexistent", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		ch1, ch2 := channelID(t), channelID(t)
		expectHeaderOnly(t, do(t, http.MethodGet, "/pub?id="+ch1, "", htmlAccept...), http.StatusNotFound, "")
		res := do(t, http.MethodPost, "/pub?id="+ch2, "body", htmlAccept...)
		if res.StatusCode != http.StatusOK || res.body == "" {
			t.Fatalf("POST: status %d body %q", res.StatusCode, res.body)
		}
		if got := jsonField(t, res.body, "channel"); got != ch2 {
			t.Fatalf("channel %q, want %q", got, ch2)
		}
	})

	// #3
	t.Run("03_get_existing", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		ch := channelID(t)
		res := do(t, http.MethodPost, "/pub?id="+ch, "body", htmlAccept...)
		if res.StatusCode != http.StatusOK || jsonField(t, res.body, "channel") != ch {
			t.Fatalf("POST: status %d body %q", res.StatusCode, res.body)
		}
		res = do(t, http.MethodGet, "/pub?id="+ch, "", htmlAccept...)
		if res.StatusCode != http.StatusOK || res.body == "" {
			t.Fatalf("GET: status %d body %q", res.StatusCode, res.body)
		}
		if got := jsonField(t, res.body, "channel"); got != ch {
			t.Fatalf("channel %q, want %q", got, ch)
		}
	})

	// #4 [C]: Go answers an HTTP/1.0 request with an HTTP/1.0 status line
	// (docs/PROTOCOL.md §0.4), so only the code is checked.
	t.Run("04_methods", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		c := dialRaw(t)
		c.write("OPTIONS /pub?id=x HTTP/1.0\r\n\r\n")
		head := c.head()
		if head.Status != http.StatusOK || head.Header("Content-Length") != "0" {
			t.Errorf("OPTIONS: %q\r\n%s", head.StatusLine, head.Head)
		}
		base := channelID(t)
		for _, req := range []struct{ method, body string }{
			{http.MethodGet, ""}, {http.MethodPut, "body"}, {http.MethodPost, ""},
		} {
			res := do(t, req.method, "/pub?id="+base+"_"+req.method, req.body, htmlAccept...)
			if res.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s: 405", req.method)
			}
		}
		res := do(t, http.MethodDelete, "/pub?id="+base+"_DELETE", "", htmlAccept...)
		if mode == "admin" {
			if res.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("admin DELETE: 405")
			}
		} else if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != allow {
			t.Errorf("normal DELETE: status %d Allow %q, want 405 %q", res.StatusCode, res.Header.Get("Allow"), allow)
		}
		res = do(t, http.MethodHead, "/pub?id="+base+"_HEAD", "", htmlAccept...)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != allow {
			t.Errorf("HEAD: status %d Allow %q, want 405 %q", res.StatusCode, res.Header.Get("Allow"), allow)
		}
	})

	// #5
	t.Run("05_id_ALL", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		res := do(t, http.MethodPost, "/pub?id=ALL", "body", htmlAccept...)
		expectHeaderOnly(t, res, http.StatusForbidden, "Channel id not authorized for this method.")
	})

	// #6
	t.Run("06_id_with_wildcard", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		for _, id := range []string{"abcd*efgh", "*abcdefgh", "abcdefgh*"} {
			t.Run(id, func(t *testing.T) {
				res := do(t, http.MethodPost, "/pub?id="+id, "body", htmlAccept...)
				expectHeaderOnly(t, res, http.StatusForbidden, "Channel id not authorized for this method.")
			})
		}
	})

	// #7
	t.Run("07_body_too_large", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"max_body_size": "2k"}})
		body := upstreamBody(40, 10)
		if len(body) != 4042 {
			t.Fatalf("body is %d bytes", len(body))
		}
		res := do(t, http.MethodPost, "/pub?id="+channelID(t), body, htmlAccept...)
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", res.StatusCode)
		}
	})

	// #8 [C]: nginx's client body buffer and temp file do not exist here;
	// the body lies between 1k and max_body_size.
	t.Run("08_body_between_buffer_and_max", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"max_body_size": "10k"}})
		body := upstreamBody(80, 10)
		if len(body) != 8082 {
			t.Fatalf("body is %d bytes", len(body))
		}
		res := do(t, http.MethodPost, "/pub?id="+channelID(t), body, htmlAccept...)
		if res.StatusCode != http.StatusOK || res.body == "" {
			t.Fatalf("status %d body %q, want 200 with body", res.StatusCode, res.body)
		}
	})

	// #9
	t.Run("09_body_under_max", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"max_body_size": "10k"}})
		res := do(t, http.MethodPost, "/pub?id="+channelID(t), upstreamBody(40, 10), htmlAccept...)
		if res.StatusCode != http.StatusOK || res.body == "" {
			t.Fatalf("status %d body %q, want 200 with body", res.StatusCode, res.body)
		}
	})

	// #10
	t.Run("10_store_on", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"store_messages": "on"}})
		ch := channelID(t)
		for i := 1; i <= 2; i++ {
			res := publish(t, ch, "published message", htmlAccept...)
			if got := num(t, jsonBody(t, res), "stored_messages"); got != i {
				t.Fatalf("POST %d: stored_messages %d, want %d", i, got, i)
			}
		}
	})

	// #11
	t.Run("11_store_off", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"store_messages": "off"}})
		res := publish(t, channelID(t), "published message", htmlAccept...)
		if got := num(t, jsonBody(t, res), "stored_messages"); got != 0 {
			t.Fatalf("stored_messages %d, want 0", got)
		}
	})

	// #12
	t.Run("12_stored_limit", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Global: map[string]string{"max_messages_stored_per_channel": "4"}})
		ch := channelID(t)
		var stored int
		for i := 1; i <= 10; i++ {
			res := publish(t, ch, fmt.Sprintf("published message %d", i), htmlAccept...)
			stored = num(t, jsonBody(t, res), "stored_messages")
		}
		if stored != 4 {
			t.Fatalf("last stored_messages %d, want 4", stored)
		}
	})

	// #13
	t.Run("13_id_length", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Global: map[string]string{"max_channel_id_length": "5"}})
		res := do(t, http.MethodPost, "/pub?id=123456", "published message", htmlAccept...)
		expectHeaderOnly(t, res, http.StatusBadRequest, "Channel id is too large.")
	})

	// #14: the limit counts every live channel of the store, hence the
	// fresh store.
	t.Run("14_channel_limit", func(t *testing.T) {
		t.Parallel()
		loadFresh(t, config{PubMode: mode, Global: map[string]string{"max_number_of_channels": "1"}})
		ch := channelID(t)
		res := do(t, http.MethodPost, "/pub?id="+ch+"1", "published message", htmlAccept...)
		if res.StatusCode != http.StatusOK || res.body == "" {
			t.Fatalf("first channel: status %d body %q", res.StatusCode, res.body)
		}
		res = do(t, http.MethodPost, "/pub?id="+ch+"2", "published message", htmlAccept...)
		expectHeaderOnly(t, res, http.StatusForbidden, "Number of channels were exceeded.")
	})

	// #15
	t.Run("15_wildcard_channel_limit", func(t *testing.T) {
		t.Parallel()
		loadFresh(t, config{
			PubMode: mode,
			Global:  map[string]string{"wildcard_channel_prefix": "bd_", "max_number_of_wildcard_channels": "1"},
			Sub:     map[string]string{"wildcard_channel_max_qtd": "1"},
		})
		ch := "bd_" + channelID(t)
		res := do(t, http.MethodPost, "/pub?id="+ch+"1", "published message", htmlAccept...)
		if res.StatusCode != http.StatusOK || res.body == "" {
			t.Fatalf("first channel: status %d body %q", res.StatusCode, res.body)
		}
		res = do(t, http.MethodPost, "/pub?id="+ch+"2", "published message", htmlAccept...)
		expectHeaderOnly(t, res, http.StatusForbidden, "Number of channels were exceeded.")
	})

	// #16
	t.Run("16_no_cors_by_default", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		ch := channelID(t)
		publish(t, ch, "body", htmlAccept...)
		res := do(t, http.MethodGet, "/pub?id="+ch, "", htmlAccept...)
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			if v := res.Header.Values(h); len(v) != 0 {
				t.Errorf("%s: %q, want none", h, v)
			}
		}
	})

	// #17
	t.Run("17_cors", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"allowed_origins": "custom.domain.com"}})
		ch := channelID(t)
		publish(t, ch, "body", htmlAccept...)
		res := do(t, http.MethodGet, "/pub?id="+ch, "", htmlAccept...)
		expectCORS(t, res.Header, "custom.domain.com", allow)
	})

	// #18
	t.Run("18_cors_placeholder", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"allowed_origins": "{query.domain}"}})
		res := do(t, http.MethodGet, "/pub?id="+channelID(t)+"&domain=test.com", "", htmlAccept...)
		expectCORS(t, res.Header, "test.com", allow)
	})

	// #19
	t.Run("19_channel_info_on_publish_off", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Pub: map[string]string{"channel_info_on_publish": "off"}})
		res := do(t, http.MethodPost, "/pub?id="+channelID(t), "published message", htmlAccept...)
		expectHeaderOnly(t, res, http.StatusOK, "")
	})

	// #20 [C]: the nginx `if ($arg_test)` becomes two publisher blocks
	// chosen by query matchers.
	t.Run("20_channels_path_by_matcher", func(t *testing.T) {
		t.Parallel()
		load(t, config{
			PubMode: mode,
			Site:    pub2Site(mode, "test_{query.id}", "{query.id}", "on", "on"),
			Sub:     map[string]string{"header_template": "", "footer_template": "", "subscriber_connection_ttl": "1s"},
		})
		ch := channelID(t)
		plain, _ := subscribe(t, "/sub/"+ch)
		test, _ := subscribe(t, "/sub/test_"+ch)
		waitSubscribers(t, ch, 1)
		waitSubscribers(t, "test_"+ch, 1)
		if res := do(t, http.MethodPost, "/pub2?id="+ch, "published message", htmlAccept...); res.StatusCode != http.StatusOK {
			t.Fatalf("POST /pub2: status %d", res.StatusCode)
		}
		if res := do(t, http.MethodPost, "/pub2?id="+ch+"&test=1", "published message", htmlAccept...); res.StatusCode != http.StatusOK {
			t.Fatalf("POST /pub2 with test: status %d", res.StatusCode)
		}
		if got, want := plain.rest(), "<script>p(1,'"+ch+"','published message');</script>"; got != want {
			t.Errorf("/sub/%s body %q, want %q", ch, got, want)
		}
		if got, want := test.rest(), "<script>p(1,'test_"+ch+"','published message');</script>"; got != want {
			t.Errorf("/sub/test_%s body %q, want %q", ch, got, want)
		}
	})

	// #21 [C]: store_messages chosen by matcher.
	t.Run("21_store_messages_by_matcher", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Site: pub2Site(mode, "{query.id}", "{query.id}", "on", "off")})
		ch := channelID(t)
		res := do(t, http.MethodPost, "/pub2?id="+ch, "published message", htmlAccept...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST: status %d", res.StatusCode)
		}
		v := jsonBody(t, res)
		if num(t, v, "published_messages") != 1 || num(t, v, "stored_messages") != 0 {
			t.Errorf("without test: %v, want published 1 stored 0", v)
		}
		res = do(t, http.MethodPost, "/pub2?id="+ch+"&test=1", "published message", htmlAccept...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST with test: status %d", res.StatusCode)
		}
		v = jsonBody(t, res)
		if num(t, v, "published_messages") != 2 || num(t, v, "stored_messages") != 1 {
			t.Errorf("with test: %v, want published 2 stored 1", v)
		}
	})

	// #22
	t.Run("22_anti_cache", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode})
		res := do(t, http.MethodGet, "/pub?id="+channelID(t), "", htmlAccept...)
		expectAntiCache(t, res.Header)
	})

	// #23 [C]: nginx gzip becomes Caddy encode.
	t.Run("23_gzip_get", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Site: gzipSite})
		ch := channelID(t)
		publish(t, ch, "body", htmlAccept...)
		res := do(t, http.MethodGet, "/pub?id="+ch, "", "Accept", "application/json", "Accept-Encoding", "gzip, compressed")
		expectGzippedInfo(t, res, ch)
	})

	// #24 [C]
	t.Run("24_gzip_post", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Site: gzipSite})
		ch := channelID(t)
		res := do(t, http.MethodPost, "/pub?id="+ch, "body", "Accept", "application/json", "Accept-Encoding", "gzip, compressed")
		expectGzippedInfo(t, res, ch)
	})

	// #25
	t.Run("25_one_post_three_channels", func(t *testing.T) {
		t.Parallel()
		load(t, config{PubMode: mode, Sub: map[string]string{"message_template": `"~text~|~channel~"`, "header_template": ""}})
		ch := channelID(t)
		ids := []string{ch + "_1", ch + "_2", ch + "_3"}
		subs := make([]*rawConn, len(ids))
		for i, id := range ids {
			subs[i], _ = subscribe(t, "/sub/"+id)
		}
		for _, id := range ids {
			waitSubscribers(t, id, 1)
		}
		publish(t, strings.Join(ids, "/"), "body", htmlAccept...)
		for i, id := range ids {
			if got := subs[i].mustChunk(); got != "body|"+id {
				t.Errorf("subscriber of %s got %q, want %q", id, got, "body|"+id)
			}
		}
	})
}

// pub2Site is a second publisher on /pub2 made of two blocks: the one
// for requests with a `test` query argument, and the one for the others.
func pub2Site(mode, testPath, plainPath, testStore, plainStore string) string {
	return fmt.Sprintf(`@pub2test {
		path /pub2
		query test=*
	}
	push_stream_publisher @pub2test %[1]s {
		channels_path %[2]s
		store_messages %[4]s
		max_body_size 32k
	}

	@pub2 {
		path /pub2
		not query test=*
	}
	push_stream_publisher @pub2 %[1]s {
		channels_path %[3]s
		store_messages %[5]s
		max_body_size 32k
	}`, mode, testPath, plainPath, testStore, plainStore)
}

// expectGzippedInfo checks a gzip-encoded channel info answer.
func expectGzippedInfo(t *testing.T, res response, ch string) {
	t.Helper()
	if res.StatusCode != http.StatusOK || len(res.body) == 0 {
		t.Fatalf("status %d, %d body bytes", res.StatusCode, len(res.body))
	}
	if got := res.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip (body %q)", got, res.body)
	}
	if got := jsonField(t, gunzip(t, res.body), "channel"); got != ch {
		t.Fatalf("channel %q, want %q", got, ch)
	}
}

// docs/SCENARIOS.md publisher/properties_spec.rb #26
func TestPublisherAdminMissingChannel(t *testing.T) {
	t.Parallel()
	load(t, config{PubMode: "admin"})
	ch := channelID(t)
	expectHeaderOnly(t, do(t, http.MethodGet, "/pub?id="+ch, "", htmlAccept...), http.StatusNotFound, "")
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch, "", htmlAccept...), http.StatusNotFound, "")
}

// docs/SCENARIOS.md publisher/properties_spec.rb #27
func TestPublisherAdminDeleteWithoutID(t *testing.T) {
	t.Parallel()
	load(t, config{PubMode: "admin"})
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id=", "", htmlAccept...), http.StatusBadRequest, "No channel id provided.")
}

// docs/SCENARIOS.md publisher/properties_spec.rb #28
func TestPublisherAdminDeleteIDTooLong(t *testing.T) {
	t.Parallel()
	load(t, config{PubMode: "admin", Global: map[string]string{"max_channel_id_length": "5"}})
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id=123456", "", htmlAccept...), http.StatusBadRequest, "Channel id is too large.")
}

// docs/SCENARIOS.md publisher/properties_spec.rb #29
func TestPublisherAdminDeleteWithoutSubscribers(t *testing.T) {
	t.Parallel()
	started := loadFresh(t, config{PubMode: "admin"})
	ch := channelID(t)
	publish(t, ch, "body", htmlAccept...)
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	expectSummary(t, started, map[string]int{"channels": 0, "channels_in_delete": 1, "channels_in_trash": 0})
}

// deleteConfig is the setup of properties examples 30, 31 and 37.
func deleteConfig() config {
	return config{PubMode: "admin", Sub: map[string]string{
		"header_template":       `" "`,
		"footer_template":       "",
		"ping_message_interval": "",
		"message_template":      backquoted(propertiesJSONTemplate),
	}}
}

// deleteWithOneSubscriber runs examples 30, 31 and 37: a subscriber on one
// channel, the channel deleted (with body as DELETE body), the subscriber
// gets the channel-deleted message with text and ends.
func deleteWithOneSubscriber(t *testing.T, c config, body, text string) {
	started := loadFresh(t, c)
	ch := channelID(t)
	sub, _ := subscribeOK(t, "/sub/"+ch)
	if got := sub.mustChunk(); got != " " {
		t.Fatalf("header chunk %q, want %q", got, " ")
	}
	waitSubscribers(t, ch, 1)
	expectSummary(t, started, map[string]int{"subscribers": 1, "channels": 1})

	res := do(t, http.MethodDelete, "/pub?id="+ch, body, htmlAccept...)
	expectHeaderOnly(t, res, http.StatusOK, "Channel deleted.")

	got := sub.mustChunk()
	var msg map[string]string
	if err := json.Unmarshal([]byte(got), &msg); err != nil {
		t.Fatalf("deleted message %q: %v", got, err)
	}
	if msg["id"] != "-2" || msg["channel"] != ch || msg["text"] != text {
		t.Errorf("deleted message %q, want id -2, channel %s, text %q", got, ch, text)
	}
	if rest := sub.rest(); rest != "" {
		t.Errorf("after the deleted message: %q, want the end of the body", rest)
	}
	waitFor(t, "no subscriber left", func() bool { return num(t, stats(t, ""), "subscribers") == 0 })
	expectSummary(t, started, map[string]int{"subscribers": 0, "channels": 0, "channels_in_delete": 1, "channels_in_trash": 0})
}

// docs/SCENARIOS.md publisher/properties_spec.rb #30
func TestPublisherAdminDeleteWithSubscriber(t *testing.T) {
	t.Parallel()
	deleteWithOneSubscriber(t, deleteConfig(), "", "Channel deleted")
}

// docs/SCENARIOS.md publisher/properties_spec.rb #31
func TestPublisherAdminDeleteCustomText(t *testing.T) {
	t.Parallel()
	deleteWithOneSubscriber(t, deleteConfig(), "custom channel delete message", "custom channel delete message")
}

// docs/SCENARIOS.md publisher/properties_spec.rb #37
func TestPublisherAdminDeleteConfiguredText(t *testing.T) {
	t.Parallel()
	c := deleteConfig()
	c.Global = map[string]string{"channel_deleted_message_text": `"Channel has gone away."`}
	deleteWithOneSubscriber(t, c, "", "Channel has gone away.")
}

// docs/SCENARIOS.md publisher/properties_spec.rb #32
func TestPublisherAdminDeleteSubscriberOnTwoChannels(t *testing.T) {
	t.Parallel()
	c := deleteConfig()
	c.Sub["message_template"] = backquoted(propertiesJSONTemplate + "|")
	started := loadFresh(t, c)
	ch := channelID(t)
	ch1, ch2 := ch+"_1", ch+"_2"
	sub, _ := subscribe(t, "/sub/"+ch1+"/"+ch2)
	if got := sub.mustChunk(); got != " " {
		t.Fatalf("header chunk %q", got)
	}
	waitSubscribers(t, ch2, 1)
	waitSubscribers(t, ch1, 1)
	expectSummary(t, started, map[string]int{"subscribers": 1, "channels": 2})

	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch1, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	if got, want := sub.mustChunk(), deletedMessage(ch1, "Channel deleted")+"|"; got != want {
		t.Fatalf("after DELETE %s: %q, want %q", ch1, got, want)
	}
	expectSummary(t, started, map[string]int{"subscribers": 1, "channels": 1, "channels_in_delete": 1, "channels_in_trash": 0})

	publish(t, ch2, "published message", htmlAccept...)
	if got, want := sub.mustChunk(), `{"id":"1", "channel":"`+ch2+`", "text":"published message"}|`; got != want {
		t.Fatalf("after POST %s: %q, want %q", ch2, got, want)
	}

	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch2, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	if got, want := sub.mustChunk(), deletedMessage(ch2, "Channel deleted")+"|"; got != want {
		t.Fatalf("after DELETE %s: %q, want %q", ch2, got, want)
	}
	if rest := sub.rest(); rest != "" {
		t.Errorf("after the last deleted message: %q, want the end of the body", rest)
	}
	waitFor(t, "no subscriber left", func() bool { return num(t, stats(t, ""), "subscribers") == 0 })
	expectSummary(t, started, map[string]int{"subscribers": 0, "channels": 0, "channels_in_delete": 2, "channels_in_trash": 0})
}

// docs/SCENARIOS.md publisher/properties_spec.rb #33
func TestPublisherAdminDeleteLongPollingOnTwentyChannels(t *testing.T) {
	t.Parallel()
	started := loadFresh(t, config{PubMode: "admin", SubMode: "long-polling", Sub: map[string]string{
		"header_template":       "",
		"footer_template":       "",
		"ping_message_interval": "",
		"message_template":      `"channel: ~channel~\ntext: ~text~\n"`,
	}})
	ch := channelID(t)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s_%d", ch, i)
	}
	sub := dialRaw(t)
	sub.send(http.MethodGet, "/sub/"+strings.Join(ids, "/"), "")
	waitFor(t, "20 channels and 1 subscriber", func() bool {
		sum := stats(t, "")
		return num(t, sum, "channels") == 20 && num(t, sum, "subscribers") == 1
	})

	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ids[9], "", htmlAccept...), http.StatusOK, "Channel deleted.")
	head := sub.head()
	if head.Status != http.StatusOK {
		t.Fatalf("long-polling status %d", head.Status)
	}
	if got, want := sub.rest(), "channel: "+ids[9]+"\ntext: Channel deleted\n"; got != want {
		t.Fatalf("long-polling body %q, want %q", got, want)
	}
	waitFor(t, "no subscriber left", func() bool { return num(t, stats(t, ""), "subscribers") == 0 })
	expectSummary(t, started, map[string]int{"subscribers": 0, "channels": 19, "channels_in_delete": 1, "channels_in_trash": 0})
}

// docs/SCENARIOS.md publisher/properties_spec.rb #34
func TestPublisherAdminDeleteTwoSubscribers(t *testing.T) {
	t.Parallel()
	started := loadFresh(t, config{PubMode: "admin", Sub: map[string]string{
		"header_template":       "",
		"footer_template":       "FOOTER",
		"ping_message_interval": "",
		"message_template":      backquoted(propertiesJSONTemplate),
	}})
	ch := channelID(t)
	ids := []string{ch + "_1", ch + "_2"}
	subs := make([]*rawConn, len(ids))
	for i, id := range ids {
		subs[i], _ = subscribe(t, "/sub/"+id)
	}
	for _, id := range ids {
		waitSubscribers(t, id, 1)
	}
	expectSummary(t, started, map[string]int{"subscribers": 2, "channels": 2})

	for _, id := range ids {
		expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+id, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	}
	for i, id := range ids {
		if got, want := subs[i].rest(), deletedMessage(id, "Channel deleted")+"FOOTER"; got != want {
			t.Errorf("subscriber of %s: body %q, want %q", id, got, want)
		}
	}
	waitFor(t, "no subscriber left", func() bool { return num(t, stats(t, ""), "subscribers") == 0 })
	expectSummary(t, started, map[string]int{"subscribers": 0, "channels": 0, "channels_in_delete": 2, "channels_in_trash": 0})

	// The next sweep (every 4 s, docs/PROTOCOL.md §1.6) moves both to the trash.
	waitFor(t, "the sweep trashing both channels", func() bool {
		sum := stats(t, "")
		return num(t, sum, "channels_in_delete") == 0 && num(t, sum, "channels_in_trash") == 2
	})
}

// footerConfig is the setup of properties examples 35 and 36.
func footerConfig() config {
	return config{PubMode: "admin", Sub: map[string]string{
		"header_template":       "HEADER_TEMPLATE",
		"footer_template":       "FOOTER_TEMPLATE",
		"message_template":      `"~text~"`,
		"ping_message_interval": "",
	}}
}

// docs/SCENARIOS.md publisher/properties_spec.rb #35
func TestPublisherAdminDeleteSendsFooter(t *testing.T) {
	t.Parallel()
	load(t, footerConfig())
	ch := channelID(t)
	sub, _ := subscribe(t, "/sub/"+ch)
	header := sub.mustChunk()
	waitSubscribers(t, ch, 1)
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	if got, want := header+sub.rest(), "HEADER_TEMPLATEChannel deletedFOOTER_TEMPLATE"; got != want {
		t.Fatalf("body %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md publisher/properties_spec.rb #36
func TestPublisherAdminDeleteTemplatesPerHandler(t *testing.T) {
	t.Parallel()
	c := footerConfig()
	c.Site = `@sub2 path_regexp sub2 ^/sub2/(.*)$
	push_stream_subscriber @sub2 {
		channels_path {re.sub2.1}
		header_template "<html><body>"
		footer_template "</body></html>"
		message_template "|~text~|"
	}`
	load(t, c)
	ch := channelID(t)
	sub1, _ := subscribe(t, "/sub/"+ch)
	sub2, _ := subscribe(t, "/sub2/"+ch)
	header1, header2 := sub1.mustChunk(), sub2.mustChunk()
	waitSubscribers(t, ch, 2)
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	if got, want := header1+sub1.rest(), "HEADER_TEMPLATEChannel deletedFOOTER_TEMPLATE"; got != want {
		t.Errorf("/sub body %q, want %q", got, want)
	}
	if got, want := header2+sub2.rest(), "<html><body>|Channel deleted|</body></html>"; got != want {
		t.Errorf("/sub2 body %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md publisher/properties_spec.rb #38
func TestPublisherAdminDeleteTwoAtOnce(t *testing.T) {
	t.Parallel()
	started := loadFresh(t, config{PubMode: "admin"})
	ch := channelID(t)
	ch1, ch2 := ch+"_1", ch+"_2"
	publish(t, ch1, "body", htmlAccept...)
	publish(t, ch2, "body", htmlAccept...)
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch1+"/"+ch2, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	expectSummary(t, started, map[string]int{"channels": 0, "channels_in_delete": 2, "channels_in_trash": 0})
}

// docs/SCENARIOS.md publisher/properties_spec.rb #39
func TestPublisherAdminDeleteListWithMissingID(t *testing.T) {
	t.Parallel()
	loadFresh(t, config{PubMode: "admin"})
	ch := channelID(t)
	ch1, ch2, ch3, ch4 := ch+"_1", ch+"_2", ch+"_3", ch+"_4"
	for _, id := range []string{ch1, ch2, ch3} {
		publish(t, id, "body", htmlAccept...)
	}
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+ch3+"/"+ch4+"/"+ch1, "", htmlAccept...), http.StatusOK, "Channel deleted.")
	all := stats(t, "ALL")
	if got := num(t, all, "channels"); got != 1 {
		t.Errorf("channels %d, want 1", got)
	}
	infos, _ := all["infos"].([]any)
	if len(infos) != 1 {
		t.Fatalf("infos %v, want only %s", all["infos"], ch2)
	}
	info, _ := infos[0].(map[string]any)
	if info["channel"] != ch2 || num(t, info, "published_messages") != 1 || num(t, info, "stored_messages") != 1 {
		t.Fatalf("infos[0] %v, want %s with published 1, stored 1", info, ch2)
	}
}
