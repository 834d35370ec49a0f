package transport

import (
	"net"
	"strconv"
	"time"
)

// RawWriter sends bytes to a hijacked connection as they are.
type RawWriter interface {
	// Send sends a, b and c in order; empty parts are skipped.
	Send(a, b, c []byte) error
	// Hold buffers later sends until it is called with false, which sends
	// them in one go.
	Hold(on bool) error
}

// BodyWriter sends pieces of a subscriber's output in its transport's
// framing: each piece is one HTTP chunk or one websocket write.
type BodyWriter interface {
	// Write sends one piece; an empty one is skipped.
	Write(p []byte) error
	// Hold buffers later pieces until it is called with false, which
	// sends them in one go, each still in its own framing.
	Hold(on bool) error
	// End closes the body in the transport's framing, after the footer.
	End() error
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

// ConnWriter writes to a hijacked connection from one goroutine, each
// write bounded by WriteTimeout: the RawWriter of a connection the poller
// cannot watch.
type ConnWriter struct {
	conn net.Conn
	buf  holdBuffer
}

// NewConnWriter returns a blocking RawWriter on conn.
func NewConnWriter(conn net.Conn) *ConnWriter { return &ConnWriter{conn: conn} }

// Send implements RawWriter.
func (w *ConnWriter) Send(a, b, c []byte) error {
	if w.buf.add(a, b, c) {
		return nil
	}
	bufs := net.Buffers{a, b, c}
	_ = w.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
	_, err := bufs.WriteTo(w.conn)
	return err
}

// Hold implements RawWriter.
func (w *ConnWriter) Hold(on bool) error { return w.buf.hold(on, w.Send) }

// FrameWriter passes websocket frames through as they are.
type FrameWriter struct{ out RawWriter }

// NewFrameWriter returns a BodyWriter of websocket frames on out.
func NewFrameWriter(out RawWriter) FrameWriter { return FrameWriter{out: out} }

// Write implements BodyWriter.
func (w FrameWriter) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return w.out.Send(p, nil, nil)
}

// Hold implements BodyWriter.
func (w FrameWriter) Hold(on bool) error { return w.out.Hold(on) }

// End does nothing: a websocket ends with its own close frame.
func (w FrameWriter) End() error { return nil }

// Chunked transfer coding pieces (RFC 9112 §7.1).
var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n\r\n")
)

// chunkHeaderSize fits a chunk size in hex and its CRLF.
const chunkHeaderSize = 18

// ChunkWriter frames each piece as one HTTP/1.1 chunk.
type ChunkWriter struct {
	out    RawWriter
	header []byte
}

// NewChunkWriter returns a BodyWriter of HTTP/1.1 chunks on out.
func NewChunkWriter(out RawWriter) *ChunkWriter {
	return &ChunkWriter{out: out, header: make([]byte, 0, chunkHeaderSize)}
}

// Write implements BodyWriter.
func (w *ChunkWriter) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	w.header = append(strconv.AppendInt(w.header[:0], int64(len(p)), 16), crlf...)
	return w.out.Send(w.header, p, crlf)
}

// Hold implements BodyWriter.
func (w *ChunkWriter) Hold(on bool) error { return w.out.Hold(on) }

// End sends the last chunk, which ends the body.
func (w *ChunkWriter) End() error { return w.out.Send(lastChunk, nil, nil) }
