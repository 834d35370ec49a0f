package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// MaxQueuedDeliveries bounds a subscriber's queue. A subscriber whose queue
// is full when a message arrives is closed as slow: publishers
// never wait for subscribers.
const MaxQueuedDeliveries = 1024

// EndReason tells why the store ended a subscriber.
type EndReason uint8

const (
	// EndNone means the subscriber is still running.
	EndNone EndReason = iota
	// EndShutdown means the process is exiting: finalise as on TTL.
	EndShutdown
	// EndSlow means the subscriber fell behind: close without a footer.
	EndSlow
)

// Delivery is one item of a subscriber's queue.
type Delivery struct {
	// Msg is the message to write.
	Msg *Message
	// Deleted marks the channel-deleted message of a deleted channel; the
	// subscription to that channel is already gone.
	Deleted bool
}

// Subscriber is one waiting request: a stream, an eventsource or websocket
// connection, or a waiting long-poll. Its owner takes deliveries from its
// queue; the store only appends, never blocks. The owner is either a
// goroutine waiting on Notify or, after Drive, a wake function.
type Subscriber struct {
	store  *Store
	notify chan struct{}
	// conn names the client connection of a rejoining long-poll; it is
	// set before the first subscription and read-only after.
	conn string
	// wake, once set by Drive, replaces notify. It is called with no lock
	// held.
	wake func()
	// wakeDue is set while a wake of sub is on a publisher's list or in
	// the wake queue: later publishes leave sub to that wake, which takes
	// their messages too (wakeQueue).
	wakeDue atomic.Bool

	mu    sync.Mutex
	queue []Delivery
	spare []Delivery
	end   EndReason
	subs  []*subscription
	live  int
}

// Register adds a subscriber to the store's registry.
func (s *Store) Register() (*Subscriber, error) {
	sub := &Subscriber{store: s, notify: make(chan struct{}, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, ErrStoreClosed
	}
	s.subscribers[sub] = struct{}{}
	return sub, nil
}

// Unregister removes every remaining subscription of sub and sub itself.
// Only sub's owner calls it, once, when the subscriber ends.
func (s *Store) Unregister(sub *Subscriber) {
	sub.mu.Lock()
	subs := sub.subs
	sub.subs = nil
	sub.live = 0
	sub.mu.Unlock()
	for _, sb := range subs {
		sb.ch.mu.Lock()
		removed := sb.ch.removeSubscription(sb)
		sb.ch.mu.Unlock()
		if removed {
			s.counters.subscriptions.Add(-1)
			s.release(subscriptionCost)
			s.emit(EventClientUnsubscribed, sb.ch.ID)
		}
	}
	s.mu.Lock()
	delete(s.subscribers, sub)
	if s.closing && len(s.subscribers) == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
	s.mu.Unlock()
}

// Subscribe subscribes sub to ch. With a selection it returns the selected
// stored messages, chosen atomically with the subscription so that no
// message falls between them, and sets sel.Gap. It fails with ErrNoMemory.
func (s *Store) Subscribe(sub *Subscriber, ch *Channel, sel *Selection) ([]*Message, error) {
	if !s.reserve(subscriptionCost) {
		return nil, ErrNoMemory
	}
	settings := s.Settings()
	sb := &subscription{ch: ch, sub: sub, index: -1}
	ch.mu.Lock()
	if ch.deleted {
		ch.mu.Unlock()
		s.release(subscriptionCost)
		sub.mu.Lock()
		sub.push(Delivery{Msg: NewSyntheticMessage(DeletedMessageID, ch.ID, []byte(settings.ChannelDeletedMessageText)), Deleted: true})
		sub.mu.Unlock()
		return nil, nil
	}
	var backlog []*Message
	if sel != nil {
		backlog = sel.resolve(ch.messages, ch.dropped)
	}
	ch.addSubscription(sb)
	s.counters.subscriptions.Add(1)
	now := s.now()
	missed := ch.rejoinBacklog(sub.conn, now)
	ch.inactiveUntil = now.Add(settings.ChannelInactivityTime)
	sub.mu.Lock()
	sub.subs = append(sub.subs, sb)
	sub.live++
	for _, m := range missed {
		sub.push(Delivery{Msg: m})
	}
	sub.mu.Unlock()
	ch.mu.Unlock()
	s.emit(EventClientSubscribed, ch.ID)
	return backlog, nil
}

// Rejoin names the client connection of a long-poll subscriber, before
// its first Subscribe, so that each subscription first gets what its
// channel kept since the connection's previous answer (Store.ExpectRejoin).
// Only for subscribers that learn of deliveries through Notify.
func (sub *Subscriber) Rejoin(conn string) { sub.conn = conn }

// Notify is signalled whenever deliveries or an end reason are pending.
func (sub *Subscriber) Notify() <-chan struct{} { return sub.notify }

// Drive makes wake the way sub learns of pending deliveries and of its
// end, instead of Notify. The store calls wake with no lock held, from
// whichever goroutine published, deleted or shut down, or helps deliver
// (wakeQueue), several at once: wake must not block, and must Take and
// write from one goroutine at a time (transport.Conn.Wake does). The
// caller then calls wake itself once for what was queued before.
func (sub *Subscriber) Drive(wake func()) {
	sub.mu.Lock()
	sub.wake = wake
	sub.mu.Unlock()
}

// Take returns the pending deliveries and the end reason. The returned
// slice is valid until the next call.
func (sub *Subscriber) Take() ([]Delivery, EndReason) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	batch := sub.queue
	clear(sub.spare)
	sub.queue = sub.spare[:0]
	sub.spare = batch
	return batch, sub.end
}

