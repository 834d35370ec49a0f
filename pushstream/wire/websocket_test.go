package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// frameMaxPayload is the payload limit the frame tests give the reader.
const frameMaxPayload = 1 << 20

// frameHex turns "81 05 48 65" into bytes.
func frameHex(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for _, field := range strings.Fields(s) {
		var b byte
		if _, err := fmt.Sscanf(field, "%02x", &b); err != nil || len(field) != 2 {
			t.Fatalf("bad hex byte %q", field)
		}
		out = append(out, b)
	}
	return out
}

// frameEncode builds a client frame: first byte as given, then the length
// in its shortest form, optionally masked with key.
func frameEncode(first byte, payload []byte, masked bool, key [4]byte) []byte {
	out := []byte{first}
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	n := len(payload)
	switch {
	case n <= 125:
		out = append(out, maskBit|byte(n))
	case n < 1<<16:
		out = append(out, maskBit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	out = append(out, key[:]...)
	for i, b := range payload {
		out = append(out, b^key[i&3])
	}
	return out
}

// frameReadAll parses data given in one piece, until an error or the
// end of data: io.EOF at a frame boundary, io.ErrUnexpectedEOF inside a
// frame or a fragmented message.
func frameReadAll(data []byte) ([]ClientMessage, error) {
	return frameReadSplit(data, len(data))
}

// frameReadSplit parses data handed over in pieces of at most size bytes,
// as reads from a socket would.
func frameReadSplit(data []byte, size int) ([]ClientMessage, error) {
	p := &FrameParser{MaxMessage: frameMaxPayload}
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

// TestFrameAppend checks the server frames of docs/PROTOCOL.md §6.5.4: never
// masked, never fragmented, FIN set, shortest length form.
func TestFrameAppend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opcode  byte
		size    int
		payload string
		head    []byte
	}{
		{"verified Hello", OpText, 0, "Hello", []byte{0x81, 0x05}},
		{"empty text", OpText, 0, "", []byte{0x81, 0x00}},
		{"125 bytes, 7-bit length", OpText, 125, "", []byte{0x81, 125}},
		{"126 bytes, 16-bit length", OpText, 126, "", []byte{0x81, 0x7e, 0x00, 0x7e}},
		{"verified 65535 bytes", OpText, 65535, "", []byte{0x81, 0x7e, 0xff, 0xff}},
		{"verified 65536 bytes", OpText, 65536, "", []byte{0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"verified 131072 bytes", OpText, 131072, "", []byte{0x81, 0x7f, 0, 0, 0, 0, 0, 2, 0, 0}},
		{"binary bytes are not checked", OpText, 0, "\xff\xfe\x00", []byte{0x81, 0x03}},
		{"ping", OpPing, 0, "", []byte{0x89, 0x00}},
		{"pong", OpPong, 0, "", []byte{0x8a, 0x00}},
		{"close", OpClose, 0, "", []byte{0x88, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			payload := []byte(tc.payload)
			if tc.size > 0 {
				payload = bytes.Repeat([]byte{'x'}, tc.size)
			}
			got := appendFrame([]byte("kept"), tc.opcode, payload)
			want := append(append([]byte("kept"), tc.head...), payload...)
			if !bytes.Equal(got, want) {
				t.Fatalf("frame starts % x, want % x (len %d, want %d)", got[:min(len(got), 14)], want[:min(len(want), 14)], len(got), len(want))
			}
			if tc.opcode == OpText && !bytes.Equal(TextFrame(payload), want[4:]) {
				t.Fatal("TextFrame differs from appendFrame")
			}
		})
	}
	if !bytes.Equal(PingFrame, []byte("\x89\x00")) || !bytes.Equal(PongFrame, []byte("\x8a\x00")) || !bytes.Equal(CloseFrame, []byte("\x88\x00")) {
		t.Fatalf("control frames % x, % x, % x", PingFrame, PongFrame, CloseFrame)
	}
}

// TestFrameCloseWithReason checks the validation close frame of
// docs/PROTOCOL.md §6.5.4 and its verified bytes (§6.5.6).
func TestFrameCloseWithReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		explain string
		want    string
	}{
		{"verified authorized only", 403, "Subscriber could not create channels.",
			"\x88\x49\x03\xf0{\"http_status\": 403, \"explain\":\"Subscriber could not create channels.\"}"},
		{"memory, empty explain", 500, "", "\x88\x24\x03\xf0{\"http_status\": 500, \"explain\":\"\"}"},
		{"events channel", 403, "Subscription to events channel is not allowed.",
			"\x88\x52\x03\xf0{\"http_status\": 403, \"explain\":\"Subscription to events channel is not allowed.\"}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(CloseFrameWithReason(tc.status, tc.explain)); got != tc.want {
				t.Fatalf("close frame %q, want %q", got, tc.want)
			}
		})
	}
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
