package engine

import (
	"sync"
	"sync/atomic"
)

// leaseSize is how many bytes a stripe takes from the shared account at
// once to account its channels' publishes.
const leaseSize = 16 << 10

// leaseMargin is how close to the cap stripes stop leasing: within it,
// every reservation goes to the shared account and is decided exactly
// as if nothing were leased.
const leaseMargin = stripes * leaseSize

// memoryAccount is the store's accounting against shared_memory_size
// (docs/PROTOCOL.md §1.7). used counts the accounted bytes plus what
// stripes hold in spare: a publish accounts its message from its core's
// stripe, which leases leaseSize bytes at a time from used, so
// publishes on different cores do not all write one cache line. The
// cap is never exceeded (spares count against it), MemoryUsed leaves
// spares out, and near the cap (leaseMargin) spares are given back and
// every reservation is decided on used alone.
type memoryAccount struct {
	_      cacheLinePad
	used   atomic.Int64
	_      cacheLinePad
	leases [stripes]memoryLease
}

// memoryLease is one stripe's spare bytes, alone on its cache line.
// spare changes with mu held; it is read without.
type memoryLease struct {
	mu    sync.Mutex
	spare atomic.Int64
	_     [128 - 16]byte
}

// take accounts n bytes on used if they fit under limit.
func (m *memoryAccount) take(n, limit int64) bool {
	for {
		used := m.used.Load()
		if used+n > limit {
			return false
		}
		if m.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// reserve accounts n bytes under limit, or reports false.
func (m *memoryAccount) reserve(n, limit int64) bool {
	for {
		if m.take(n, limit) {
			return true
		}
		// Full, unless stripes hold spare bytes: give them back first.
		if m.reclaim() == 0 {
			return false
		}
	}
}

// reserveFrom accounts n bytes from stripe i, under limit.
func (m *memoryAccount) reserveFrom(i int, n, limit int64) bool {
	l := &m.leases[i]
	l.mu.Lock()
	if spare := l.spare.Load(); spare >= n {
		l.spare.Store(spare - n)
		l.mu.Unlock()
		return true
	}
	if n < leaseSize && m.take(leaseSize, limit-leaseMargin) {
		l.spare.Add(leaseSize - n)
		l.mu.Unlock()
		return true
	}
	l.mu.Unlock()
	return m.reserve(n, limit)
}

// release gives n accounted bytes back.
func (m *memoryAccount) release(n int64) { m.used.Add(-n) }

// reclaim gives every stripe's spare bytes back and returns how many.
func (m *memoryAccount) reclaim() int64 {
	var total int64
	for i := range m.leases {
		l := &m.leases[i]
		l.mu.Lock()
		if spare := l.spare.Load(); spare > 0 {
			l.spare.Store(0)
			m.used.Add(-spare)
			total += spare
		}
		l.mu.Unlock()
	}
	return total
}

// inUse returns the accounted bytes, spares left out.
func (m *memoryAccount) inUse() int64 {
	used := m.used.Load()
	for i := range m.leases {
		used -= m.leases[i].spare.Load()
	}
	return used
}
