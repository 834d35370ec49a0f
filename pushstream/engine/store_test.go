package engine

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeClock is the injected clock of the engine tests.
type storeClock struct {
	mu  sync.Mutex
	now time.Time
}

// storeEpoch is a whole second, so message times and deadlines are exact.
var storeEpoch = time.Date(2026, time.November, 28, 1, 22, 24, 0, time.UTC)

func newStoreClock() *storeClock { return &storeClock{now: storeEpoch} }

func (c *storeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// At sets the clock to storeEpoch + d.
func (c *storeClock) At(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = storeEpoch.Add(d)
}

// storeSweepAt moves the clock to storeEpoch + d and sweeps.
func storeSweepAt(s *Store, c *storeClock, d time.Duration) {
	c.At(d)
	s.Sweep()
}

// storeNew returns a store on a test clock. Zero cap, TTL, sweep and
// trash settings take their defaults; every other zero stays.
func storeNew(t *testing.T, settings Settings) (*Store, *storeClock) {
	t.Helper()
	clock := newStoreClock()
	return NewStore(withDefaults(settings), clock.Now), clock
}

// withDefaults fills the zero cap, TTL, sweep and trash settings.
func withDefaults(settings Settings) Settings {
	def := DefaultSettings()
	if settings.SharedMemorySize == 0 {
		settings.SharedMemorySize = def.SharedMemorySize
	}
	if settings.MessageTTL == 0 {
		settings.MessageTTL = def.MessageTTL
	}
	if settings.SweepInterval == 0 {
		settings.SweepInterval = def.SweepInterval
	}
	if settings.TrashDelay == 0 {
		settings.TrashDelay = def.TrashDelay
	}
	return settings
}

func storeChannel(t *testing.T, s *Store, id string) *Channel {
	t.Helper()
	ch, _, err := s.GetOrCreate(id)
	if err != nil {
		t.Fatalf("creating channel %q: %v", id, err)
	}
	return ch
}

func storePublish(t *testing.T, s *Store, ch *Channel, text string, stored bool) *Message {
	t.Helper()
	msg, err := s.Publish(ch, []byte(text), PublishOptions{Store: stored})
	if err != nil {
		t.Fatalf("publishing to %q: %v", ch.ID, err)
	}
	return msg
}

// storeWantSummary compares the counters of the statistics summary
// (docs/PROTOCOL.md §7.4) that the engine keeps.
func storeWantSummary(t *testing.T, s *Store, when string, want Summary) {
	t.Helper()
	got := s.Summary()
	got.Uptime, want.Uptime = 0, 0
	if got != want {
		t.Fatalf("%s: summary\n got %+v\nwant %+v", when, got, want)
	}
}

func storeWantMemory(t *testing.T, s *Store, when string, want int64) {
	t.Helper()
	if got := s.MemoryUsed(); got != want {
		t.Fatalf("%s: memory used %d, want %d", when, got, want)
	}
}

// storeEvents returns the texts stored in the events channel.
func storeEvents(t *testing.T, s *Store) []string {
	t.Helper()
	ec := s.EventsChannel()
	if ec == nil {
		t.Fatal("no events channel")
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	texts := make([]string, len(ec.messages))
	for i, m := range ec.messages {
		texts[i] = string(m.Text)
	}
	return texts
}

func storeEvent(event, id string) string {
	return fmt.Sprintf(`{"type": "%s", "channel": "%s"}`, event, id)
}

func storeStoredIDs(ch *Channel) string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ids := make([]string, len(ch.messages))
	for i, m := range ch.messages {
		ids[i] = fmt.Sprint(m.ID)
	}
	return strings.Join(ids, ",")
}

// TestStoreDeleteLifecycle follows docs/PROTOCOL.md §1.6: a deleted channel
// leaves the lookup and the live counts at once and is counted in
// channels_in_delete; the next sweep moves it and its messages to the
// trash (channel_destroyed is published then); 10 s later the trash is
// freed and its memory released.
func TestStoreDeleteLifecycle(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{})
	ch := storeChannel(t, s, "ch")
	storePublish(t, s, ch, "one", true)
	storePublish(t, s, ch, "two", true)
	full := int64(270+2) + 2*(168+3)
	storeWantMemory(t, s, "before delete", full)
	storeWantSummary(t, s, "before delete", Summary{Channels: 1, Published: 2, Stored: 2})

	if ok, err := s.Delete(ch, []byte("bye")); !ok || err != nil {
		t.Fatal("Delete reported the channel as already deleted")
	}
	if ok, _ := s.Delete(ch, []byte("bye")); ok {
		t.Fatal("a second Delete of the same channel succeeded")
	}
	if s.Lookup("ch") != nil {
		t.Fatal("deleted channel still found")
	}
	storeWantSummary(t, s, "after delete", Summary{Published: 2, Stored: 2, ChannelsInDelete: 1})
	storeWantMemory(t, s, "after delete", full)

	storeSweepAt(s, clock, time.Second)
	storeWantSummary(t, s, "first sweep", Summary{Published: 2, MessagesInTrash: 2, ChannelsInTrash: 1})
	storeWantMemory(t, s, "trash is still accounted", full)

	storeSweepAt(s, clock, 10*time.Second)
	storeWantSummary(t, s, "9 s in the trash", Summary{Published: 2, MessagesInTrash: 2, ChannelsInTrash: 1})

	storeSweepAt(s, clock, 12*time.Second)
	storeWantSummary(t, s, "11 s in the trash", Summary{Published: 2})
	storeWantMemory(t, s, "trash freed", 0)
}

