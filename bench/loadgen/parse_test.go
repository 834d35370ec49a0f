//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestStreamParserSplits feeds the same bytes cut at every size and checks
// that each framing yields every message exactly once.
func TestStreamParserSplits(t *testing.T) {
	t.Parallel()
	const messages = 50
	bodies := make([][]byte, messages)
	for i := range bodies {
		bodies[i] = appendMessage(nil, uint64(i), 1000, 100)
	}
	chunked := func(payload func(b []byte) []byte) []byte {
		var out []byte
		for _, b := range bodies {
			p := payload(b)
			out = fmt.Appendf(out, "%x\r\n%s\r\n", len(p), p)
		}
		return out
	}
	var frames []byte
	for i, b := range bodies {
		if i%7 == 3 { // a ping between messages
			frames = append(frames, 0x89, 0x02, 'h', 'i')
		}
		if i%5 == 0 { // a fragmented message
			frames = append(frames, 0x01, byte(len(b[:10])))
			frames = append(frames, b[:10]...)
			frames = append(frames, 0x80, byte(len(b[10:])))
			frames = append(frames, b[10:]...)
			continue
		}
		frames = append(frames, 0x81, byte(len(b)))
		frames = append(frames, b...)
	}
	cases := []struct {
		name        string
		framing     int
		eventSource bool
		raw         []byte
	}{
		{"stream lines chunked", framingChunked, false, chunked(func(b []byte) []byte { return append(append([]byte(nil), b...), '\n') })},
		{"eventsource chunked", framingChunked, true, append([]byte("3\r\n: \n\r\n"), chunked(func(b []byte) []byte {
			return fmt.Appendf(nil, "id: 1:2\ndata: %s\n\n", b)
		})...)},
		{"eventsource identity", framingIdentity, true, func() []byte {
			var out []byte
			for _, b := range bodies {
				out = fmt.Appendf(out, "data: %s\r\n\r\n", b)
			}
			return out
		}()},
		{"websocket", framingWebSocket, false, frames},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			for round := range 40 {
				tl := &tally{channels: 1, messages: messages}
				st := &subState{}
				p := newStreamParser(tl, st, tc.framing, tc.eventSource)
				for rest := tc.raw; len(rest) > 0; {
					n := 1 + rng.IntN(min(len(rest), 1+round*7))
					if err := p.feed(rest[:n], 2000); err != nil {
						t.Fatalf("feed: %v", err)
					}
					rest = rest[n:]
				}
				if got := tl.delivered.Load(); got != messages || tl.duplicates.Load() != 0 || tl.unparsed.Load() != 0 {
					t.Fatalf("round %d: delivered %d, duplicates %d, unparsed %d", round, got, tl.duplicates.Load(), tl.unparsed.Load())
				}
			}
		})
	}
}

func TestHistogramPercentiles(t *testing.T) {
	t.Parallel()
	var h Histogram
	for v := range uint64(10000) {
		h.Record(v)
	}
	s := summarize(h.Snapshot())
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", s.P50, 5000}, {"p99", s.P99, 9900}, {"max", s.Max, 9999}} {
		if c.got < c.want*0.96 || c.got > c.want*1.04 {
			t.Errorf("%s = %.0f, want about %.0f", c.name, c.got, c.want)
		}
	}
	if s.Count != 10000 {
		t.Errorf("count %d", s.Count)
	}
}
