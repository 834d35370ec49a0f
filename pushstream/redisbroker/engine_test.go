package redisbroker

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/internal/redistest"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// waitLimit bounds every wait of these tests; it is never what they wait
// for.
const waitLimit = 20 * time.Second

// node is one process of a test cluster: a store and its broker.
func node(t testing.TB, srv *redistest.Server, settings engine.Settings) *Engine {
	t.Helper()
	store := engine.NewStore(settings, nil)
	e := New(store, zap.NewNop())
	e.Connect(Config{Address: srv.Addr, HeartbeatInterval: 50 * time.Millisecond})
	t.Cleanup(func() {
		e.Close()
		store.Destroy(time.Second)
	})
	return e
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reader takes the deliveries of one subscriber one at a time.
type reader struct {
	sub     *engine.Subscriber
	pending []engine.Delivery
}

// next returns the next delivery.
func (r *reader) next(t *testing.T) engine.Delivery {
	t.Helper()
	for len(r.pending) == 0 {
		batch, _ := r.sub.Take()
		r.pending = append(r.pending, batch...)
		if len(r.pending) > 0 {
			break
		}
		select {
		case <-r.sub.Notify():
		case <-time.After(waitLimit):
			t.Fatal("no delivery")
		}
	}
	d := r.pending[0]
	r.pending = r.pending[1:]
	return d
}

// rest returns the deliveries pending now.
func (r *reader) rest() []engine.Delivery {
	batch, _ := r.sub.Take()
	return append(r.pending, batch...)
}

// TestBrokerSharesChannels: a publish on one process reaches a subscriber
// of the other with the same id, time, tag and event id; a process that
// starts later replays the stored messages; a delete reaches every
// process; subscriber counts add up over processes.
func TestBrokerSharesChannels(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	settings := engine.DefaultSettings()
	settings.MaxMessagesStoredPerChannel = 2
	a, b := node(t, srv, settings), node(t, srv, settings)
	waitFor(t, "both brokers to read the log", func() bool { return a.Connected() && b.Connected() })

	chB, _, err := b.GetOrCreate("room")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := b.Register()
	if _, err := b.Subscribe(sub, chB, nil); err != nil {
		t.Fatal(err)
	}
	r := &reader{sub: sub}
	chA, _, _ := a.GetOrCreate("room")
	var sent []*engine.Message
	for _, text := range []string{"one", "two", "three"} {
		msg, err := a.Publish(chA, []byte(text), engine.PublishOptions{Store: true, EventID: text, HasEventID: true})
		if err != nil || msg == nil {
			t.Fatalf("publish %s: %v %v", text, msg, err)
		}
		sent = append(sent, msg)
	}
	for i, want := range sent {
		got := r.next(t).Msg
		if got.ID != want.ID || got.Time != want.Time || got.Tag != want.Tag || got.EventID != want.EventID || string(got.Text) != string(want.Text) {
			t.Fatalf("delivery %d on b: %+v, want %+v", i, got, want)
		}
	}
	if info := a.Info(chA); info.Published != 3 || info.Stored != 2 {
		t.Fatalf("info on a: %+v", info)
	}
	waitFor(t, "a to count b's subscriber", func() bool { return a.Info(chA).Subscribers == 1 && a.Summary().Subscribers == 1 })

	c := node(t, srv, settings)
	waitFor(t, "c to replay the log", func() bool {
		ch := c.Lookup("room")
		return ch != nil && c.Info(ch).Published == 3
	})
	if msgs, _, _ := c.Stored(c.Lookup("room"), &engine.Selection{Backtrack: 5}); len(msgs) != 2 || msgs[0].ID != sent[1].ID || msgs[0].Tag != sent[1].Tag {
		t.Fatalf("c stores %v", msgs)
	}

	if ok, err := a.Delete(chA, []byte("gone")); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if d := r.next(t); !d.Deleted || string(d.Msg.Text) != "gone" {
		t.Fatalf("b got %+v after the delete", d)
	}
	waitFor(t, "c to apply the delete", func() bool { return c.Lookup("room") == nil })
	chA, _, _ = a.GetOrCreate("room")
	if msg, err := a.Publish(chA, []byte("again"), engine.PublishOptions{}); err != nil || msg.ID != 1 {
		t.Fatalf("publish after the delete: %+v %v, want id 1", msg, err)
	}
	b.Unregister(sub)
}

// TestBrokerOutage: with Redis gone a publish fails with ErrUnavailable
// and nothing is published; once Redis is back the brokers resume after
// their last entry, and a publish reaches the other process once.
func TestBrokerOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	settings := engine.DefaultSettings()
	a, b := node(t, srv, settings), node(t, srv, settings)
	waitFor(t, "both brokers to read the log", func() bool { return a.Connected() && b.Connected() })
	chB, _, _ := b.GetOrCreate("news")
	sub, _ := b.Register()
	if _, err := b.Subscribe(sub, chB, nil); err != nil {
		t.Fatal(err)
	}
	r := &reader{sub: sub}
	chA, _, _ := a.GetOrCreate("news")
	if _, err := a.Publish(chA, []byte("before"), engine.PublishOptions{Store: true}); err != nil {
		t.Fatal(err)
	}
	if got := r.next(t).Msg; string(got.Text) != "before" {
		t.Fatalf("got %q", got.Text)
	}

	srv.Kill()
	if _, err := a.Publish(chA, []byte("lost"), engine.PublishOptions{Store: true}); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("publish with Redis gone: %v, want ErrUnavailable", err)
	}
	waitFor(t, "the brokers to notice", func() bool { return !a.Connected() && !b.Connected() })
	srv.Restart()
	waitFor(t, "the brokers to resume", func() bool { return a.Connected() && b.Connected() })
	if msg, err := a.Publish(chA, []byte("after"), engine.PublishOptions{Store: true}); err != nil || msg.ID != 2 {
		t.Fatalf("publish after the restart: %+v %v, want id 2", msg, err)
	}
	if got := r.next(t).Msg; string(got.Text) != "after" || got.ID != 2 {
		t.Fatalf("got %q id %d after the restart", got.Text, got.ID)
	}
	if extra := r.rest(); len(extra) != 0 {
		t.Fatalf("extra deliveries %v", extra)
	}
	b.Unregister(sub)
}