// TestStoreDeleteWithSubscriber: deletion removes the subscriptions at
// once, hands each subscriber the channel-deleted message (§4.5) and
// releases the subscription memory; the events channel sees
// channel_created, client_subscribed, client_unsubscribed, and
// channel_destroyed only at the sweep (§1.6, §8).
func TestStoreDeleteWithSubscriber(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{EventsChannelID: "events", ChannelDeletedMessageText: DefaultChannelDeletedMessageText})
	ch := storeChannel(t, s, "ch")
	sub, err := s.Register()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscribe(sub, ch, nil); err != nil {
		t.Fatal(err)
	}
	other := storeChannel(t, s, "other")
	if _, err := s.Subscribe(sub, other, nil); err != nil {
		t.Fatal(err)
	}
	if sub.Live() != 2 || s.Subscribers(ch) != 1 {
		t.Fatalf("live %d, channel subscribers %d", sub.Live(), s.Subscribers(ch))
	}
	before := s.MemoryUsed()
	_, _ = s.Delete(ch, []byte("bye"))
	if s.Subscribers(ch) != 0 || sub.Live() != 1 {
		t.Fatalf("after delete: channel subscribers %d, live %d", s.Subscribers(ch), sub.Live())
	}
	deliveries, end := sub.Take()
	if end != EndNone || len(deliveries) != 1 {
		t.Fatalf("deliveries %+v, end %v", deliveries, end)
	}
	d := deliveries[0]
	if !d.Deleted || d.Msg.ID != DeletedMessageID || d.Msg.Channel != "ch" || string(d.Msg.Text) != "bye" || d.Msg.Time != 0 || d.Msg.Tag != 0 {
		t.Fatalf("channel-deleted delivery %+v, message %+v", d, d.Msg)
	}
	// The subscription is released and the client_unsubscribed event is
	// stored; the synthetic channel-deleted message is not accounted.
	storeWantMemory(t, s, "after delete", before-subscriptionCost+eventMessageCost(EventClientUnsubscribed, "ch"))
	storeWantSummary(t, s, "after delete", Summary{Channels: 2, ChannelsInDelete: 1, Subscribers: 1})

	storeSweepAt(s, clock, 2*time.Second)
	storeWantSummary(t, s, "after the sweep", Summary{Channels: 2, ChannelsInTrash: 1, Subscribers: 1})
	s.Unregister(sub)
	want := []string{
		storeEvent(EventChannelCreated, "ch"),
		storeEvent(EventClientSubscribed, "ch"),
		storeEvent(EventChannelCreated, "other"),
		storeEvent(EventClientSubscribed, "other"),
		storeEvent(EventClientUnsubscribed, "ch"),
		storeEvent(EventChannelDestroyed, "ch"),
		storeEvent(EventClientUnsubscribed, "other"),
	}
	if got := storeEvents(t, s); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
	// A subscriber arriving at a deleted channel gets the deleted message
	// and no subscription.
	late, _ := s.Register()
	if backlog, err := s.Subscribe(late, ch, nil); err != nil || backlog != nil || late.Live() != 0 {
		t.Fatalf("subscribing to a deleted channel: %v, %v, live %d", backlog, err, late.Live())
	}
	if got, _ := late.Take(); len(got) != 1 || !got[0].Deleted || got[0].Msg.ID != DeletedMessageID {
		t.Fatalf("late subscriber deliveries %+v", got)
	}
	s.Unregister(late)
}

