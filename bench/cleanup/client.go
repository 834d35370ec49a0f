package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// ioTimeout bounds every read and write of a request: a server that
// leaves a client waiting fails the step instead of hanging the run.
const ioTimeout = 30 * time.Second

// conn is one HTTP/1.1 keep-alive client connection whose requests are
// written raw, as the upstream specs write them.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

// response is what conn.do read.
type response struct {
	status int
	body   []byte
	close  bool // the server announced Connection: close
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReader(c)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// do sends one request and reads its whole answer. extra are header
// lines without their CRLF.
func (c *conn) do(method, target, body string, extra ...string) (*response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: localhost\r\n", method, target)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if method == http.MethodPost || body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	_ = c.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	return &response{status: res.StatusCode, body: data, close: res.Close}, nil
}

// closedByPeer tells whether the server closes the connection within
// wait, with nothing more sent on it.
func (c *conn) closedByPeer(wait time.Duration) bool {
	_ = c.c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.r.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

// isReset tells whether err is a connection reset.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// client sends requests on one keep-alive connection and dials a new one
// when the server closed it, as upstream's EventMachine clients open one
// per request.
type client struct {
	addr string
	c    *conn
}

func (cl *client) do(method, target, body string, extra ...string) (*response, error) {
	if cl.c == nil {
		c, err := dial(cl.addr)
		if err != nil {
			return nil, err
		}
		cl.c = c
	}
	res, err := cl.c.do(method, target, body, extra...)
	if err != nil || res.close {
		cl.c.Close()
		cl.c = nil
	}
	return res, err
}

func (cl *client) Close() {
	if cl.c != nil {
		cl.c.Close()
		cl.c = nil
	}
}

// pubPath is the publisher path of a channel id, spaces escaped as
// upstream's publish_messages_until_fill_the_memory does.
func pubPath(id string) string {
	return "/pub?id=" + strings.ReplaceAll(id, " ", "%20")
}

// fillResult is one fill: how many publishes got a 200, the answer that
// ended it and whether the server closed the connection after it.
type fillResult struct {
	n      int
	status int
	closed bool
	took   time.Duration
}

func (f fillResult) String() string {
	return fmt.Sprintf("%d", f.n)
}

// fill is upstream's publish_messages_until_fill_the_memory: POST body to
// idFor(0), idFor(1), ... on ONE keep-alive connection, each request
// written raw with Host and Content-Length only, until an answer is not
// 200 (the memory cap: a 500 expected to close the connection).
func fill(addr string, idFor func(int) string, body string) (fillResult, error) {
	began := time.Now()
	c, err := dial(addr)
	if err != nil {
		return fillResult{}, err
	}
	defer c.Close()
	for i := 0; i < 1_000_000; i++ {
		res, err := c.do(http.MethodPost, pubPath(idFor(i)), body)
		if err != nil {
			return fillResult{n: i, took: time.Since(began)}, fmt.Errorf("publish #%d: %w", i+1, err)
		}
		if res.status != http.StatusOK {
			f := fillResult{n: i, status: res.status, took: time.Since(began)}
			f.closed = res.close && c.closedByPeer(5*time.Second)
			return f, nil
		}
	}
	return fillResult{}, errors.New("the memory cap was never reached")
}

// sameID publishes every message of a fill to id.
func sameID(id string) func(int) string { return func(int) string { return id } }

// numbered gives one new channel per message: format with %d.
func numbered(format string) func(int) string {
	return func(i int) string { return fmt.Sprintf(format, i) }
}

// stats is the store-wide statistics (/channels-stats).
type stats map[string]json.Number

func (s stats) get(key string) int64 {
	n, _ := s[key].Int64()
	return n
}

// summary is the counters a wait looks at, for the log.
func (s stats) summary() string {
	var b strings.Builder
	for _, k := range []string{"channels", "published_messages", "stored_messages", "messages_in_trash", "channels_in_delete", "channels_in_trash", "subscribers"} {
		if v, ok := s[k]; ok {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	return strings.TrimSpace(b.String())
}

// getStats reads the store-wide statistics on cl (JSON).
func getStats(cl *client) (stats, error) {
	const target = "/channels-stats"
	res, err := cl.do(http.MethodGet, target, "", "Accept: application/json")
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", target, res.status)
	}
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(string(res.body)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("GET %s: %w: %q", target, err, res.body)
	}
	s := stats{}
	for k, v := range raw {
		if n, ok := v.(json.Number); ok {
			s[k] = n
		}
	}
	return s, nil
}

// channelList returns the ids listed by /channels-stats?id=ALL.
func channelList(cl *client) ([]string, error) {
	res, err := cl.do(http.MethodGet, "/channels-stats?id=ALL", "", "Accept: application/json")
	if err != nil {
		return nil, err
	}
	var all struct {
		Infos []struct {
			Channel string `json:"channel"`
		} `json:"infos"`
	}
	if err := json.Unmarshal(res.body, &all); err != nil {
		return nil, fmt.Errorf("channels-stats?id=ALL: %w", err)
	}
	ids := make([]string, 0, len(all.Infos))
	for _, info := range all.Infos {
		ids = append(ids, info.Channel)
	}
	return ids, nil
}

// subscribe opens a streaming subscriber on id (Accept: text/html) and
// reads everything it is sent until it is closed.
func subscribe(addr, id string) (io.Closer, error) {
	c, err := dial(addr)
	if err != nil {
		return nil, err
	}
	_ = c.c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := fmt.Fprintf(c.c, "GET /sub/%s HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n", id); err != nil {
		c.Close()
		return nil, err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("subscribing to %s: status %d", id, res.StatusCode)
	}
	_ = c.c.SetDeadline(time.Time{})
	go func() { _, _ = io.Copy(io.Discard, res.Body) }()
	return c, nil
}
