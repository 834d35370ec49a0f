//go:build linux

package main

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// The floods send what they claim: the server's own frame parser reads a
// trickled frame as one text message, and a fragment flood as a message
// that never ends.
func TestAbuseFramesParse(t *testing.T) {
	const size = 3000
	frame := append(clientFrameHead(true, wire.OpText, size, frameMask), maskedText(size, frameMask)...)
	p := wire.FrameParser{MaxMessage: size}
	var got []wire.ClientMessage
	for off := 0; off < len(frame); off += 7 {
		chunk := frame[off:min(off+7, len(frame))]
		for len(chunk) > 0 {
			msg, used, ok, err := p.Next(chunk)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				got = append(got, msg)
			}
			chunk = chunk[used:]
		}
	}
	if len(got) != 1 || got[0].Opcode != wire.OpText || !bytes.Equal(got[0].Payload, bytes.Repeat([]byte("x"), size)) {
		t.Fatalf("trickled frame parsed as %d messages", len(got))
	}

	// Fragments up to the limit: no message and no error; one byte more is
	// over the limit.
	p = wire.FrameParser{MaxMessage: 4 * 1024}
	payload := maskedText(1024, frameMask)
	for i := range 4 {
		op := byte(wire.OpContinuation)
		if i == 0 {
			op = wire.OpText
		}
		in := append(clientFrameHead(false, op, len(payload), frameMask), payload...)
		_, used, ok, err := p.Next(append([]byte(nil), in...))
		if err != nil || ok || used != len(in) {
			t.Fatalf("fragment %d: used %d of %d, ok %v, err %v", i, used, len(in), ok, err)
		}
	}
	if _, _, _, err := p.Next(clientFrameHead(false, 0, 1, frameMask)); !errors.Is(err, wire.ErrMessageTooBig) {
		t.Fatalf("a fragment over the limit: %v, want ErrMessageTooBig", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"8m": 8 << 20, "64MiB": 64 << 20, "512k": 512 << 10, "100": 100} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// BenchmarkFragmentReassembly is the server's frame parser on one 1 MiB
// text message, whole or in fragments, read 4 KiB at a time as the server
// reads: the cost per fragment size behind flood 2 of bench/abuse.sh.
//
//	go test -run '^$' -bench FragmentReassembly -benchmem ./bench/loadgen/
func BenchmarkFragmentReassembly(b *testing.B) {
	const size = 1 << 20
	for _, frag := range []int{size, 64 << 10, 4 << 10, 1 << 10} {
		var in []byte
		payload := maskedText(frag, frameMask)
		for off := 0; off < size; off += frag {
			op := byte(wire.OpContinuation)
			if off == 0 {
				op = wire.OpText
			}
			in = append(in, clientFrameHead(off+frag >= size, op, frag, frameMask)...)
			in = append(in, payload...)
		}
		b.Run("fragment="+strconv.Itoa(frag), func(b *testing.B) {
			buf := make([]byte, len(in))
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, in) // the parser unmasks in place
				p := wire.FrameParser{MaxMessage: size}
				messages := 0
				for data := buf; len(data) > 0; {
					chunk := data[:min(4096, len(data))]
					data = data[len(chunk):]
					for len(chunk) > 0 {
						_, used, ok, err := p.Next(chunk)
						if err != nil {
							b.Fatal(err)
						}
						if ok {
							messages++
						}
						chunk = chunk[used:]
					}
				}
				if messages != 1 {
					b.Fatalf("%d messages, want 1", messages)
				}
			}
		})
	}
}
