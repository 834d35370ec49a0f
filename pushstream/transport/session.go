package transport

// Session is what a Conn carries: it writes through the Conn and decides
// when the connection ends. A Conn calls its methods one at a time, with
// the Conn's lock held, and never after Closed; they must not block, and
// they write only through the Conn's Send and Hold.
type Session interface {
	// Begin writes the opening bytes (head, header, old messages) and
	// handles input that came with the request. It returns why the
	// connection ends, or "".
	Begin() (end string)
	// Input handles bytes the client sent, in order. It may change p,
	// which is valid only during the call. It returns why the connection
	// ends, or "".
	Input(p []byte) (end string)
	// Deliver writes what is pending. It reports whether it wrote
	// anything, and why the connection ends, or "", with finish telling
	// whether Finish is due first.
	Deliver() (wrote bool, end string, finish bool)
	// Ending tells whether only the session's end is left to deliver: it
	// is delivered even while earlier output waits for the client.
	Ending() bool
	// Ping writes a keep-alive.
	Ping() error
	// Finish writes the closing bytes (footer, last chunk, close frame).
	Finish()
	// Closed tells the session that the connection is done, and why.
	Closed(reason string)
}
