package engine

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// drivenSubscriber subscribes a driven subscriber to ch whose wake takes
// its batch and hands it to onBatch.
func drivenSubscriber(tb testing.TB, store *Store, ch *Channel, onBatch func([]Delivery)) *Subscriber {
	tb.Helper()
	sub, err := store.Register()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.Subscribe(sub, ch, nil); err != nil {
		tb.Fatal(err)
	}
	// Wakes come from any goroutine, several at once: like a
	// transport.Conn, the first to find the subscriber free takes and
	// hands over what is pending, and the others leave it to that one.
	var pending atomic.Bool
	var busy sync.Mutex
	sub.Drive(func() {
		pending.Store(true)
		for pending.Load() && busy.TryLock() {
			if pending.Swap(false) {
				batch, _ := sub.Take()
				onBatch(batch)
			}
			busy.Unlock()
		}
	})
	return sub
}

func newWakeTestStore() *Store {
	return NewStore(withDefaults(Settings{SharedMemorySize: 1 << 30, ChannelInactivityTime: time.Hour}), nil)
}

// TestWakeFromAWakeDoesNotDeadlock: a driven subscriber may publish while
// being woken (a websocket client's message); the nested publish must
// reach its own subscribers without waiting for the pass it runs in.
func TestWakeFromAWakeDoesNotDeadlock(t *testing.T) {
	store := newWakeTestStore()
	first, _, _ := store.GetOrCreate("first")
	second, _, _ := store.GetOrCreate("second")
	got := make(chan string, 1)
	drivenSubscriber(t, store, second, func(batch []Delivery) {
		for _, d := range batch {
			got <- string(d.Msg.Text)
		}
	})
	drivenSubscriber(t, store, first, func(batch []Delivery) {
		for _, d := range batch {
			if _, err := store.Publish(second, append([]byte("relayed "), d.Msg.Text...), PublishOptions{}); err != nil {
				t.Error(err)
			}
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := store.Publish(first, []byte("hello"), PublishOptions{}); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("nested publish deadlocked")
	}
	select {
	case text := <-got:
		if text != "relayed hello" {
			t.Fatalf("got %q", text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nested publish not delivered")
	}
}

// TestConcurrentPublishersReachEveryDrivenSubscriber: publishers running
// at the same time share wake passes; every subscriber still gets every
// message once, each publisher's messages in order.
func TestConcurrentPublishersReachEveryDrivenSubscriber(t *testing.T) {
	store := newWakeTestStore()
	ch, _, _ := store.GetOrCreate("shared")
	const publishers, messages, subscribers = 8, 200, 50
	type tally struct {
		mu   sync.Mutex
		next [publishers]int
		bad  string
	}
	tallies := make([]*tally, subscribers)
	for i := range tallies {
		tl := &tally{}
		tallies[i] = tl
		drivenSubscriber(t, store, ch, func(batch []Delivery) {
			tl.mu.Lock()
			defer tl.mu.Unlock()
			for _, d := range batch {
				p := int(d.Msg.Text[0] - 'a')
				n, _ := strconv.Atoi(string(d.Msg.Text[1:]))
				if n != tl.next[p] && tl.bad == "" {
					tl.bad = "publisher " + string(d.Msg.Text[:1]) + ": got " + strconv.Itoa(n) + ", want " + strconv.Itoa(tl.next[p])
				}
				tl.next[p] = n + 1
			}
		})
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range messages {
				text := string(rune('a'+p)) + strconv.Itoa(n)
				if _, err := store.Publish(ch, []byte(text), PublishOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// A publisher may return while another's pass wakes its subscribers:
	// wait for the last pass to end.
	deadline := time.Now().Add(10 * time.Second)
	for _, tl := range tallies {
		for {
			tl.mu.Lock()
			complete := true
			for p := range publishers {
				complete = complete && tl.next[p] == messages
			}
			bad := tl.bad
			tl.mu.Unlock()
			if bad != "" {
				t.Fatal(bad)
			}
			if complete {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("deliveries missing")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if store.SlowClosed() != 0 {
		t.Fatalf("%d subscribers closed as slow", store.SlowClosed())
	}
}

// TestWideFanOutSharedWithHelpers: a publish to more subscribers than one
// wake batch is shared with helpers; every subscriber gets every message
// in order, and the helpers are gone once the queue is empty.
func TestWideFanOutSharedWithHelpers(t *testing.T) {
	store := newWakeTestStore()
	ch, _, _ := store.GetOrCreate("wide")
	const subscribers, messages = 5*wakeBatchSize + 3, 20
	next := make([]atomic.Int64, subscribers)
	var bad atomic.Value
	for i := range next {
		drivenSubscriber(t, store, ch, func(batch []Delivery) {
			for _, d := range batch {
				n, _ := strconv.Atoi(string(d.Msg.Text))
				if int64(n) != next[i].Load() {
					bad.CompareAndSwap(nil, "subscriber "+strconv.Itoa(i)+": got "+strconv.Itoa(n))
				}
				next[i].Add(1)
			}
		})
	}
	for n := range messages {
		if _, err := store.Publish(ch, []byte(strconv.Itoa(n)), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := range next {
		for next[i].Load() != messages {
			if time.Now().After(deadline) {
				t.Fatalf("subscriber %d got %d messages of %d", i, next[i].Load(), messages)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	for store.wakes.helpers.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d helpers still running", store.wakes.helpers.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if store.wakes.waiting() {
		t.Fatal("batches left in the queue")
	}
}
