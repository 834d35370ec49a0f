package engine

import (
	"errors"
	"testing"
	"time"
)

// TestStoreCounters follows the metrics' running totals through
// subscriptions, publishes, a slow subscriber, a delete and an
// unsubscribe, with the events channel left out of published and
// deliveries.
func TestStoreCounters(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{EventsChannelID: "events"})
	a, b := storeChannel(t, s, "a"), storeChannel(t, s, "b")
	subs := make([]*Subscriber, 3)
	for i := range subs {
		sub, err := s.Register()
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = sub
	}
	for _, sub := range subs {
		if _, err := s.Subscribe(sub, a, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Subscribe(subs[0], b, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.Subscriptions(); got != 4 {
		t.Fatalf("subscriptions after subscribing: %d, want 4", got)
	}
	storePublish(t, s, a, "to three", true)
	storePublish(t, s, b, "to one", false)
	want := totals{Published: 2, Deliveries: 4}
	if got := totalsOf(s); got != want {
		t.Fatalf("counters after two publishes: %+v, want %+v", got, want)
	}

	// subs[2] never takes its queue: the message that overflows it is not
	// a delivery, and it ends as slow.
	for range MaxQueuedDeliveries {
		storePublish(t, s, b, "b only", false)
		storePublish(t, s, a, "fill", false)
		subs[0].Take()
		subs[1].Take()
	}
	storePublish(t, s, a, "overflow", false)
	want = totals{
		Published:  2 + 2*MaxQueuedDeliveries + 1,
		Deliveries: 4 + 4*MaxQueuedDeliveries - 1 + 2,
		SlowClosed: 1,
	}
	if got := totalsOf(s); got != want {
		t.Fatalf("counters after the overflow: %+v, want %+v", got, want)
	}

	if ok, err := s.Delete(a, []byte("gone")); !ok || err != nil {
		t.Fatalf("deleting a: %v %v", ok, err)
	}
	if got := s.Subscriptions(); got != 1 {
		t.Fatalf("subscriptions after deleting a: %d, want 1", got)
	}
	for _, sub := range subs {
		s.Unregister(sub)
	}
	if got := s.Subscriptions(); got != 0 {
		t.Fatalf("subscriptions after unregistering: %d, want 0", got)
	}
}

// totals are the running figures the metrics read from a store.
type totals struct{ Published, Deliveries, SlowClosed int64 }

func totalsOf(s *Store) totals {
	return totals{Published: s.Summary().Published, Deliveries: s.Deliveries(), SlowClosed: s.SlowClosed()}
}

// TestStoreHealth reports a full memory cap and an exiting process, and
// health again once the trash frees the memory.
func TestStoreHealth(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{SharedMemorySize: MinSharedMemorySize, TrashDelay: time.Second})
	if err := s.Health(); err != nil {
		t.Fatalf("health of an empty store: %v", err)
	}
	ch := storeChannel(t, s, "full")
	for {
		if _, err := s.Publish(ch, make([]byte, 1000), PublishOptions{}); err != nil {
			break
		}
	}
	for {
		if _, err := s.Publish(ch, []byte{'x'}, PublishOptions{}); err != nil {
			break
		}
	}
	if err := s.Health(); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("health with the cap full: %v, want ErrNoMemory", err)
	}
	storeSweepAt(s, clock, 2*time.Second)
	if err := s.Health(); err != nil {
		t.Fatalf("health once the trash is freed: %v", err)
	}
	s.Shutdown(time.Second)
	if err := s.Health(); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("health while exiting: %v, want ErrStoreClosed", err)
	}
}