// TestStoreDeleteRecreate: a deleted id can be created again at once, as a
// new channel whose message ids restart at 1 (§1.3, §1.6 step 1).
func TestStoreDeleteRecreate(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{})
	old := storeChannel(t, s, "ch")
	storePublish(t, s, old, "a", true)
	storePublish(t, s, old, "b", true)
	_, _ = s.Delete(old, nil)
	fresh, created, err := s.GetOrCreate("ch")
	if err != nil || !created || fresh == old {
		t.Fatalf("re-creating: created %v, same %v, %v", created, fresh == old, err)
	}
	if msg := storePublish(t, s, fresh, "c", true); msg.ID != 1 {
		t.Fatalf("first message of the re-created channel has id %d", msg.ID)
	}
	storeWantSummary(t, s, "re-created", Summary{Channels: 1, Published: 3, Stored: 3, ChannelsInDelete: 1})
}

// TestSweepMessageExpiry: a stored message is removed by the first sweep
// at or after its expiry (time + message_ttl) and goes to the message
// trash, freed 10 s later (§1.4, §1.6 step 2.2).
func TestSweepMessageExpiry(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{MessageTTL: 5 * time.Second, ChannelInactivityTime: time.Hour})
	ch := storeChannel(t, s, "ch")
	storePublish(t, s, ch, "m1", true)
	clock.At(3 * time.Second)
	storePublish(t, s, ch, "m2", true)

	storeSweepAt(s, clock, 4*time.Second)
	storeWantSummary(t, s, "before expiry", Summary{Channels: 1, Published: 2, Stored: 2})

	storeSweepAt(s, clock, 5*time.Second)
	storeWantSummary(t, s, "m1 expired", Summary{Channels: 1, Published: 2, Stored: 1, MessagesInTrash: 1})
	if got := storeStoredIDs(ch); got != "2" {
		t.Fatalf("stored ids %s, want 2", got)
	}
	if info := s.Info(ch); info.Stored != 1 || info.Published != 2 {
		t.Fatalf("channel info %+v", info)
	}

	storeSweepAt(s, clock, 8*time.Second)
	storeWantSummary(t, s, "m2 expired", Summary{Channels: 1, Published: 2, MessagesInTrash: 2})
	storeWantMemory(t, s, "expired messages are still accounted", 272+2*170)

	storeSweepAt(s, clock, 16*time.Second)
	storeWantSummary(t, s, "m1 freed", Summary{Channels: 1, Published: 2, MessagesInTrash: 1})
	storeSweepAt(s, clock, 19*time.Second)
	storeWantSummary(t, s, "m2 freed", Summary{Channels: 1, Published: 2})
	storeWantMemory(t, s, "trash freed", 272)
}

// TestSweepExpiryStopsAtFirstUnexpired: expired messages are removed
// oldest first, stopping at the first unexpired one (§1.6 step 2.2).
func TestSweepExpiryStopsAtFirstUnexpired(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{MessageTTL: 10 * time.Second, ChannelInactivityTime: time.Hour})
	ch := storeChannel(t, s, "ch")
	storePublish(t, s, ch, "long", true)
	s.Apply(withDefaults(Settings{MessageTTL: time.Second, ChannelInactivityTime: time.Hour}))
	storePublish(t, s, ch, "short", true)
	storeSweepAt(s, clock, 2*time.Second)
	if got := storeStoredIDs(ch); got != "1,2" {
		t.Fatalf("after 2 s: stored ids %s, want 1,2", got)
	}
	storeSweepAt(s, clock, 10*time.Second)
	if got := storeStoredIDs(ch); got != "" {
		t.Fatalf("after 10 s: stored ids %s, want none", got)
	}
}

