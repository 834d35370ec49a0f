package engine

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// trashEntry is an object waiting in a trash to be freed: a channel, of
// cost bytes, or a message, whose account (renderings included) is read
// when it is freed.
type trashEntry struct {
	cost     int64
	acct     *account
	deadline time.Time
}

// Store holds every channel, stored message and subscriber of the process.
// It is shared by every handler and outlives config reloads.
//
// Lock order: mu, then Channel.mu, then Subscriber.mu. The locks of
// index, messageTrash and memory are leaves: nothing else is locked while
// one of them is held.
type Store struct {
	settings atomic.Pointer[Settings]
	now      func() time.Time
	started  time.Time

	mu            sync.RWMutex
	nextSeq       uint64
	normalCount   int
	wildcardCount int
	deleting      []*Channel
	channelTrash  []trashEntry
	subscribers   map[*Subscriber]struct{}
	eventsChannel *Channel
	closing       bool
	drained       chan struct{}

	// What every publish touches is split by core or kept on cache lines
	// of its own (stripe.go); the index also holds the live channels.
	index        channelIndex
	memory       memoryAccount
	messageTrash messageTrash
	tags         tagClock

	wakes    wakeQueue
	counters counters

	arrivals  atomic.Int64
	arrivalMu sync.Mutex
	arriving  *arrivalGroup
	sealed    []*arrivalGroup

	eventSink atomic.Pointer[EventSink]

	published   stripedCounter
	stored      stripedCounter
	slowClosed  atomic.Int64
	stopJanitor chan struct{}
	janitorDone chan struct{}
	destroyOnce sync.Once
}

// NewStore returns a store with the given settings. now is the clock; nil
// means time.Now. The sweep goroutine starts only with StartJanitor.
func NewStore(settings Settings, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{
		now:         now,
		started:     now(),
		subscribers: make(map[*Subscriber]struct{}),
		stopJanitor: make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	s.index.channels = make(map[string]*Channel)
	s.Apply(settings)
	return s
}

// Settings returns the settings in force.
func (s *Store) Settings() *Settings { return s.settings.Load() }

// Apply installs new store-wide settings; later operations use them. A
// changed events channel id moves the events role to the channel with the
// new id (docs/PROTOCOL.md §8).
func (s *Store) Apply(settings Settings) {
	s.settings.Store(&settings)
	s.mu.Lock()
	prev := s.eventsChannel
	if prev != nil && prev.ID == settings.EventsChannelID {
		s.mu.Unlock()
		return
	}
	if prev != nil {
		s.setEventsFlag(prev, false)
		s.eventsChannel = nil
	}
	s.mu.Unlock()
	if settings.EventsChannelID == "" {
		return
	}
	ch, _, err := s.GetOrCreate(settings.EventsChannelID)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.setEventsFlag(ch, true)
	s.eventsChannel = ch
	s.mu.Unlock()
}

// setEventsFlag flips a channel's events role and keeps the store-wide
// stored count, which leaves the events channel out, consistent.
func (s *Store) setEventsFlag(ch *Channel, events bool) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.events.Load() == events {
		return
	}
	ch.events.Store(events)
	if events {
		s.stored.Add(-int64(len(ch.messages)))
	} else {
		s.stored.Add(int64(len(ch.messages)))
	}
}

// reserve accounts n bytes against the memory cap, or reports false.
func (s *Store) reserve(n int64) bool {
	return s.memory.reserve(n, s.Settings().SharedMemorySize)
}

func (s *Store) release(n int64) { s.memory.release(n) }

// MemoryUsed returns the accounted bytes.
func (s *Store) MemoryUsed() int64 { return s.memory.inUse() }

// Lookup returns the live channel with the id, or nil.
func (s *Store) Lookup(id string) *Channel { return s.index.get(id) }

// GetOrCreate returns the channel with the id, creating it if needed. It
// fails with ErrTooManyChannels or ErrNoMemory.
func (s *Store) GetOrCreate(id string) (ch *Channel, created bool, err error) {
	if ch := s.Lookup(id); ch != nil {
		return ch, false, nil
	}
	settings := s.Settings()
	s.mu.Lock()
	if ch := s.liveLocked(id); ch != nil {
		s.mu.Unlock()
		return ch, false, nil
	}
	wildcard := settings.IsWildcard(id)
	if wildcard && settings.MaxNumberOfWildcardChannels > 0 && s.wildcardCount >= settings.MaxNumberOfWildcardChannels ||
		!wildcard && settings.MaxNumberOfChannels > 0 && s.normalCount >= settings.MaxNumberOfChannels {
		s.mu.Unlock()
		return nil, false, ErrTooManyChannels
	}
	ch, err = s.createLocked(id, settings, false)
	s.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	s.emit(EventChannelCreated, id)
	return ch, true, nil
}

