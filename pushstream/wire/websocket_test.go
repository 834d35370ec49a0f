package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
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
