package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// wakeBatchSize is how many subscribers one goroutine wakes at a time
// when a publish's subscribers are shared among cores. Each wake is about
// one system call (a writev), so a batch is some hundred microseconds of
// work: small enough to spread a fan-out, large enough that handing it
// over costs nothing in comparison.
const wakeBatchSize = 128

// wakeQueue wakes driven subscribers (Subscriber.Drive) for the publishers
// that queued messages to them, on every core:
//
//   - A subscriber is woken once for all the messages queued to it
//     meanwhile: enqueue reports it to a publisher only if no wake is
//     already due (Subscriber.wakeDue), and a publisher first lets the
//     other runnable publishers queue theirs (runtime.Gosched), so a
//     subscriber behind several publishers gets their messages in one
//     write.
//   - A publisher queues its subscribers in batches of wakeBatchSize,
//     then runs batches from the head of the queue, at most as many as it
//     queued: its answer waits for no more than its own fan-out's worth
//     of work (a batch of someone else's at most per batch of its own),
//     and every batch queued is run by someone. Behind a backlog, a
//     publisher runs older batches first, and its own subscribers, still
//     due a wake, take its next messages in the same write.
//   - Helpers, started while more than one batch waits and gone once none
//     is left (at most GOMAXPROCS-1), run batches too: a fan-out is
//     written by every core.
//
// Nothing here waits for a subscriber: a wake only posts an event to its
// connection (transport.Conn.Wake), which handles it unless busy. Order
// per subscriber is its queue's, whoever wakes it.
type wakeQueue struct {
	// batches recycles the batches publishers fill and the queue runs
	// (BenchmarkPublishFanOutDriven: no garbage per publish to 10k
	// subscribers).
	batches sync.Pool

	// mu guards the queue of batches, oldest first, and its length.
	mu          sync.Mutex
	first, last *wakeBatch
	length      int

	helpers atomic.Int32
}

// wakeBatch is a batch of subscribers to wake, linked in the queue.
type wakeBatch struct {
	next *wakeBatch
	n    int
	subs [wakeBatchSize]*Subscriber
}

// wakeChain is the batches of subscribers one publish has to wake, filled
// as it queues its message (wakeQueue.add) and put in the queue whole
// (wakeQueue.wake).
type wakeChain struct {
	first, last *wakeBatch
	n           int
}

// add appends sub to c, in a new batch when the last one is full.
func (q *wakeQueue) add(c *wakeChain, sub *Subscriber) {
	if c.last == nil || c.last.n == wakeBatchSize {
		b, ok := q.batches.Get().(*wakeBatch)
		if !ok {
			b = new(wakeBatch)
		}
		b.n = 0
		if c.last == nil {
			c.first = b
		} else {
			c.last.next = b
		}
		c.last = b
		c.n++
	}
	c.last.subs[c.last.n] = sub
	c.last.n++
}

// wake has the subscribers of c woken, sharing the work with helpers
// when more than one batch waits and there is more than one core.
func (q *wakeQueue) wake(c *wakeChain) {
	runtime.Gosched()
	queued, waiting := q.queue(c)
	if waiting > 1 {
		if helpers := runtime.GOMAXPROCS(0) - 1; helpers > 0 {
			q.startHelpers(min(waiting-1, helpers), helpers)
		}
	}
	for range queued {
		if !q.runOne() {
			return
		}
	}
}

// wakeAll wakes each subscriber of subs.
func wakeAll(subs []*Subscriber) {
	for _, sub := range subs {
		sub.wakeDue.Store(false)
		sub.wake()
	}
}

// queue puts c's batches at the end of the queue and returns how many,
// and how many batches wait in all.
func (q *wakeQueue) queue(c *wakeChain) (queued, waiting int) {
	q.mu.Lock()
	if q.last == nil {
		q.first = c.first
	} else {
		q.last.next = c.first
	}
	q.last = c.last
	q.length += c.n
	waiting = q.length
	q.mu.Unlock()
	return c.n, waiting
}

// runOne wakes the subscribers of the oldest queued batch and reports
// whether there was one.
func (q *wakeQueue) runOne() bool {
	q.mu.Lock()
	b := q.first
	if b == nil {
		q.mu.Unlock()
		return false
	}
	q.first = b.next
	if q.first == nil {
		q.last = nil
	}
	q.length--
	q.mu.Unlock()
	b.next = nil
	wakeAll(b.subs[:b.n])
	clear(b.subs[:b.n])
	q.batches.Put(b)
	return true
}

// waiting tells whether batches are queued.
func (q *wakeQueue) waiting() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.first != nil
}

// claim counts one more helper unless max run, and reports whether it did.
func (q *wakeQueue) claim(max int) bool {
	for {
		n := q.helpers.Load()
		if int(n) >= max {
			return false
		}
		if q.helpers.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// startHelpers starts up to n helpers, so that at most max run.
func (q *wakeQueue) startHelpers(n, max int) {
	for range n {
		if !q.claim(max) {
			return
		}
		go q.help(max)
	}
}

// help runs queued batches until none is left. A batch queued just as
// it leaves is run by its publisher, which runs as many as it queued
// unless they are gone, or by a helper that publisher started.
func (q *wakeQueue) help(max int) {
	for {
		for q.runOne() {
		}
		q.helpers.Add(-1)
		if !q.waiting() || !q.claim(max) {
			return
		}
	}
}