// TestSweepInactivityCollection: a channel without stored messages and
// subscriptions is collected by the first sweep after its inactivity
// deadline (now + channel_inactivity_time, refreshed at creation, publish
// and subscription), moved to the channel trash and freed 10 s later
// (§1.6 step 2.3).
func TestSweepInactivityCollection(t *testing.T) {
	t.Parallel()
	settings := Settings{ChannelInactivityTime: 30 * time.Second, EventsChannelID: "events", WildcardChannelPrefix: "broad_"}

	t.Run("idle channel", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, settings)
		storeChannel(t, s, "idle")
		storeChannel(t, s, "broad_idle")
		eventsMemory := int64(270 + len("events"))
		eventCost := eventMessageCost(EventChannelCreated, "idle") + eventMessageCost(EventChannelCreated, "broad_idle")
		storeWantMemory(t, s, "created", eventsMemory+eventCost+int64(270+4)+int64(270+10))
		storeSweepAt(s, clock, 29*time.Second)
		storeWantSummary(t, s, "before the deadline", Summary{Channels: 2, WildcardChannels: 1})
		storeSweepAt(s, clock, 30*time.Second)
		storeWantSummary(t, s, "at the deadline", Summary{Channels: 2, WildcardChannels: 1})
		storeSweepAt(s, clock, 31*time.Second)
		storeWantSummary(t, s, "collected", Summary{Channels: 1, ChannelsInTrash: 2})
		if s.Lookup("idle") != nil || s.Lookup("broad_idle") != nil {
			t.Fatal("collected channel still found")
		}
		if s.Lookup("events") == nil {
			t.Fatal("the events channel was collected")
		}
		events := storeEvents(t, s)
		if !strings.Contains(strings.Join(events, "\n"), storeEvent(EventChannelDestroyed, "idle")) ||
			!strings.Contains(strings.Join(events, "\n"), storeEvent(EventChannelDestroyed, "broad_idle")) {
			t.Fatalf("no channel_destroyed events: %q", events)
		}
		storeSweepAt(s, clock, 42*time.Second)
		storeWantSummary(t, s, "freed", Summary{Channels: 1})
		// The events channel keeps its four event messages.
		storeWantMemory(t, s, "freed", eventsMemory+eventCost+
			eventMessageCost(EventChannelDestroyed, "idle")+eventMessageCost(EventChannelDestroyed, "broad_idle"))
	})

	t.Run("stored messages keep a channel", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, settings)
		storePublish(t, s, storeChannel(t, s, "kept"), "m", true)
		storeSweepAt(s, clock, 29*time.Minute)
		if s.Lookup("kept") == nil {
			t.Fatal("channel with a stored message was collected")
		}
		// Once the message expires (message_ttl 30m) the same sweep
		// collects the channel.
		storeSweepAt(s, clock, 30*time.Minute)
		if s.Lookup("kept") != nil {
			t.Fatal("channel kept after its last message expired")
		}
	})

	t.Run("subscriptions keep a channel", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, settings)
		ch := storeChannel(t, s, "watched")
		sub, _ := s.Register()
		if _, err := s.Subscribe(sub, ch, nil); err != nil {
			t.Fatal(err)
		}
		storeSweepAt(s, clock, 100*time.Second)
		if s.Lookup("watched") == nil {
			t.Fatal("channel with a subscription was collected")
		}
		s.Unregister(sub)
		// Unsubscribing does not refresh the deadline (creation + 30 s).
		storeSweepAt(s, clock, 101*time.Second)
		if s.Lookup("watched") != nil {
			t.Fatal("channel not collected after its last subscription ended")
		}
	})

	t.Run("publish refreshes the deadline", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, settings)
		ch := storeChannel(t, s, "busy")
		clock.At(20 * time.Second)
		storePublish(t, s, ch, "not stored", false)
		storeSweepAt(s, clock, 31*time.Second)
		if s.Lookup("busy") == nil {
			t.Fatal("collected 11 s after a publish")
		}
		storeSweepAt(s, clock, 51*time.Second)
		if s.Lookup("busy") != nil {
			t.Fatal("not collected 31 s after the last publish")
		}
	})

	t.Run("subscription refreshes the deadline", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, settings)
		ch := storeChannel(t, s, "visited")
		clock.At(20 * time.Second)
		sub, _ := s.Register()
		if _, err := s.Subscribe(sub, ch, nil); err != nil {
			t.Fatal(err)
		}
		clock.At(25 * time.Second)
		s.Unregister(sub)
		storeSweepAt(s, clock, 31*time.Second)
		if s.Lookup("visited") == nil {
			t.Fatal("collected 11 s after a subscription")
		}
		storeSweepAt(s, clock, 51*time.Second)
		if s.Lookup("visited") != nil {
			t.Fatal("not collected 31 s after the last subscription")
		}
	})

	t.Run("zero inactivity time", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, Settings{})
		storeChannel(t, s, "brief")
		storeSweepAt(s, clock, 0)
		if s.Lookup("brief") == nil {
			t.Fatal("collected while its deadline is now")
		}
		storeSweepAt(s, clock, time.Millisecond)
		if s.Lookup("brief") != nil {
			t.Fatal("not collected once its deadline passed")
		}
	})

	t.Run("events channel is never collected", func(t *testing.T) {
		t.Parallel()
		s, clock := storeNew(t, settings)
		storeSweepAt(s, clock, 24*time.Hour)
		if s.Lookup("events") == nil || s.EventsChannel() == nil {
			t.Fatal("events channel collected")
		}
		storeWantSummary(t, s, "a day later", Summary{Channels: 1})
	})
}

