package scenarios_test

import (
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/caddy-pushstream/caddy-pushstream/caddyfile"
)

// waitLimit bounds every wait for an event, so a broken server fails a
// test instead of hanging it. It is never the thing a test waits for.
const waitLimit = 20 * time.Second

// config describes one test's Caddyfile as changes to the docs/SCENARIOS.md
// baseline. Setting values are written verbatim; an empty value removes
// the baseline line.
type config struct {
	Global  map[string]string
	Sub     map[string]string
	SubMode string
	Pub     map[string]string
	PubMode string
	// Site is added to the site block before the baseline handlers.
	Site string
	// Options is added to the global options block.
	Options string
	// Timing shortens the store's sweep interval and trash delay.
	Timing timing
}

var (
	baselineGlobal = map[string]string{
		"shared_memory_size":              "10m",
		"message_ttl":                     "50m",
		"max_channel_id_length":           "200",
		"max_messages_stored_per_channel": "20",
		"wildcard_channel_prefix":         "broad_",
	}
	baselinePub = map[string]string{
		"channels_path":           "{query.id}",
		"store_messages":          "on",
		"channel_info_on_publish": "on",
		"max_body_size":           "32k",
	}
	baselineSub = map[string]string{
		"channels_path":            "{re.sub.1}",
		"content_type":             "text/html",
		"ping_message_interval":    "10s",
		"header_template":          `"` + baselineHeader + `"`,
		"message_template":         `"<script>p(~id~,'~channel~','~text~');</script>"`,
		"footer_template":          `"</body></html>"`,
		"wildcard_channel_max_qtd": "3",
		"authorized_channels_only": "off",
		"timeout_with_body":        "off",
	}
)

// baselineHeader is the forever-iframe header template of the baseline,
// with nginx escapes as they appear in the Caddyfile.
const baselineHeader = `<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n<meta http-equiv=\"Cache-Control\" content=\"no-store\">\r\n<meta http-equiv=\"Cache-Control\" content=\"no-cache\">\r\n<meta http-equiv=\"Expires\" content=\"Thu, 1 Jan 1970 00:00:00 GMT\">\r\n<script type=\"text/javascript\">\r\nwindow.onError = null;\r\ndocument.domain = 'localhost';\r\nparent.PushStream.register(this);\r\n</script>\r\n</head>\r\n<body onload=\"try { parent.PushStream.reset(this) } catch (e) {}\">`

// mergeSettings merges settings maps; a later map wins over an earlier
// one for the same setting.
func mergeSettings(maps ...map[string]string) map[string]string {
	merged := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = v
		}
	}
	return merged
}

// block renders base with changes applied as the setting lines of a
// Caddyfile block, sorted by name, each line prefixed with indent;
// settings whose value is empty are left out.
func block(base, changes map[string]string, indent string) string {
	merged := mergeSettings(base, changes)
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if merged[k] == "" {
			continue
		}
		fmt.Fprintf(&b, "%s%s %s\n", indent, k, merged[k])
	}
	return b.String()
}

// handlerSite renders an extra handler for config.Site: directive, in
// mode unless mode is empty, on the path_regexp matcher name for
// pattern, with settings written as block writes them.
func handlerSite(directive, mode, name, pattern string, settings map[string]string) string {
	if mode != "" {
		mode = " " + mode
	}
	return fmt.Sprintf("\t@%[1]s path_regexp %[1]s %[2]s\n\t%[3]s @%[1]s%[4]s {\n%[5]s\t}\n",
		name, pattern, directive, mode, block(nil, settings, "\t\t"))
}

// subscriberSite renders an extra push_stream_subscriber handler for
// config.Site, in mode ("" streams), matched by the path_regexp name
// whose first group is the channels path, with settings.
func subscriberSite(name, pattern, mode string, settings map[string]string) string {
	channelsPath := map[string]string{"channels_path": "{re." + name + ".1}"}
	return handlerSite("push_stream_subscriber", mode, name, pattern, mergeSettings(channelsPath, settings))
}

