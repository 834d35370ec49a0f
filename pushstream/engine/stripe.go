package engine

import "sync/atomic"

// stripes is how many ways the store splits what every publish updates
// (counters, message trash, memory leases), so that publishes to different
// channels running on different cores do not write the same cache line.
// A channel's stripe is fixed (Channel.stripe).
const stripes = 16

// cacheLinePad keeps what is around it off its neighbours' cache lines
// (128 bytes: adjacent-line prefetch pairs lines on x86).
type cacheLinePad [128]byte

// stripe returns ch's stripe: channels take them in creation order.
func (ch *Channel) stripe() int { return int(ch.seq % stripes) }

// paddedInt64 is an atomic counter alone on its cache line.
type paddedInt64 struct {
	atomic.Int64
	_ [128 - 8]byte
}

// stripedCounter is a store-wide count updated on every publish: each
// stripe counts on its own cache line and a read sums them.
type stripedCounter struct {
	stripes [stripes]paddedInt64
}

// Add adds n on the first stripe, for updates off the publish path.
func (c *stripedCounter) Add(n int64) { c.stripes[0].Add(n) }

// add adds n on stripe i.
func (c *stripedCounter) add(i int, n int64) { c.stripes[i].Add(n) }

// Load returns the count.
func (c *stripedCounter) Load() int64 {
	var sum int64
	for i := range c.stripes {
		sum += c.stripes[i].Load()
	}
	return sum
}
