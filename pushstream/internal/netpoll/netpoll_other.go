//go:build !linux

package netpoll

import "net"

// Events a Handler is told about.
const (
	// Readable means data (or the peer's end of stream) can be read.
	Readable uint32 = 1 << iota
	// Writable means the send buffer has room again.
	Writable
	// Hangup means the connection failed or the peer closed it.
	Hangup
)

// Handler receives a connection's events. It must not block.
type Handler interface {
	OnEvents(events uint32)
}

// Poller is unavailable on this platform.
type Poller struct{}

// Conn is unavailable on this platform.
type Conn struct{}

// Default fails with ErrUnsupported on this platform.
func Default() (*Poller, error) { return nil, ErrUnsupported }

// Watch fails with ErrUnsupported on this platform.
func (p *Poller) Watch(net.Conn, Handler) (*Conn, error) { return nil, ErrUnsupported }

// Unwatch does nothing on this platform.
func (c *Conn) Unwatch() {}

// Write fails with ErrUnsupported on this platform.
func (c *Conn) Write(...[]byte) (int, error) { return 0, ErrUnsupported }

// Read fails with ErrUnsupported on this platform.
func (c *Conn) Read([]byte) (int, error) { return 0, ErrUnsupported }
