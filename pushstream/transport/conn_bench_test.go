package transport_test

import (
	"bytes"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport"
)

// The multi-core fan-out benchmarks: publishes go through the store to
// driven subscribers, each a transport.Conn writing HTTP chunks with one
// writev per wake, as a direct eventsource subscriber does, to a loopback
// TCP connection drained by a reader. (Not unix socket pairs, cheaper per
// write: a read there wakes every epoll watcher of the writing end, where
// TCP wakes a writer only after a full buffer. Not pipes: a Conn reads
// its descriptor for client input.) Compare -cpu 1 and 2:
//
//	go test -run '^$' -bench FanOutCores -cpu 1,2 ./pushstream/transport/

// fanOutLinks is how many connections carry the subscribers: each
// subscriber writes to its own duplicate of one connection's descriptor,
// so 10k subscribers take 10k descriptors plus twice these.
const fanOutLinks = 512

// drainedLinks are loopback connections whose accepting ends are read
// until closed.
type drainedLinks struct {
	writers []int
	conns   []net.Conn
	wg      sync.WaitGroup
}

// newDrainedLinks opens n connections and starts their readers.
func newDrainedLinks(b *testing.B, n int) *drainedLinks {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	d := &drainedLinks{}
	for range n {
		out, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		in, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		raw, err := out.(*net.TCPConn).SyscallConn()
		if err != nil {
			b.Fatal(err)
		}
		_ = raw.Control(func(fd uintptr) { d.writers = append(d.writers, int(fd)) })
		d.conns = append(d.conns, out, in)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			_, _ = io.Copy(io.Discard, in)
		}()
	}
	return d
}

// conn returns a new connection on a duplicate of the descriptor of
// connection i; the duplicate shares its non-blocking mode.
func (d *drainedLinks) conn(b *testing.B, i int) net.Conn {
	b.Helper()
	fd, err := syscall.Dup(d.writers[i%len(d.writers)])
	if err != nil {
		b.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "link")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// close closes the connections and waits for their readers.
func (d *drainedLinks) close() {
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.wg.Wait()
}

// eventFormatter renders a message as an eventsource event.
type eventFormatter struct{}

func (eventFormatter) Format(msg *engine.Message) []byte {
	out := make([]byte, 0, len(msg.Text)+8)
	out = append(out, "data: "...)
	out = append(out, msg.Text...)
	return append(out, '\n', '\n')
}

// fanOutSession is a driven eventsource subscriber reduced to its
// deliveries: each wake writes the pending messages as chunks, held into
// one write, and counts them.
type fanOutSession struct {
	store     *engine.Store
	sub       *engine.Subscriber
	conn      *transport.Conn
	out       *transport.ChunkWriter
	delivered atomic.Int64
}

var formatter eventFormatter

func (s *fanOutSession) Begin() string { s.sub.Drive(s.conn.Wake); return "" }

func (s *fanOutSession) Input([]byte) string { return "" }

func (s *fanOutSession) Deliver() (bool, string, bool) {
	batch, end := s.sub.Take()
	if len(batch) > 1 {
		_ = s.out.Hold(true)
	}
	for _, d := range batch {
		if s.out.Write(d.Msg.Rendered(formatter)) != nil {
			return false, "write failed", false
		}
	}
	if len(batch) > 1 && s.out.Hold(false) != nil {
		return false, "write failed", false
	}
	s.delivered.Add(int64(len(batch)))
	if end != engine.EndNone {
		return len(batch) > 0, "ended", false
	}
	return len(batch) > 0, "", false
}

func (s *fanOutSession) Ending() bool  { return s.sub.Ended() != engine.EndNone }
func (s *fanOutSession) Ping() error   { return nil }
func (s *fanOutSession) Finish()       {}
func (s *fanOutSession) Closed(string) { s.store.Unregister(s.sub) }

// fanOutBench is a store with driven subscribers on drained connections.
type fanOutBench struct {
	store    *engine.Store
	links    *drainedLinks
	sessions []*fanOutSession
}

// newFanOutBench returns a store with the channels of ids, each with
// that many driven subscribers.
func newFanOutBench(b *testing.B, ids []string, subscribers int) (*fanOutBench, []*engine.Channel) {
	b.Helper()
	if !transport.Available() {
		b.Skip("no poller here")
	}
	settings := engine.DefaultSettings()
	settings.SharedMemorySize = 1 << 40
	settings.ChannelInactivityTime = time.Hour
	fb := &fanOutBench{store: engine.NewStore(settings, nil), links: newDrainedLinks(b, fanOutLinks)}
	var chs []*engine.Channel
	for _, id := range ids {
		ch, _, err := fb.store.GetOrCreate(id)
		if err != nil {
			b.Fatal(err)
		}
		chs = append(chs, ch)
		for range subscribers {
			sub, err := fb.store.Register()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := fb.store.Subscribe(sub, ch, nil); err != nil {
				b.Fatal(err)
			}
			conn := transport.NewConn(fb.links.conn(b, len(fb.sessions)), transport.Options{})
			s := &fanOutSession{store: fb.store, sub: sub, conn: conn, out: transport.NewChunkWriter(conn)}
			if !conn.Start(s) {
				b.Skip("the poller cannot watch connections here")
			}
			fb.sessions = append(fb.sessions, s)
		}
	}
	return fb, chs
}

// waitDelivered waits until every subscriber got want messages.
func (fb *fanOutBench) waitDelivered(b *testing.B, want int64) {
	for _, s := range fb.sessions {
		for s.delivered.Load() < want {
			if fb.store.SlowClosed() > 0 {
				b.Fatalf("%d subscribers closed as slow", fb.store.SlowClosed())
			}
			runtime.Gosched()
		}
	}
}

// close ends the subscribers and the connections.
func (fb *fanOutBench) close() {
	fb.store.Destroy(10 * time.Second)
	fb.links.close()
}

// report reports deliveries/s over the timed part.
func report(b *testing.B, deliveries int64) {
	if elapsed := b.Elapsed(); elapsed > 0 {
		b.ReportMetric(float64(deliveries)/elapsed.Seconds(), "deliveries/s")
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(deliveries), "ns/delivery")
	}
}

