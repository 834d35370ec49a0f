package wire

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// Errors of the client frame parser.
var (
	// ErrFrameProtocol is answered with a plain close frame.
	ErrFrameProtocol = errors.New("invalid websocket frame sequence")
	// ErrFrameUTF8 closes the connection without a frame.
	ErrFrameUTF8 = errors.New("websocket payload is not valid utf-8")
	// ErrMessageTooBig is answered with a close frame of status 1009.
	ErrMessageTooBig = errors.New("websocket message over the size limit")
)

// Budget bounds the bytes that many parsers hold together.
type Budget interface {
	// Reserve takes n bytes, or reports false.
	Reserve(n int64) bool
	// Release gives n bytes back.
	Release(n int64)
}

// maxControlPayload is RFC 6455's limit on a control frame's payload.
const maxControlPayload = 125

// ClientMessage is a complete message read from a websocket client.
type ClientMessage struct {
	// Opcode is the message's opcode: of its first frame when fragmented.
	Opcode byte
	// Payload is the unmasked payload; nil for data a discarding parser
	// dropped. It belongs to the caller.
	Payload []byte
}

// FrameParser reads client frames as their bytes arrive, masked or not
// (docs/PROTOCOL.md §6.5.7), and reassembles fragmented messages. Every
// byte is looked at once, however the input is split, and a frame's
// payload is allocated once, when its header has shown its length to be
// within the limit. The zero value takes no data message at all.
type FrameParser struct {
	// MaxMessage caps the payload of a data message, all its fragments
	// together; a longer one fails with ErrMessageTooBig.
	MaxMessage int64
	// Discard checks data messages and drops their payload instead of
	// keeping it: they come out with a nil payload and no limit applies.
	Discard bool
	// Budget, if set, is asked for every payload byte the parser is about
	// to hold; a refusal fails with ErrMessageTooBig. What the parser
	// holds goes back to it once a message is handed out or at Close.
	Budget Budget
	held   int64

	head    [14]byte
	headLen int

	// The frame being read, once its header is complete.
	inFrame   bool
	fin       bool
	opcode    byte
	masked    bool
	mask      [4]byte
	maskPos   int
	length    uint64
	remaining uint64
	// keep tells whether the payload is kept, and fragment whether it
	// goes to the fragmented message.
	keep, fragment bool
	payload        []byte
	pending        error
	text           utf8Stream

	fragOpen   bool
	fragOpcode byte
	fragments  []byte
}

// Next parses data until a message is complete or data runs out. It
// returns how many bytes it used and, with ok, the message; the rest of
// data is for the next call. Masked payloads are unmasked in place in
// data. After an error the parser must not be used again.
func (p *FrameParser) Next(data []byte) (msg ClientMessage, used int, ok bool, err error) {
	for used < len(data) || (p.inFrame && p.remaining == 0) {
		if !p.inFrame {
			n, err := p.readHead(data[used:])
			used += n
			if err != nil {
				return ClientMessage{}, used, false, err
			}
			if !p.inFrame {
				return ClientMessage{}, used, false, nil
			}
		}
		n := p.readPayload(data[used:])
		used += n
		if p.remaining > 0 {
			return ClientMessage{}, used, false, nil
		}
		msg, ok, err := p.endFrame()
		if err != nil || ok {
			return msg, used, ok, err
		}
	}
	return ClientMessage{}, used, false, nil
}

// readHead collects header bytes and, once the header is whole, starts
// the frame. It returns how many bytes it used.
func (p *FrameParser) readHead(data []byte) (int, error) {
	used := 0
	if p.headLen == 0 && len(data) > 0 && reservedOpcode(data[0]&0x0F) {
		// RFC 6455 §5.2: no extension is negotiated, so a reserved
		// opcode fails the connection as soon as its byte is read.
		return 1, ErrFrameProtocol
	}
	for {
		need := headSize(p.head[:p.headLen])
		if p.headLen == need {
			break
		}
		if used == len(data) {
			return used, nil
		}
		n := copy(p.head[p.headLen:need], data[used:])
		p.headLen += n
		used += n
	}
	return used, p.startFrame()
}

