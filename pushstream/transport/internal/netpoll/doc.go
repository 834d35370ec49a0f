// Package netpoll drives hijacked TCP connections without a goroutine per
// connection: one epoll instance reports which connections became
// readable, writable or hung up, and Conn writes and reads without ever
// blocking. An idle connection then costs its socket and a map entry.
//
// It exists on Linux only; elsewhere New fails with ErrUnsupported and
// callers keep a goroutine per connection.
package netpoll
