package engine

import "sync"

// indexShards is how many ways the lookup index is split.
const indexShards = 64

// channelIndex answers Store.Lookup without the store's lock: publishes
// look their channels up on every request, and a read lock on one
// store-wide RWMutex is a write to one cache line shared by every core.
// It mirrors Store.channels, which stays the list the sweep walks; both
// change together, with Store.mu held.
type channelIndex struct {
	shards [indexShards]indexShard
}

// indexShard is one lock and map of the index, alone on its cache line.
type indexShard struct {
	mu       sync.RWMutex
	channels map[string]*Channel
	_        [128 - 32]byte
}

// shard returns the shard of id, by FNV-1a: ids a client chose to
// collide only share a lock, each map is seeded by the runtime.
func (x *channelIndex) shard(id string) *indexShard {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &x.shards[h%indexShards]
}

// get returns the live channel with the id, or nil.
func (x *channelIndex) get(id string) *Channel {
	sh := x.shard(id)
	sh.mu.RLock()
	ch := sh.channels[id]
	sh.mu.RUnlock()
	return ch
}

// put adds ch.
func (x *channelIndex) put(ch *Channel) {
	sh := x.shard(ch.ID)
	sh.mu.Lock()
	if sh.channels == nil {
		sh.channels = make(map[string]*Channel)
	}
	sh.channels[ch.ID] = ch
	sh.mu.Unlock()
}

// remove removes ch if it is the channel indexed under its id.
func (x *channelIndex) remove(ch *Channel) {
	sh := x.shard(ch.ID)
	sh.mu.Lock()
	if sh.channels[ch.ID] == ch {
		delete(sh.channels, ch.ID)
	}
	sh.mu.Unlock()
}

// link makes ch live: listed and found by Lookup. s.mu must be held.
func (s *Store) link(ch *Channel) {
	s.channels[ch.ID] = ch
	s.index.put(ch)
}

// unlink removes ch from the list and the lookup. s.mu must be held.
func (s *Store) unlink(ch *Channel) {
	delete(s.channels, ch.ID)
	s.index.remove(ch)
}
