package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"unicode/utf8"
)

// frameReadAll parses data given in one piece, until an error or the
// end of data: io.EOF at a frame boundary, io.ErrUnexpectedEOF inside a
// frame or a fragmented message.
func frameReadAll(data []byte) ([]ClientMessage, error) {
	return frameReadSplit(data, len(data))
}

// frameReadSplit parses data handed over in pieces of at most size bytes,
// as reads from a socket would.
func frameReadSplit(data []byte, size int) ([]ClientMessage, error) {
	return frameReadWith(&FrameParser{MaxMessage: frameMaxPayload}, data, size)
}

// frameReadWith parses data with p, in pieces of at most size bytes.
func frameReadWith(p *FrameParser, data []byte, size int) ([]ClientMessage, error) {
	data = bytes.Clone(data)
	var msgs []ClientMessage
	for len(data) > 0 {
		piece := data[:min(max(size, 1), len(data))]
		data = data[len(piece):]
		for len(piece) > 0 {
			msg, used, ok, err := p.Next(piece)
			piece = piece[used:]
			if err != nil {
				return msgs, err
			}
			if ok {
				msgs = append(msgs, msg)
			}
			if len(msgs) > 1000 {
				return msgs, errors.New("too many messages")
			}
		}
	}
	if p.inFrame || p.headLen > 0 || p.fragOpen {
		return msgs, io.ErrUnexpectedEOF
	}
	return msgs, io.EOF
}

// TestFrameReader checks the client frames of docs/PROTOCOL.md §6.5.7: masked
// and unmasked, all length forms, fragmentation, control frames.
func TestFrameReader(t *testing.T) {
	t.Parallel()
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	big := bytes.Repeat([]byte("0123456789"), 7000) // 70000 bytes, 64-bit length
	medium := bytes.Repeat([]byte("ab"), 200)       // 400 bytes, 16-bit length
	type want struct {
		opcode  byte
		payload string
	}
	tests := []struct {
		name  string
		input []byte
		want  []want
	}{
		{"verified masked hello", frameHex(t, "81 85 BD D0 E5 2A D5 B5 89 46 D2"), []want{{OpText, "hello"}}},
		{"unmasked text", frameHex(t, "81 05 48 65 6c 6c 6f"), []want{{OpText, "Hello"}}},
		{"verified fragments", frameHex(t, "01 03 48 65 6C 80 02 6C 6F"), []want{{OpText, "Hello"}}},
		{"three fragments", frameHex(t, "01 01 48 00 02 65 6c 80 02 6c 6f"), []want{{OpText, "Hello"}}},
		{"opcode of a continuing FIN=0 frame is ignored", frameHex(t, "01 01 48 02 02 65 6c 80 02 6c 6f"), []want{{OpText, "Hello"}}},
		{"empty fragments contribute nothing", frameHex(t, "01 00 00 02 48 69 80 01 21"), []want{{OpText, "Hi!"}}},
		{"empty final fragment drops the message", frameHex(t, "01 02 48 69 80 00 81 01 41"), []want{{OpText, "A"}}},
		{"masked fragments", append(frameEncode(0x01, []byte("He"), true, key), frameEncode(0x80, []byte("llo"), true, key)...), []want{{OpText, "Hello"}}},
		{"rsv bits are ignored", frameHex(t, "c1 01 41 f1 01 42"), []want{{OpText, "A"}, {OpText, "B"}}},
		{"empty text", frameHex(t, "81 00"), []want{{OpText, ""}}},
		{"ping", frameHex(t, "89 00"), []want{{OpPing, ""}}},
		{"ping with payload", frameHex(t, "89 02 68 69"), []want{{OpPing, "hi"}}},
		{"pong", frameHex(t, "8a 00"), []want{{OpPong, ""}}},
		{"close", frameHex(t, "88 00"), []want{{OpClose, ""}}},
		{"close with status 1000 is still a close", frameHex(t, "88 02 03 e8"), []want{{OpClose, "\x03\xe8"}}},
		{"masked close with status", frameEncode(0x88, []byte{0x03, 0xe8}, true, key), []want{{OpClose, "\x03\xe8"}}},
		{"binary message is returned for the caller to refuse", frameHex(t, "82 01 41"), []want{{0x2, "A"}}},
		{"16-bit length unmasked", frameEncode(0x81, medium, false, key), []want{{OpText, string(medium)}}},
		{"16-bit length masked", frameEncode(0x81, medium, true, key), []want{{OpText, string(medium)}}},
		{"64-bit length unmasked", frameEncode(0x81, big, false, key), []want{{OpText, string(big)}}},
		{"64-bit length masked", frameEncode(0x81, big, true, key), []want{{OpText, string(big)}}},
		{"16-bit length form for a short payload", frameHex(t, "81 7e 00 02 68 69"), []want{{OpText, "hi"}}},
		{"several messages", append(frameHex(t, "81 01 61 89 00 01 01 62 80 01 63"), frameEncode(0x81, []byte("é"), true, key)...),
			[]want{{OpText, "a"}, {OpPing, ""}, {OpText, "bc"}, {OpText, "é"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var msgs []ClientMessage
			var err error
			noPanic(t, "FrameReader", func() { msgs, err = frameReadAll(tc.input) })
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reader ended with %v, want io.EOF after the messages", err)
			}
			if len(msgs) != len(tc.want) {
				t.Fatalf("got %d messages, want %d", len(msgs), len(tc.want))
			}
			for i, msg := range msgs {
				if msg.Opcode != tc.want[i].opcode || string(msg.Payload) != tc.want[i].payload {
					t.Fatalf("message %d: opcode %d payload %.40q, want opcode %d payload %.40q",
						i, msg.Opcode, msg.Payload, tc.want[i].opcode, tc.want[i].payload)
				}
			}
		})
	}
}

