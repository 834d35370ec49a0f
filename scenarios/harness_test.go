package scenarios_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
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

func block(base, changes map[string]string, indent string) string {
	merged := map[string]string{}
	for k, v := range base {
		merged[k] = v
	}
	for k, v := range changes {
		merged[k] = v
	}
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
		t.Fatalf("publish to %s: status %d, explain %q", ids, res.StatusCode, res.Header.Get("X-Nginx-PushStream-Explain"))
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

// stats returns the statistics for ids ("" for the summary) as JSON.
func stats(t testing.TB, ids string) map[string]any {
	t.Helper()
	path := "/channels-stats"
	if ids != "" {
		path += "?id=" + ids
	}
	res := do(t, http.MethodGet, path, "", "Accept", "application/json")
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
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawConn is a raw HTTP/1.x connection for byte-exact checks of status
// lines, header spellings and chunk boundaries.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// rawResponse is a response head read from a rawConn.
type rawResponse struct {
	StatusLine string
	Status     int
	// Head is the header block exactly as sent, lines joined with CRLF.
	Head    string
	Headers map[string][]string
}

// Header returns the first value of a header, matched case-insensitively.
func (r *rawResponse) Header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// HasHeader tells whether a header is present, matched case-insensitively.
func (r *rawResponse) HasHeader(name string) bool {
	for k := range r.Headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func dialRaw(t *testing.T) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", serverOf(t).httpPort))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit * 3))
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes a request: method, path, extra header lines and a body.
func (c *rawConn) send(method, path, body string, headers ...string) {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: localhost\r\n", method, path)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" || method == http.MethodPost || method == http.MethodPut {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	c.write(b.String())
}

func (c *rawConn) write(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("writing request: %v", err)
	}
}

// head reads a response status line and header block.
func (c *rawConn) head() *rawResponse {
	c.t.Helper()
	res := &rawResponse{Headers: map[string][]string{}}
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading status line: %v", err)
	}
	res.StatusLine = strings.TrimRight(line, "\r\n")
	parts := strings.SplitN(res.StatusLine, " ", 3)
	if len(parts) < 2 {
		c.t.Fatalf("bad status line %q", res.StatusLine)
	}
	res.Status, _ = strconv.Atoi(parts[1])
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading headers: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		lines = append(lines, line)
		name, value, _ := strings.Cut(line, ": ")
		res.Headers[name] = append(res.Headers[name], value)
	}
	res.Head = strings.Join(lines, "\r\n")
	return res
}

// chunk reads one chunk of a chunked body; ok is false at the last chunk
// or when the connection ends.
func (c *rawConn) chunk() (data string, ok bool) {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	size, err := strconv.ParseInt(strings.TrimRight(line, "\r\n"), 16, 64)
	if err != nil {
		c.t.Fatalf("bad chunk size line %q", line)
	}
	if size == 0 {
		_, _ = c.r.ReadString('\n')
		return "", false
	}
	buf := make([]byte, size+2)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		c.t.Fatalf("reading chunk: %v", err)
	}
	return string(buf[:size]), true
}

// mustChunk reads one chunk and fails if the body ended.
func (c *rawConn) mustChunk() string {
	c.t.Helper()
	data, ok := c.chunk()
	if !ok {
		c.t.Fatal("body ended while a chunk was expected")
	}
	return data
}

// rest reads all remaining chunks until the body ends.
func (c *rawConn) rest() string {
	c.t.Helper()
	var b strings.Builder
	for {
		data, ok := c.chunk()
		if !ok {
			return b.String()
		}
		b.WriteString(data)
	}
}

// readBody reads a body of Content-Length bytes.
func (c *rawConn) readBody(res *rawResponse) string {
	c.t.Helper()
	n, _ := strconv.Atoi(res.Header("Content-Length"))
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
	return string(buf)
}

// subscribe opens a streaming request and reads its response head.
func subscribe(t *testing.T, path string, headers ...string) (*rawConn, *rawResponse) {
	t.Helper()
	c := dialRaw(t)
	c.send(http.MethodGet, path, "", headers...)
	return c, c.head()
}

// waitSubscribers waits until the channel has n subscriptions.
func waitSubscribers(t *testing.T, id string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d subscribers on %s", n, id), func() bool {
		res := do(t, http.MethodGet, "/channels-stats?id="+id, "", "Accept", "application/json")
		return res.StatusCode == http.StatusOK && num(t, jsonBody(t, res), "subscribers") == n
	})
}
