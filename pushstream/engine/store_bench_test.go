package engine

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The engine's micro-benchmarks (bench/README.md): fan-out, publish under
// contention, template rendering and statistics formatting, without Caddy.
//
//	go test -run '^$' -bench . -benchmem ./pushstream/
//	go test -run '^$' -bench . -cpu 1,2 ./pushstream/

// benchClock is a store clock the benchmarks move forward, so that a
// sweep frees the trash as the janitor would after DefaultTrashDelay.
type benchClock struct{ ns atomic.Int64 }

func newBenchClock() *benchClock {
	c := &benchClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *benchClock) now() time.Time { return time.Unix(0, c.ns.Load()) }

// sweep jumps past DefaultTrashDelay and sweeps: the janitor's work, amortized.
func (c *benchClock) sweep(s *Store) {
	c.ns.Add(int64(DefaultTrashDelay + time.Second))
	s.Sweep()
}

// benchStore is configured like bench/Caddyfile: stored messages, ten per
// channel, and a memory cap the benchmarks never reach.
func benchStore(clock *benchClock) *Store {
	return NewStore(Settings{
		SharedMemorySize:            1 << 40,
		MaxMessagesStoredPerChannel: 10,
		ChannelInactivityTime:       time.Hour,
		ChannelDeletedMessageText:   DefaultChannelDeletedMessageText,
		PingMessageText:             DefaultPingMessageText,
	}, clock.now)
}

// drained counts one subscriber's deliveries, padded to its own cache line.
type drained struct {
	n atomic.Int64
	_ [56]byte
}

// startDrainers subscribes len(progress) subscribers to ch; each goroutine
// does what a handler's write loop does short of the write (take the batch,
// get each message's rendered bytes) until stop, counting in progress.
func startDrainers(b *testing.B, store *Store, ch *Channel, f Formatter, progress []drained, stop <-chan struct{}) *sync.WaitGroup {
	b.Helper()
	var wg sync.WaitGroup
	for i := range progress {
		sub, err := store.Register()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := store.Subscribe(sub, ch, nil); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer store.Unregister(sub)
			written := 0
			for {
				select {
				case <-stop:
					return
				case <-sub.Notify():
				}
				batch, end := sub.Take()
				for _, d := range batch {
					written += len(d.Msg.Rendered(f))
				}
				progress[i].n.Add(int64(len(batch)))
				if end != EndNone {
					return
				}
			}
		}()
	}
	return &wg
}

// slowest returns the smallest delivery count.
func slowest(progress []drained) int64 {
	low := progress[0].n.Load()
	for i := range progress[1:] {
		low = min(low, progress[i+1].n.Load())
	}
	return low
}

// BenchmarkPublishFanOut publishes 100-byte messages to one channel with
// 1, 100 and 10k subscribers, each drained by its own goroutine that
// renders the eventsource form. An op is one publish; deliveries/s and
// ns/delivery count the whole fan-out. The publisher stays at most
// fanOutWindow+fanOutCheck messages ahead of the slowest subscriber, so no
// queue reaches MaxQueuedDeliveries (a slow close fails the benchmark).
func BenchmarkPublishFanOut(b *testing.B) {
	for _, subs := range []int{1, 100, 10_000} {
		b.Run("subscribers="+strconv.Itoa(subs), func(b *testing.B) {
			benchmarkFanOut(b, subs)
		})
	}
}

const (
	fanOutWindow = 512
	fanOutCheck  = 128
)

func benchmarkFanOut(b *testing.B, subs int) {
	clock := newBenchClock()
	store := benchStore(clock)
	ch, _, err := store.GetOrCreate("fanout")
	if err != nil {
		b.Fatal(err)
	}
	progress := make([]drained, subs)
	stop := make(chan struct{})
	wg := startDrainers(b, store, ch, eventFormatter{}, progress, stop)
	defer func() {
		close(stop)
		wg.Wait()
	}()
	text := bytes.Repeat([]byte("x"), 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i >= fanOutWindow && i%fanOutCheck == 0 {
			for slowest(progress) < int64(i-fanOutWindow) {
				if store.SlowClosed() > 0 {
					b.Fatalf("%d subscribers closed as slow", store.SlowClosed())
				}
				runtime.Gosched()
			}
		}
		if _, err := store.Publish(ch, text, PublishOptions{Store: true}); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 4095 {
			clock.sweep(store)
		}
	}
	for slowest(progress) < int64(b.N) {
		if store.SlowClosed() > 0 {
			b.Fatalf("%d subscribers closed as slow", store.SlowClosed())
		}
		runtime.Gosched()
	}
	want := int64(b.N) * int64(subs)
	b.StopTimer()
	if elapsed := b.Elapsed(); elapsed > 0 {
		b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(want), "ns/delivery")
	}
}

