package pushstream

import (
	"bufio"
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

// frameReadAll reads messages until an error; payloads are copied.
func frameReadAll(data []byte) ([]clientMessage, error) {
	fr := &frameReader{r: bufio.NewReader(bytes.NewReader(data)), maxPayload: frameMaxPayload}
	var msgs []clientMessage
	for {
		msg, err := fr.next()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, clientMessage{opcode: msg.opcode, payload: bytes.Clone(msg.payload)})
		if len(msgs) > 1000 {
			return msgs, errors.New("too many messages")
		}
	}
}

// TestFrameAppend checks the server frames of PROTOCOL.md §6.5.4: never
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
		{"verified Hello", opText, 0, "Hello", []byte{0x81, 0x05}},
		{"empty text", opText, 0, "", []byte{0x81, 0x00}},
		{"125 bytes, 7-bit length", opText, 125, "", []byte{0x81, 125}},
		{"126 bytes, 16-bit length", opText, 126, "", []byte{0x81, 0x7e, 0x00, 0x7e}},
		{"verified 65535 bytes", opText, 65535, "", []byte{0x81, 0x7e, 0xff, 0xff}},
		{"verified 65536 bytes", opText, 65536, "", []byte{0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"verified 131072 bytes", opText, 131072, "", []byte{0x81, 0x7f, 0, 0, 0, 0, 0, 2, 0, 0}},
		{"binary bytes are not checked", opText, 0, "\xff\xfe\x00", []byte{0x81, 0x03}},
		{"ping", opPing, 0, "", []byte{0x89, 0x00}},
		{"pong", opPong, 0, "", []byte{0x8a, 0x00}},
		{"close", opClose, 0, "", []byte{0x88, 0x00}},
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
			if tc.opcode == opText && !bytes.Equal(textFrame(payload), want[4:]) {
				t.Fatal("textFrame differs from appendFrame")
			}
		})
	}
	if !bytes.Equal(wsPingFrame, []byte("\x89\x00")) || !bytes.Equal(wsPongFrame, []byte("\x8a\x00")) || !bytes.Equal(wsCloseFrame, []byte("\x88\x00")) {
		t.Fatalf("control frames % x, % x, % x", wsPingFrame, wsPongFrame, wsCloseFrame)
	}
}

