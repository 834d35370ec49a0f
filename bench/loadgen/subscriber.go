//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

// Subscriber modes.
const (
	modeStream      = "stream"
	modeEventSource = "eventsource"
	modeWebSocket   = "websocket"
	modeLongPolling = "long-polling"
	modeNone        = "none"
)

// subscriberPool runs this process's subscribers.
type subscriberPool struct {
	cfg   *config
	dial  *dialer
	tally *tally

	mu       sync.Mutex
	conns    []net.Conn
	stopping atomic.Bool

	connected    atomic.Int64
	failed       atomic.Int64
	disconnected atomic.Int64
	errMu        sync.Mutex
	errors       map[string]int
	states       []*subState
	readers      sync.WaitGroup
	loop         *epollLoop // nil: a goroutine per subscriber reads
}

func (p *subscriberPool) noteError(err error) {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if p.errors == nil {
		p.errors = map[string]int{}
	}
	msg := err.Error()
	if len(p.errors) < 20 || p.errors[msg] > 0 {
		p.errors[msg]++
	}
}

// connectAll opens the subscribers of indices, at most cfg.connectConcurrency
// at a time, and returns when each is connected or has failed. Connected
// subscribers keep reading until stop.
func (p *subscriberPool) connectAll(indices []int) {
	sem := make(chan struct{}, p.cfg.connectConcurrency)
	var wg sync.WaitGroup
	for _, i := range indices {
		st := &subState{index: i, channel: i % p.cfg.channels}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			conn, br, framing, err := p.open(st)
			if err == nil && p.loop != nil && p.cfg.mode != modeLongPolling {
				err = p.handOver(st, conn, br, framing)
				conn = nil
			}
			// Counted before wg.Done: connectAll's caller reads the counts.
			if err != nil {
				p.failed.Add(1)
				p.noteError(err)
			} else {
				p.mu.Lock()
				p.states = append(p.states, st)
				if conn != nil {
					p.conns = append(p.conns, conn)
				}
				p.mu.Unlock()
				p.connected.Add(1)
				if conn != nil {
					p.readers.Add(1)
				}
			}
			<-sem
			wg.Done()
			if err != nil || conn == nil {
				return // failed, or the epoll loop reads it
			}
			defer p.readers.Done()
			err = p.read(st, conn, p.bodyReader(br, framing))
			if !p.stopping.Load() {
				p.disconnected.Add(1)
				if err == nil {
					err = io.EOF
				}
				p.noteError(fmt.Errorf("after connect: %w", err))
			}
		}()
	}
	wg.Wait()
}

// stop closes every subscriber connection and waits for the readers.
func (p *subscriberPool) stop() {
	p.stopping.Store(true)
	if p.loop != nil {
		p.loop.stop()
	}
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.readers.Wait()
}

// open connects subscriber st and reads its response head; it returns the
// framing of what follows.
func (p *subscriberPool) open(st *subState) (net.Conn, *bufio.Reader, int, error) {
	cfg := p.cfg
	host := cfg.subscriberHost(st.index)
	conn, err := p.dial.dialTo(host, st.index)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("dial: %w", err)
	}
	path := cfg.subPath.expand(cfg.channelName(st.channel))
	var head []byte
	var wsKey string
	switch cfg.mode {
	case modeEventSource:
		head = requestHead("GET", path, host, "Accept: text/event-stream", "Cache-Control: no-cache")
	case modeWebSocket:
		var key [16]byte
		rand.Read(key[:])
		wsKey = base64.StdEncoding.EncodeToString(key[:])
		head = requestHead("GET", path, host, "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13")
	default:
		head = requestHead("GET", path, host)
	}
	if _, err := conn.Write(head); err != nil {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("writing request: %w", err)
	}
	br := bufio.NewReaderSize(conn, 4096)
	if cfg.mode == modeLongPolling {
		// The request waits on the server; the read loop takes its answer.
		return conn, br, framingIdentity, nil
	}
	conn.SetReadDeadline(time.Now().Add(cfg.connectTimeout))
	h, err := readHead(br)
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("reading response head: %w", err)
	}
	want := 200
	if cfg.mode == modeWebSocket {
		want = 101
	}
	if h.status != want {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("status %d, want %d", h.status, want)
	}
	switch {
	case cfg.mode == modeWebSocket:
		return conn, br, framingWebSocket, nil
	case h.chunked:
		return conn, br, framingChunked, nil
	case h.contentLength >= 0:
		conn.Close()
		return nil, nil, 0, fmt.Errorf("stream answered with a Content-Length body")
	}
	return conn, br, framingIdentity, nil
}

// bodyReader returns the reader a goroutine reader reads lines or frames
// from.
func (p *subscriberPool) bodyReader(br *bufio.Reader, framing int) *bufio.Reader {
	if framing != framingChunked {
		return br
	}
	return bufio.NewReaderSize(httputil.NewChunkedReader(br), 4096)
}

// handOver gives a connected subscriber to the epoll loop.
func (p *subscriberPool) handOver(st *subState, conn net.Conn, br *bufio.Reader, framing int) error {
	buffered, _ := br.Peek(br.Buffered())
	parser := newStreamParser(p.tally, st, framing, p.cfg.mode == modeEventSource)
	return p.loop.add(conn, buffered, parser)
}

