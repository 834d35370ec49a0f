package pushstream

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Frames the server sends that carry no payload (PROTOCOL.md §6.5.4).
var (
	wsPingFrame  = []byte{0x89, 0x00}
	wsPongFrame  = []byte{0x8A, 0x00}
	wsCloseFrame = []byte{0x88, 0x00}
)

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

// textFrame returns payload as a text frame.
func textFrame(payload []byte) []byte {
	return appendFrame(make([]byte, 0, len(payload)+10), opText, payload)
}

// closeFrameWithReason is the close frame of a validation failure
// (PROTOCOL.md §6.5.4): status 1008 and a JSON reason.
func closeFrameWithReason(status int, explain string) []byte {
	payload := []byte{0x03, 0xF0}
	payload = append(payload, `{"http_status": `...)
	payload = strconv.AppendInt(payload, int64(status), 10)
	payload = append(payload, `, "explain":"`...)
	payload = append(payload, explain...)
	payload = append(payload, `"}`...)
	return appendFrame(nil, opClose, payload)
}

// webSocketFormatter wraps each formatted message in a text frame, so the
// frame bytes themselves are shared between subscribers.
type webSocketFormatter struct {
	text *TextFormatter
}

// Format implements Formatter.
func (f *webSocketFormatter) Format(msg *Message) []byte {
	return textFrame(f.text.Format(msg))
}

// Errors of the client frame reader.
var (
	// errFrameProtocol is answered with a plain close frame.
	errFrameProtocol = errors.New("invalid websocket frame sequence")
	// errFrameUTF8 closes the connection without a frame.
	errFrameUTF8 = errors.New("websocket payload is not valid utf-8")
)

// clientMessage is a complete message read from a websocket client.
type clientMessage struct {
	opcode  byte
	payload []byte
}

// frameReader reads client frames, masked or not (PROTOCOL.md §6.5.7),
// and reassembles fragmented messages.
type frameReader struct {
	r          io.Reader
	maxPayload int64
	fragOpen   bool
	fragOpcode byte
	fragments  []byte
	header     [8]byte
}

// next returns the next complete message. Its payload is valid until the
// next call.
func (fr *frameReader) next() (clientMessage, error) {
	for {
		fin, opcode, payload, err := fr.readFrame()
		if err != nil {
			return clientMessage{}, err
		}
		if len(payload) > 0 && opcode != opClose && !utf8.Valid(payload) {
			return clientMessage{}, errFrameUTF8
		}
		switch {
		case !fin && (fr.fragOpen || opcode != opContinuation):
			if !fr.fragOpen {
				fr.fragOpen, fr.fragOpcode, fr.fragments = true, opcode, fr.fragments[:0]
			}
			if int64(len(fr.fragments)+len(payload)) > fr.maxPayload {
				return clientMessage{}, errFrameProtocol
			}
			fr.fragments = append(fr.fragments, payload...)
		case !fin:
			return clientMessage{}, errFrameProtocol
		case opcode == opContinuation:
			if !fr.fragOpen {
				return clientMessage{}, errFrameProtocol
			}
			fr.fragOpen = false
			if len(payload) == 0 {
				// nginx quirk kept: an empty final fragment drops the message.
				continue
			}
			fr.fragments = append(fr.fragments, payload...)
			return clientMessage{opcode: fr.fragOpcode, payload: fr.fragments}, nil
		case fr.fragOpen:
			return clientMessage{}, errFrameProtocol
		default:
			return clientMessage{opcode: opcode, payload: payload}, nil
		}
	}
}

// readFrame reads one frame and unmasks its payload.
func (fr *frameReader) readFrame() (fin bool, opcode byte, payload []byte, err error) {
	h := fr.header[:2]
	if _, err = io.ReadFull(fr.r, h); err != nil {
		return false, 0, nil, err
	}
	fin = h[0]&0x80 != 0
	opcode = h[0] & 0x0F
	masked := h[1]&0x80 != 0
	length := int64(h[1] & 0x7F)
	switch length {
	case 126:
		if _, err = io.ReadFull(fr.r, fr.header[:2]); err != nil {
			return false, 0, nil, err
		}
		length = int64(binary.BigEndian.Uint16(fr.header[:2]))
	case 127:
		if _, err = io.ReadFull(fr.r, fr.header[:8]); err != nil {
			return false, 0, nil, err
		}
		length = int64(binary.BigEndian.Uint64(fr.header[:8]) & (1<<63 - 1))
	}
	if length > fr.maxPayload {
		return false, 0, nil, errFrameProtocol
	}
	var mask [4]byte
	if masked {
		if _, err = io.ReadFull(fr.r, mask[:]); err != nil {
			return false, 0, nil, err
		}
	}
	payload = make([]byte, length)
	if _, err = io.ReadFull(fr.r, payload); err != nil {
		return false, 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
	}
	return fin, opcode, payload, nil
}
