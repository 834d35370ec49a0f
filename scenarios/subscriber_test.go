package scenarios_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Scenario tests for the streaming subscriber: docs/SCENARIOS.md sections
// subscriber/properties_spec.rb, subscriber/comunication_properties_spec.rb,
// subscriber/connection_cleanup_spec.rb and mix/wildcard_properties_spec.rb,
// plus docs/PROTOCOL.md §4.5 (delete on streaming subscribers), §5.4 (template
// tokens), §5.9 (TTL footer) and streaming through Caddy's encode.

// propertiesSub returns the subscriber settings of
// subscriber/properties_spec.rb (authorized off, header
// "HEADER\r\nTEMPLATE\r\n1234\r\n", content_type "custom content type",
// ttl 1s, ping 2s) with changes applied.
func propertiesSub(changes map[string]string) map[string]string {
	return mergeSettings(map[string]string{
		"authorized_channels_only":  "off",
		"header_template":           `"HEADER\r\nTEMPLATE\r\n1234\r\n"`,
		"content_type":              `"custom content type"`,
		"subscriber_connection_ttl": "1s",
		"ping_message_interval":     "2s",
	}, changes)
}

// propertiesHeader is the decoded properties_spec.rb header template.
const propertiesHeader = "HEADER\r\nTEMPLATE\r\n1234\r\n"

// communicationSub returns the subscriber settings of
// subscriber/comunication_properties_spec.rb (authorized off, header
// "connected", template "~text~", ping 1s) with changes applied.
func communicationSub(changes map[string]string) map[string]string {
	return mergeSettings(map[string]string{
		"authorized_channels_only": "off",
		"header_template":          `"connected"`,
		"message_template":         `"~text~"`,
		"ping_message_interval":    "1s",
	}, changes)
}

// communicationGlobal is the comunication_properties_spec.rb global change.
var communicationGlobal = map[string]string{"message_ttl": "12s"}

// firstChunk opens a stream, expects a 200 and returns its first chunk.
func firstChunk(t *testing.T, path string) string {
	t.Helper()
	c, _ := subscribeOK(t, path)
	return c.mustChunk()
}

// noStoredMessage reports whether a channel is missing or has no stored
// message.
func noStoredMessage(t *testing.T, id string) bool {
	res := statsAnswer(t, id)
	if res.StatusCode == http.StatusNotFound {
		return true
	}
	return res.StatusCode == http.StatusOK && num(t, jsonBody(t, res), "stored_messages") == 0
}

// infoChannelRe matches a channel id in the statistics' infos list.
var infoChannelRe = regexp.MustCompile(`(?s)\{"channel": "(.*?)", "published_messages": `)

// purgeChannels deletes every live channel so that a store-wide channel
// limit starts from zero: the store outlives configurations, and other
// tests leave channels behind. It needs an admin publisher in the loaded
// configuration (and no max_channel_id_length shorter than other tests'
// ids).
func purgeChannels(t *testing.T) {
	t.Helper()
	res := statsAnswer(t, "ALL")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("listing ALL: status %d", res.StatusCode)
	}
	// A query value is decoded by Caddy ({query.id}) and once more by the
	// module (docs/PROTOCOL.md §2.1).
	escape := func(id string) string { return url.QueryEscape(strings.ReplaceAll(id, "%", "%25")) }
	var batch []string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		res := do(t, http.MethodDelete, "/pub?id="+strings.Join(batch, "/"), "")
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNotFound {
			t.Fatalf("purging: DELETE status %d, explain %q", res.StatusCode, explainHeader(res))
		}
		batch = batch[:0]
	}
	for _, m := range infoChannelRe.FindAllStringSubmatch(res.body, -1) {
		if m[1] == "" {
			// The empty id is addressed by a lone "/" (docs/PROTOCOL.md §2.2).
			do(t, http.MethodDelete, "/pub?id=%2F", "")
			continue
		}
		batch = append(batch, escape(m[1]))
		if len(batch) == 40 {
			flush()
		}
	}
	flush()
	waitFor(t, "an empty store", func() bool {
		s := stats(t, "")
		return num(t, s, "channels") == 0 && num(t, s, "wildcard_channels") == 0
	})
}

