package redisbroker

import (
	"sync"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// outcome is what applying one log entry to the local store gave.
type outcome struct {
	msg     *engine.Message
	deleted bool
	err     error
}

// maxUnclaimed bounds the outcomes of this process's entries applied
// before their publisher started waiting; they are claimed within
// microseconds, so the bound is only a guard against a leak.
const maxUnclaimed = 4096

// cursor is how far the local store has applied the log, and the
// publishers of this process waiting for their entries to be applied:
// a publish answers once its message is in the local store, so the
// channel info it reports includes it.
type cursor struct {
	mu        sync.Mutex
	last      streamID
	waiting   map[streamID]chan outcome
	unclaimed map[streamID]outcome
}

func newCursor() *cursor {
	return &cursor{waiting: make(map[streamID]chan outcome), unclaimed: make(map[streamID]outcome)}
}

// position returns the id of the last applied entry.
func (c *cursor) position() streamID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// applied records that the entry id was applied with out; own tells
// whether a publisher of this process waits for it.
func (c *cursor) applied(id streamID, own bool, out outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = id
	if ch, ok := c.waiting[id]; ok {
		delete(c.waiting, id)
		ch <- out
		return
	}
	if own {
		if len(c.unclaimed) >= maxUnclaimed {
			clear(c.unclaimed)
		}
		c.unclaimed[id] = out
	}
}

// wait waits, at most timeout, for the entry id to be applied and returns
// its outcome; ok is false if it was not applied in time.
func (c *cursor) wait(id streamID, timeout time.Duration) (out outcome, ok bool) {
	c.mu.Lock()
	if out, ok := c.unclaimed[id]; ok {
		delete(c.unclaimed, id)
		c.mu.Unlock()
		return out, true
	}
	if !c.last.less(id) {
		// Applied, but its outcome was dropped.
		c.mu.Unlock()
		return outcome{}, false
	}
	ch := make(chan outcome, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case out := <-ch:
		return out, true
	case <-timer.C:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.waiting, id)
	select {
	case out := <-ch:
		return out, true
	default:
		return outcome{}, false
	}
}