// Ended returns why the store ended sub, or EndNone.
func (sub *Subscriber) Ended() EndReason {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.end
}

// Live returns the number of subscriptions sub still has.
func (sub *Subscriber) Live() int {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.live
}

// enqueue hands a message to sub without blocking; a full queue ends sub
// as slow. It reports whether d was queued, and whether sub must be
// woken: the caller holds the channel's lock; if wake is true it must have
// sub woken through the store's wakeQueue once that lock is released,
// which clears wakeDue first.
func (sub *Subscriber) enqueue(d Delivery) (queued, wake bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.end != EndNone {
		return false, false
	}
	if len(sub.queue) >= MaxQueuedDeliveries {
		sub.end = EndSlow
		clear(sub.queue)
		sub.queue = sub.queue[:0]
		sub.store.slowClosed.Add(1)
		return false, sub.signal()
	}
	// A wake already due takes this delivery with the others.
	return true, sub.push(d) && !sub.wakeDue.Swap(true)
}

// push appends d and signals the owner; sub.mu must be held. It returns
// what signal returns.
func (sub *Subscriber) push(d Delivery) bool {
	sub.queue = append(sub.queue, d)
	return sub.signal()
}

// signal tells a goroutine owner that something is pending, or returns
// true when the owner is a wake function, which the caller must call
// after releasing its locks. sub.mu must be held.
func (sub *Subscriber) signal() bool {
	if sub.wake != nil {
		return true
	}
	select {
	case sub.notify <- struct{}{}:
	default:
	}
	return false
}

// channelDeleted records that subscription sb was removed by a channel
// deletion and queues the channel-deleted message. No lock may be held.
func (sub *Subscriber) channelDeleted(sb *subscription, msg *Message) {
	sub.mu.Lock()
	sub.live--
	wake := sub.end == EndNone && sub.push(Delivery{Msg: msg, Deleted: true})
	sub.mu.Unlock()
	if wake {
		sub.wake()
	}
}

// endWith ends sub for reason unless it already ended. No lock may be
// held.
func (sub *Subscriber) endWith(reason EndReason) {
	sub.mu.Lock()
	wake := false
	if sub.end == EndNone {
		sub.end = reason
		wake = sub.signal()
	}
	sub.mu.Unlock()
	if wake {
		sub.wake()
	}
}

// Shutdown ends every subscriber as on process exit and waits, at most
// timeout, for their owners to unregister them. Later Register calls fail.
func (s *Store) Shutdown(timeout time.Duration) {
	s.mu.Lock()
	s.closing = true
	var drained chan struct{}
	if len(s.subscribers) > 0 {
		if s.drained == nil {
			s.drained = make(chan struct{})
		}
		drained = s.drained
	}
	subs := make([]*Subscriber, 0, len(s.subscribers))
	for sub := range s.subscribers {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		sub.endWith(EndShutdown)
	}
	if drained == nil {
		return
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
	}
}
