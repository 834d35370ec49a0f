package engine

import (
	"sync"
	"sync/atomic"
)

// stripes is how many ways the store splits what every publish updates
// (counters, message trash, memory leases), so that publishes running on
// different cores do not write the same cache line. A publish takes the
// stripe of the core it runs on (localStripe), not one of its channel's:
// two cores publishing in turn to the same channels would otherwise pass
// every stripe's lines back and forth (BenchmarkPublishParallel).
const stripes = 16

// cacheLinePad keeps what is around it off its neighbours' cache lines
// (128 bytes: adjacent-line prefetch pairs lines on x86).
type cacheLinePad [128]byte

// stripeTokens hand each P (the runtime's per-core scheduler slot) a
// stripe of its own: a sync.Pool keeps what was Put on the P that Put it,
// so goroutines running on one core keep taking the same token. A token
// the pool drops at a collection is replaced by one with the next stripe.
var stripeTokens = sync.Pool{New: func() any { return &stripeToken{index: int(nextStripe.Add(1) % stripes)} }}

// nextStripe numbers the stripe tokens as they are made.
var nextStripe atomic.Uint32

// stripeToken is one stripe index, handed out by stripeTokens.
type stripeToken struct{ index int }

// localStripe returns the stripe of the core the caller runs on (a hint:
// the goroutine may move; any stripe is correct, a local one is fast).
func localStripe() int {
	t := stripeTokens.Get().(*stripeToken)
	stripeTokens.Put(t)
	return t.index
}

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
