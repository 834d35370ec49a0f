package pushstream

import (
	"sync"
	"time"
)

// MaxQueuedDeliveries bounds a subscriber's queue. A subscriber whose queue
// is full when a message arrives is closed as slow (STYLE §5): publishers
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
// connection, or a waiting long-poll. Its owner goroutine takes deliveries
// from its queue; the store only appends, never blocks.
type Subscriber struct {
	store  *Store
	notify chan struct{}

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
// message falls between them. It fails with ErrNoMemory.
func (sub *Subscriber) Subscribe(ch *Channel, sel *Selection) ([]*Message, error) {
	s := sub.store
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
		sub.push(Delivery{Msg: newSyntheticMessage(DeletedMessageID, ch.ID, []byte(settings.DeletedText)), Deleted: true})
		sub.mu.Unlock()
		return nil, nil
	}
	var backlog []*Message
	if sel != nil {
		backlog = sel.pick(ch.messages)
	}
	ch.addSubscription(sb)
	ch.inactiveUntil = s.now().Add(settings.InactivityTime)
	sub.mu.Lock()
	sub.subs = append(sub.subs, sb)
	sub.live++
	sub.mu.Unlock()
	ch.mu.Unlock()
	s.emit(EventClientSubscribed, ch.ID)
	return backlog, nil
}

// Notify is signalled whenever deliveries or an end reason are pending.
func (sub *Subscriber) Notify() <-chan struct{} { return sub.notify }

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

// Live returns the number of subscriptions sub still has.
func (sub *Subscriber) Live() int {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.live
}

// enqueue hands a message to sub without blocking; a full queue ends sub
// as slow. The caller holds the channel's lock.
func (sub *Subscriber) enqueue(d Delivery) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.end != EndNone {
		return
	}
	if len(sub.queue) >= MaxQueuedDeliveries {
		sub.end = EndSlow
		clear(sub.queue)
		sub.queue = sub.queue[:0]
		sub.store.slowClosed.Add(1)
		sub.signal()
		return
	}
	sub.push(d)
}

// push appends d and signals the owner; sub.mu must be held.
func (sub *Subscriber) push(d Delivery) {
	sub.queue = append(sub.queue, d)
	sub.signal()
}

func (sub *Subscriber) signal() {
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

// channelDeleted records that subscription sb was removed by a channel
// deletion and queues the channel-deleted message.
func (sub *Subscriber) channelDeleted(sb *subscription, msg *Message) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.live--
	if sub.end == EndNone {
		sub.push(Delivery{Msg: msg, Deleted: true})
	}
}

// endWith ends sub for reason unless it already ended.
func (sub *Subscriber) endWith(reason EndReason) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.end == EndNone {
		sub.end = reason
		sub.signal()
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