// TestFrameReaderErrors: invalid sequences are protocol errors (answered
// with "\x88\x00"), invalid UTF-8 closes without a frame (§6.5.7).
func TestFrameReaderErrors(t *testing.T) {
	t.Parallel()
	key := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name  string
		input []byte
		want  error
		// before is how many messages come before the error.
		before int
	}{
		{"continuation without a fragmented message", frameHex(t, "80 01 41"), ErrFrameProtocol, 0},
		{"FIN=0 continuation without a fragmented message", frameHex(t, "00 01 41"), ErrFrameProtocol, 0},
		{"new message while one is open", frameHex(t, "01 01 48 81 01 41"), ErrFrameProtocol, 0},
		{"ping between fragments", frameHex(t, "01 01 48 89 00"), ErrFrameProtocol, 0},
		{"close between fragments", frameHex(t, "01 01 48 88 00"), ErrFrameProtocol, 0},
		{"continuation after a complete message", frameHex(t, "81 01 41 80 01 42"), ErrFrameProtocol, 1},
		{"invalid utf-8 text", frameHex(t, "81 02 c3 28"), ErrFrameUTF8, 0},
		{"invalid utf-8 masked text", frameEncode(0x81, []byte{0xff, 0xfe}, true, key), ErrFrameUTF8, 0},
		{"invalid utf-8 in a fragment", frameHex(t, "01 01 41 80 01 ff"), ErrFrameUTF8, 0},
		{"character split across fragments", frameHex(t, "01 01 c3 80 01 a9"), ErrFrameUTF8, 0},
		{"invalid utf-8 ping payload", frameHex(t, "89 01 ff"), ErrFrameUTF8, 0},
		{"invalid utf-8 after a good message", frameHex(t, "81 01 41 81 01 80"), ErrFrameUTF8, 1},
		{"reserved opcode", frameHex(t, "83 01 41"), ErrFrameProtocol, 0},
		{"reserved opcode in a FIN=0 frame", frameHex(t, "07 01 41"), ErrFrameProtocol, 0},
		{"reserved control opcode", frameHex(t, "8b 00"), ErrFrameProtocol, 0},
		{"reserved opcode, first byte only", frameHex(t, "57"), ErrFrameProtocol, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var msgs []ClientMessage
			var err error
			noPanic(t, "FrameReader", func() { msgs, err = frameReadAll(tc.input) })
			if !errors.Is(err, tc.want) || len(msgs) != tc.before {
				t.Fatalf("got %d messages then %v, want %d then %v", len(msgs), err, tc.before, tc.want)
			}
		})
	}
}