// TestStoreMemoryAccounting checks the accounted sizes of docs/PROTOCOL.md
// §1.7: channel 270 + len(id), message 168 + len(text), subscription 400;
// trashed objects stay accounted until freed.
func TestStoreMemoryAccounting(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{MaxMessagesStoredPerChannel: 1, ChannelInactivityTime: time.Hour})
	storeWantMemory(t, s, "empty store", 0)
	abc := storeChannel(t, s, "abc")
	storeWantMemory(t, s, "one channel", 273)
	storeChannel(t, s, "abc")
	storeWantMemory(t, s, "existing channel", 273)
	empty := storeChannel(t, s, "")
	storeWantMemory(t, s, "empty id", 273+270)

	storePublish(t, s, abc, "hello", true)
	storeWantMemory(t, s, "stored message", 543+173)
	storePublish(t, s, abc, "hi", false)
	storeWantMemory(t, s, "unstored message in the trash", 716+170)
	storePublish(t, s, abc, "evicts", true)
	storeWantMemory(t, s, "evicted message in the trash", 886+174)
	storeWantSummary(t, s, "accounting", Summary{Channels: 2, Published: 3, Stored: 1, MessagesInTrash: 2})

	sub, _ := s.Register()
	if _, err := s.Subscribe(sub, abc, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscribe(sub, empty, nil); err != nil {
		t.Fatal(err)
	}
	storeWantMemory(t, s, "two subscriptions", 1060+800)
	s.Unregister(sub)
	storeWantMemory(t, s, "unsubscribed", 1060)

	storeSweepAt(s, clock, 11*time.Second)
	storeWantMemory(t, s, "trash freed", 543+174)
	storeWantSummary(t, s, "trash freed", Summary{Channels: 2, Published: 3, Stored: 1})
}

// TestStoreMemoryCap: an allocation that would exceed shared_memory_size
// fails and changes nothing (§1.7).
func TestStoreMemoryCap(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{SharedMemorySize: 1000, ChannelInactivityTime: time.Hour})
	ch := storeChannel(t, s, "x")
	if _, err := s.Publish(ch, make([]byte, 562), PublishOptions{Store: true}); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("publishing one byte over the cap: %v", err)
	}
	if info := s.Info(ch); info.Published != 0 || info.Stored != 0 {
		t.Fatalf("refused message left traces: %+v", info)
	}
	msg := storePublish(t, s, ch, string(make([]byte, 561)), true)
	if msg.ID != 1 {
		t.Fatalf("message id %d, want 1", msg.ID)
	}
	storeWantMemory(t, s, "exactly at the cap", 1000)
	if _, _, err := s.GetOrCreate("y"); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("creating a channel over the cap: %v", err)
	}
	if s.Lookup("y") != nil {
		t.Fatal("refused channel exists")
	}
	sub, _ := s.Register()
	if _, err := s.Subscribe(sub, ch, nil); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("subscribing over the cap: %v", err)
	}
	if s.Subscribers(ch) != 0 || sub.Live() != 0 {
		t.Fatal("refused subscription exists")
	}
	s.Unregister(sub)
	storeWantSummary(t, s, "at the cap", Summary{Channels: 1, Published: 1, Stored: 1})

	// At the cap a delete is refused too, as nginx refuses it: the
	// channel-deleted message needs room.
	if ok, err := s.Delete(ch, nil); ok || !errors.Is(err, ErrNoMemory) || s.Lookup("x") != ch {
		t.Fatalf("deleting at the cap: %v, %v", ok, err)
	}

	// Memory comes back only when the trash is freed (10 to 14 s after the
	// message expired).
	storeSweepAt(s, clock, DefaultMessageTTL+time.Second)
	if _, _, err := s.GetOrCreate("y"); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("creating while the trash holds the memory: %v", err)
	}
	storeSweepAt(s, clock, DefaultMessageTTL+12*time.Second)
	storeWantMemory(t, s, "trash freed", channelCost+1)
	storeChannel(t, s, "y")
}

