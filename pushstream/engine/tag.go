package engine

import "sync/atomic"

// tagSecondShift places a publish's second above its tag in a tagClock
// word: a second holds up to 2^32 publishes.
const tagSecondShift = 32

// tagClock hands out the store-wide tags of docs/PROTOCOL.md §1.3: a publish
// in the same second as the previous one anywhere in the store gets the
// previous tag + 1, otherwise 1. Second and tag share one word, so a
// publish takes its tag with a single atomic add where a mutex used to
// serialise every publish of the process (BenchmarkPublishParallel).
//
// Tags within one channel still follow its publish order, as the channel's
// lock is held while one is taken; across channels they follow the order
// in which publishes reach the clock, which is what a subscriber's
// (time, tag) position across several channels relies on.
type tagClock struct {
	_    cacheLinePad
	word atomic.Uint64
	_    cacheLinePad
}

// next returns the tag of a publish at unix second sec.
func (c *tagClock) next(sec int64) int64 {
	want := uint64(uint32(sec)) << tagSecondShift
	// The usual case, another publish of the same second: one add. When
	// the second changed, the add only skipped a tag of the old second.
	if w := c.word.Add(1); w&^(1<<tagSecondShift-1) == want {
		return int64(w - want)
	}
	for {
		w := c.word.Load()
		next := want | 1
		if w&^(1<<tagSecondShift-1) == want {
			next = w + 1
		}
		if c.word.CompareAndSwap(w, next) {
			return int64(next - want)
		}
	}
}