// BenchmarkPublishFanOutDriven is BenchmarkPublishFanOut for driven
// subscribers (Subscriber.Drive), as direct connections are: no goroutine
// per subscriber; the publisher (and, past a batch of subscribers, the
// wake queue's helpers) takes each subscriber's batch and gets the
// rendered bytes, everything a direct connection does short of its
// writev. An op is one publish.
func BenchmarkPublishFanOutDriven(b *testing.B) {
	for _, subs := range []int{1, 100, 10_000} {
		b.Run("subscribers="+strconv.Itoa(subs), func(b *testing.B) {
			clock := newBenchClock()
			store := benchStore(clock)
			ch, _, err := store.GetOrCreate("driven")
			if err != nil {
				b.Fatal(err)
			}
			f := eventFormatter{}
			// Helpers wake subscribers too (wakeQueue): each counts its
			// own deliveries.
			progress := make([]drained, subs)
			for i := range subs {
				drivenSubscriber(b, store, ch, func(batch []Delivery) {
					written := 0
					for _, d := range batch {
						written += len(d.Msg.Rendered(f))
					}
					progress[i].n.Add(int64(len(batch)))
				})
			}
			text := bytes.Repeat([]byte("x"), 100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := store.Publish(ch, text, PublishOptions{Store: true}); err != nil {
					b.Fatal(err)
				}
				if i%4096 == 4095 {
					clock.sweep(store)
				}
			}
			// A helper may still run the last batches.
			want := int64(b.N)
			for slowest(progress) < want {
				runtime.Gosched()
			}
			b.StopTimer()
			delivered := want * int64(subs)
			if elapsed := b.Elapsed(); elapsed > 0 {
				b.ReportMetric(float64(delivered)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(delivered), "ns/delivery")
			}
		})
	}
}

// BenchmarkPublishParallel publishes from parallel goroutines (b.RunParallel;
// vary -cpu) without subscribers, as the publisher handler does: look the
// channel up, then publish. It measures what publishes running on
// different cores share:
//
//   - channels=1, 16, 1024: every goroutine publishes to every channel, so
//     the channels' own state moves between the cores too;
//   - disjoint=1024: each goroutine publishes to its own share of 1024
//     channels, so what is shared is only what is store-wide (the tag
//     clock of docs/PROTOCOL.md §1.3, the lookup index, the runtime's heap).
func BenchmarkPublishParallel(b *testing.B) {
	for _, channels := range []int{1, 16, 1024} {
		b.Run("channels="+strconv.Itoa(channels), func(b *testing.B) {
			benchPublishParallel(b, channels, func(i, _, _ int) int { return i % channels })
		})
	}
	b.Run("disjoint=1024", func(b *testing.B) {
		const channels = 1024
		benchPublishParallel(b, channels, func(i, g, n int) int { return (i*n + g) % channels })
	})
}

// benchPublishParallel publishes over that many channels from b.RunParallel's
// goroutines; pick maps a goroutine's i-th publish, its number g and the
// number of goroutines n to a channel.
func benchPublishParallel(b *testing.B, channels int, pick func(i, g, n int) int) {
	clock := newBenchClock()
	store := benchStore(clock)
	ids := make([]string, channels)
	for i := range ids {
		ids[i] = "contended" + strconv.Itoa(i)
	}
	text := bytes.Repeat([]byte("x"), 100)
	var next atomic.Int64
	goroutines := runtime.GOMAXPROCS(0) // RunParallel's default parallelism
	// One sweep per 8192 publishes in all, whatever -cpu: a sweep moves
	// every stored message (no TTL here), so its cost per publish must not
	// grow with the goroutines.
	sweepEvery := 8192 * goroutines
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1) - 1)
		i := g * 7919
		for pb.Next() {
			i++
			ch, _, err := store.GetOrCreate(ids[pick(i, g, goroutines)])
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := store.Publish(ch, text, PublishOptions{Store: true}); err != nil {
				b.Error(err)
				return
			}
			if i%sweepEvery == 0 {
				clock.sweep(store)
			}
		}
	})
}