// plainSub turns the subscriber's header, message and footer templates
// and its pings off: a subscriber gets each published text as it is.
var plainSub = map[string]string{
	"header_template":       "",
	"message_template":      "",
	"footer_template":       "",
	"ping_message_interval": "",
}

// gzipSite puts Caddy's encode in front of the handlers (the nginx
// `gzip on` of the upstream gzip contexts). minimum_length 1 plays the
// role of nginx's gzip_min_length: Caddy only compresses a response once
// a write exceeds minimum_length (default 512 bytes), which would leave
// short channel infos and streams of short pieces uncompressed.
const gzipSite = `encode {
		gzip
		minimum_length 1
	}
`

// Caddyfile renders the configuration, with the port placeholders of
// loadCaddyfile.
func (c config) Caddyfile() string {
	return fmt.Sprintf(`{
	admin localhost:__ADMIN_PORT__
	http_port __HTTP_PORT__
	https_port __TLS_PORT__
	grace_period 2s
%s
	push_stream {
%s	}
}

:__HTTP_PORT__ {
%s
	@stats path /channels-stats
	push_stream_channels_statistics @stats {
		channels_path {query.id}
	}

	@pub path /pub
	push_stream_publisher @pub %s {
%s	}

	@sub path_regexp sub ^/sub/(.*)$
	push_stream_subscriber @sub %s {
%s	}
}
`, c.Options, block(baselineGlobal, c.Global, "\t\t"),
		c.Site, c.PubMode, block(baselinePub, c.Pub, "\t\t"), c.SubMode, block(baselineSub, c.Sub, "\t\t"))
}

// loadWithTLSSite makes t's Caddy run c plus a second site on the TLS
// port, served with a certificate of Caddy's internal issuer and holding
// the handlers of site. It returns that site's base URL and a client
// that accepts the certificate and negotiates HTTP/2.
func loadWithTLSSite(t *testing.T, c config, site string) (base string, h2 *http.Client) {
	t.Helper()
	c.Options += "\tskip_install_trust\n\tauto_https disable_redirects\n"
	loadCaddyfile(t, c.Caddyfile()+fmt.Sprintf("\nhttps://localhost:__TLS_PORT__ {\n\ttls internal\n%s}\n", site))
	h2 = &http.Client{Transport: &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // G402: the test CA is Caddy's internal one
	}}
	t.Cleanup(h2.CloseIdleConnections)
	return fmt.Sprintf("https://localhost:%d", serverOf(t).tlsPort), h2
}

// load makes t's Caddy run the configuration; the first load of a test
// starts its Caddy, on an empty store.
func load(t testing.TB, c config) {
	t.Helper()
	loadCaddyfileTimed(t, c.Caddyfile(), c.Timing)
}

// loadFresh runs c on a new, empty store and returns an upper bound of the
// moment the store (and its sweep ticker) started.
func loadFresh(t *testing.T, c config) time.Time {
	t.Helper()
	resetStore(t)
	started := time.Now()
	load(t, c)
	sum := stats(t, "")
	if num(t, sum, "published_messages") != 0 || num(t, sum, "channels") != 0 || num(t, sum, "wildcard_channels") != 0 || num(t, sum, "subscribers") != 0 {
		t.Fatalf("store not fresh after reset: %v", sum)
	}
	return started
}

var channelCounter atomic.Int64

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// channelID returns a channel id no other test uses: the store outlives
// configurations inside one test process.
func channelID(t testing.TB) string {
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 120 {
		name = name[len(name)-120:]
	}
	return fmt.Sprintf("ch_%s_%d", name, channelCounter.Add(1))
}

// response is a fully read HTTP response.
type response struct {
	*http.Response
	body string
}