// TestStoreMessageTags checks the message fields of docs/PROTOCOL.md §1.3: ids
// per channel, whole-second times, and the store-wide tag that counts
// publishes in the same second across all channels.
func TestStoreMessageTags(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{})
	a := storeChannel(t, s, "a")
	b := storeChannel(t, s, "b")
	type idTag struct{ id, tag int64 }
	check := func(msg *Message, want idTag) {
		t.Helper()
		if msg.ID != want.id || msg.Tag != want.tag {
			t.Fatalf("message on %s: id %d tag %d, want id %d tag %d", msg.Channel, msg.ID, msg.Tag, want.id, want.tag)
		}
	}
	check(storePublish(t, s, a, "1", true), idTag{1, 1})
	check(storePublish(t, s, b, "2", false), idTag{1, 2})
	check(storePublish(t, s, a, "3", true), idTag{2, 3})
	clock.At(999 * time.Millisecond)
	m := storePublish(t, s, b, "4", true)
	check(m, idTag{2, 4})
	if m.Time != storeEpoch.Unix() {
		t.Fatalf("time %d, want whole second %d", m.Time, storeEpoch.Unix())
	}
	clock.At(time.Second)
	m = storePublish(t, s, a, "5", true)
	check(m, idTag{3, 1})
	if m.Time != storeEpoch.Unix()+1 {
		t.Fatalf("time %d, want %d", m.Time, storeEpoch.Unix()+1)
	}
	clock.At(5 * time.Second)
	check(storePublish(t, s, b, "6", true), idTag{3, 1})
	if info := s.Info(b); info.Published != 3 || info.Stored != 2 {
		t.Fatalf("unstored messages count in published_messages only: %+v", info)
	}
	b.mu.Lock()
	lastTime, lastTag := b.lastTime, b.lastTag
	b.mu.Unlock()
	if lastTime != storeEpoch.Unix()+5 || lastTag != 1 {
		t.Fatalf("last message time %d tag %d", lastTime, lastTag)
	}

	opts := PublishOptions{EventID: "", HasEventID: true, EventType: "ty", HasEventType: true, Store: true}
	m, err := s.Publish(a, []byte("evt"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasEventID || m.EventID != "" || !m.HasEventType || m.EventType != "ty" || string(m.Text) != "evt" {
		t.Fatalf("event fields not carried: %+v", m)
	}
	if m.Tag != 2 {
		t.Fatalf("second publish of the second: tag %d, want 2", m.Tag)
	}
}

// TestStoreTagsIncludeEvents: events-channel messages take ids of the
// events channel and consume the store-wide tag, but stay out of the
// store-wide published and stored totals (§1.3, §7.4, §8).
func TestStoreTagsIncludeEvents(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{EventsChannelID: "events"})
	ch := storeChannel(t, s, "c") // channel_created: events id 1, tag 1
	m := storePublish(t, s, ch, "x", true)
	if m.ID != 1 || m.Tag != 2 {
		t.Fatalf("publish after an event: id %d tag %d, want id 1 tag 2", m.ID, m.Tag)
	}
	storeWantSummary(t, s, "events excluded", Summary{Channels: 2, Published: 1, Stored: 1})
	if info := s.Info(s.EventsChannel()); info.Published != 1 || info.Stored != 1 {
		t.Fatalf("events channel info %+v", info)
	}
}

// TestStoreMaxStoredPerChannel: after a publish the oldest stored
// messages go to the trash until the limit holds (§1.4).
func TestStoreMaxStoredPerChannel(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{MaxMessagesStoredPerChannel: 2})
	ch := storeChannel(t, s, "ch")
	for i := range 3 {
		storePublish(t, s, ch, fmt.Sprint(i), true)
	}
	if got := storeStoredIDs(ch); got != "2,3" {
		t.Fatalf("stored ids %s, want 2,3", got)
	}
	storeWantSummary(t, s, "limit 2", Summary{Channels: 1, Published: 3, Stored: 2, MessagesInTrash: 1})
}

