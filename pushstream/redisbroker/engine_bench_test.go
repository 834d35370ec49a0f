package redisbroker

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/internal/redistest"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// benchCluster is two brokers on one Redis with a subscriber of channel
// "bench" on the second, whose deliveries are counted as they arrive.
func benchCluster(b *testing.B) (pub *Engine, ch *engine.Channel, delivered *atomic.Int64) {
	b.Helper()
	srv := redistest.StartFast(b)
	settings := engine.DefaultSettings()
	settings.MaxMessagesStoredPerChannel = 100
	a, other := node(b, srv, settings), node(b, srv, settings)
	waitFor(b, "both brokers to read the log", func() bool { return a.Connected() && other.Connected() })
	remote, _, _ := other.GetOrCreate("bench")
	sub, _ := other.Register()
	if _, err := other.Subscribe(sub, remote, nil); err != nil {
		b.Fatal(err)
	}
	delivered = new(atomic.Int64)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-sub.Notify():
				batch, _ := sub.Take()
				delivered.Add(int64(len(batch)))
			case <-quit:
				return
			}
		}
	}()
	b.Cleanup(func() {
		close(quit)
		<-done
		other.Unregister(sub)
	})
	ch, _, _ = a.GetOrCreate("bench")
	return a, ch, delivered
}

// BenchmarkBrokerPublish measures one publisher: the script on Redis, the
// read back into the publishing store (a publish answers after it), and
// the delivery to a subscriber of the other broker.
func BenchmarkBrokerPublish(b *testing.B) {
	a, ch, delivered := benchCluster(b)
	text := []byte("a message of about sixty bytes, like a small JSON document")
	b.ResetTimer()
	for i := range b.N {
		if _, err := a.Publish(ch, text, engine.PublishOptions{Store: true, EventID: strconv.Itoa(i), HasEventID: true}); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, "every delivery", func() bool { return delivered.Load() == int64(b.N) })
}

// BenchmarkBrokerPublishParallel measures publishers running at once
// (GOMAXPROCS × -cpu of them), as an app's request handlers publish.
func BenchmarkBrokerPublishParallel(b *testing.B) {
	a, ch, delivered := benchCluster(b)
	text := []byte("a message of about sixty bytes, like a small JSON document")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Publish(ch, text, engine.PublishOptions{Store: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	waitFor(b, "every delivery", func() bool { return delivered.Load() == int64(b.N) })
}