// do sends a request and reads the whole response.
func do(t testing.TB, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	srv := serverOf(t)
	req, err := http.NewRequest(method, srv.baseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header[headers[i]] = append(req.Header[headers[i]], headers[i+1])
	}
	res, err := srv.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{Response: res, body: string(b)}
}

// publish POSTs body to the channels and expects a 200.
func publish(t *testing.T, ids, body string, headers ...string) response {
	t.Helper()
	res := do(t, http.MethodPost, "/pub?id="+ids, body, headers...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("publish to %s: status %d, explain %q", ids, res.StatusCode, explainHeader(res))
	}
	return res
}

// jsonBody decodes a JSON response body.
func jsonBody(t testing.TB, res response) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		t.Fatalf("decoding %q: %v", res.body, err)
	}
	return v
}

// jsonField decodes a JSON object body and returns its string field key
// ("" if missing or not a string).
func jsonField(t testing.TB, body, key string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	s, _ := v[key].(string)
	return s
}

// expectFields checks fields of a decoded message.
func expectFields(t testing.TB, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (message %v)", k, got[k], v, got)
		}
	}
}

// channelInfoJSON is the single-channel JSON form of the publisher and
// the statistics (docs/PROTOCOL.md §7.3).
func channelInfoJSON(id string, published, stored, subscribers int) string {
	return fmt.Sprintf(`{"channel": "%s", "published_messages": %d, "stored_messages": %d, "subscribers": %d}`+"\r\n", id, published, stored, subscribers)
}

// groupHeadRe matches the head of the JSON group form up to its infos
// list; its groups are the channels and wildcard_channels counts.
var groupHeadRe = regexp.MustCompile(`^\{"hostname": "[^"]*", "time": "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "channels": (\d+), "wildcard_channels": (\d+), "uptime": \d+, "infos": \[\r\n`)

// gunzip decompresses a gzip body.
func gunzip(t testing.TB, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("gzip body %q: %v", body, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return string(b)
}

// explainHeader returns the X-Nginx-PushStream-Explain header of an answer.
func explainHeader(res response) string {
	return res.Header.Get("X-Nginx-PushStream-Explain")
}

// expectHeaderOnly checks a header-only answer (docs/PROTOCOL.md §0.3):
// status, empty body, Content-Length 0, no Content-Type and the explain
// text ("" = no explain header at all).
func expectHeaderOnly(t testing.TB, res response, status int, explain string) {
	t.Helper()
	what := "answer"
	if res.Request != nil {
		what = res.Request.Method + " " + res.Request.URL.RequestURI()
	}
	if res.StatusCode != status {
		t.Errorf("%s: status %d, want %d (explain %q)", what, res.StatusCode, status, explainHeader(res))
	}
	if res.body != "" {
		t.Errorf("%s: body %q, want none", what, res.body)
	}
	if cl := res.Header.Get("Content-Length"); cl != "0" {
		t.Errorf("%s: Content-Length %q, want 0", what, cl)
	}
	if ct := res.Header.Get("Content-Type"); ct != "" {
		t.Errorf("%s: Content-Type %q on a header-only answer", what, ct)
	}
	values := res.Header.Values("X-Nginx-PushStream-Explain")
	switch {
	case explain == "" && len(values) != 0:
		t.Errorf("%s: explain header %q, want none", what, values)
	case explain != "" && (len(values) != 1 || values[0] != explain):
		t.Errorf("%s: explain header %q, want %q", what, values, explain)
	}
}

// corsAllowHeaders is the Access-Control-Allow-Headers value of every
// CORS answer (docs/PROTOCOL.md §3.1).
const corsAllowHeaders = "If-Modified-Since,If-None-Match,Etag,Event-Id,Event-Type,Last-Event-Id"

// expectCORS checks the three CORS headers (docs/PROTOCOL.md §3.1), each
// sent once.
func expectCORS(t testing.TB, h http.Header, origin, methods string) {
	t.Helper()
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": methods,
		"Access-Control-Allow-Headers": corsAllowHeaders,
	} {
		if got := h.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// expectAntiCache checks the anti-cache headers (docs/PROTOCOL.md §0.2),
// each sent once.
func expectAntiCache(t testing.TB, h http.Header) {
	t.Helper()
	if got := h.Values("Expires"); len(got) != 1 || got[0] != "Thu, 01 Jan 1970 00:00:01 GMT" {
		t.Errorf("Expires %q", got)
	}
	if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "no-cache, no-store, must-revalidate" {
		t.Errorf("Cache-Control %q", got)
	}
}

// statsAnswer requests the statistics for ids ("" for the summary) as
// JSON and returns the answer whatever its status.
func statsAnswer(t testing.TB, ids string) response {
	t.Helper()
	path := "/channels-stats"
	if ids != "" {
		path += "?id=" + ids
	}
	return do(t, http.MethodGet, path, "", "Accept", "application/json")
}

// stats returns the statistics for ids ("" for the summary) as JSON.
func stats(t testing.TB, ids string) map[string]any {
	t.Helper()
	res := statsAnswer(t, ids)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stats %q: status %d", ids, res.StatusCode)
	}
	return jsonBody(t, res)
}

// num reads a number field of decoded JSON.
func num(t testing.TB, v map[string]any, key string) int {
	t.Helper()
	f, ok := v[key].(float64)
	if !ok {
		t.Fatalf("field %q missing or not a number in %v", key, v)
	}
	return int(f)
}

// waitFor polls cond until it holds. It is for counters the server
// updates on its own schedule (sweeps); the limit only bounds failure.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitForEvery(t, what, 50*time.Millisecond, cond)
}