// BenchmarkMemoryBound floods a store capped at 4 MiB with each kind of
// input a client controls, with no sweep to free anything: publishes past
// the cap fail, and the Go heap the store holds stays within the cap plus
// Go's own per-object overhead. It reports the live heap the store holds
// against the cap (docs/PROTOCOL.md §1.7):
//
//   - text: 1 KiB messages on 1000 channels;
//   - event-headers: 16-byte messages with 10 KB Event-Id and Event-Type;
//   - renderings: 1 KiB messages, each read through six templates.
func BenchmarkMemoryBound(b *testing.B) {
	const capBytes = 4 << 20
	text := make([]byte, 1024)
	header := string(bytes.Repeat([]byte("h"), 10_000))
	formatters := []Formatter{eventFormatter{}, prefixFormatter("a"), prefixFormatter("bb"), prefixFormatter("ccc"), prefixFormatter("dddd"), prefixFormatter("eeeee")}
	for _, tc := range []struct {
		name    string
		publish func(store *Store, ch *Channel) error
	}{
		{"text", func(store *Store, ch *Channel) error {
			_, err := store.Publish(ch, append([]byte(nil), text...), PublishOptions{Store: true})
			return err
		}},
		{"event-headers", func(store *Store, ch *Channel) error {
			_, err := store.Publish(ch, []byte("sixteen bytes..."), PublishOptions{Store: true,
				EventID: strings.Clone(header), HasEventID: true, EventType: strings.Clone(header), HasEventType: true})
			return err
		}},
		{"renderings", func(store *Store, ch *Channel) error {
			msg, err := store.Publish(ch, append([]byte(nil), text...), PublishOptions{Store: true})
			if err == nil {
				for _, f := range formatters {
					msg.Rendered(f)
				}
			}
			return err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)

				settings := DefaultSettings()
				settings.SharedMemorySize, settings.MessageTTL, settings.ChannelInactivityTime = capBytes, time.Hour, time.Hour
				store := NewStore(settings, newBenchClock().now)
				refused := 0
				for i := 0; i < 20_000; i++ {
					ch, _, err := store.GetOrCreate("flood_" + strconv.Itoa(i%1000))
					if err == nil {
						err = tc.publish(store, ch)
					}
					if err != nil {
						refused++
					}
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
				if store.MemoryUsed() > capBytes || refused == 0 {
					b.Fatalf("accounted %d bytes over a cap of %d, %d refused", store.MemoryUsed(), capBytes, refused)
				}
				b.ReportMetric(float64(held), "heap-bytes")
				b.ReportMetric(float64(held)/capBytes, "heap/cap")
				b.ReportMetric(float64(refused), "refused")
				runtime.KeepAlive(store)
			}
		})
	}
}

// prefixFormatter renders a message behind a fixed prefix: one more
// template for the renderings flood.
type prefixFormatter string

func (f prefixFormatter) Format(msg *Message) []byte {
	return append([]byte(f), msg.Text...)
}

// eventFormatter renders a message as an eventsource event would, so the
// benchmarks pay for a rendering of the usual size.
type eventFormatter struct{}

func (eventFormatter) Format(msg *Message) []byte {
	out := make([]byte, 0, len(msg.Text)+8)
	out = append(out, "data: "...)
	out = append(out, msg.Text...)
	return append(out, '\n', '\n')
}

// BenchmarkLocalStripe is what a publish pays to find its core's stripe
// (stripe.go).
func BenchmarkLocalStripe(b *testing.B) {
	n := 0
	for b.Loop() {
		n += localStripe()
	}
	if n < 0 {
		b.Fatal(n)
	}
}
