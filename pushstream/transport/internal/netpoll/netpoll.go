package netpoll

import "errors"

// Events a Handler is told about.
const (
	// Readable means data (or the peer's end of stream) can be read.
	Readable uint32 = 1 << iota
	// Writable means the send buffer has room again.
	Writable
	// Hangup means the connection failed or the peer closed it.
	Hangup
)

// Handler receives a connection's events from the poller's goroutine. It
// must not block.
type Handler interface {
	OnEvents(events uint32)
}

// ErrUnsupported is returned where there is no epoll, or for a connection
// that is not a socket.
var ErrUnsupported = errors.New("netpoll: not supported for this connection")
