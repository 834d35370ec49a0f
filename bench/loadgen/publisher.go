//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// PublishOutcome is what the publishers did; it is shared with the other
// parts so that each can tell which messages its subscribers should have.
type PublishOutcome struct {
	// Attempted is the number of sequence numbers handed out: every message
	// below it was published or counted as failed.
	Attempted uint64 `json:"attempted"`
	// FailedPerChannel counts failed and unsent publishes by channel index.
	FailedPerChannel map[int]int64 `json:"failed_per_channel,omitempty"`
	Succeeded        int64         `json:"succeeded"`
	Failed           int64         `json:"failed"`
	// Unsent counts sequence numbers handed out when --duration ran out.
	Unsent  int64          `json:"unsent"`
	StartNS int64          `json:"start_ns"`
	EndNS   int64          `json:"end_ns"`
	Errors  map[string]int `json:"errors,omitempty"`
}

// expectedFor returns how many messages a subscriber of channel c should
// receive.
func (o *PublishOutcome) expectedFor(c, channels int) int64 {
	var n int64
	if o.Attempted > uint64(c) {
		n = int64((o.Attempted-1-uint64(c))/uint64(channels)) + 1
	}
	return n - o.FailedPerChannel[c]
}

// publishers sends the messages over keep-alive connections.
type publishers struct {
	cfg  *config
	dial *dialer

	next    atomic.Uint64
	latency Histogram

	mu      sync.Mutex
	outcome PublishOutcome
}

// run publishes until every message is out or cfg.duration has passed.
func (ps *publishers) run() PublishOutcome {
	cfg := ps.cfg
	ps.outcome.FailedPerChannel = map[int]int64{}
	ps.outcome.Errors = map[string]int{}
	start := time.Now()
	var deadline time.Time
	if cfg.duration > 0 {
		deadline = start.Add(cfg.duration)
	}
	ps.outcome.StartNS = start.UnixNano()
	var wg sync.WaitGroup
	for i := range cfg.publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.batchSize > 0 {
				ps.batchLoop(cfg.subscribers+i, deadline)
				return
			}
			ps.loop(cfg.subscribers+i, start, deadline)
		}()
	}
	wg.Wait()
	ps.outcome.EndNS = time.Now().UnixNano()
	ps.outcome.Attempted = min(ps.next.Load(), uint64(cfg.messages))
	return ps.outcome
}

func (ps *publishers) fail(seq uint64, err error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.outcome.Failed++
	ps.outcome.FailedPerChannel[int(seq%uint64(ps.cfg.channels))]++
	if msg := err.Error(); len(ps.outcome.Errors) < 20 || ps.outcome.Errors[msg] > 0 {
		ps.outcome.Errors[msg]++
	}
}

// unsent counts seq as handed out but never sent: no subscriber waits
// for it.
func (ps *publishers) unsent(seq uint64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.outcome.Unsent++
	ps.outcome.FailedPerChannel[int(seq%uint64(ps.cfg.channels))]++
}

// pubConn is a publisher's keep-alive connection to one target.
type pubConn struct {
	conn net.Conn
	br   *bufio.Reader
}

// close drops the connection, if open.
func (c *pubConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// loop is one publisher: one connection per target it publishes to, one
// request at a time.
func (ps *publishers) loop(connIndex int, start, deadline time.Time) {
	cfg := ps.cfg
	conns := make([]pubConn, len(cfg.hosts))
	defer func() {
		for i := range conns {
			conns[i].close()
		}
	}()
	buf := make([]byte, 0, 512+cfg.size)
	body := make([]byte, 0, 64+cfg.size)
	consecutive := 0
	for {
		seq := ps.next.Add(1) - 1
		if seq >= uint64(cfg.messages) {
			return
		}
		if cfg.rate > 0 {
			due := start.Add(time.Duration(float64(seq) / cfg.rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			ps.unsent(seq)
			return
		}
		k := cfg.publishTarget(seq)
		c := &conns[k]
		if c.conn == nil {
			conn, err := ps.dial.dialTo(cfg.hosts[k], connIndex)
			if err != nil {
				ps.fail(seq, fmt.Errorf("dial: %w", err))
				if consecutive++; consecutive > 50 {
					return
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			c.conn, c.br = conn, bufio.NewReaderSize(conn, 4096)
		}
		channel := cfg.channelName(int(seq % uint64(cfg.channels)))
		sent := time.Now()
		body = appendMessage(body[:0], seq, sent.UnixNano(), cfg.size)
		buf = ps.appendPublish(buf[:0], cfg.hosts[k], channel, body)
		status, keep, err := roundTrip(c.conn, c.br, buf)
		if err != nil || !keep {
			c.close()
		}
		if err != nil {
			ps.fail(seq, err)
			if consecutive++; consecutive > 50 {
				return
			}
			continue
		}
		if status < 200 || status > 299 {
			ps.fail(seq, fmt.Errorf("publish status %d", status))
			continue
		}
		consecutive = 0
		ps.latency.Record(uint64(time.Since(sent) / time.Microsecond))
		ps.mu.Lock()
		ps.outcome.Succeeded++
		ps.mu.Unlock()
	}
}

// appendPublish appends the request publishing body to channel on host.
func (ps *publishers) appendPublish(dst []byte, host, channel string, body []byte) []byte {
	dst = append(dst, "POST "...)
	dst = ps.cfg.pubPath.appendExpanded(dst, channel)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUser-Agent: pushstream-loadgen\r\nContent-Type: text/plain\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// roundTrip writes a request and reads its whole response.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (status int, keepAlive bool, err error) {
	return roundTripBody(conn, br, req, io.Discard)
}

// roundTripBody writes a request and reads its whole response, the body
// into body.
func roundTripBody(conn net.Conn, br *bufio.Reader, req []byte, body io.Writer) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, false, fmt.Errorf("writing publish: %w", err)
	}
	h, err := readHead(br)
	if err != nil {
		return 0, false, fmt.Errorf("reading publish answer: %w", err)
	}
	if h.contentLength < 0 && !h.chunked && h.status != 204 && h.status != 304 {
		return h.status, false, nil
	}
	if _, err := io.Copy(body, h.body(br)); err != nil {
		return 0, false, fmt.Errorf("reading publish answer: %w", err)
	}
	if h.chunked {
		if err := skipTrailer(br); err != nil {
			return 0, false, err
		}
	}
	return h.status, !h.closeAfter, nil
}