// createLocked accounts, makes and links a channel with the id, counted
// as wildcard or normal; replica marks one a broker's log created. It
// fails with ErrNoMemory. s.mu must be held.
func (s *Store) createLocked(id string, settings *Settings, replica bool) (*Channel, error) {
	if !s.reserve(channelCost + int64(len(id))) {
		return nil, ErrNoMemory
	}
	s.nextSeq++
	ch := &Channel{ID: id, seq: s.nextSeq, wildcard: settings.IsWildcard(id), replica: replica,
		inactiveUntil: s.now().Add(settings.ChannelInactivityTime)}
	s.link(ch)
	if ch.wildcard {
		s.wildcardCount++
	} else {
		s.normalCount++
	}
	return ch, nil
}

// Channels returns the live channels whose id starts with prefix, in
// creation order.
func (s *Store) Channels(prefix string) []*Channel {
	s.mu.RLock()
	list := make([]*Channel, 0, len(s.index.channels))
	for id, ch := range s.index.channels {
		if strings.HasPrefix(id, prefix) {
			list = append(list, ch)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b *Channel) int { return cmp.Compare(a.seq, b.seq) })
	return list
}

// nextTag returns the store-wide tag of a publish at unix second sec.
func (s *Store) nextTag(sec int64) int64 { return s.tags.next(sec) }

// Delete deletes ch (docs/PROTOCOL.md §4.5): it leaves the lookup at once, its
// subscriptions are removed and each subscriber gets the channel-deleted
// message with text. It reports false if ch was already deleted, and
// fails with ErrNoMemory when the cap has no room for that message.
func (s *Store) Delete(ch *Channel, text []byte) (bool, error) {
	// The channel-deleted message needs room, as nginx allocates it: with
	// the cap full the delete is refused and nothing changes.
	cost := messageCost + int64(len(text))
	if !s.reserve(cost) {
		return false, ErrNoMemory
	}
	s.release(cost)
	s.mu.Lock()
	if s.liveLocked(ch.ID) != ch {
		s.mu.Unlock()
		return false, nil
	}
	s.unlink(ch)
	s.uncountLocked(ch)
	s.deleting = append(s.deleting, ch)
	s.mu.Unlock()

	deleted := NewSyntheticMessage(DeletedMessageID, ch.ID, text)
	ch.mu.Lock()
	ch.deleted = true
	subs := ch.subs
	ch.subs = nil
	for _, sb := range subs {
		sb.index = -1
	}
	ch.mu.Unlock()
	s.counters.subscriptions.Add(-int64(len(subs)))
	for _, sb := range subs {
		sb.sub.channelDeleted(sb, deleted)
		s.release(subscriptionCost)
		s.emit(EventClientUnsubscribed, ch.ID)
	}
	return true, nil
}

// uncountLocked removes ch from the live counts; s.mu must be held.
func (s *Store) uncountLocked(ch *Channel) {
	if ch.wildcard {
		s.wildcardCount--
	} else {
		s.normalCount--
	}
}

// Summary is the store-wide statistics (docs/PROTOCOL.md §7.4).
type Summary struct {
	Channels, WildcardChannels        int
	Published, Stored                 int64
	MessagesInTrash                   int
	ChannelsInDelete, ChannelsInTrash int
	Subscribers                       int
	Uptime                            int64
}

// Summary returns the store-wide statistics.
func (s *Store) Summary() Summary {
	s.mu.RLock()
	sum := Summary{
		Channels:         s.normalCount,
		WildcardChannels: s.wildcardCount,
		ChannelsInDelete: len(s.deleting),
		ChannelsInTrash:  len(s.channelTrash),
		Subscribers:      len(s.subscribers),
	}
	s.mu.RUnlock()
	sum.MessagesInTrash = s.messageTrash.len()
	sum.Published = s.published.Load()
	sum.Stored = s.stored.Load()
	sum.Uptime = s.Uptime()
	return sum
}

// Counts returns the live normal and wildcard channel counts.
func (s *Store) Counts() (channels, wildcard int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.normalCount, s.wildcardCount
}

// Uptime returns whole seconds since the store was created.
func (s *Store) Uptime() int64 { return int64(s.now().Sub(s.started) / time.Second) }

// SlowClosed returns how many subscribers were closed for falling behind.
func (s *Store) SlowClosed() int64 { return s.slowClosed.Load() }
