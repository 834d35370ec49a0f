package netpoll

import "errors"

// ErrUnsupported is returned where there is no epoll, or for a connection
// that is not a socket.
var ErrUnsupported = errors.New("netpoll: not supported for this connection")
