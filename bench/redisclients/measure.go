//go:build linux

package main

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Bounds of the calls and phases of a run.
const (
	// publishTimeout is the deadline of one publish, as the broker gives
	// it: the write timeout plus the read timeout.
	publishTimeout = 6 * time.Second
	// warmup is how long a run works before it is measured: connections
	// are opened and the script loaded.
	warmup = 300 * time.Millisecond
)

// reading is what a run is measured between.
type reading struct {
	// at is when it was taken.
	at time.Time
	// cpu is this process's user+system time.
	cpu time.Duration
	// server is the Redis server's user+system time.
	server time.Duration
	// mallocs counts this process's heap allocations.
	mallocs uint64
}

// takeReading reads the clocks and counters of this process and of srv.
func takeReading(srv *redisServer) (reading, error) {
	server, err := srv.cpu()
	if err != nil {
		return reading{}, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return reading{}, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return reading{at: time.Now(), cpu: cpu, server: server, mallocs: ms.Mallocs}, nil
}

// sample is the figures of one measured run.
type sample struct {
	// count is what the run did: publishes, or entries read.
	count int
	// elapsed is the run's wall time.
	elapsed time.Duration
	// cpu is this process's CPU time over the run.
	cpu time.Duration
	// server is the Redis server's CPU time over the run.
	server time.Duration
	// mallocs counts this process's heap allocations over the run.
	mallocs uint64
	// latency holds the latency of every publish; nil for reads.
	latency *hist
}

// between returns the sample of a run that did count things between from
// and to.
func between(from, to reading, count int, latency *hist) sample {
	return sample{
		count:   count,
		elapsed: to.at.Sub(from.at),
		cpu:     to.cpu - from.cpu,
		server:  to.server - from.server,
		mallocs: to.mallocs - from.mallocs,
		latency: latency,
	}
}

// measure runs work once unmeasured for warmup, to open connections and
// load the script, then once measured for d.
func measure(srv *redisServer, d time.Duration, work func(time.Duration) (int, *hist, error)) (sample, error) {
	if _, _, err := work(warmup); err != nil {
		return sample{}, err
	}
	runtime.GC()
	from, err := takeReading(srv)
	if err != nil {
		return sample{}, err
	}
	count, latency, err := work(d)
	if err != nil {
		return sample{}, err
	}
	to, err := takeReading(srv)
	if err != nil {
		return sample{}, err
	}
	return between(from, to, count, latency), nil
}

// publishPhase has callers goroutines publish text with c, each to its own
// channel, until d has passed; it returns how many publishes they made
// and their latencies.
func publishPhase(ctx context.Context, c client, callers int, text []byte, d time.Duration) (int, *hist, error) {
	hists := make([]hist, callers)
	counts := make([]int, callers)
	errs := make([]error, callers)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range callers {
		p := newPublication("bench-"+strconv.Itoa(i), text)
		wg.Go(func() { counts[i], errs[i] = publishUntil(ctx, c, p, deadline, &hists[i]) })
	}
	wg.Wait()
	total, latency := 0, new(hist)
	for i := range callers {
		total += counts[i]
		latency.merge(&hists[i])
	}
	return total, latency, errors.Join(errs...)
}

// publishUntil publishes p in a loop until deadline, counting each call's
// latency in h, and returns how many publishes it made.
func publishUntil(ctx context.Context, c client, p publication, deadline time.Time, h *hist) (int, error) {
	for n := 0; ; n++ {
		start := time.Now()
		if !start.Before(deadline) {
			return n, nil
		}
		if err := publishOnce(ctx, c, p); err != nil {
			return n, err
		}
		h.add(time.Since(start))
	}
}

// publishOnce publishes p once with the broker's deadline.
func publishOnce(ctx context.Context, c client, p publication) error {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	id, err := c.publish(ctx, p)
	if err == nil && id == "" {
		err = errNoID
	}
	return err
}

// fill appends n publishes of text to the log with c from callers
// goroutines.
func fill(ctx context.Context, c client, n, callers int, text []byte) error {
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		p := newPublication("fill-"+strconv.Itoa(i), text)
		share := n/callers + btoi(i < n%callers)
		wg.Go(func() {
			for range share {
				if errs[i] = publishOnce(ctx, c, p); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// btoi returns 1 for true and 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readPhase reads the log with c, from its start to the entry last and
// then again from the start, until d has passed; it returns how many
// entries it read.
func readPhase(ctx context.Context, c client, last string, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	n, after := 0, "0"
	for time.Now().Before(deadline) {
		k, id, err := c.read(ctx, logKey, after)
		if err != nil {
			return n, err
		}
		n += k
		after = id
		if id == last {
			after = "0"
		}
	}
	return n, nil
}