// TestBrokerCloseStopsGoroutines: Close ends the log reader, the
// heartbeat, the forwarder and the client's own goroutines; a reconnect
// (a reload that changes the address) leaves none behind either.
func TestBrokerCloseStopsGoroutines(t *testing.T) {
	srv := redistest.Start(t)
	before := runtime.NumGoroutine()
	store := engine.NewStore(engine.DefaultSettings(), nil)
	e := New(store, zap.NewNop())
	e.Connect(Config{Address: srv.Addr, HeartbeatInterval: 10 * time.Millisecond})
	waitFor(t, "the broker to read the log", e.Connected)
	e.Connect(Config{Address: "localhost" + srv.Addr[len("127.0.0.1"):], HeartbeatInterval: 10 * time.Millisecond})
	waitFor(t, "the broker to read the log again", e.Connected)
	e.Close()
	e.Close()
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestBrokerReportsGap: a broker cut off from Redis while the log was
// trimmed past what it read says so when it is back, instead of going on
// as if nothing was missed.
func TestBrokerReportsGap(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	settings := engine.DefaultSettings()
	settings.MessageTTL = time.Millisecond
	a, b := node(t, srv, settings), node(t, srv, settings)
	waitFor(t, "both brokers to read the log", func() bool { return a.Connected() && b.Connected() })
	chA, _, _ := a.GetOrCreate("c")
	if _, err := a.Publish(chA, []byte("read by b"), engine.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to read it", func() bool { return b.Lookup("c") != nil })
	cfg := b.current().cfg
	b.disconnect()
	// Every append trims the entries older than message_ttl: once the
	// oldest entry left is the third, the second, which b did not read,
	// is gone.
	client := cfg.newClient()
	defer client.Close()
	for oldest := int64(0); oldest <= 2; {
		if _, err := a.Publish(chA, []byte("missed by b"), engine.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		entries, err := client.XRangeN(context.Background(), keys{cfg.KeyPrefix}.log(), "-", "+", 1).Result()
		if err != nil || len(entries) == 0 {
			t.Fatalf("reading the log: %v %v", entries, err)
		}
		seq, _ := entries[0].Values["s"].(string)
		oldest = intField(seq)
	}
	if b.Gaps() != 0 {
		t.Fatal("a gap before b reconnected")
	}
	b.Connect(cfg)
	waitFor(t, "b to report the gap", func() bool { return b.Gaps() == 1 })

	// Redis losing its log (its sequence restarted) is a gap too.
	if err := client.Set(context.Background(), keys{cfg.KeyPrefix}.sequence(), 0, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(chA, []byte("after the loss"), engine.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to report the log going back", func() bool { return b.Gaps() == 2 })
}

// TestBrokerCloseLeaves: a closed broker takes its node and subscriber
// count out of Redis at once, not when they expire (three heartbeats, a
// minute's here).
func TestBrokerCloseLeaves(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	e := New(engine.NewStore(engine.DefaultSettings(), nil), zap.NewNop())
	e.Connect(Config{Address: srv.Addr, HeartbeatInterval: time.Minute})
	waitFor(t, "the broker to read the log", e.Connected)
	cfg := e.current().cfg
	client := cfg.newClient()
	defer client.Close()
	k, ctx := keys{cfg.KeyPrefix}, context.Background()
	listed := func() bool {
		_, err := client.ZScore(ctx, k.nodes(), e.node).Result()
		return err == nil
	}
	waitFor(t, "the first heartbeat", listed)
	e.Close()
	if listed() {
		t.Fatal("the closed node is still listed")
	}
	if n, err := client.Exists(ctx, k.total(e.node)).Result(); err != nil || n != 0 {
		t.Fatalf("the closed node's subscriber count: %d keys, %v", n, err)
	}
}

// TestBrokerTagsAcrossChannels: the log numbers publishes within one
// second store-wide (docs/PROTOCOL.md §1.3), not per channel.
func TestBrokerTagsAcrossChannels(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a := node(t, srv, engine.DefaultSettings())
	waitFor(t, "the broker to read the log", a.Connected)
	x, _, _ := a.GetOrCreate("x")
	y, _, _ := a.GetOrCreate("y")
	for range 5 { // until both fall in the same second
		first, err := a.Publish(x, []byte("one"), engine.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		second, err := a.Publish(y, []byte("two"), engine.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if first.Time == second.Time {
			if second.Tag != first.Tag+1 {
				t.Fatalf("tags %d then %d on another channel in the same second, want consecutive", first.Tag, second.Tag)
			}
			return
		}
	}
	t.Fatal("no two publishes in the same second")
}
