package engine

import (
	"sync"
	"time"
)

// messageTrash holds messages that left their channels until the sweep
// frees them (docs/PROTOCOL.md §1.6). A publish that evicts or does not
// store adds to it, so it is split by stripe: publishes on different
// cores lock different shards.
type messageTrash struct {
	shards [stripes]trashShard
}

// trashShard is one lock and list of the trash, in deadline order, alone
// on its cache line.
type trashShard struct {
	mu      sync.Mutex
	entries []trashEntry
	_       [128 - 32]byte
}

// add puts msgs, if any, in shard i with deadline.
func (t *messageTrash) add(i int, msgs []*Message, deadline time.Time) {
	if len(msgs) == 0 {
		return
	}
	sh := &t.shards[i]
	sh.mu.Lock()
	for _, m := range msgs {
		sh.entries = append(sh.entries, trashEntry{acct: m.acct, deadline: deadline})
	}
	sh.mu.Unlock()
}

// len returns the number of messages in the trash.
func (t *messageTrash) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}

// freeExpired frees the messages whose deadline passed.
func (t *messageTrash) freeExpired(s *Store, now time.Time) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		sh.entries = s.freeExpired(sh.entries, now)
		sh.mu.Unlock()
	}
}
