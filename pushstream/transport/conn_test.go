package transport

import (
	"net"
	"slices"
	"sync"
	"testing"
)

// recordingSession notes the calls a Conn makes that matter to a test:
// the delivery of pending output, and the end.
type recordingSession struct {
	mu      sync.Mutex
	calls   []string
	pending bool
}

func (s *recordingSession) note(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

func (s *recordingSession) Begin() string       { return "" }
func (s *recordingSession) Input([]byte) string { return "" }
func (s *recordingSession) Deliver() (bool, string, bool) {
	s.mu.Lock()
	pending := s.pending
	s.pending = false
	s.mu.Unlock()
	if pending {
		s.note("deliver")
	}
	return pending, "", false
}
func (s *recordingSession) Ending() bool         { return false }
func (s *recordingSession) Ping() error          { return nil }
func (s *recordingSession) Finish()              { s.note("finish") }
func (s *recordingSession) Closed(reason string) { s.note("closed: " + reason) }

// loopbackPair returns the two ends of a TCP connection on loopback.
func loopbackPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	return server, client
}

// TestTTLDeliversWhatWasQueuedFirst: a delivery pending when the TTL
// fires is written before the closing bytes.
func TestTTLDeliversWhatWasQueuedFirst(t *testing.T) {
	if !Available() {
		t.Skip("no poller on this platform")
	}
	server, _ := loopbackPair(t)
	session := &recordingSession{}
	c := NewConn(server, Options{})
	if !c.Start(session) {
		t.Fatal("the poller did not take the connection")
	}
	// Output and the TTL pending together, as when a message is queued
	// while the TTL timer fires.
	c.mu.Lock()
	session.mu.Lock()
	session.pending = true
	session.mu.Unlock()
	c.events.Or(evDeliver | evTTL)
	c.mu.Unlock()
	c.post(0)
	session.mu.Lock()
	defer session.mu.Unlock()
	if !slices.Equal(session.calls, []string{"deliver", "finish", "closed: ttl"}) {
		t.Fatalf("calls %q, want deliver, finish, closed", session.calls)
	}
}
