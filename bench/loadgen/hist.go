//go:build linux

package main

import (
	"math/bits"
	"sync/atomic"
)

// Histogram buckets: values below histLinear each have a bucket; above,
// every power of two is split into histSub buckets, so a bucket is at most
// 1/histSub (about 3%) wide relative to its values.
const (
	histSub     = 32
	histLinear  = 2 * histSub
	histBuckets = histLinear + 48*histSub
)

// Histogram counts values (microseconds) in log-linear buckets. Record is
// safe for concurrent use and never allocates.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
}

func bucketOf(v uint64) int {
	if v < histLinear {
		return int(v)
	}
	shift := bits.Len64(v) - 6 // v>>shift is in [32, 63]
	idx := histLinear + (shift-1)*histSub + int(v>>shift) - histSub
	return min(idx, histBuckets-1)
}

// bucketMid returns a value representative of bucket i (its middle).
func bucketMid(i int) float64 {
	if i < histLinear {
		return float64(i)
	}
	shift := (i-histLinear)/histSub + 1
	m := uint64((i-histLinear)%histSub + histSub)
	lo := m << shift
	return float64(lo) + float64(uint64(1)<<shift)/2
}

// Record adds one value.
func (h *Histogram) Record(v uint64) { h.counts[bucketOf(v)].Add(1) }

// Snapshot returns the non-empty buckets as index to count.
func (h *Histogram) Snapshot() map[int]uint64 {
	out := make(map[int]uint64)
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			out[i] = c
		}
	}
	return out
}

// HistSummary is the JSON form of a histogram: sparse buckets plus the
// percentiles computed from them.
type HistSummary struct {
	Buckets map[int]uint64 `json:"buckets,omitempty"`
	Count   uint64         `json:"count"`
	P50     float64        `json:"p50"`
	P90     float64        `json:"p90"`
	P99     float64        `json:"p99"`
	P999    float64        `json:"p999"`
	Max     float64        `json:"max"`
}

// summarize fills the count and percentiles from the buckets.
func summarize(buckets map[int]uint64) HistSummary {
	s := HistSummary{Buckets: buckets}
	var last int
	for i, c := range buckets {
		s.Count += c
		if c > 0 && i > last {
			last = i
		}
	}
	if s.Count == 0 {
		return s
	}
	s.Max = bucketMid(last)
	s.P50 = percentile(buckets, s.Count, 0.50)
	s.P90 = percentile(buckets, s.Count, 0.90)
	s.P99 = percentile(buckets, s.Count, 0.99)
	s.P999 = percentile(buckets, s.Count, 0.999)
	return s
}

func percentile(buckets map[int]uint64, total uint64, q float64) float64 {
	rank := uint64(q*float64(total-1)) + 1
	var seen uint64
	for i := range histBuckets {
		seen += buckets[i]
		if seen >= rank {
			return bucketMid(i)
		}
	}
	return 0
}

// mergeBuckets adds b's buckets into a.
func mergeBuckets(a, b map[int]uint64) map[int]uint64 {
	if a == nil {
		a = make(map[int]uint64)
	}
	for i, c := range b {
		a[i] += c
	}
	return a
}
