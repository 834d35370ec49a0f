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

// release ends holding and returns what was held; the caller sends it
// before the next add, then calls reset.
func (b *holdBuffer) release() []byte {
	b.holding = false
	return b.held
}

// reset empties the buffer, dropping it when it grew large.
func (b *holdBuffer) reset() {
	if cap(b.held) > maxHeldCapacity {
		b.held = nil
	} else {
		b.held = b.held[:0]
	}
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

func (w *connWriter) hold(on bool) error {
	if on {
		w.buf.holding = true
		return nil
	}
	held := w.buf.release()
	var err error
	if len(held) > 0 {
		err = w.send(held, nil, nil)
	}
	w.buf.reset()
	return err
}

// frameWriter passes websocket frames through as they are.
type frameWriter struct{ out rawWriter }

func (w frameWriter) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return w.out.send(p, nil, nil)
}

func (w frameWriter) hold(on bool) error { return w.out.hold(on) }

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
