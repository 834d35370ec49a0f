package engine

import "testing"

// TestPublishAllAllOrNothing: a message for several channels is accounted
// as the same publishes one by one would be, and when the cap has no room
// for every copy, no channel gets it.
func TestPublishAllAllOrNothing(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{SharedMemorySize: MinSharedMemorySize})
	a, b := storeChannel(t, s, "a"), storeChannel(t, s, "b")
	before := s.MemoryUsed()
	msgs, err := s.PublishAll([]*Channel{a, b}, []byte("hello"), PublishOptions{EventID: "7", HasEventID: true, Store: true})
	if err != nil || len(msgs) != 2 || msgs[0].Channel != "a" || msgs[1].Channel != "b" || msgs[1].EventID != "7" {
		t.Fatalf("got %v, %v", msgs, err)
	}
	if got, want := s.MemoryUsed()-before, 2*(messageCost+int64(len("hello")+len("7"))); got != want {
		t.Fatalf("accounted %d bytes, want %d", got, want)
	}
	room := MinSharedMemorySize - s.MemoryUsed()
	big := make([]byte, room/2)
	if _, err := s.PublishAll([]*Channel{a, b}, big, PublishOptions{Store: true}); err != ErrNoMemory {
		t.Fatalf("two copies past the cap: %v, want ErrNoMemory", err)
	}
	if s.Info(a).Published != 1 || s.Info(b).Published != 1 {
		t.Fatalf("a refused message was half published: %+v %+v", s.Info(a), s.Info(b))
	}
	if _, err := s.PublishAll([]*Channel{a}, big, PublishOptions{Store: true}); err != nil {
		t.Fatalf("one copy within the cap: %v", err)
	}
}