// expectLoadFails posts a Caddyfile to the admin API and expects it to be
// refused with a message containing phrase.
func expectLoadFails(t *testing.T, caddyfile, phrase string) {
	t.Helper()
	srv := serverOf(t)
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://localhost:%d/load", srv.adminPort), strings.NewReader(srv.expandPorts(caddyfile)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	res, err := srv.client.Do(req)
	if err != nil {
		t.Fatalf("POST /load: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	msg := string(raw)
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if res.StatusCode == http.StatusOK {
		t.Fatalf("configuration loaded, want an error containing %q", phrase)
	}
	if !strings.Contains(msg, phrase) {
		t.Fatalf("load error %q (status %d) does not contain %q", msg, res.StatusCode, phrase)
	}
}

// streamBody is a streaming body read to its end by readRestAsync.
type streamBody struct {
	chunks []string
	ended  time.Time
	err    error
}

// String returns the whole body.
func (b streamBody) String() string { return strings.Join(b.chunks, "") }

// readRestAsync reads the remaining chunks of c in a goroutine (without
// touching testing.T) and reports them with the time the body ended.
func readRestAsync(c *rawConn) <-chan streamBody {
	done := make(chan streamBody, 1)
	go func() {
		var b streamBody
		defer func() { b.ended = time.Now(); done <- b }()
		for {
			data, ok, err := c.nextChunk()
			if !ok {
				b.err = err
				return
			}
			b.chunks = append(b.chunks, data)
		}
	}()
	return done
}

// sleepUntil sleeps until t0+d; only for scenarios about elapsed time.
func sleepUntil(t0 time.Time, d time.Duration) {
	time.Sleep(time.Until(t0.Add(d)))
}

// encodedClient asks for encodings itself and leaves bodies encoded.
var encodedClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 3 * waitLimit}

// openGzipped opens a stream through encodedClient with the given
// Accept-Encoding and expects a 200 compressed with gzip.
func openGzipped(t *testing.T, path, acceptEncoding string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, serverOf(t).baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", acceptEncoding)
	res, err := encodedClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q; want 200 and gzip", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	return res
}

// ---------------------------------------------------------------------------
// misc/spec/subscriber/properties_spec.rb

// docs/SCENARIOS.md subscriber/properties_spec.rb #1
func TestSubscriberPropsNoChannelID(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/", ""), http.StatusBadRequest, "No channel id provided.")
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #2
func TestSubscriberPropsMethods(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	id := channelID(t)

	c := dialRaw(t)
	c.write("OPTIONS /sub/" + id + "_0 HTTP/1.0\r\n\r\n")
	head := c.head()
	// The status-line version differs from nginx (docs/PROTOCOL.md §0.4); only
	// the code is checked.
	if head.Status != http.StatusOK || head.Header("Content-Length") != "0" {
		t.Errorf("OPTIONS: status %d, Content-Length %q; want 200 and 0 (head %q)", head.Status, head.Header("Content-Length"), head.Head)
	}

	for i, m := range []struct{ method, body string }{
		{http.MethodHead, ""},
		{http.MethodPut, "body"},
		{http.MethodPost, ""},
		{http.MethodDelete, ""},
	} {
		res := do(t, m.method, fmt.Sprintf("/sub/%s_%d", id, i+1), m.body)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET" {
			t.Errorf("%s: status %d, Allow %q; want 405 and GET", m.method, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	if _, head := subscribe(t, "/sub/"+id+"_5"); head.Status == http.StatusMethodNotAllowed {
		t.Errorf("GET: status 405")
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #3
func TestSubscriberPropsChannelALL(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/ALL", ""),
		http.StatusForbidden, "Channel id not authorized for this method.")
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #4
func TestSubscriberPropsChannelWithStar(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	for _, id := range []string{"abcd*efgh", "*abcdefgh", "abcdefgh*"} {
		expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+id, ""),
			http.StatusForbidden, "Channel id not authorized for this method.")
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #5
func TestSubscriberPropsMultipleChannels(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	c1, c2, c3, c4 := channelID(t), channelID(t), channelID(t), channelID(t)
	for _, p := range []string{
		c1, c1 + ".b10", c2 + "/" + c3, c2 + ".b2/" + c3, c2 + "/" + c3 + ".b3", c2 + ".b2/" + c3 + ".b3", c4 + ".b",
	} {
		subscribeOK(t, "/sub/"+p)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #6
func TestSubscriberPropsChannelIDTooLong(t *testing.T) {
	t.Parallel()
	load(t, config{Global: map[string]string{"max_channel_id_length": "5"}, Sub: propertiesSub(nil)})
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/123456", ""),
		http.StatusBadRequest, "Channel id is too large.")
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #7
func TestSubscriberPropsOnlyWildcardChannels(t *testing.T) {
	t.Parallel()
	load(t, config{Global: map[string]string{"wildcard_channel_prefix": "bd_"}, Sub: propertiesSub(nil)})
	u := channelID(t)
	for _, p := range []string{"bd_test_" + u, "bd_"} {
		expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+p, ""),
			http.StatusForbidden, "Subscribed too much wildcard channels.")
	}
	for _, p := range []string{"bd1" + u, "bd"} {
		subscribeOK(t, "/sub/"+p)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #8
func TestSubscriberPropsWildcardMaxQtd(t *testing.T) {
	t.Parallel()
	load(t, config{
		Global: map[string]string{"wildcard_channel_prefix": "bd_"},
		Sub:    propertiesSub(map[string]string{"wildcard_channel_max_qtd": "2"}),
	})
	u := channelID(t)
	path := func(ids ...string) string {
		for i := range ids {
			ids[i] += u
		}
		return "/sub/" + strings.Join(ids, "/")
	}
	p := path("bd1", "bd2", "bd3", "bd4", "bd_1", "bd_2", "bd_3")
	expectHeaderOnly(t, do(t, http.MethodGet, p, ""), http.StatusForbidden, "Subscribed too much wildcard channels.")
	for _, p := range []string{path("bd1", "bd2", "bd_1", "bd_2"), path("bd1", "bd_1"), path("bd1", "bd2")} {
		subscribeOK(t, p)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #9
func TestSubscriberPropsAuthorizedUnknownChannel(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(map[string]string{"authorized_channels_only": "on"})})
	id := channelID(t)
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+id, ""),
		http.StatusForbidden, "Subscriber could not create channels.")
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #10
func TestSubscriberPropsAuthorizedExistingChannel(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(map[string]string{"authorized_channels_only": "on"})})
	id := channelID(t)
	publish(t, id, "body")
	subscribeOK(t, "/sub/"+id)
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #11
func TestSubscriberPropsAuthorizedWithMissingWildcard(t *testing.T) {
	t.Parallel()
	load(t, config{
		Global: map[string]string{"wildcard_channel_prefix": "bd_"},
		Sub:    propertiesSub(map[string]string{"authorized_channels_only": "on", "wildcard_channel_max_qtd": "1"}),
	})
	id := channelID(t)
	publish(t, id, "body")
	subscribeOK(t, "/sub/"+id+"/bd_"+id)
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #12 and #13
func TestSubscriberPropsAuthorizedExpiredMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		wildcard bool
	}{{"alone", false}, {"with wildcard", true}} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, config{
				Global: map[string]string{"message_ttl": "1s", "wildcard_channel_prefix": "bd_"},
				Sub:    propertiesSub(map[string]string{"authorized_channels_only": "on", "wildcard_channel_max_qtd": "1"}),
			})
			id := channelID(t)
			publish(t, id, "body")
			// The message expires after 1 s and a sweep removes it.
			waitFor(t, "the message of "+id+" to be swept", func() bool { return noStoredMessage(t, id) })
			p := "/sub/" + id
			if tc.wildcard {
				p += "/bd_" + id
			}
			expectHeaderOnly(t, do(t, http.MethodGet, p, ""), http.StatusForbidden, "Subscriber could not create channels.")
		})
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #14
func TestSubscriberPropsNewMessagesOnSixChannels(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(map[string]string{
		"header_template":  "",
		"message_template": `"{\"channel\":\"~channel~\", \"id\":\"~id~\", \"message\":\"~text~\"}|"`,
	})})
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = channelID(t)
	}
	c, _ := subscribeOK(t, "/sub/"+strings.Join(ids, "/"))
	for _, id := range ids {
		waitSubscribers(t, id, 1)
	}
	for _, id := range ids {
		publish(t, id, "body"+id)
	}
	var items []map[string]string
	buf := ""
	for len(items) < len(ids) {
		buf += c.mustChunk()
		parts := strings.Split(buf, "|")
		buf = parts[len(parts)-1]
		for _, p := range parts[:len(parts)-1] {
			var item map[string]string
			if err := json.Unmarshal([]byte(p), &item); err != nil {
				t.Fatalf("item %q: %v", p, err)
			}
			if item["id"] == "-1" { // a ping
				continue
			}
			items = append(items, item)
		}
	}
	for i, id := range ids {
		want := map[string]string{"channel": id, "id": "1", "message": "body" + id}
		if fmt.Sprint(items[i]) != fmt.Sprint(want) {
			t.Errorf("item %d: %v, want %v", i, items[i], want)
		}
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #15
func TestSubscriberPropsMaxNumberOfChannels(t *testing.T) {
	t.Parallel()
	load(t, config{
		Global:  map[string]string{"max_number_of_channels": "1", "max_channel_id_length": ""},
		Sub:     propertiesSub(nil),
		PubMode: "admin",
	})
	purgeChannels(t)
	id := channelID(t)
	subscribeOK(t, "/sub/"+id+"1")
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+id+"2", ""),
		http.StatusForbidden, "Number of channels were exceeded.")
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #16
func TestSubscriberPropsMaxNumberOfWildcardChannels(t *testing.T) {
	t.Parallel()
	load(t, config{
		Global: map[string]string{
			"max_number_of_wildcard_channels": "1",
			"wildcard_channel_prefix":         "bd_",
			"max_channel_id_length":           "",
		},
		Sub:     propertiesSub(map[string]string{"wildcard_channel_max_qtd": "1"}),
		PubMode: "admin",
	})
	purgeChannels(t)
	id := channelID(t)
	subscribeOK(t, "/sub/"+id+"/bd_"+id+"1")
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+id+"/bd_"+id+"2", ""),
		http.StatusForbidden, "Number of channels were exceeded.")
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #17
func TestSubscriberPropsTemplatesPerHandler(t *testing.T) {
	t.Parallel()
	load(t, config{
		Sub: propertiesSub(map[string]string{
			"message_template": `"{\"text\":\"~text~\"}"`,
			"header_template":  "",
		}),
		Site: subscriberSite("sub2", `^/sub2/(.*)$`, "", map[string]string{
			"message_template": `"{\"msg\":\"~text~\"}"`,
		}),
	})
	id := channelID(t)
	s1, _ := subscribeOK(t, "/sub/"+id)
	s2, _ := subscribeOK(t, "/sub2/"+id+".b1")
	waitSubscribers(t, id, 2)
	publish(t, id, "body")
	if got := s1.mustChunk(); got != `{"text":"body"}` {
		t.Errorf("/sub/: %q", got)
	}
	if got := s2.mustChunk(); got != `{"msg":"body"}` {
		t.Errorf("/sub2/: %q", got)
	}
	if got := firstChunk(t, "/sub/"+id+".b1"); got != `{"text":"body"}` {
		t.Errorf("/sub/ .b1: %q", got)
	}
	if got := firstChunk(t, "/sub2/"+id+".b1"); got != `{"msg":"body"}` {
		t.Errorf("/sub2/ .b1: %q", got)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #18
func TestSubscriberPropsDefaultMessageTemplate(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(map[string]string{"message_template": "", "header_template": ""})})
	id := channelID(t)
	c := subscribeCounted(t, "/sub/"+id, id, 1)
	publish(t, id, "body")
	if got := c.mustChunk(); got != "body" {
		t.Errorf("chunk %q, want %q", got, "body")
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #19, #20, #21, #22
func TestSubscriberPropsPingMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, template, pingText, want string
	}{
		{"#19 default ping, default template", "", "", " "},
		{"#20 custom ping, default template", "", `"pinging you!!!"`, "pinging you!!!"},
		{"#21 default ping, custom template", `"~id~:~text~"`, "", "-1: "},
		{"#22 custom ping, custom template", `"~id~:~text~"`, `"pinging you!!!"`, "-1:pinging you!!!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, config{
				Global: map[string]string{"ping_message_text": tc.pingText},
				Sub: propertiesSub(map[string]string{
					"subscriber_connection_ttl": "",
					"message_template":          tc.template,
					"header_template":           "",
					"ping_message_interval":     "1s",
				}),
			})
			if got := firstChunk(t, "/sub/"+channelID(t)); got != tc.want {
				t.Errorf("ping chunk %q, want %q", got, tc.want)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #23
func TestSubscriberPropsTransferEncodingChunked(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	_, head := subscribeOK(t, "/sub/"+channelID(t))
	if got := head.Header("Transfer-Encoding"); got != "chunked" {
		t.Errorf("Transfer-Encoding %q, want chunked", got)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #24
func TestSubscriberPropsMaxSubscribersPerChannel(t *testing.T) {
	t.Parallel()
	load(t, config{
		Global: map[string]string{"max_subscribers_per_channel": "3"},
		Sub:    propertiesSub(map[string]string{"subscriber_connection_ttl": "3s"}),
	})
	id := channelID(t)
	for range 3 {
		subscribeOK(t, "/sub/"+id)
	}
	waitSubscribers(t, id, 3)
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+id, ""),
		http.StatusForbidden, "Subscribers limit per channel has been exceeded.")
	subscribeOK(t, "/sub/"+channelID(t))
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #25
func TestSubscriberPropsChannelWithDotB(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(map[string]string{
		"ping_message_interval": "",
		"header_template":       "",
		"footer_template":       "",
		"message_template":      "",
	})})
	id := channelID(t) + "_room.b18.beautiful"
	for i := 1; i <= 4; i++ {
		publish(t, id, fmt.Sprintf("msg %d", i), "Accept", "text/html")
	}
	// The subscriber ends at its 1 s TTL.
	if res := do(t, http.MethodGet, "/sub/"+id+".b3", ""); res.body != "msg 2msg 3msg 4" {
		t.Errorf("backtrack 3: body %q, want %q", res.body, "msg 2msg 3msg 4")
	}
	c := subscribeCounted(t, "/sub/"+id, id, 1)
	publish(t, id, "msg 5", "Accept", "text/html")
	if got := c.rest(); got != "msg 5" {
		t.Errorf("live: body %q, want %q", got, "msg 5")
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #26, #27, #28
func TestSubscriberPropsCORS(t *testing.T) {
	t.Parallel()
	t.Run("#26 none by default", func(t *testing.T) {
		load(t, config{Sub: propertiesSub(nil)})
		_, head := subscribeOK(t, "/sub/"+channelID(t))
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			if head.HasHeader(h) {
				t.Errorf("unexpected %s: %q", h, head.Header(h))
			}
		}
	})
	for _, tc := range []struct{ name, setting, query, origin string }{
		{"#27 fixed origin", "custom.domain.com", "", "custom.domain.com"},
		{"#28 placeholder origin", "{query.domain}", "?domain=test.com", "test.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, config{Sub: propertiesSub(map[string]string{"allowed_origins": tc.setting})})
			_, head := subscribeOK(t, "/sub/"+channelID(t)+tc.query)
			expectCORS(t, head.httpHeader(), tc.origin, "GET")
		})
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #29
func TestSubscriberPropsHeaderTemplate(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	if got := firstChunk(t, "/sub/"+channelID(t)); got != propertiesHeader {
		t.Errorf("first chunk %q, want %q", got, propertiesHeader)
	}
}

// writeHeaderFile writes the header_template_file of properties_spec.rb.
func writeHeaderFile(t *testing.T) (path, content string) {
	t.Helper()
	content = "Header\nTemplate\ninside a file"
	path = filepath.Join(t.TempDir(), "header_template.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #30
func TestSubscriberPropsHeaderTemplateFile(t *testing.T) {
	t.Parallel()
	path, content := writeHeaderFile(t)
	load(t, config{Sub: propertiesSub(map[string]string{"header_template": "", "header_template_file": strconv.Quote(path)})})
	if got := firstChunk(t, "/sub/"+channelID(t)); got != content {
		t.Errorf("first chunk %q, want %q", got, content)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #31, #32, #35 (configuration
// errors: the admin API refuses the Caddyfile).
func TestSubscriberPropsHeaderTemplateConfigErrors(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)}) // the admin API must be up
	path, _ := writeHeaderFile(t)
	const duplicate = "header_template_file is duplicate or template set by header_template"

	t.Run("#31 inline then file", func(t *testing.T) {
		cf := config{Sub: propertiesSub(map[string]string{"header_template_file": strconv.Quote(path)})}.Caddyfile()
		if strings.Index(cf, "header_template ") > strings.Index(cf, "header_template_file ") {
			t.Fatalf("rendered order is not inline then file:\n%s", cf)
		}
		expectLoadFails(t, cf, duplicate)
	})
	t.Run("#32 file then inline", func(t *testing.T) {
		fileLine := "\t\theader_template_file " + strconv.Quote(path) + "\n"
		cf := config{Sub: propertiesSub(map[string]string{"header_template": "", "header_template_file": strconv.Quote(path)})}.Caddyfile()
		if !strings.Contains(cf, fileLine) {
			t.Fatalf("file line missing from:\n%s", cf)
		}
		cf = strings.Replace(cf, fileLine, fileLine+"\t\theader_template \"inline header template\"\n", 1)
		expectLoadFails(t, cf, duplicate)
	})
	t.Run("#35 missing file", func(t *testing.T) {
		cf := config{Sub: propertiesSub(map[string]string{"header_template": "", "header_template_file": "/unexistent/path"})}.Caddyfile()
		expectLoadFails(t, cf, `unable to open file "/unexistent/path" for header template`)
	})
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #33 and #34
func TestSubscriberPropsHeaderTemplateFileAndInlinePerHandler(t *testing.T) {
	t.Parallel()
	path, content := writeHeaderFile(t)
	file := map[string]string{"header_template": "", "header_template_file": strconv.Quote(path)}
	inline := map[string]string{"header_template": `"inline header template"`}
	for _, tc := range []struct {
		name              string
		sub, sub2         map[string]string
		wantSub, wantSub2 string
	}{
		{"#33 file on /sub/, inline on /sub2/", file, inline, content, "inline header template"},
		{"#34 inline on /sub/, file on /sub2/", inline, file, "inline header template", content},
	} {
		t.Run(tc.name, func(t *testing.T) {
			load(t, config{Sub: propertiesSub(tc.sub), Site: subscriberSite("sub2", `^/sub2/(.*)$`, "", tc.sub2)})
			id := channelID(t)
			if got := firstChunk(t, "/sub/"+id); got != tc.wantSub {
				t.Errorf("/sub/: first chunk %q, want %q", got, tc.wantSub)
			}
			if got := firstChunk(t, "/sub2/"+id); got != tc.wantSub2 {
				t.Errorf("/sub2/: first chunk %q, want %q", got, tc.wantSub2)
			}
		})
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #36
func TestSubscriberPropsContentType(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	_, head := subscribeOK(t, "/sub/"+channelID(t))
	if got := head.Header("Content-Type"); got != "custom content type" {
		t.Errorf("Content-Type %q, want %q", got, "custom content type")
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #37
func TestSubscriberPropsPingInterval(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(map[string]string{"subscriber_connection_ttl": ""})})
	c, _ := subscribeOK(t, "/sub/"+channelID(t))
	ping := "<script>p(-1,'',' ');</script>"
	var at [4]time.Time
	for i := range at {
		got := c.mustChunk()
		at[i] = time.Now()
		want := ping
		if i == 0 {
			want = propertiesHeader
		}
		if got != want {
			t.Fatalf("chunk %d: %q, want %q", i+1, got, want)
		}
	}
	g12, g34 := at[1].Sub(at[0]).Seconds(), at[3].Sub(at[2]).Seconds()
	// Upstream: both gaps round to the same number of seconds; allow for
	// a noisy machine.
	if math.Round(g12) != math.Round(g34) && math.Abs(g12-g34) > 0.75 {
		t.Errorf("gap 1-2 %.2fs, gap 3-4 %.2fs: not the same interval", g12, g34)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #38
func TestSubscriberPropsAntiCacheHeaders(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: propertiesSub(nil)})
	_, head := subscribeOK(t, "/sub/"+channelID(t))
	expectAntiCache(t, head.httpHeader())
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #39 (nginx `if` choosing the
// channels path: two handler blocks chosen by a query matcher).
func TestSubscriberPropsChannelsPathByMatcher(t *testing.T) {
	t.Parallel()
	settings := block(nil, propertiesSub(map[string]string{
		"header_template":           "",
		"footer_template":           "",
		"subscriber_connection_ttl": "1s",
		"message_template":          `"<script>p(~id~,'~channel~','~text~');</script>"`,
	}), "\t\t")
	site := fmt.Sprintf(`	@sub2test {
		path /sub2
		query test=*
	}
	push_stream_subscriber @sub2test {
		channels_path test_{query.id}
%[1]s	}
	@sub2plain {
		path /sub2
		not query test=*
	}
	push_stream_subscriber @sub2plain {
		channels_path {query.id}
%[1]s	}
`, settings)
	load(t, config{Sub: propertiesSub(nil), Site: site})
	id := channelID(t)
	plain, _ := subscribeOK(t, "/sub2?id="+id)
	test, _ := subscribeOK(t, "/sub2?id="+id+"&test=1")
	waitSubscribers(t, id, 1)
	waitSubscribers(t, "test_"+id, 1)
	publish(t, id, "published message")
	publish(t, "test_"+id, "published message")
	if got, want := plain.rest(), "<script>p(1,'"+id+"','published message');</script>"; got != want {
		t.Errorf("without test: body %q, want %q", got, want)
	}
	if got, want := test.rest(), "<script>p(1,'test_"+id+"','published message');</script>"; got != want {
		t.Errorf("with test: body %q, want %q", got, want)
	}
}

// docs/SCENARIOS.md subscriber/properties_spec.rb #40
func TestSubscriberPropsGzip(t *testing.T) {
	t.Parallel()
	load(t, config{
		Sub:  propertiesSub(map[string]string{"content_type": "text/html"}),
		Site: gzipSite,
	})
	id := channelID(t)
	res := openGzipped(t, "/sub/"+id, "gzip, compressed")
	waitSubscribers(t, id, 1)
	publish(t, id, "body")
	gz, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(gz)
	if err != nil {
		t.Fatalf("gunzip: %v (read %q)", err, got)
	}
	want := propertiesHeader + "<script>p(1,'" + id + "','body');</script></body></html>"
	if string(got) != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

// docs/PROTOCOL.md §10 (`encode` in front: streaming responses flushed per
// write): a subscriber behind encode gzip receives each message as it is
// published.
func TestSubscriberGzipStreamFlushedPerWrite(t *testing.T) {
	t.Parallel()
	load(t, config{
		Sub: map[string]string{
			"header_template":       `"HEADER\r\nTEMPLATE\r\n1234\r\n"`,
			"message_template":      `"~text~"`,
			"footer_template":       "",
			"ping_message_interval": "",
		},
		Site: gzipSite,
	})
	id := channelID(t)
	res := openGzipped(t, "/sub/"+id, "gzip")
	gz, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	read := func(want string) {
		t.Helper()
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(gz, buf); err != nil {
			t.Fatalf("reading %q: %v (got %q)", want, err, buf)
		}
		if string(buf) != want {
			t.Fatalf("read %q, want %q", buf, want)
		}
	}
	read(propertiesHeader)
	waitSubscribers(t, id, 1)
	// Each message must be readable before the next one is published.
	for _, msg := range []string{"first message", "second message", "third message"} {
		publish(t, id, msg)
		read(msg)
	}
}

// ---------------------------------------------------------------------------
// misc/spec/subscriber/comunication_properties_spec.rb

// docs/SCENARIOS.md subscriber/comunication_properties_spec.rb #1
func TestSubscriberCommUnknownChannel(t *testing.T) {
	t.Parallel()
	load(t, config{Global: communicationGlobal, Sub: communicationSub(nil)})
	if got := firstChunk(t, "/sub/"+channelID(t)); got != "connected" {
		t.Errorf("first chunk %q, want connected", got)
	}
}

// docs/SCENARIOS.md subscriber/comunication_properties_spec.rb #2
func TestSubscriberCommAuthorizedOnly(t *testing.T) {
	t.Parallel()
	load(t, config{Global: communicationGlobal, Sub: communicationSub(map[string]string{"authorized_channels_only": "on"})})
	id := channelID(t)
	expectHeaderOnly(t, do(t, http.MethodGet, "/sub/"+id, ""),
		http.StatusForbidden, "Subscriber could not create channels.")
	publish(t, id, "body")
	if got := firstChunk(t, "/sub/"+id); got != "connected" {
		t.Errorf("first chunk %q, want connected", got)
	}
}

// docs/SCENARIOS.md subscriber/comunication_properties_spec.rb #3 (about elapsed
// time: message_ttl 12s).
func TestSubscriberCommMessageTTL(t *testing.T) {
	t.Parallel()
	load(t, config{Global: communicationGlobal, Sub: communicationSub(nil)})
	id := channelID(t)
	const body = "message to expire"
	t0 := time.Now()
	publish(t, id, body)
	for _, at := range []time.Duration{2 * time.Second, 6 * time.Second} {
		sleepUntil(t0, at)
		c, _ := subscribeOK(t, "/sub/"+id+".b1")
		if got := c.mustChunk(); got != "connected" {
			t.Fatalf("at %v: first chunk %q, want connected", at, got)
		}
		if got := c.mustChunk(); got != body {
			t.Fatalf("at %v: second chunk %q, want the stored message", at, got)
		}
		c.conn.Close()
	}
	// Wait for the sweep that removes the expired message (upstream looks
	// at 16 s).
	waitFor(t, "the message to expire", func() bool { return noStoredMessage(t, id) })
	if elapsed := time.Since(t0); elapsed < 11*time.Second {
		t.Errorf("message removed after %v, before its 12 s TTL", elapsed)
	}
	c, _ := subscribeOK(t, "/sub/"+id+".b1")
	if got := c.mustChunk(); got != "connected" {
		t.Fatalf("after expiry: first chunk %q, want connected", got)
	}
	if got := c.mustChunk(); got != " " {
		t.Errorf("after expiry: second chunk %q, want only the ping %q", got, " ")
	}
}

// readItems reads chunks until the body, split on "|", has n parts.
func readItems(c *rawConn, n int) []string {
	c.t.Helper()
	body := c.chunksUntil(func(body string) bool { return strings.Count(body, "|")+1 >= n })
	return strings.Split(body, "|")
}

// docs/SCENARIOS.md subscriber/comunication_properties_spec.rb #4
func TestSubscriberCommDuplicatedToken(t *testing.T) {
	t.Parallel()
	load(t, config{Global: communicationGlobal, Sub: communicationSub(map[string]string{
		"message_template": `"|{\"duplicated\":\"~channel~\", \"channel\":\"~channel~\", \"message\":\"~text~\", \"message_id\":\"~id~\"}"`,
	})})
	id := channelID(t)
	const body = "body"
	publish(t, id, body)
	c, _ := subscribeOK(t, "/sub/"+id+".b1")
	items := readItems(c, 3)
	want := []string{
		"connected",
		`{"duplicated":"` + id + `", "channel":"` + id + `", "message":"` + body + `", "message_id":"1"}`,
		`{"duplicated":"", "channel":"", "message":" ", "message_id":"-1"}`,
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("part %d: %q, want %q", i, items[i], want[i])
		}
	}
}

// docs/SCENARIOS.md subscriber/comunication_properties_spec.rb #5 (and docs/PROTOCOL.md
// §5.4 no re-expansion)
func TestSubscriberCommNoReExpansion(t *testing.T) {
	t.Parallel()
	load(t, config{Global: communicationGlobal, Sub: communicationSub(map[string]string{
		"message_template": `"|{\"channel\":\"~channel~\", \"message\":\"~text~\", \"message_id\":\"~id~\"}"`,
	})})
	const pattern = "~channel~~channel~~channel~~text~~text~~text~"
	id := channelID(t) + "_with_same_pattern_of_the_template" + pattern
	publish(t, id, pattern)
	c, _ := subscribeOK(t, "/sub/"+id+".b1")
	items := readItems(c, 3)
	want := []string{
		"connected",
		`{"channel":"` + id + `", "message":"` + pattern + `", "message_id":"1"}`,
		`{"channel":"", "message":" ", "message_id":"-1"}`,
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("part %d: %q, want %q", i, items[i], want[i])
		}
	}
}

// ---------------------------------------------------------------------------
// misc/spec/subscriber/connection_cleanup_spec.rb (about elapsed time)

// connectionCleanupSub returns the connection_cleanup_spec.rb subscriber
// settings (ttl 17s, header HEADER_TEMPLATE, footer FOOTER_TEMPLATE, ping
// 3s) with changes applied.
func connectionCleanupSub(changes map[string]string) map[string]string {
	return mergeSettings(map[string]string{
		"subscriber_connection_ttl": "17s",
		"header_template":           "HEADER_TEMPLATE",
		"footer_template":           "FOOTER_TEMPLATE",
		"ping_message_interval":     "3s",
	}, changes)
}

// expectLifetime checks that a body ended between want and want plus
// a generous tolerance after start.
func expectLifetime(t *testing.T, what string, start, ended time.Time, want time.Duration) {
	t.Helper()
	if d := ended.Sub(start); d < want-100*time.Millisecond || d > want+2500*time.Millisecond {
		t.Errorf("%s: ended after %v, want %v (upstream tolerance 0.5 s)", what, d, want)
	}
}

// docs/SCENARIOS.md subscriber/connection_cleanup_spec.rb #1 and #2 (run side by
// side on two handlers to halve the wait).
func TestSubscriberCleanupTTL(t *testing.T) {
	t.Parallel()
	load(t, config{
		Sub: connectionCleanupSub(map[string]string{"ping_message_interval": ""}),
		Site: subscriberSite("sub2", `^/sub2/(.*)$`, "", connectionCleanupSub(map[string]string{
			"header_template":  "",
			"footer_template":  "",
			"message_template": `"<script>p(~id~,'~channel~','~text~');</script>"`,
		})),
	})
	start1 := time.Now()
	c1, _ := subscribeOK(t, "/sub/"+channelID(t))
	start2 := time.Now()
	c2, _ := subscribeOK(t, "/sub2/"+channelID(t))
	done1, done2 := readRestAsync(c1), readRestAsync(c2)

	b1 := <-done1
	if b1.err != nil {
		t.Fatalf("#1: %v", b1.err)
	}
	expectLifetime(t, "#1 ping off", start1, b1.ended, 17*time.Second)
	if got := b1.String(); got != "HEADER_TEMPLATEFOOTER_TEMPLATE" {
		t.Errorf("#1: body %q, want header and footer", got)
	}

	b2 := <-done2
	if b2.err != nil {
		t.Fatalf("#2: %v", b2.err)
	}
	expectLifetime(t, "#2 pings", start2, b2.ended, 17*time.Second)
	if len(b2.chunks) != 5 {
		t.Errorf("#2: %d chunks %q, want 5 pings (at 3, 6, 9, 12, 15 s)", len(b2.chunks), b2.chunks)
	}
	for i, ch := range b2.chunks {
		if ch != "<script>p(-1,'',' ');</script>" {
			t.Errorf("#2: chunk %d %q is not a ping", i, ch)
		}
	}
}

// docs/SCENARIOS.md subscriber/connection_cleanup_spec.rb #3
func TestSubscriberCleanupTTLPerSubscriber(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: connectionCleanupSub(map[string]string{
		"subscriber_connection_ttl": "5s",
		"ping_message_interval":     "",
	})})
	type sub struct {
		name  string
		start time.Time
		done  <-chan streamBody
	}
	open := func(name string) sub {
		start := time.Now()
		c, _ := subscribeOK(t, "/sub/"+channelID(t))
		return sub{name, start, readRestAsync(c)}
	}
	t0 := time.Now()
	subs := []sub{open("at 0 s")}
	sleepUntil(t0, 2*time.Second)
	second := open("at 2 s")
	subs = append(subs, second)
	b2 := <-second.done
	subs = append(subs, open("when the second ended"))
	sleepUntil(t0, 8*time.Second)
	subs = append(subs, open("at 8 s"))
	for _, s := range subs {
		b := b2
		if s.name != second.name {
			b = <-s.done
		}
		if b.err != nil {
			t.Errorf("%s: %v", s.name, b.err)
			continue
		}
		expectLifetime(t, s.name, s.start, b.ended, 5*time.Second)
		if got := b.String(); got != "HEADER_TEMPLATEFOOTER_TEMPLATE" {
			t.Errorf("%s: body %q, want header and footer", s.name, got)
		}
	}
}

// ---------------------------------------------------------------------------
// misc/spec/mix/wildcard_properties_spec.rb

// wildcardConfig is the mix/wildcard_properties_spec.rb baseline
// (wildcard prefix XXX_, authorized channels only, header "connected")
// with changes applied to the subscriber.
func wildcardConfig(changes map[string]string) config {
	sub := mergeSettings(map[string]string{"authorized_channels_only": "on", "header_template": `"connected"`}, changes)
	return config{Global: map[string]string{"wildcard_channel_prefix": "XXX_"}, Sub: sub}
}

// docs/SCENARIOS.md mix/wildcard_properties_spec.rb #1
func TestSubscriberWildcardAuthorizedOnly(t *testing.T) {
	t.Parallel()
	load(t, wildcardConfig(nil))
	id := channelID(t)
	publish(t, id, "body")
	p := "/sub/" + id + "/YYY_" + id
	expectHeaderOnly(t, do(t, http.MethodGet, p, ""), http.StatusForbidden, "Subscriber could not create channels.")
	if got := firstChunk(t, "/sub/"+id+"/XXX_"+id); got != "connected" {
		t.Errorf("with a wildcard channel: first chunk %q, want connected", got)
	}
}

// docs/SCENARIOS.md mix/wildcard_properties_spec.rb #2
func TestSubscriberWildcardMaxQtd(t *testing.T) {
	t.Parallel()
	load(t, wildcardConfig(map[string]string{"wildcard_channel_max_qtd": "2"}))
	id := channelID(t)
	publish(t, id, "body")
	p := "/sub/" + id + "/XXX_123" + id + "/XXX_321" + id + "/XXX_213" + id
	expectHeaderOnly(t, do(t, http.MethodGet, p, ""), http.StatusForbidden, "Subscribed too much wildcard channels.")
	if got := firstChunk(t, "/sub/"+id+"/XXX_123"+id+"/XXX_321"+id); got != "connected" {
		t.Errorf("two wildcard channels: first chunk %q, want connected", got)
	}
}

// ---------------------------------------------------------------------------
// docs/PROTOCOL.md

// verifiedTemplate is the template of the verified examples of
// docs/PROTOCOL.md §4.5 and §6.1.
const verifiedTemplate = `"[~id~|~channel~|~text~|~tag~|~time~|~size~|~event-id~|~event-type~|~TEXT~]"`

// docs/PROTOCOL.md §4.5: DELETE on a streaming subscriber of two channels (the
// verified `H[-2|sd1|bye|...]...F` example).
func TestSubscriberDeleteStreamingVerified(t *testing.T) {
	t.Parallel()
	load(t, config{
		PubMode: "admin",
		Sub: map[string]string{
			"header_template":       `"H"`,
			"footer_template":       `"F"`,
			"message_template":      verifiedTemplate,
			"ping_message_interval": "",
		},
	})
	sd1, sd2 := channelID(t)+"_sd1", channelID(t)+"_sd2"
	c, _ := subscribeOK(t, "/sub/"+sd1+"/"+sd2)
	var body strings.Builder
	if got := c.mustChunk(); got != "H" {
		t.Fatalf("header chunk %q", got)
	}
	body.WriteString("H")
	waitSubscribers(t, sd1, 1)
	waitSubscribers(t, sd2, 1)

	del := func(id, text string) {
		t.Helper()
		res := do(t, http.MethodDelete, "/pub?id="+id, text)
		if res.StatusCode != http.StatusOK || res.body != "" || res.Header.Get("X-Nginx-PushStream-Explain") != "Channel deleted." {
			t.Fatalf("DELETE %s: status %d, body %q, explain %q", id, res.StatusCode, res.body, res.Header.Get("X-Nginx-PushStream-Explain"))
		}
	}
	del(sd1, "bye")
	first := "[-2|" + sd1 + "|bye|0|Thu, 01 Jan 1970 00:00:00 GMT|3|||bye]"
	if got := c.mustChunk(); got != first {
		t.Fatalf("after DELETE %s: chunk %q, want %q", sd1, got, first)
	}
	body.WriteString(first)
	// Still subscribed to sd2.
	waitSubscribers(t, sd2, 1)
	del(sd2, "")
	body.WriteString(c.rest())
	want := "H[-2|" + sd1 + "|bye|0|Thu, 01 Jan 1970 00:00:00 GMT|3|||bye]" +
		"[-2|" + sd2 + "|Channel deleted|0|Thu, 01 Jan 1970 00:00:00 GMT|15|||Channel deleted]F"
	if body.String() != want {
		t.Errorf("body\n%q\nwant\n%q", body.String(), want)
	}
}

// docs/PROTOCOL.md §5.4 (and the verified example of §6.1): every template
// token, `~TEXT~` matched case-insensitively, `~size~`, `~time~` as a
// 29-byte HTTP date, `~tag~`, and no re-expansion of inserted values.
func TestSubscriberTemplateTokens(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: map[string]string{
		"header_template":       `"H"`,
		"footer_template":       `"F"`,
		"message_template":      verifiedTemplate,
		"ping_message_interval": "",
	}})
	id := channelID(t)
	c, _ := subscribeOK(t, "/sub/"+id)
	if got := c.mustChunk(); got != "H" {
		t.Fatalf("header chunk %q", got)
	}
	waitSubscribers(t, id, 1)

	before := time.Now().Truncate(time.Second)
	publish(t, id, "hi there", "Event-Id", "e1", "Event-Type", "ty")
	publish(t, id, "x", "Event-Id", "")
	publish(t, id, "~id~~TEXT~~channel~|~time~")
	after := time.Now()

	q := regexp.QuoteMeta
	type msg struct {
		tag  int
		time time.Time
	}
	check := func(n int, text, eventID, eventType string) msg {
		t.Helper()
		got := c.mustChunk()
		pattern := `^\[` + strconv.Itoa(n) + `\|` + q(id) + `\|` + q(text) + `\|(\d+)\|(.{29})\|` + strconv.Itoa(len(text)) + `\|` +
			q(eventID) + `\|` + q(eventType) + `\|` + q(text) + `\]$`
		m := regexp.MustCompile(pattern).FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("message %d: chunk %q does not match %q", n, got, pattern)
		}
		tag, _ := strconv.Atoi(m[1])
		tm, err := time.Parse(http.TimeFormat, m[2])
		if err != nil || tm.Format(http.TimeFormat) != m[2] {
			t.Fatalf("message %d: ~time~ %q is not an RFC 1123 GMT date: %v", n, m[2], err)
		}
		if tm.Before(before) || tm.After(after) {
			t.Errorf("message %d: ~time~ %v outside [%v, %v]", n, tm, before, after)
		}
		return msg{tag, tm}
	}
	m1 := check(1, "hi there", "e1", "ty")
	m2 := check(2, "x", "", "")
	m3 := check(3, "~id~~TEXT~~channel~|~time~", "", "")
	for i, pair := range [][2]msg{{m1, m2}, {m2, m3}} {
		prev, next := pair[0], pair[1]
		want := 1
		if next.time.Equal(prev.time) {
			want = prev.tag + 1
		}
		if next.tag != want {
			t.Errorf("message %d: ~tag~ %d after tag %d (times %v, %v), want %d", i+2, next.tag, prev.tag, prev.time, next.time, want)
		}
	}
}

// docs/PROTOCOL.md §5.9: a streaming subscriber is finalised with the footer
// its TTL after registration; traffic does not reset the TTL.
func TestSubscriberTTLFooter(t *testing.T) {
	t.Parallel()
	load(t, config{Sub: map[string]string{
		"header_template":           `"H"`,
		"footer_template":           `"F"`,
		"message_template":          `"~text~"`,
		"ping_message_interval":     "",
		"subscriber_connection_ttl": "3s",
	}})
	id := channelID(t)
	start := time.Now()
	c, _ := subscribeOK(t, "/sub/"+id)
	if got := c.mustChunk(); got != "H" {
		t.Fatalf("header chunk %q", got)
	}
	waitSubscribers(t, id, 1)
	// Traffic shortly before the TTL (the scenario is about elapsed time).
	sleepUntil(start, 2*time.Second)
	publish(t, id, "traffic")
	if got := c.mustChunk(); got != "traffic" {
		t.Fatalf("message chunk %q", got)
	}
	if got := c.rest(); got != "F" {
		t.Errorf("end of body %q, want the footer F", got)
	}
	// A TTL reset by the message would end the body at 5 s or later.
	if d := time.Since(start); d < 3*time.Second-100*time.Millisecond || d >= 4500*time.Millisecond {
		t.Errorf("body ended after %v, want 3 s after registration", d)
	}
	waitSubscribers(t, id, 0)
}