// TestFrameReaderTruncated: a stream cut anywhere inside a frame ends
// with an error, never a message and never a panic; a huge announced
// length is refused before it is allocated.
func TestFrameReaderTruncated(t *testing.T) {
	t.Parallel()
	frames := [][]byte{
		frameHex(t, "81 85 BD D0 E5 2A D5 B5 89 46 D2"),
		frameEncode(0x81, bytes.Repeat([]byte("a"), 300), true, [4]byte{9, 8, 7, 6}),
		frameEncode(0x81, bytes.Repeat([]byte("b"), 70000), false, [4]byte{}),
	}
	for i, frame := range frames {
		for cut := 1; cut < len(frame); cut += max(1, len(frame)/50) {
			msgs, err := frameReadAll(frame[:cut])
			if len(msgs) != 0 || err == nil || errors.Is(err, ErrFrameProtocol) || errors.Is(err, ErrFrameUTF8) {
				t.Fatalf("frame %d cut at %d: %d messages, error %v; want only a read error", i, cut, len(msgs), err)
			}
		}
	}
	for _, head := range []string{"81 7f 7f ff ff ff ff ff ff ff", "81 7f ff ff ff ff ff ff ff ff", "81 ff 7f ff ff ff ff ff ff ff 01 02 03 04"} {
		var err error
		noPanic(t, "huge frame "+head, func() { _, err = frameReadAll(frameHex(t, head)) })
		if err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("huge frame %s: %v, want a refusal", head, err)
		}
	}
}

// FuzzFrameReader: any byte stream is read without a panic; every
// message has a real opcode, and every non-close payload is valid UTF-8
// (§6.5.7 checks each frame).
func FuzzFrameReader(f *testing.F) {
	for _, seed := range []string{
		"81 85 BD D0 E5 2A D5 B5 89 46 D2",
		"01 03 48 65 6C 80 02 6C 6F",
		"01 02 48 69 80 00 81 01 41",
		"88 02 03 e8",
		"80 01 41",
		"01 01 c3 80 01 a9",
		"81 7e 00 02 68 69",
		"81 7f 7f ff ff ff ff ff ff ff",
		"89 00 8a 00 82 01 00",
	} {
		f.Add(frameHex(f, seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var msgs []ClientMessage
		var err error
		noPanic(t, fmt.Sprintf("FrameReader(% x)", data), func() { msgs, err = frameReadAll(data) })
		if err == nil {
			t.Fatal("reader ended without an error")
		}
		for _, msg := range msgs {
			if msg.Opcode == OpContinuation {
				t.Fatalf("message with opcode 0 from % x", data)
			}
			if msg.Opcode != OpClose && len(msg.Payload) > 0 && !utf8.Valid(msg.Payload) {
				t.Fatalf("invalid UTF-8 payload %q passed from % x", msg.Payload, data)
			}
		}
	})
}

// FuzzFrameRoundTrip: a text, ping, pong or close frame the client sends,
// masked or not, is read back with the same opcode and payload.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), byte(OpText), true, uint32(0xBDD0E52A))
	f.Add([]byte{}, byte(OpPing), false, uint32(0))
	f.Add([]byte{0x03, 0xe8}, byte(OpClose), true, uint32(1))
	f.Add(bytes.Repeat([]byte("x"), 300), byte(OpText), false, uint32(7))
	f.Fuzz(func(t *testing.T, payload []byte, opcode byte, masked bool, mask uint32) {
		switch opcode {
		case OpText, OpPing, OpPong:
			if !utf8.Valid(payload) {
				return
			}
		case OpClose:
		default:
			return
		}
		var key [4]byte
		binary.BigEndian.PutUint32(key[:], mask)
		var msgs []ClientMessage
		var err error
		noPanic(t, "FrameReader", func() { msgs, err = frameReadAll(frameEncode(0x80|opcode, payload, masked, key)) })
		if !errors.Is(err, io.EOF) || len(msgs) != 1 || msgs[0].Opcode != opcode || !bytes.Equal(msgs[0].Payload, payload) {
			t.Fatalf("round trip of opcode %d payload %q: %+v, %v", opcode, payload, msgs, err)
		}
	})
}

