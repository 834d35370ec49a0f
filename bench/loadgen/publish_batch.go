//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"time"
)

// batchContentType is the content type of a batch publish
// (docs/PROTOCOL.md §4.6).
const batchContentType = "application/vnd.pushstream.batch+json"

// batchLoop is one publisher sending cfg.batchSize messages per request
// with the batch publish: one connection to the first target, one request
// at a time. Each message counts as one publish; the latency recorded is
// the request's.
func (ps *publishers) batchLoop(connIndex int, deadline time.Time) {
	cfg := ps.cfg
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	n := uint64(cfg.batchSize)
	buf := make([]byte, 0, 512+int(n)*(cfg.size+64+len(cfg.prefix)))
	var body []byte
	var answer bytes.Buffer
	consecutive := 0
	for {
		first := ps.next.Add(n) - n
		if first >= uint64(cfg.messages) {
			return
		}
		last := min(first+n, uint64(cfg.messages))
		if !deadline.IsZero() && time.Now().After(deadline) {
			for seq := first; seq < last; seq++ {
				ps.unsent(seq)
			}
			return
		}
		if conn == nil {
			var err error
			if conn, err = ps.dial.dialTo(cfg.hosts[0], connIndex); err != nil {
				conn = nil
				ps.failRange(first, last, fmt.Errorf("dial: %w", err))
				if consecutive++; consecutive > 50 {
					return
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			br = bufio.NewReaderSize(conn, 4096)
		}
		sent := time.Now()
		body = ps.appendBatchBody(body[:0], first, last, sent.UnixNano())
		buf = ps.appendBatchHead(buf[:0], len(body))
		buf = append(buf, body...)
		answer.Reset()
		status, keep, err := roundTripBody(conn, br, buf, &answer)
		if err != nil || !keep {
			conn.Close()
			conn = nil
		}
		if err == nil && status != 200 {
			err = fmt.Errorf("batch publish status %d", status)
		}
		if err != nil {
			ps.failRange(first, last, err)
			if consecutive++; consecutive > 50 {
				return
			}
			continue
		}
		consecutive = 0
		ps.latency.Record(uint64(time.Since(sent) / time.Microsecond))
		ps.tallyBatch(first, last, answer.Bytes())
	}
}

// appendBatchBody appends the batch of messages first to last-1, each
// to its channel.
func (ps *publishers) appendBatchBody(body []byte, first, last uint64, sentNS int64) []byte {
	cfg := ps.cfg
	body = append(body, '[')
	for seq := first; seq < last; seq++ {
		if seq > first {
			body = append(body, ',')
		}
		body = append(body, `{"channels":["`...)
		body = append(body, cfg.channelName(int(seq%uint64(cfg.channels)))...)
		body = append(body, `"],"text":"`...)
		// The text is digits, spaces and 'x': nothing to escape.
		body = appendMessage(body, seq, sentNS, cfg.size)
		body = append(body, `"}`...)
	}
	return append(body, ']')
}

// appendBatchHead appends the head of a batch request of size bytes.
func (ps *publishers) appendBatchHead(dst []byte, size int) []byte {
	cfg := ps.cfg
	dst = append(dst, "POST "...)
	dst = cfg.pubPath.appendExpanded(dst, cfg.channelName(0))
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, cfg.hosts[0]...) // --publish-to first: batches take no other
	dst = append(dst, "\r\nUser-Agent: pushstream-loadgen\r\nContent-Type: "+batchContentType+"\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(size), 10)
	return append(dst, "\r\n\r\n"...)
}

// statusField starts each message's result in a batch answer.
var statusField = []byte(`{"status": `)

// tallyBatch counts each message of a batch by its result in answer, in
// order; a message without a result failed.
func (ps *publishers) tallyBatch(first, last uint64, answer []byte) {
	for seq := first; seq < last; seq++ {
		i := bytes.Index(answer, statusField)
		if i < 0 {
			ps.fail(seq, fmt.Errorf("batch answer without a result"))
			continue
		}
		answer = answer[i+len(statusField):]
		if !bytes.HasPrefix(answer, []byte("200")) {
			ps.fail(seq, fmt.Errorf("batch message status %s", answer[:min(3, len(answer))]))
			continue
		}
		ps.mu.Lock()
		ps.outcome.Succeeded++
		ps.mu.Unlock()
	}
}

// failRange counts messages first to last-1 as failed.
func (ps *publishers) failRange(first, last uint64, err error) {
	for seq := first; seq < last; seq++ {
		ps.fail(seq, err)
	}
}
