//go:build linux

package main

import (
	"strconv"
	"sync/atomic"
)

// A message body is "<seq> <send-unix-nanos> " padded with 'x' to the
// message size: seq identifies the message (its channel is seq % channels),
// the timestamp gives the publish-to-receive latency. Server and client run
// on one machine, so both read the same wall clock.

// appendMessage appends the body of message seq sent at sentNS.
func appendMessage(dst []byte, seq uint64, sentNS int64, size int) []byte {
	start := len(dst)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, sentNS, 10)
	dst = append(dst, ' ')
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

// parseMessage reads the sequence number and send time of a body.
func parseMessage(b []byte) (seq uint64, sentNS int64, ok bool) {
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		seq = seq*10 + uint64(b[i]-'0')
	}
	if i == 0 || i >= len(b) || b[i] != ' ' {
		return 0, 0, false
	}
	i++
	j := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sentNS = sentNS*10 + int64(b[i]-'0')
	}
	if i == j {
		return 0, 0, false
	}
	return seq, sentNS, true
}

// tally collects what every subscriber of this process received.
type tally struct {
	channels int
	messages int

	delivered  atomic.Int64
	duplicates atomic.Int64
	unparsed   atomic.Int64
	foreign    atomic.Int64
	lastNS     atomic.Int64
	latency    Histogram
}

// subState is one subscriber's receive state; only its goroutine touches
// it while it runs.
type subState struct {
	index   int
	channel int
	seen    []uint64 // bit seq/channels: received
	got     int64
}

// deliver records one message body received at now (unix nanoseconds).
func (t *tally) deliver(st *subState, body []byte, now int64) {
	seq, sent, ok := parseMessage(body)
	if !ok {
		t.unparsed.Add(1)
		return
	}
	if seq >= uint64(t.messages) || int(seq%uint64(t.channels)) != st.channel {
		t.foreign.Add(1)
		return
	}
	idx := seq / uint64(t.channels)
	if st.seen == nil {
		per := (t.messages + t.channels - 1) / t.channels
		st.seen = make([]uint64, (per+63)/64)
	}
	word, bit := idx/64, uint64(1)<<(idx%64)
	if st.seen[word]&bit != 0 {
		t.duplicates.Add(1)
		return
	}
	st.seen[word] |= bit
	st.got++
	t.delivered.Add(1)
	t.latency.Record(uint64(max(now-sent, 0)) / 1000)
	for {
		last := t.lastNS.Load()
		if now <= last || t.lastNS.CompareAndSwap(last, now) {
			break
		}
	}
}
