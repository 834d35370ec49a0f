//go:build !linux

package netpoll

import "net"

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
