//go:build linux

package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// run performs one run (or this process's part of it) and reports.
func run(cfg *config) error {
	started := time.Now()
	coord := &coordinator{part: cfg.part, parts: cfg.parts, dir: cfg.syncDir, deadline: started.Add(cfg.timeout)}
	if coord.parts > 1 && coord.leader() {
		if _, err := os.Stat(coord.path("start")); err == nil {
			return fmt.Errorf("--sync-dir %s holds an earlier run: use a new directory", cfg.syncDir)
		}
	}
	watch := serverWatch{pids: cfg.pids, children: cfg.children}
	brokerWatch := serverWatch{pids: cfg.brokerPids, children: cfg.children}
	sampleServer := coord.leader() && len(cfg.pids) > 0
	dial := &dialer{spread: cfg.spread, timeout: cfg.connectTimeout} // dialTo: a target per connection
	t := &tally{channels: cfg.channels, messages: cfg.messages}
	pool := &subscriberPool{cfg: cfg, dial: dial, tally: t}
	if cfg.reader == "epoll" && cfg.subscribers > 0 {
		loop, err := newEpollLoop(pool)
		if err != nil {
			return err
		}
		pool.loop = loop
		// The loop blocks in epoll_wait; a second P keeps the publishers
		// and connects running meanwhile (both still share the client's core).
		if runtime.GOMAXPROCS(0) < 2 {
			runtime.GOMAXPROCS(2)
		}
	}
	res := &Result{
		Label: cfg.label, Target: cfg.target, Style: cfg.style, Mode: cfg.mode,
		Part: cfg.part, Parts: cfg.parts, Subscribers: cfg.subscribers, Channels: cfg.channels,
		Messages: cfg.messages, Size: cfg.size, Publishers: cfg.publishers, Rate: cfg.rate,
	}
	var server, broker ServerReport
	// sample reads the servers into into and the broker, if watched, into
	// brokerInto.
	sample := func(into, brokerInto *ServerSample) error {
		if !sampleServer {
			return nil
		}
		s, err := watch.Sample()
		*into = s
		if err != nil || len(brokerWatch.pids) == 0 {
			return err
		}
		*brokerInto, err = brokerWatch.Sample()
		return err
	}

	// 1. The server's idle state, then every part connects.
	if err := sample(&server.Before, &broker.Before); err != nil {
		return err
	}
	if err := coord.start(); err != nil {
		return err
	}
	var mine []int
	for i := cfg.part; i < cfg.subscribers; i += cfg.parts {
		mine = append(mine, i)
	}
	connectStart := time.Now()
	pool.connectAll(mine)
	res.ConnectSeconds = time.Since(connectStart).Seconds()
	res.Connected, res.ConnectFailed = pool.connected.Load(), pool.failed.Load()
	if !cfg.quiet {
		fmt.Fprintf(os.Stderr, "loadgen: %d subscribers connected, %d failed in %.2fs\n", res.Connected, res.ConnectFailed, res.ConnectSeconds)
	}
	total, err := coord.connected(res.Connected)
	if err != nil {
		return err
	}
	time.Sleep(cfg.settle + cfg.hold)
	if err := sample(&server.AfterConnect, &broker.AfterConnect); err != nil {
		return err
	}

	// 2. The leader publishes; every part learns what was published.
	var outcome PublishOutcome
	var pubs *publishers
	cpuStart := clientCPU()
	server.PublishStart, broker.PublishStart = server.AfterConnect, broker.AfterConnect
	publishing := cfg.messages > 0 && cfg.publishers > 0
	if publishing {
		if coord.leader() {
			if !cfg.quiet {
				fmt.Fprintf(os.Stderr, "loadgen: publishing to %d subscribers in all parts\n", total)
			}
			pubs = &publishers{cfg: cfg, dial: dial}
			outcome = pubs.run()
		}
		if err := coord.published(&outcome); err != nil {
			return err
		}
		// 3. Wait for what this part's subscribers should get.
		pool.mu.Lock()
		states := append([]*subState(nil), pool.states...)
		pool.mu.Unlock()
		for _, st := range states {
			res.Expected += outcome.expectedFor(st.channel, cfg.channels)
		}
		lastCount, lastChange := int64(-1), time.Now()
		for {
			got := t.delivered.Load()
			if got >= res.Expected {
				break
			}
			if got != lastCount {
				lastCount, lastChange = got, time.Now()
			} else if time.Since(lastChange) > cfg.drainTimeout {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := coord.drained(); err != nil {
		return err
	}
	res.ClientCPUSeconds = clientCPU() - cpuStart
	if err := sample(&server.End, &broker.End); err != nil {
		return err
	}
	if err := coord.finish(); err != nil {
		return err
	}
	res.Disconnected = pool.disconnected.Load()
	pool.stop()

	// 4. Report.
	res.Delivered = t.delivered.Load()
	res.Lost = res.Expected - res.Delivered
	res.Duplicates, res.Unparsed, res.Foreign = t.duplicates.Load(), t.unparsed.Load(), t.foreign.Load()
	res.LastDeliveryNS = t.lastNS.Load()
	res.LatencyUS = HistSummary{Buckets: t.latency.Snapshot()}
	res.SubErrors = pool.errors
	if publishing && coord.leader() {
		res.Publish = &outcome
		res.PublishLatencyUS = &HistSummary{Buckets: pubs.latency.Snapshot()}
	}
	if sampleServer {
		res.Server = &server
		if len(brokerWatch.pids) > 0 {
			res.Broker = &broker
		}
	}
	if coord.leader() && cfg.parts > 1 {
		// The per-subscriber server figures need every part's count.
		res.ConnectedAllParts = total
	}
	res.finalize()
	if !cfg.quiet {
		printTable(os.Stdout, res)
	}
	if cfg.jsonOut != "" {
		return writeResult(cfg.jsonOut, res)
	}
	return nil
}
