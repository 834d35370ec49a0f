package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// Accounted sizes per object (docs/PROTOCOL.md §1.7).
const (
	channelCost      = 270
	messageCost      = 168
	subscriptionCost = 400
)

// Channel is one channel of the store. Its mutable state is guarded by mu;
// lock order is Store.mu, then Channel.mu, then Subscriber.mu.
type Channel struct {
	// ID is the channel id.
	ID string

	seq      uint64
	wildcard bool
	// replica marks a channel a broker's log created (PublishStamped): its
	// creation and destruction are announced by the store that created it
	// for a publish.
	replica bool
	events  atomic.Bool

	mu            sync.Mutex
	lastID        int64
	lastTime      int64
	lastTag       int64
	messages      []*Message
	dropped       droppedMark
	subs          []*subscription
	inactiveUntil time.Time
	deleted       bool
	rejoiners     []rejoiner
	rejoinKept    []*Message
}

// subscription ties one subscriber to one channel. index is its position
// in ch.subs, or -1 once removed; it is guarded by ch.mu.
type subscription struct {
	ch    *Channel
	sub   *Subscriber
	index int
}

// ChannelInfo is a channel's statistics snapshot (docs/PROTOCOL.md §7.3).
type ChannelInfo struct {
	ID          string
	Published   int64
	Stored      int
	Subscribers int
}

// Info returns the channel's current statistics.
func (s *Store) Info(ch *Channel) ChannelInfo {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ChannelInfo{ID: ch.ID, Published: ch.lastID, Stored: len(ch.messages), Subscribers: len(ch.subs)}
}

// IsEvents tells whether this is the events channel.
func (ch *Channel) IsEvents() bool { return ch.events.Load() }

// IsWildcard tells whether this is a wildcard channel.
func (ch *Channel) IsWildcard() bool { return ch.wildcard }

// Subscribers returns the number of subscriptions to ch.
func (s *Store) Subscribers(ch *Channel) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.subs)
}

// HasStoredMessages tells whether ch keeps at least one message.
func (s *Store) HasStoredMessages(ch *Channel) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.messages) > 0
}

// addSubscription appends s; ch.mu must be held.
func (ch *Channel) addSubscription(s *subscription) {
	s.index = len(ch.subs)
	ch.subs = append(ch.subs, s)
}

// removeSubscription swap-removes s and reports whether it was present;
// ch.mu must be held.
func (ch *Channel) removeSubscription(s *subscription) bool {
	i := s.index
	if i < 0 || i >= len(ch.subs) || ch.subs[i] != s {
		return false
	}
	last := len(ch.subs) - 1
	ch.subs[i] = ch.subs[last]
	ch.subs[i].index = i
	ch.subs[last] = nil
	ch.subs = ch.subs[:last]
	s.index = -1
	return true
}

// dropOldest removes the n oldest stored messages and returns them;
// ch.mu must be held.
func (ch *Channel) dropOldest(n int) []*Message {
	dropped := make([]*Message, n)
	copy(dropped, ch.messages[:n])
	newest := dropped[n-1]
	ch.dropped = droppedMark{ok: true, time: newest.Time, tag: newest.Tag}
	clear(ch.messages[:n])
	ch.messages = ch.messages[n:]
	if len(ch.messages) == 0 {
		ch.messages = nil
	}
	return dropped
}
