//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"strconv"
	"time"
)

// dialer opens connections to the target, spreading source addresses over
// 127.0.0.1 .. 127.0.0.<spread> so that more connections than one source
// address's ephemeral ports fit.
type dialer struct {
	addr    string // the target of dial
	spread  int
	timeout time.Duration
}

// dial opens connection number i to the target.
func (d *dialer) dial(i int) (net.Conn, error) { return d.dialTo(d.addr, i) }

// dialTo opens connection number i to addr (one target of several).
func (d *dialer) dialTo(addr string, i int) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if d.spread > 1 {
		nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%d.spread))}
	}
	return nd.Dial("tcp", addr)
}

// responseHead is the part of an HTTP/1.1 response head the clients use.
type responseHead struct {
	status        int
	contentLength int64 // -1: none
	chunked       bool
	closeAfter    bool
	lastModified  string
	etag          string
}

var errBadResponse = errors.New("malformed response head")

// readHead reads a response status line and header block.
func readHead(br *bufio.Reader) (responseHead, error) {
	h := responseHead{contentLength: -1}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return h, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return h, fmt.Errorf("%w: %q", errBadResponse, line)
	}
	h.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return h, fmt.Errorf("%w: %q", errBadResponse, line)
	}
	if line[7] == '0' {
		h.closeAfter = true
	}
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return h, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			h.contentLength, _ = strconv.ParseInt(string(value), 10, 64)
		case asciiEqualFold(name, "transfer-encoding"):
			h.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case asciiEqualFold(name, "connection"):
			if bytes.EqualFold(value, []byte("close")) {
				h.closeAfter = true
			}
		case asciiEqualFold(name, "last-modified"):
			h.lastModified = string(value)
		case asciiEqualFold(name, "etag"):
			h.etag = string(value)
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	return len(b) == len(s) && bytes.EqualFold(b, []byte(s))
}

// body returns a reader of the response body that follows h.
func (h responseHead) body(br *bufio.Reader) io.Reader {
	switch {
	case h.status == 204 || h.status == 304 || h.status < 200:
		return bytes.NewReader(nil)
	case h.chunked:
		return httputil.NewChunkedReader(br)
	case h.contentLength >= 0:
		return io.LimitReader(br, h.contentLength)
	default:
		return br
	}
}

// requestHead builds a request head; extra holds complete header lines.
func requestHead(method, path, host string, extra ...string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: pushstream-loadgen\r\n"...)
	for _, line := range extra {
		b = append(b, line...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// skipTrailer consumes the trailer section after a chunked body's last
// chunk, up to and including its blank line.
func skipTrailer(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}
