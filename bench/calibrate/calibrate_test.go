// Package calibrate measures what the machine's cores give a Go program
// before any code of ours runs: how a CPU-bound loop, a memory-bound loop
// and an allocation-bound loop scale from one core to several. The
// multi-core targets of bench/RESULTS.md are read against them:
//
//	go test -run '^$' -bench . -cpu 1,2,1,2 ./bench/calibrate/
package calibrate

import "testing"

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
