package engine

import "sync/atomic"

// counters are the store's running figures kept only for metrics. The
// fan-out path pays one add per publish on its core's stripe, never one
// per delivery: a publish counts the deliveries it queued locally and
// adds them once.
type counters struct {
	deliveries    stripedCounter
	subscriptions atomic.Int64
}

// delivered records n deliveries queued by one publish on stripe i.
func (c *counters) delivered(i int, n int64) {
	if n > 0 {
		c.deliveries.add(i, n)
	}
}

// Counters are the store's running totals since it was created, each
// read with one atomic load. They leave the events channel out, as the
// statistics' published_messages does (docs/PROTOCOL.md §7.4).
type Counters struct {
	// Published counts the messages published.
	Published int64
	// Deliveries counts the messages queued to subscribers by those
	// publishes: one per subscriber a message was handed to.
	Deliveries int64
	// SlowClosed counts the subscribers closed for falling behind
	// (MaxQueuedDeliveries).
	SlowClosed int64
}

// Counters returns the store's running totals.
func (s *Store) Counters() Counters {
	return Counters{
		Published:  s.published.Load(),
		Deliveries: s.counters.deliveries.Load(),
		SlowClosed: s.slowClosed.Load(),
	}
}

// Subscriptions returns the number of live subscriptions, events channel
// included: the sum of every channel's subscribers.
func (s *Store) Subscriptions() int64 { return s.counters.subscriptions.Load() }
