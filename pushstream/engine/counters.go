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

// Deliveries returns how many messages publishes queued to subscribers
// since the store was created, one per subscriber a message was handed
// to, the events channel's left out as the statistics' published_messages
// leaves them out (docs/PROTOCOL.md §7.4).
func (s *Store) Deliveries() int64 { return s.counters.deliveries.Load() }

// Subscriptions returns the number of live subscriptions, events channel
// included: the sum of every channel's subscribers.
func (s *Store) Subscriptions() int64 { return s.counters.subscriptions.Load() }