// TestStoreChannelLimits: max_number_of_channels counts normal channels
// (the events channel included), max_number_of_wildcard_channels counts
// wildcard ones; a deleted channel frees its place at once (§1.2, §1.6).
func TestStoreChannelLimits(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{MaxNumberOfChannels: 2, MaxNumberOfWildcardChannels: 2, WildcardChannelPrefix: "broad_", EventsChannelID: "events"})
	a := storeChannel(t, s, "a")
	if _, _, err := s.GetOrCreate("b"); !errors.Is(err, ErrTooManyChannels) {
		t.Fatalf("third normal channel (events + a + b): %v", err)
	}
	w := storeChannel(t, s, "broad_1")
	if !w.IsWildcard() || a.IsWildcard() {
		t.Fatal("wildcard flags")
	}
	storeChannel(t, s, "broad_") // an id equal to the prefix is wildcard
	if _, _, err := s.GetOrCreate("broad_2"); !errors.Is(err, ErrTooManyChannels) {
		t.Fatalf("third wildcard channel: %v", err)
	}
	_, _ = s.Delete(a, nil)
	storeChannel(t, s, "b")
}

// TestStoreUptime: uptime is whole seconds on the store's clock (§7.3).
func TestStoreUptime(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{})
	clock.At(5*time.Second + 900*time.Millisecond)
	if got := s.Uptime(); got != 5 {
		t.Fatalf("uptime %d, want 5", got)
	}
}

// eventMessageCost is what the store accounts for an event message: the
// message, its text and its event type.
func eventMessageCost(event, id string) int64 {
	return messageCost + int64(len(storeEvent(event, id))+len(event))
}

// upperFormatter is a second formatter for the rendering tests.
type upperFormatter struct{}

func (upperFormatter) Format(msg *Message) []byte { return bytes.ToUpper(msg.Text) }

// TestStoreAccountsEveryByte: event id and type bytes count against the
// cap, and so does every rendering a message keeps, until the trash frees
// the message (docs/PROTOCOL.md §1.7).
func TestStoreAccountsEveryByte(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{ChannelInactivityTime: time.Hour})
	ch := storeChannel(t, s, "ch")
	base := s.MemoryUsed()
	msg, err := s.Publish(ch, []byte("text"), PublishOptions{EventID: "id-1", HasEventID: true, EventType: "kind", HasEventType: true})
	if err != nil {
		t.Fatal(err)
	}
	storeWantMemory(t, s, "published", base+messageCost+int64(len("text")+len("id-1")+len("kind")))

	published := s.MemoryUsed()
	msg.Rendered(eventFormatter{})
	msg.Rendered(eventFormatter{})
	msg.Rendered(upperFormatter{})
	rendered := int64(renderingCost+len(eventFormatter{}.Format(msg))) + int64(renderingCost+len("TEXT"))
	storeWantMemory(t, s, "rendered twice through two formatters", published+rendered)

	// The unstored message was trashed at once; freeing it releases the
	// renderings too, and later renderings are not kept.
	storeSweepAt(s, clock, DefaultTrashDelay+time.Second)
	storeWantMemory(t, s, "freed", base)
	if got := string(msg.Rendered(upperFormatter{})); got != "TEXT" {
		t.Fatalf("rendering after free: %q", got)
	}
	storeWantMemory(t, s, "rendered after free", base)
}

// TestStoreRenderingsRespectTheCap: with the cap full, a rendering is
// still made but not kept.
func TestStoreRenderingsRespectTheCap(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{SharedMemorySize: 2000, ChannelInactivityTime: time.Hour})
	ch := storeChannel(t, s, "ch")
	msg, err := s.Publish(ch, bytes.Repeat([]byte("x"), 600), PublishOptions{Store: true})
	if err != nil {
		t.Fatal(err)
	}
	// Fill the cap.
	for {
		if _, err := s.Publish(ch, bytes.Repeat([]byte("y"), 10), PublishOptions{Store: true}); err != nil {
			break
		}
	}
	full := s.MemoryUsed()
	if got := msg.Rendered(upperFormatter{}); len(got) != 600 {
		t.Fatalf("rendering of %d bytes", len(got))
	}
	storeWantMemory(t, s, "after a rendering with the cap full", full)
}
