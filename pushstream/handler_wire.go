package pushstream

import (
	"net"
	"strconv"
	"time"
)

// rawWriter sends bytes to a hijacked connection as they are.
type rawWriter interface {
	// send sends a, b and c in order; empty parts are skipped.
	send(a, b, c []byte) error
	// hold buffers later sends until it is called with false, which sends
	// them in one go.
	hold(on bool) error
}

// bodyWriter sends pieces of a subscriber's output in the transport's
// framing: each piece is one HTTP chunk or one websocket write.
type bodyWriter interface {
	write(p []byte) error
	hold(on bool) error
	// end closes the body in the transport's framing, after the footer.
	end() error
}

// maxHeldCapacity is the largest coalescing buffer kept between batches.
const maxHeldCapacity = 64 << 10

// holdBuffer collects sends while writes are coalesced.
type holdBuffer struct {
	held    []byte
	holding bool
}

// add appends the parts if holding and reports whether it did.
func (b *holdBuffer) add(a, p, c []byte) bool {
	if !b.holding {
		return false
	}
	b.held = append(append(append(b.held, a...), p...), c...)
	return true
}

// hold starts holding, or ends it and sends what was held through send.
func (b *holdBuffer) hold(on bool, send func(a, p, c []byte) error) error {
	if on {
		b.holding = true
		return nil
	}
	b.holding = false
	var err error
	if len(b.held) > 0 {
		err = send(b.held, nil, nil)
	}
	// send copies what it cannot write at once, so the buffer is reusable.
	if cap(b.held) > maxHeldCapacity {
		b.held = nil
	} else {
		b.held = b.held[:0]
	}
	return err
}

// connWriter writes to a hijacked connection from one goroutine, each
// write bounded by writeTimeout.
type connWriter struct {
	conn net.Conn
	buf  holdBuffer
}

func (w *connWriter) send(a, b, c []byte) error {
	if w.buf.add(a, b, c) {
		return nil
	}
	bufs := net.Buffers{a, b, c}
	_ = w.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := bufs.WriteTo(w.conn)
	return err
}

func (w *connWriter) hold(on bool) error { return w.buf.hold(on, w.send) }

// frameWriter passes websocket frames through as they are.
type frameWriter struct{ out rawWriter }

func (w frameWriter) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return w.out.send(p, nil, nil)
}

func (w frameWriter) hold(on bool) error { return w.out.hold(on) }

// end does nothing: a websocket sink ends with its own close frame.
func (w frameWriter) end() error { return nil }

// Chunked transfer coding pieces (RFC 9112 §7.1).
var (
	crlf            = []byte("\r\n")
	lastChunk       = []byte("0\r\n\r\n")
	chunkHeaderSize = 18
)

// chunkWriter frames each piece as one HTTP/1.1 chunk.
type chunkWriter struct {
	out    rawWriter
	header []byte
}

func newChunkWriter(out rawWriter) *chunkWriter {
	return &chunkWriter{out: out, header: make([]byte, 0, chunkHeaderSize)}
}

func (w *chunkWriter) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	w.header = append(strconv.AppendInt(w.header[:0], int64(len(p)), 16), crlf...)
	return w.out.send(w.header, p, crlf)
}

func (w *chunkWriter) hold(on bool) error { return w.out.hold(on) }

// end sends the last chunk, which ends the body.
func (w *chunkWriter) end() error { return w.out.send(lastChunk, nil, nil) }
