package wire

import (
	"crypto/sha1" //nolint:gosec // G505: SHA-1 is what RFC 6455 prescribes for the accept key
	"encoding/base64"
	"encoding/binary"
	"strconv"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Frames the server sends that carry no payload (docs/PROTOCOL.md §6.5.4).
var (
	PingFrame  = []byte{0x89, 0x00}
	PongFrame  = []byte{0x8A, 0x00}
	CloseFrame = []byte{0x88, 0x00}
)

// wsAcceptGUID is RFC 6455's key suffix for Sec-WebSocket-Accept.
const wsAcceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Handshake returns the 101 answer to a websocket request with key,
// written byte for byte (docs/PROTOCOL.md §6.5.2).
func Handshake(key string) []byte {
	sum := sha1.Sum([]byte(key + wsAcceptGUID)) //nolint:gosec // G401: RFC 6455
	accept := base64.StdEncoding.EncodeToString(sum[:])
	return []byte("HTTP/1.1 101 Switching Protocols\r\n" +
		"Expires: " + AntiCacheExpires + "\r\n" +
		"Cache-Control: " + AntiCacheControl + "\r\n" +
		"Upgrade: WebSocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
}

// appendFrame appends an unmasked, unfragmented frame of opcode.
func appendFrame(dst []byte, opcode byte, payload []byte) []byte {
	dst = append(dst, 0x80|opcode)
	n := len(payload)
	switch {
	case n <= 125:
		dst = append(dst, byte(n))
	case n < 1<<16:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// TextFrame returns payload as a text frame.
func TextFrame(payload []byte) []byte {
	return appendFrame(make([]byte, 0, len(payload)+10), OpText, payload)
}

// CloseFrameTooBig closes a connection whose client sent a message over
// its limit: status 1009 (RFC 6455 §7.4.1).
var CloseFrameTooBig = []byte{0x88, 0x02, 0x03, 0xF1}

// CloseFrameWithReason is the close frame of a validation failure
// (docs/PROTOCOL.md §6.5.6): status 1008 and a JSON reason.
func CloseFrameWithReason(status int, explain string) []byte {
	payload := []byte{0x03, 0xF0}
	payload = append(payload, `{"http_status": `...)
	payload = strconv.AppendInt(payload, int64(status), 10)
	payload = append(payload, `, "explain":"`...)
	payload = append(payload, explain...)
	payload = append(payload, `"}`...)
	return appendFrame(nil, OpClose, payload)
}

// WebSocketFormatter wraps each formatted message in a text frame, so the
// frame bytes themselves are shared between subscribers.
type WebSocketFormatter struct {
	text *TextFormatter
}

// NewWebSocketFormatter returns the formatter of a message template.
func NewWebSocketFormatter(template string) *WebSocketFormatter {
	return &WebSocketFormatter{text: &TextFormatter{Template: CompileTemplate(template)}}
}

// Format implements engine.Formatter.
func (f *WebSocketFormatter) Format(msg *engine.Message) []byte {
	return TextFrame(f.text.Format(msg))
}
