//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Framings of a subscriber connection after its response head.
const (
	framingIdentity  = iota // a body read to the end of the connection
	framingChunked          // a chunked body
	framingWebSocket        // server frames
)

// chunkSizeLine and chunkCRLF are streamParser.chunkLeft states.
const (
	chunkSizeLine = -1
	chunkCRLF     = -2
	maxLine       = 1 << 20
)

// streamParser turns the bytes of one subscriber connection, in whatever
// pieces they arrive, into message bodies for the tally. It is the
// incremental twin of the goroutine readers in subscriber.go.
type streamParser struct {
	tally       *tally
	st          *subState
	framing     int
	eventSource bool

	pending   []byte // raw bytes not consumed yet (a partial chunk head or frame)
	chunkLeft int64
	line      []byte // a partial line
	fragments []byte // a fragmented websocket message
	out       []byte // bytes to send back (websocket pongs)
}

func newStreamParser(t *tally, st *subState, framing int, eventSource bool) *streamParser {
	return &streamParser{tally: t, st: st, framing: framing, eventSource: eventSource, chunkLeft: chunkSizeLine}
}

// feed consumes data received at now. It returns io.EOF when the server
// ended the stream (last chunk, close frame).
func (p *streamParser) feed(data []byte, now int64) error {
	if p.framing == framingIdentity {
		p.lines(data, now)
		return nil
	}
	buf := data
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		buf = p.pending
	}
	var used int
	var err error
	if p.framing == framingChunked {
		used, err = p.chunks(buf, now)
	} else {
		used, err = p.frames(buf, now)
	}
	p.pending = append(p.pending[:0], buf[used:]...)
	return err
}

// chunks decodes chunked framing and returns how many bytes it consumed.
func (p *streamParser) chunks(buf []byte, now int64) (int, error) {
	i := 0
	for i < len(buf) {
		switch p.chunkLeft {
		case chunkSizeLine:
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				return i, nil
			}
			size, ok := parseHex(buf[i : i+j])
			if !ok {
				return i, fmt.Errorf("bad chunk size line %q", buf[i:i+j])
			}
			i += j + 1
			if size == 0 {
				return i, io.EOF
			}
			p.chunkLeft = size
		case chunkCRLF:
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				return i, nil
			}
			i += j + 1
			p.chunkLeft = chunkSizeLine
		default:
			n := min(p.chunkLeft, int64(len(buf)-i))
			p.lines(buf[i:i+int(n)], now)
			i += int(n)
			if p.chunkLeft -= n; p.chunkLeft == 0 {
				p.chunkLeft = chunkCRLF
			}
		}
	}
	return i, nil
}

func parseHex(b []byte) (int64, bool) {
	var n int64
	digits := 0
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c == ';' || c == '\r' || c == ' ':
			return n, digits > 0
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
		if digits++; digits > 15 {
			return 0, false
		}
	}
	return n, digits > 0
}

// lines splits body bytes into lines and hands over the message lines.
func (p *streamParser) lines(seg []byte, now int64) {
	for len(seg) > 0 {
		j := bytes.IndexByte(seg, '\n')
		if j < 0 {
			if len(p.line)+len(seg) > maxLine {
				p.tally.unparsed.Add(1)
				p.line = p.line[:0]
				return
			}
			p.line = append(p.line, seg...)
			return
		}
		line := seg[:j]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		p.handleLine(line, now)
		p.line = p.line[:0]
		seg = seg[j+1:]
	}
}

func (p *streamParser) handleLine(line []byte, now int64) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	if p.eventSource {
		rest, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			return // id:, event:, comments, blank separators
		}
		line = bytes.TrimPrefix(rest, []byte(" "))
	}
	if len(line) > 0 {
		p.tally.deliver(p.st, line, now)
	}
}

// frames decodes websocket server frames and returns how many bytes it
// consumed.
func (p *streamParser) frames(buf []byte, now int64) (int, error) {
	i := 0
	for len(buf)-i >= 2 {
		b0, b1 := buf[i], buf[i+1]
		fin, opcode := b0&0x80 != 0, b0&0x0F
		if b1&0x80 != 0 {
			return i, fmt.Errorf("%w: masked server frame", errProtocol)
		}
		n, head := uint64(b1&0x7F), 2
		switch n {
		case 126:
			if len(buf)-i < 4 {
				return i, nil
			}
			n, head = uint64(binary.BigEndian.Uint16(buf[i+2:])), 4
		case 127:
			if len(buf)-i < 10 {
				return i, nil
			}
			n, head = binary.BigEndian.Uint64(buf[i+2:]), 10
		}
		if n > 16<<20 {
			return i, fmt.Errorf("%w: frame of %d bytes", errProtocol, n)
		}
		if uint64(len(buf)-i-head) < n {
			return i, nil
		}
		payload := buf[i+head : i+head+int(n)]
		i += head + int(n)
		switch opcode {
		case 0x0, 0x1, 0x2:
			switch {
			case fin && opcode != 0x0 && len(p.fragments) == 0:
				p.tally.deliver(p.st, payload, now)
			case !fin:
				p.fragments = append(p.fragments, payload...)
			default:
				p.fragments = append(p.fragments, payload...)
				p.tally.deliver(p.st, p.fragments, now)
				p.fragments = p.fragments[:0]
			}
		case 0x8:
			p.out = append(p.out, 0x88, 0x80, 0, 0, 0, 0)
			return i, io.EOF
		case 0x9:
			if n > 125 {
				return i, fmt.Errorf("%w: long ping", errProtocol)
			}
			// A zero mask key leaves the payload as is.
			p.out = append(p.out, 0x8A, 0x80|byte(n), 0, 0, 0, 0)
			p.out = append(p.out, payload...)
		}
	}
	return i, nil
}
