package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// closed tells whether c is closed, without waiting.
func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// rejoinSubscribe subscribes a long-poll subscriber from conn to ch and
// returns the texts queued for it at once.
func rejoinSubscribe(t *testing.T, s *Store, ch *Channel, conn string) []string {
	t.Helper()
	sub, err := s.Register()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Unregister(sub) })
	sub.Rejoin(conn)
	if _, err := s.Subscribe(sub, ch, nil); err != nil {
		t.Fatal(err)
	}
	batch, _ := sub.Take()
	var texts []string
	for _, d := range batch {
		texts = append(texts, string(d.Msg.Text))
	}
	return texts
}

func TestRejoinGetsWhatWasPublishedMeanwhile(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{})
	ch, _, _ := s.GetOrCreate("ch")
	publish := func(text string, store bool) {
		if _, err := s.Publish(ch, []byte(text), PublishOptions{Store: store}); err != nil {
			t.Fatal(err)
		}
	}
	publish("seen", false)
	s.ExpectRejoin(ch, "conn A")
	s.ExpectRejoin(ch, "conn B")
	publish("one", false)
	publish("two", true)

	if got := rejoinSubscribe(t, s, ch, "conn C"); len(got) != 0 {
		t.Fatalf("another connection got %q", got)
	}
	if got := rejoinSubscribe(t, s, ch, "conn A"); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("the rejoining connection got %q", got)
	}
	if got := rejoinSubscribe(t, s, ch, "conn A"); len(got) != 0 {
		t.Fatalf("a second subscription from the connection got %q again", got)
	}
	// B does not come back in time: nothing is kept past the window.
	clock.At(RejoinWindow)
	publish("late", false)
	if got := rejoinSubscribe(t, s, ch, "conn B"); len(got) != 0 {
		t.Fatalf("a connection back after the window got %q", got)
	}
	ch.mu.Lock()
	kept := len(ch.rejoinKept)
	ch.mu.Unlock()
	if kept != 0 {
		t.Fatalf("%d messages kept with nobody expected", kept)
	}
}

func TestRejoinKeepsABoundedTail(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{})
	ch, _, _ := s.GetOrCreate("ch")
	s.ExpectRejoin(ch, "conn")
	var want []string
	for i := range maxRejoinMessages + 5 {
		text := fmt.Sprint("msg ", i)
		if _, err := s.Publish(ch, []byte(text), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		if i >= 5 {
			want = append(want, text)
		}
	}
	if got := rejoinSubscribe(t, s, ch, "conn"); !slices.Equal(got, want) {
		t.Fatalf("got %q, want the last %d", got, maxRejoinMessages)
	}
}

func TestRejoinNeedsAConnection(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{})
	ch, _, _ := s.GetOrCreate("ch")
	s.ExpectRejoin(ch, "")
	if _, err := s.Publish(ch, []byte("text"), PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := rejoinSubscribe(t, s, ch, ""); len(got) != 0 {
		t.Fatalf("a subscriber with no connection got %q", got)
	}
}

func TestArrivalsWaitOnlyForEarlierRequests(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{})
	if waits := s.Arrivals(); len(waits) != 0 {
		t.Fatalf("%d waits with no request on its way", len(waits))
	}
	first := s.Arrive()
	waits := s.Arrivals()
	if len(waits) != 1 || closed(waits[0]) {
		t.Fatalf("one request on its way: %d waits", len(waits))
	}
	// A request that starts after the publisher looked is not waited for
	// by that publisher, but is by the next one, with the first.
	second := s.Arrive()
	if later := s.Arrivals(); len(later) != 2 {
		t.Fatalf("second publisher: %d waits, want 2", len(later))
	}
	first.Done()
	first.Done()
	if !closed(waits[0]) {
		t.Fatal("the first publisher still waits after its request subscribed")
	}
	if later := s.Arrivals(); len(later) != 1 || closed(later[0]) {
		t.Fatalf("with the second request on its way: %d waits", len(later))
	}
	second.Done()
	if later := s.Arrivals(); len(later) != 0 {
		t.Fatalf("%d waits once every request subscribed", len(later))
	}
	var none *Arrival
	none.Done()
}

func TestArrivalsUnderConcurrency(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			s.Arrive().Done()
		}
	}()
	for range 1000 {
		for _, w := range s.Arrivals() {
			select {
			case <-w:
			case <-time.After(10 * time.Second):
				t.Fatal("an arrival group never closed")
			}
		}
	}
	<-done
	if waits := s.Arrivals(); len(waits) != 0 {
		t.Fatalf("%d groups left", len(waits))
	}
}