// read runs until the connection ends.
func (p *subscriberPool) read(st *subState, conn net.Conn, br *bufio.Reader) error {
	switch p.cfg.mode {
	case modeWebSocket:
		return p.readWebSocket(st, conn, br)
	case modeLongPolling:
		return p.readLongPolling(st, conn, br)
	default:
		return p.readLines(st, br, p.cfg.mode == modeEventSource)
	}
}

// readLines reads a stream whose messages are lines; with eventSource only
// `data:` lines carry messages.
func (p *subscriberPool) readLines(st *subState, br *bufio.Reader, eventSource bool) error {
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: not one of our messages.
			p.tally.unparsed.Add(1)
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if eventSource {
			rest, ok := bytes.CutPrefix(line, []byte("data:"))
			if !ok {
				continue // id:, event:, comments, blank separators
			}
			line = bytes.TrimPrefix(rest, []byte(" "))
		}
		if len(line) == 0 {
			continue
		}
		p.tally.deliver(st, line, time.Now().UnixNano())
	}
}

var errProtocol = errors.New("websocket protocol error")

// readWebSocket reads server frames: text and binary frames carry
// messages, pings are answered, a close frame ends the connection.
func (p *subscriberPool) readWebSocket(st *subState, conn net.Conn, br *bufio.Reader) error {
	var hdr [14]byte
	var partial []byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return err
		}
		fin, opcode := hdr[0]&0x80 != 0, hdr[0]&0x0F
		if hdr[1]&0x80 != 0 {
			return fmt.Errorf("%w: masked server frame", errProtocol)
		}
		n := uint64(hdr[1] & 0x7F)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[2:4]); err != nil {
				return err
			}
			n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(br, hdr[2:10]); err != nil {
				return err
			}
			n = binary.BigEndian.Uint64(hdr[2:10])
		}
		if n > 16<<20 {
			return fmt.Errorf("%w: frame of %d bytes", errProtocol, n)
		}
		var payload []byte
		if int(n) <= br.Size() {
			// Peek avoids a copy; the bytes stay valid until the next read.
			b, err := br.Peek(int(n))
			if err != nil {
				return err
			}
			payload = b
		} else {
			payload = make([]byte, n)
			if _, err := io.ReadFull(br, payload); err != nil {
				return err
			}
		}
		switch opcode {
		case 0x1, 0x2, 0x0:
			switch {
			case fin && opcode != 0x0 && partial == nil:
				p.tally.deliver(st, payload, time.Now().UnixNano())
			case !fin:
				partial = append(partial, payload...)
			default:
				p.tally.deliver(st, append(partial, payload...), time.Now().UnixNano())
				partial = nil
			}
		case 0x8:
			conn.Write([]byte{0x88, 0x80, 0, 0, 0, 0})
			return io.EOF
		case 0x9:
			if len(payload) > 125 {
				return fmt.Errorf("%w: long ping", errProtocol)
			}
			// A zero mask key leaves the payload as is.
			pong := append([]byte{0x8A, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
			if _, err := conn.Write(pong); err != nil {
				return err
			}
		}
		if int(n) <= br.Size() {
			br.Discard(int(n))
		}
	}
}

// readLongPolling reads answers and sends the follow-up requests with
// If-Modified-Since and If-None-Match; the first request was sent by open.
func (p *subscriberPool) readLongPolling(st *subState, conn net.Conn, br *bufio.Reader) error {
	cfg := p.cfg
	path := cfg.subPath.expand(cfg.channelName(st.channel))
	var lastModified, etag string
	for {
		h, err := readHead(br)
		if err != nil {
			return err
		}
		body := h.body(br)
		switch {
		case h.status == 200:
			lines := bufio.NewReaderSize(body, 4096)
			for {
				line, err := lines.ReadSlice('\n')
				if line = bytes.TrimRight(line, "\r\n"); len(line) > 0 {
					p.tally.deliver(st, line, time.Now().UnixNano())
				}
				if err == io.EOF {
					break
				}
				if err != nil && err != bufio.ErrBufferFull {
					return err
				}
			}
			if h.lastModified != "" {
				lastModified = h.lastModified
			}
			if h.etag != "" {
				etag = h.etag
			}
		case h.status == 304 || h.status == 408:
			if _, err := io.Copy(io.Discard, body); err != nil {
				return err
			}
		default:
			return fmt.Errorf("long-polling status %d", h.status)
		}
		if h.chunked {
			if err := skipTrailer(br); err != nil {
				return err
			}
		}
		if h.closeAfter || (h.status == 200 && !h.chunked && h.contentLength < 0) {
			return fmt.Errorf("long-polling answer closes the connection")
		}
		var extra []string
		if lastModified != "" {
			extra = append(extra, "If-Modified-Since: "+lastModified)
		}
		if etag != "" {
			extra = append(extra, "If-None-Match: "+etag)
		}
		if _, err := conn.Write(requestHead("GET", path, cfg.subscriberHost(st.index), extra...)); err != nil {
			return err
		}
	}
}