// FuzzFrameParserSplits: however the input is cut into reads, the parser
// returns the same messages and the same error as for the input in one
// piece (what a transport.Conn hands it is any split of the stream).
func FuzzFrameParserSplits(f *testing.F) {
	f.Add(frameHex(f, "01 03 48 65 6C 80 02 6C 6F 89 00 81 85 BD D0 E5 2A D5 B5 89 46 D2"), uint8(1))
	f.Add(frameEncode(0x81, bytes.Repeat([]byte("é"), 200), true, [4]byte{1, 2, 3, 4}), uint8(7))
	f.Add(frameHex(f, "01 01 c3 80 01 a9"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		whole, wholeErr := frameReadAll(data)
		split, splitErr := frameReadSplit(data, int(size))
		if !errors.Is(splitErr, wholeErr) && !(errors.Is(wholeErr, io.EOF) && errors.Is(splitErr, io.EOF)) {
			t.Fatalf("split by %d: error %v, whole: %v", size, splitErr, wholeErr)
		}
		if len(whole) != len(split) {
			t.Fatalf("split by %d: %d messages, whole: %d", size, len(split), len(whole))
		}
		for i := range whole {
			if whole[i].Opcode != split[i].Opcode || !bytes.Equal(whole[i].Payload, split[i].Payload) {
				t.Fatalf("split by %d: message %d differs", size, i)
			}
		}
	})
}

// countingBudget is a Budget of limit bytes that counts what is held.
type countingBudget struct{ held, limit int64 }

func (b *countingBudget) Reserve(n int64) bool {
	if b.held+n > b.limit {
		return false
	}
	b.held += n
	return true
}

func (b *countingBudget) Release(n int64) { b.held -= n }

// TestFrameParserLimits: a message over MaxMessage or over the budget is
// refused when its header is read; what a parser holds goes back to the
// budget once the message is out or the parser closes; a discarding
// parser holds nothing.
func TestFrameParserLimits(t *testing.T) {
	t.Parallel()
	key := [4]byte{9, 8, 7, 6}
	t.Run("over MaxMessage at the header", func(t *testing.T) {
		t.Parallel()
		p := &FrameParser{MaxMessage: 100}
		head := frameEncode(0x81, bytes.Repeat([]byte("a"), 101), true, key)[:8]
		if _, _, _, err := p.Next(head); !errors.Is(err, ErrMessageTooBig) {
			t.Fatalf("error %v, want ErrMessageTooBig", err)
		}
	})
	t.Run("fragments add up", func(t *testing.T) {
		t.Parallel()
		p := &FrameParser{MaxMessage: 100}
		in := append(frameEncode(0x01, bytes.Repeat([]byte("a"), 60), false, key), frameEncode(0x80, bytes.Repeat([]byte("b"), 60), false, key)...)
		if _, _, _, err := p.Next(in); !errors.Is(err, ErrMessageTooBig) {
			t.Fatalf("error %v, want ErrMessageTooBig", err)
		}
	})
	t.Run("budget", func(t *testing.T) {
		t.Parallel()
		budget := &countingBudget{limit: 150}
		p := &FrameParser{MaxMessage: 1000, Budget: budget}
		frame := frameEncode(0x81, bytes.Repeat([]byte("c"), 100), true, key)
		if _, _, _, err := p.Next(frame[:50]); err != nil || budget.held != 100 {
			t.Fatalf("half a frame: %v, %d held", err, budget.held)
		}
		other := &FrameParser{MaxMessage: 1000, Budget: budget}
		if _, _, _, err := other.Next(frameEncode(0x81, bytes.Repeat([]byte("d"), 60), true, key)); !errors.Is(err, ErrMessageTooBig) {
			t.Fatalf("second parser over the budget: %v", err)
		}
		msg, _, ok, err := p.Next(frame[50:])
		if err != nil || !ok || len(msg.Payload) != 100 || budget.held != 0 {
			t.Fatalf("frame done: %v %v %d bytes, %d held", err, ok, len(msg.Payload), budget.held)
		}
		p.Next(frame[:50])
		p.Close()
		if budget.held != 0 {
			t.Fatalf("%d held after Close", budget.held)
		}
	})
	t.Run("discard", func(t *testing.T) {
		t.Parallel()
		budget := &countingBudget{limit: 10}
		p := &FrameParser{Discard: true, Budget: budget}
		in := append(frameEncode(0x81, bytes.Repeat([]byte("e"), 5000), true, key), frameEncode(0x89, []byte("p"), true, key)...)
		msgs, err := frameReadWith(p, in, 100)
		if !errors.Is(err, io.EOF) || len(msgs) != 2 || msgs[0].Opcode != OpText || msgs[0].Payload != nil || msgs[1].Opcode != OpPing || budget.held != 0 {
			t.Fatalf("%+v, %v, %d held", msgs, err, budget.held)
		}
	})
}
