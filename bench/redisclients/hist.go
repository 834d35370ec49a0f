//go:build linux

package main

import (
	"math/bits"
	"time"
)

// Buckets of hist: values below subBuckets nanoseconds have one bucket
// each; above, each power of two is cut into subBuckets (1.6 % wide).
const (
	// subBucketBits is log2 of subBuckets.
	subBucketBits = 6
	// subBuckets is the number of buckets per power of two.
	subBuckets = 1 << subBucketBits
	// histBuckets covers durations up to 2^46 ns (about 20 hours).
	histBuckets = 41 * subBuckets
)

// hist counts latencies in log-linear buckets without allocating.
type hist struct {
	// counts holds each bucket's count.
	counts [histBuckets]uint64
}

// add counts d.
func (h *hist) add(d time.Duration) {
	h.counts[min(bucket(uint64(max(d, 0))), histBuckets-1)]++
}

// merge adds o's counts to h.
func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// quantile returns the duration below which a fraction q of the counts
// lie (the middle of its bucket), or 0 when h is empty.
func (h *hist) quantile(q float64) time.Duration {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	rank := uint64(q * float64(total))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if c > 0 && seen > rank {
			return bucketMiddle(i)
		}
	}
	return 0
}

// bucket returns the bucket of ns nanoseconds.
func bucket(ns uint64) int {
	if ns < subBuckets {
		return int(ns)
	}
	shift := bits.Len64(ns) - subBucketBits - 1
	return (shift+1)*subBuckets + int(ns>>shift) - subBuckets
}

// bucketMiddle returns the middle of bucket i.
func bucketMiddle(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(i)
	}
	shift := i/subBuckets - 1
	low := uint64(i%subBuckets+subBuckets) << shift
	return time.Duration(low + (uint64(1)<<shift)/2)
}