// waitForEvery is waitFor polling every interval: a short one suits
// conditions met within milliseconds that are checked hundreds of times.
func waitForEvery(t testing.TB, what string, interval time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(interval)
	}
}

// waitSubscribers waits until the channel has n subscriptions.
func waitSubscribers(t *testing.T, id string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d subscribers on %s", n, id), func() bool {
		res := statsAnswer(t, id)
		return res.StatusCode == http.StatusOK && num(t, jsonBody(t, res), "subscribers") == n
	})
}

// expectChannelCounts checks a channel's published, stored and
// subscribers counts in its statistics.
func expectChannelCounts(t *testing.T, id string, published, stored, subscribers int) {
	t.Helper()
	s := stats(t, id)
	if p, st, sb := num(t, s, "published_messages"), num(t, s, "stored_messages"), num(t, s, "subscribers"); p != published || st != stored || sb != subscribers {
		t.Fatalf("stats of %s: published %d stored %d subscribers %d, want %d %d %d", id, p, st, sb, published, stored, subscribers)
	}
}

// waitChannelCounts waits for a channel's published, stored and
// subscribers counts (subscribers leave asynchronously after a close).
func waitChannelCounts(t *testing.T, id string, published, stored, subscribers int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to have published %d stored %d subscribers %d", id, published, stored, subscribers), func() bool {
		s := stats(t, id)
		return num(t, s, "published_messages") == published && num(t, s, "stored_messages") == stored && num(t, s, "subscribers") == subscribers
	})
}

// sleepToNextSecond sleeps until just after the next whole second, so
// that the publishes that follow share one second and the first of them
// gets tag 1 (message time and tag, docs/PROTOCOL.md §1.3). It returns
// that second.
func sleepToNextSecond() int64 {
	next := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(next) + 20*time.Millisecond)
	return next.Unix()
}

// backquoted quotes a Caddyfile token with backticks, so that quotes and
// braces inside templates need no escaping.
func backquoted(s string) string { return "`" + s + "`" }

// abbreviate shortens a long body for a failure message, keeping its
// ends and its length.
func abbreviate(s string) string {
	if len(s) <= 200 {
		return s
	}
	return s[:100] + fmt.Sprintf("...(%d bytes)...", len(s)) + s[len(s)-100:]
}