// TestFrameCloseWithReason checks the validation close frame of
// PROTOCOL.md §6.5.4 and its verified bytes (§6.5.6).
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
			if got := string(closeFrameWithReason(tc.status, tc.explain)); got != tc.want {
				t.Fatalf("close frame %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFrameReader checks the client frames of PROTOCOL.md §6.5.7: masked
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
		{"verified masked hello", frameHex(t, "81 85 BD D0 E5 2A D5 B5 89 46 D2"), []want{{opText, "hello"}}},
		{"unmasked text", frameHex(t, "81 05 48 65 6c 6c 6f"), []want{{opText, "Hello"}}},
		{"verified fragments", frameHex(t, "01 03 48 65 6C 80 02 6C 6F"), []want{{opText, "Hello"}}},
		{"three fragments", frameHex(t, "01 01 48 00 02 65 6c 80 02 6c 6f"), []want{{opText, "Hello"}}},
		{"opcode of a continuing FIN=0 frame is ignored", frameHex(t, "01 01 48 02 02 65 6c 80 02 6c 6f"), []want{{opText, "Hello"}}},
		{"empty fragments contribute nothing", frameHex(t, "01 00 00 02 48 69 80 01 21"), []want{{opText, "Hi!"}}},
		{"empty final fragment drops the message", frameHex(t, "01 02 48 69 80 00 81 01 41"), []want{{opText, "A"}}},
		{"masked fragments", append(frameEncode(0x01, []byte("He"), true, key), frameEncode(0x80, []byte("llo"), true, key)...), []want{{opText, "Hello"}}},
		{"rsv bits are ignored", frameHex(t, "c1 01 41 f1 01 42"), []want{{opText, "A"}, {opText, "B"}}},
		{"empty text", frameHex(t, "81 00"), []want{{opText, ""}}},
		{"ping", frameHex(t, "89 00"), []want{{opPing, ""}}},
		{"ping with payload", frameHex(t, "89 02 68 69"), []want{{opPing, "hi"}}},
		{"pong", frameHex(t, "8a 00"), []want{{opPong, ""}}},
		{"close", frameHex(t, "88 00"), []want{{opClose, ""}}},
		{"close with status 1000 is still a close", frameHex(t, "88 02 03 e8"), []want{{opClose, "\x03\xe8"}}},
		{"masked close with status", frameEncode(0x88, []byte{0x03, 0xe8}, true, key), []want{{opClose, "\x03\xe8"}}},
		{"binary message is returned for the caller to refuse", frameHex(t, "82 01 41"), []want{{0x2, "A"}}},
		{"16-bit length unmasked", frameEncode(0x81, medium, false, key), []want{{opText, string(medium)}}},
		{"16-bit length masked", frameEncode(0x81, medium, true, key), []want{{opText, string(medium)}}},
		{"64-bit length unmasked", frameEncode(0x81, big, false, key), []want{{opText, string(big)}}},
		{"64-bit length masked", frameEncode(0x81, big, true, key), []want{{opText, string(big)}}},
		{"16-bit length form for a short payload", frameHex(t, "81 7e 00 02 68 69"), []want{{opText, "hi"}}},
		{"several messages", append(frameHex(t, "81 01 61 89 00 01 01 62 80 01 63"), frameEncode(0x81, []byte("é"), true, key)...),
			[]want{{opText, "a"}, {opPing, ""}, {opText, "bc"}, {opText, "é"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var msgs []clientMessage
			var err error
			parsersNoPanic(t, "frameReader", func() { msgs, err = frameReadAll(tc.input) })
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reader ended with %v, want io.EOF after the messages", err)
			}
			if len(msgs) != len(tc.want) {
				t.Fatalf("got %d messages, want %d", len(msgs), len(tc.want))
			}
			for i, msg := range msgs {
				if msg.opcode != tc.want[i].opcode || string(msg.payload) != tc.want[i].payload {
					t.Fatalf("message %d: opcode %d payload %.40q, want opcode %d payload %.40q",
						i, msg.opcode, msg.payload, tc.want[i].opcode, tc.want[i].payload)
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
		{"continuation without a fragmented message", frameHex(t, "80 01 41"), errFrameProtocol, 0},
		{"FIN=0 continuation without a fragmented message", frameHex(t, "00 01 41"), errFrameProtocol, 0},
		{"new message while one is open", frameHex(t, "01 01 48 81 01 41"), errFrameProtocol, 0},
		{"ping between fragments", frameHex(t, "01 01 48 89 00"), errFrameProtocol, 0},
		{"close between fragments", frameHex(t, "01 01 48 88 00"), errFrameProtocol, 0},
		{"continuation after a complete message", frameHex(t, "81 01 41 80 01 42"), errFrameProtocol, 1},
		{"invalid utf-8 text", frameHex(t, "81 02 c3 28"), errFrameUTF8, 0},
		{"invalid utf-8 masked text", frameEncode(0x81, []byte{0xff, 0xfe}, true, key), errFrameUTF8, 0},
		{"invalid utf-8 in a fragment", frameHex(t, "01 01 41 80 01 ff"), errFrameUTF8, 0},
		{"character split across fragments", frameHex(t, "01 01 c3 80 01 a9"), errFrameUTF8, 0},
		{"invalid utf-8 ping payload", frameHex(t, "89 01 ff"), errFrameUTF8, 0},
		{"invalid utf-8 after a good message", frameHex(t, "81 01 41 81 01 80"), errFrameUTF8, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var msgs []clientMessage
			var err error
			parsersNoPanic(t, "frameReader", func() { msgs, err = frameReadAll(tc.input) })
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
			if len(msgs) != 0 || err == nil || errors.Is(err, errFrameProtocol) || errors.Is(err, errFrameUTF8) {
				t.Fatalf("frame %d cut at %d: %d messages, error %v; want only a read error", i, cut, len(msgs), err)
			}
		}
	}
	for _, head := range []string{"81 7f 7f ff ff ff ff ff ff ff", "81 7f ff ff ff ff ff ff ff ff", "81 ff 7f ff ff ff ff ff ff ff 01 02 03 04"} {
		var err error
		parsersNoPanic(t, "huge frame "+head, func() { _, err = frameReadAll(frameHex(t, head)) })
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
		var msgs []clientMessage
		var err error
		parsersNoPanic(t, fmt.Sprintf("frameReader(% x)", data), func() { msgs, err = frameReadAll(data) })
		if err == nil {
			t.Fatal("reader ended without an error")
		}
		for _, msg := range msgs {
			if msg.opcode == opContinuation {
				t.Fatalf("message with opcode 0 from % x", data)
			}
			if msg.opcode != opClose && len(msg.payload) > 0 && !utf8.Valid(msg.payload) {
				t.Fatalf("invalid UTF-8 payload %q passed from % x", msg.payload, data)
			}
		}
	})
}

// FuzzFrameRoundTrip: a text, ping, pong or close frame the client sends,
// masked or not, is read back with the same opcode and payload.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), byte(opText), true, uint32(0xBDD0E52A))
	f.Add([]byte{}, byte(opPing), false, uint32(0))
	f.Add([]byte{0x03, 0xe8}, byte(opClose), true, uint32(1))
	f.Add(bytes.Repeat([]byte("x"), 300), byte(opText), false, uint32(7))
	f.Fuzz(func(t *testing.T, payload []byte, opcode byte, masked bool, mask uint32) {
		switch opcode {
		case opText, opPing, opPong:
			if !utf8.Valid(payload) {
				return
			}
		case opClose:
		default:
			return
		}
		var key [4]byte
		binary.BigEndian.PutUint32(key[:], mask)
		var msgs []clientMessage
		var err error
		parsersNoPanic(t, "frameReader", func() { msgs, err = frameReadAll(frameEncode(0x80|opcode, payload, masked, key)) })
		if !errors.Is(err, io.EOF) || len(msgs) != 1 || msgs[0].opcode != opcode || !bytes.Equal(msgs[0].payload, payload) {
			t.Fatalf("round trip of opcode %d payload %q: %+v, %v", opcode, payload, msgs, err)
		}
	})
}
