package engine

// A broker shares one set of channels between several stores (one per
// process): it gives every publish and delete a place in one ordered log,
// and each store applies the log with the methods below. Message ids,
// times and tags then come from the log, not from the store, so they agree
// on every store (docs/PROTOCOL.md §1.3).

// Stamp is what a broker assigns to a message: its id in its channel, its
// publish time in whole Unix seconds and its tag within that second.
type Stamp struct {
	ID, Time, Tag int64
}

// PublishStamped adds a message stamped by a broker to the channel with
// the id, creating the channel if needed, and queues it to its
// subscribers as Publish does. The channel limits are not checked: the
// store where the publish was made checked its own, and every store must
// hold the same messages. A channel created here is a replica: it
// announces neither its creation nor its destruction on the events
// channel, the store where it was published does. It fails only with
// ErrNoMemory.
func (s *Store) PublishStamped(id string, text []byte, opts PublishOptions, stamp Stamp) (*Message, error) {
	ch, err := s.replica(id)
	if err != nil {
		return nil, err
	}
	return s.publish(ch, text, opts, &stamp)
}

// DeleteByID deletes the live channel with the id, as Delete does, and
// reports false if there is none.
func (s *Store) DeleteByID(id string, text []byte) (bool, error) {
	ch := s.Lookup(id)
	if ch == nil {
		return false, nil
	}
	return s.Delete(ch, text)
}

// replica returns the channel with the id, creating it without limits or
// events if needed. It fails with ErrNoMemory.
func (s *Store) replica(id string) (*Channel, error) {
	if ch := s.Lookup(id); ch != nil {
		return ch, nil
	}
	settings := s.Settings()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.liveLocked(id); ch != nil {
		return ch, nil
	}
	return s.createLocked(id, settings, true)
}

// EventSink takes the messages of the events channel (docs/PROTOCOL.md §8)
// instead of the store: a broker puts them in its log, so that the events
// of every store reach the events channel's subscribers on every store.
// It is called with no lock held and must not block.
type EventSink func(channel string, text []byte, opts PublishOptions)

// SetEventSink makes sink the destination of the events channel's
// messages; nil makes the store publish them itself again.
func (s *Store) SetEventSink(sink EventSink) {
	if sink == nil {
		s.eventSink.Store(nil)
		return
	}
	s.eventSink.Store(&sink)
}
