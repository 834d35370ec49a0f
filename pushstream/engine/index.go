package engine

import "sync"

// channelIndex holds the store's live channels by id. It answers
// Store.Lookup without a lock shared by every core: publishes look their
// channels up on every request, and a read lock is a write to its cache
// line, so one RWMutex read by all cores passes its line from core to core
// on every lookup. A lookup takes the lock of its own stripe
// (localStripe). The map changes only with Store.mu and every stripe's
// lock held (link, unlink), a channel made or dropped being rare, so
// whoever holds Store.mu may read it without the stripes' locks: the
// sweep walks it so.
type channelIndex struct {
	locks    [stripes]paddedRWMutex
	channels map[string]*Channel
}

// paddedRWMutex is a read-write lock alone on its cache line.
type paddedRWMutex struct {
	sync.RWMutex
	_ [128 - 24]byte
}

// get returns the live channel with the id, or nil.
func (x *channelIndex) get(id string) *Channel {
	l := &x.locks[localStripe()]
	l.RLock()
	ch := x.channels[id]
	l.RUnlock()
	return ch
}

// lockAll takes every stripe's lock for a write.
func (x *channelIndex) lockAll() {
	for i := range x.locks {
		x.locks[i].Lock()
	}
}

// unlockAll releases what lockAll took.
func (x *channelIndex) unlockAll() {
	for i := range x.locks {
		x.locks[i].Unlock()
	}
}

// put adds ch.
func (x *channelIndex) put(ch *Channel) {
	x.lockAll()
	x.channels[ch.ID] = ch
	x.unlockAll()
}

// remove removes ch if it is the channel indexed under its id.
func (x *channelIndex) remove(ch *Channel) {
	x.lockAll()
	if x.channels[ch.ID] == ch {
		delete(x.channels, ch.ID)
	}
	x.unlockAll()
}

// link makes ch live: listed and found by Lookup. s.mu must be held.
func (s *Store) link(ch *Channel) { s.index.put(ch) }

// unlink removes ch from the list and the lookup. s.mu must be held.
func (s *Store) unlink(ch *Channel) { s.index.remove(ch) }

// liveLocked returns the live channel with the id, or nil. s.mu must be
// held.
func (s *Store) liveLocked(id string) *Channel { return s.index.channels[id] }
