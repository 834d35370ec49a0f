package scenarios_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The raw-socket HTTP/1.x client of the scenarios: byte-exact status
// lines, header spellings and chunk boundaries, which net/http hides.

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

// hasLine tells whether the head has line exactly as one of its header
// lines, spelling included.
func (r *rawResponse) hasLine(line string) bool {
	return regexp.MustCompile(`(^|\r\n)` + regexp.QuoteMeta(line) + `(\r\n|$)`).MatchString(r.Head)
}

// httpHeader returns the headers keyed in Go's canonical form, for the
// checks shared with net/http responses.
func (r *rawResponse) httpHeader() http.Header {
	h := http.Header{}
	for name, values := range r.Headers {
		for _, v := range values {
			h.Add(name, v)
		}
	}
	return h
}

// dialRaw opens a raw connection to the HTTP port of t's Caddy.
func dialRaw(t *testing.T) *rawConn {
	t.Helper()
	return dialRawAt(t, fmt.Sprintf("127.0.0.1:%d", serverOf(t).httpPort), waitLimit*3)
}

// dialRawAt opens a raw connection to addr that is closed with the test;
// every read and write on it must be done within limit.
func dialRawAt(t *testing.T, addr string, limit time.Duration) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(limit))
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

// write writes s as it is.
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

// errBrokenChunk marks a chunked body whose framing is broken or whose
// chunk was cut short.
var errBrokenChunk = errors.New("broken chunked body")

// nextChunk reads one chunk of a chunked body without touching
// testing.T, so that it also serves off the test goroutine. ok is false
// at the last chunk (err nil), when the connection ends before a chunk
// (err is the read error) or when the body is broken (err wraps
// errBrokenChunk).
func (c *rawConn) nextChunk() (data string, ok bool, err error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", false, err
	}
	size, err := strconv.ParseInt(strings.TrimRight(line, "\r\n"), 16, 64)
	if err != nil {
		return "", false, fmt.Errorf("%w: bad chunk size line %q", errBrokenChunk, line)
	}
	if size == 0 {
		_, _ = c.r.ReadString('\n')
		return "", false, nil
	}
	buf := make([]byte, size+2)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return "", false, fmt.Errorf("%w: reading chunk: %v", errBrokenChunk, err)
	}
	return string(buf[:size]), true, nil
}

// chunk reads one chunk of a chunked body; ok is false at the last chunk
// or when the connection ends. A broken body fails the test.
func (c *rawConn) chunk() (data string, ok bool) {
	c.t.Helper()
	data, ok, err := c.nextChunk()
	if errors.Is(err, errBrokenChunk) {
		c.t.Fatal(err)
	}
	return data, ok
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

// chunksUntil reads chunks until done holds for the body read so far
// (checked before each read) and returns that body; it fails if the body
// ends first.
func (c *rawConn) chunksUntil(done func(body string) bool) string {
	c.t.Helper()
	var b strings.Builder
	for !done(b.String()) {
		b.WriteString(c.mustChunk())
	}
	return b.String()
}

// chunkBytes reads chunks until at least n bytes arrived.
func (c *rawConn) chunkBytes(n int) string {
	c.t.Helper()
	return c.chunksUntil(func(body string) bool { return len(body) >= n })
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

// responseBody reads the body of res whatever its framing: none for a
// 304 or 204, chunks, Content-Length bytes, or all until the connection
// closes.
func (c *rawConn) responseBody(res *rawResponse) string {
	c.t.Helper()
	switch {
	case res.Status == http.StatusNotModified || res.Status == http.StatusNoContent:
		return ""
	case strings.EqualFold(res.Header("Transfer-Encoding"), "chunked"):
		return c.rest()
	case res.HasHeader("Content-Length"):
		return c.readBody(res)
	}
	b, err := io.ReadAll(c.r)
	if err != nil {
		c.t.Fatalf("reading close-delimited body: %v", err)
	}
	return string(b)
}

// readResponse reads a complete answer: head and body, whatever its
// framing.
func (c *rawConn) readResponse() (*rawResponse, string) {
	c.t.Helper()
	res := c.head()
	return res, c.responseBody(res)
}

// roundTrip sends a request on a keep-alive connection and reads the
// whole answer (Content-Length bodies only).
func (c *rawConn) roundTrip(method, path, body string) (*rawResponse, string) {
	c.t.Helper()
	c.send(method, path, body)
	head := c.head()
	return head, c.readBody(head)
}

// connClosed tells whether a read error means that the peer ended the
// connection (EOF or reset) rather than that the read timed out.
func connClosed(err error) bool {
	var op *net.OpError
	return errors.Is(err, io.EOF) || errors.As(err, &op) && !op.Timeout()
}

// subscribe opens a streaming request and reads its response head.
func subscribe(t *testing.T, path string, headers ...string) (*rawConn, *rawResponse) {
	t.Helper()
	c := dialRaw(t)
	c.send(http.MethodGet, path, "", headers...)
	return c, c.head()
}

// subscribeOK opens a streaming request and expects a 200.
func subscribeOK(t *testing.T, path string, headers ...string) (*rawConn, *rawResponse) {
	t.Helper()
	c, head := subscribe(t, path, headers...)
	if head.Status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200 (%q)", path, head.Status, head.StatusLine+"\r\n"+head.Head)
	}
	return c, head
}

// subscribeCounted opens a streaming subscriber on path, expects a 200
// and waits until channel id counts n subscriptions in all.
func subscribeCounted(t *testing.T, path, id string, n int) *rawConn {
	t.Helper()
	c, _ := subscribeOK(t, path)
	waitSubscribers(t, id, n)
	return c
}