// headSize returns the size of the header that begins with h, as far as h
// tells it.
func headSize(h []byte) int {
	if len(h) < 2 {
		return 2
	}
	size := 2
	switch h[1] & 0x7F {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if h[1]&0x80 != 0 {
		size += 4
	}
	return size
}

// startFrame checks a complete header and prepares for the payload.
// Errors that the payload could change (docs/PROTOCOL.md §6.5.7 checks
// UTF-8 first) wait in pending until the payload is read.
func (p *FrameParser) startFrame() error {
	h := p.head[:p.headLen]
	p.headLen = 0
	fin, opcode := h[0]&0x80 != 0, h[0]&0x0F
	length := uint64(h[1] & 0x7F)
	rest := h[2:]
	switch length {
	case 126:
		length, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
	case 127:
		length, rest = binary.BigEndian.Uint64(rest)&(1<<63-1), rest[8:]
	}
	p.masked = h[1]&0x80 != 0
	if p.masked {
		copy(p.mask[:], rest)
	}
	control := opcode >= OpClose
	if control && length > maxControlPayload {
		return ErrFrameProtocol
	}
	p.pending = nil
	switch {
	case !fin && !p.fragOpen && opcode == OpContinuation,
		fin && opcode == OpContinuation && !p.fragOpen,
		fin && opcode != OpContinuation && p.fragOpen:
		p.pending = ErrFrameProtocol
	}
	p.fragment = p.pending == nil && (p.fragOpen || !fin)
	p.keep = p.pending == nil && (control || !p.Discard)
	if p.keep && !control {
		total := length
		if p.fragment {
			total += uint64(len(p.fragments))
		}
		if length > 1<<62 || total > uint64(max(p.MaxMessage, 0)) {
			return ErrMessageTooBig
		}
	}
	if p.keep && length > 0 && p.Budget != nil {
		if !p.Budget.Reserve(int64(length)) {
			return ErrMessageTooBig
		}
		p.held += int64(length)
	}
	p.inFrame, p.fin, p.opcode, p.maskPos = true, fin, opcode, 0
	p.length, p.remaining = length, length
	p.text = utf8Stream{}
	p.payload = nil
	if p.keep {
		if p.fragment {
			// Later fragments grow the buffer as append does, by doubling:
			// growing it by each fragment's length would copy the message
			// once a fragment.
			if !p.fragOpen {
				p.fragments = make([]byte, 0, length)
			}
		} else {
			p.payload = make([]byte, 0, length)
		}
	}
	return nil
}

// reservedOpcode tells whether RFC 6455 reserves opcode (3-7, 11-15).
func reservedOpcode(opcode byte) bool {
	return opcode > OpBinary && opcode != OpClose && opcode != OpPing && opcode != OpPong
}

// readPayload takes payload bytes of the frame from data: unmasks them,
// checks their UTF-8 and keeps them if the frame is kept.
func (p *FrameParser) readPayload(data []byte) int {
	n := len(data)
	if uint64(n) > p.remaining {
		n = int(p.remaining)
	}
	chunk := data[:n]
	if p.masked {
		for i := range chunk {
			chunk[i] ^= p.mask[(p.maskPos+i)&3]
		}
		p.maskPos = (p.maskPos + n) & 3
	}
	if p.opcode != OpClose {
		p.text.write(chunk)
	}
	if p.keep {
		if p.fragment {
			p.fragments = append(p.fragments, chunk...)
		} else {
			p.payload = append(p.payload, chunk...)
		}
	}
	p.remaining -= uint64(n)
	return n
}

// endFrame acts on a frame whose payload is complete.
func (p *FrameParser) endFrame() (ClientMessage, bool, error) {
	p.inFrame = false
	if p.opcode != OpClose && !p.text.end() {
		return ClientMessage{}, false, ErrFrameUTF8
	}
	if p.pending != nil {
		return ClientMessage{}, false, p.pending
	}
	if !p.fin {
		if !p.fragOpen {
			p.fragOpen, p.fragOpcode = true, p.opcode
		}
		return ClientMessage{}, false, nil
	}
	if p.opcode != OpContinuation {
		payload := p.payload
		p.payload = nil
		p.releaseHeld()
		return ClientMessage{Opcode: p.opcode, Payload: payload}, true, nil
	}
	p.fragOpen = false
	payload := p.fragments
	p.fragments = nil
	p.releaseHeld()
	if p.length == 0 {
		// nginx quirk kept: an empty final fragment drops the message.
		return ClientMessage{}, false, nil
	}
	return ClientMessage{Opcode: p.fragOpcode, Payload: payload}, true, nil
}

// releaseHeld gives what the parser holds back to its budget.
func (p *FrameParser) releaseHeld() {
	if p.held > 0 && p.Budget != nil {
		p.Budget.Release(p.held)
	}
	p.held = 0
}

// Close gives back what the parser holds: an unfinished frame or
// fragmented message. The parser must not be used afterwards.
func (p *FrameParser) Close() {
	p.payload, p.fragments = nil, nil
	p.releaseHeld()
}

// utf8Stream checks that a payload arriving in pieces is valid UTF-8,
// carrying an incomplete character from one piece to the next.
type utf8Stream struct {
	carry   [utf8.UTFMax]byte
	n       int
	invalid bool
}

// write checks the next piece.
func (u *utf8Stream) write(p []byte) {
	for u.n > 0 && len(p) > 0 && !u.invalid {
		u.carry[u.n] = p[0]
		u.n++
		p = p[1:]
		if utf8.FullRune(u.carry[:u.n]) {
			u.invalid = !utf8.Valid(u.carry[:u.n])
			u.n = 0
		}
	}
	if u.invalid || len(p) == 0 {
		return
	}
	// An incomplete character at the end waits for the next piece.
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				u.n = copy(u.carry[:], p[i:])
				p = p[:i]
			}
			break
		}
	}
	u.invalid = !utf8.Valid(p)
}

// end reports whether everything written was valid UTF-8.
func (u *utf8Stream) end() bool { return !u.invalid && u.n == 0 }
