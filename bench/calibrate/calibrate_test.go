// Package calibrate measures what the machine's cores give a Go program
// before any code of ours runs: how a CPU-bound loop, a memory-bound loop
// and an allocation-bound loop scale from one core to several. The
// multi-core targets of bench/RESULTS.md are read against them:
//
//	go test -run '^$' -bench . -cpu 1,2,1,2 ./bench/calibrate/
package calibrate

import (
	"sync/atomic"
	"testing"
)

// BenchmarkPureCPU is arithmetic on registers: it scales with cores
// unless the cores are not really there.
func BenchmarkPureCPU(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		x := uint64(1)
		for pb.Next() {
			for range 50 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		sinkUint(x)
	})
}

// BenchmarkMemoryWrite clears a private 8 MiB buffer per goroutine: it
// scales unless the cores share their memory bandwidth.
func BenchmarkMemoryWrite(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 8<<20)
		for pb.Next() {
			clear(buf)
		}
	})
}

// BenchmarkAllocate allocates 200-byte objects, about a message's size,
// and drops them, each goroutine on its own: nothing is shared but the
// Go heap, its span lists and its collector.
func BenchmarkAllocate(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		h := new(holder)
		for pb.Next() {
			h.keep(make([]byte, 200))
		}
	})
}

// holder keeps the last allocation, so that it escapes to the heap; it is
// padded so that two goroutines' holders do not share a cache line.
type holder struct {
	p []byte
	_ [104]byte
}

//go:noinline
func (h *holder) keep(p []byte) { h.p = p }

//go:noinline
func sinkUint(uint64) {}

// BenchmarkSharedLine adds to one atomic counter from every goroutine,
// between about 200 ns of arithmetic (a publish's worth): at -cpu 2 the
// counter's cache line is on the other core at nearly every add, so its
// ns/op over BenchmarkPrivateLine's is the price of one move of a line
// between the cores, the cost of any store-wide counter.
func BenchmarkSharedLine(b *testing.B) {
	var counter atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		x := uint64(1)
		for pb.Next() {
			x = work(x)
			counter.Add(1)
		}
		sinkUint(x)
	})
}

// BenchmarkPrivateLine is BenchmarkSharedLine with a counter per
// goroutine, each on its own cache line: the same work without the moves.
func BenchmarkPrivateLine(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		c := new(paddedCounter)
		x := uint64(1)
		for pb.Next() {
			x = work(x)
			c.n.Add(1)
		}
		sinkUint(x + uint64(c.n.Load()))
	})
}

// work is about 200 ns of arithmetic on registers.
func work(x uint64) uint64 {
	for range 200 {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// paddedCounter is an atomic counter alone on its cache line.
type paddedCounter struct {
	_ [64]byte
	n atomic.Int64
	_ [56]byte
}