// fanOutWindow is how many publishes a publisher may run ahead of its
// slowest subscriber, far below engine.MaxQueuedDeliveries.
const fanOutWindow = 64

// BenchmarkFanOutCoresOneChannel publishes 100-byte messages to one
// channel with 10k driven subscribers from one publisher: only the wake
// queue's helpers can bring a second core in. An op is one publish.
func BenchmarkFanOutCoresOneChannel(b *testing.B) {
	const subscribers = 10_000
	fb, chs := newFanOutBench(b, []string{"wide"}, subscribers)
	defer fb.close()
	text := bytes.Repeat([]byte("x"), 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i >= fanOutWindow && i%16 == 0 {
			fb.waitDelivered(b, int64(i-fanOutWindow))
		}
		if _, err := fb.store.Publish(chs[0], text, engine.PublishOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	fb.waitDelivered(b, int64(b.N))
	b.StopTimer()
	report(b, int64(b.N)*subscribers)
}

// BenchmarkFanOutCoresPublishers has 16 publishers, each publishing
// 100-byte messages to its own channel of 100 driven subscribers, as many
// applications' events at once. An op is one publish.
func BenchmarkFanOutCoresPublishers(b *testing.B) {
	const publishers, subscribers = 16, 100
	ids := make([]string, publishers)
	for i := range ids {
		ids[i] = "room" + strconv.Itoa(i)
	}
	fb, chs := newFanOutBench(b, ids, subscribers)
	defer fb.close()
	text := bytes.Repeat([]byte("x"), 100)
	per := (b.N + publishers - 1) / publishers
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for p := range publishers {
		sessions := fb.sessions[p*subscribers : (p+1)*subscribers]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if i >= fanOutWindow && i%16 == 0 {
					for _, s := range sessions {
						for s.delivered.Load() < int64(i-fanOutWindow) {
							runtime.Gosched()
						}
					}
				}
				if _, err := fb.store.Publish(chs[p], text, engine.PublishOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	fb.waitDelivered(b, int64(per))
	b.StopTimer()
	report(b, int64(per)*publishers*subscribers)
}
