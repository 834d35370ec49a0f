// Package transport carries subscribers on hijacked connections: an
// HTTP/1.1 stream or a websocket whose connection has left net/http once
// its head was written. A Conn drives one connection with no goroutine of
// its own through the epoll poller of internal/netpoll; what is written
// and when the connection ends is decided by the Session the caller gives
// it. The writers frame a subscriber's output as HTTP chunks or websocket
// frames, on a Conn or, where the poller cannot watch a connection, on a
// blocking one.
//
// It knows nothing of channels, messages or handlers: bytes, timers and
// the connection's events only.
package transport
