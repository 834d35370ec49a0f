//go:build linux

package netpoll

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// recorder forwards events to a channel.
type recorder chan uint32

func (r recorder) OnEvents(ev uint32) { r <- ev }

// waitFor waits until an event with any of want's bits arrives.
func (r recorder) waitFor(t *testing.T, want uint32) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-r:
			if ev&want != 0 {
				return
			}
		case <-timeout:
			t.Fatalf("no event %b", want)
		}
	}
}

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (server, client net.Conn) {
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
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// watchedPair returns a loopback connection whose server end is watched
// by the default poller, its events recorded.
func watchedPair(t *testing.T) (p *Poller, conn *Conn, events recorder, server, client net.Conn) {
	t.Helper()
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	server, client = pair(t)
	events = make(recorder, 64)
	if conn, err = p.Watch(server, events); err != nil {
		t.Fatal(err)
	}
	return p, conn, events, server, client
}

func TestConnEvents(t *testing.T) {
	_, conn, events, _, client := watchedPair(t)
	defer conn.Unwatch()

	// Nothing to read yet: Read does not block.
	buf := make([]byte, 64)
	if _, err := conn.Read(buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("read on empty socket: %v, want EAGAIN", err)
	}

	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	events.waitFor(t, Readable)
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}

	// Gathered writes arrive in order.
	if n, err := conn.Write([]byte("a"), []byte("bc"), nil, []byte("d")); n != 4 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	got := make([]byte, 4)
	if _, err := client.Read(got); err != nil || string(got) != "abcd" {
		t.Fatalf("client read %q, %v", got, err)
	}

	// Fill the socket until it refuses, then drain it: Writable follows.
	chunk := make([]byte, 64<<10)
	sent := 0
	for {
		n, err := conn.Write(chunk)
		sent += n
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	drained := make(chan error, 1)
	go func() {
		buf := make([]byte, 256<<10)
		for left := sent; left > 0; {
			n, err := client.Read(buf)
			if err != nil {
				drained <- err
				return
			}
			left -= n
		}
		drained <- nil
	}()
	events.waitFor(t, Writable)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}

	// The peer closing is reported and reads then return 0 bytes.
	client.Close()
	events.waitFor(t, Readable|Hangup)
	if n, err := conn.Read(buf); n != 0 || err != nil {
		t.Fatalf("read after peer close: %d, %v", n, err)
	}
}

func TestUnwatchStopsEvents(t *testing.T) {
	p, conn, _, server, client := watchedPair(t)
	conn.Unwatch()
	p.mu.Lock()
	_, still := p.handlers[conn.key]
	p.mu.Unlock()
	if still {
		t.Fatal("handler still registered after Unwatch")
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	// The socket stays usable by ordinary means.
	buf := make([]byte, 1)
	if _, err := server.Read(buf); err != nil || buf[0] != 'x' {
		t.Fatalf("read after unwatch: %q %v", buf, err)
	}
}

func TestWatchRefusesNonSockets(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := p.Watch(a, make(recorder)); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("watch of a pipe: %v, want ErrUnsupported", err)
	}
}
