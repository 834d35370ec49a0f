//go:build linux

// Command subrate measures how many subscriptions per second a push
// server opens: each of -c workers, in a loop for -d, connects, sends one
// subscriber request (an EventSource GET, with -cookie if given), reads
// the answer's head and its first body bytes (the subscription is made
// before they are sent), and closes the connection, which ends the
// subscription. With forward_auth in front of the subscriber, each
// request first costs a round trip to the app; bench/private.sh runs it
// with and without (bench/README.md).
//
//	subrate -url http://127.0.0.1:8081/events/ev/global [-cookie session=...] [-c 8] [-d 10s] [-pids 123,456]
//
// It prints one line of JSON: subscriptions/s, refusals, errors, the
// latency percentiles of one subscription, and the CPU seconds the -pids
// processes (Caddy, the app) spent per 1000 subscriptions. Linux only
// (/proc).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// result is what one run reports.
type result struct {
	URL            string  `json:"url"`
	Workers        int     `json:"workers"`
	Seconds        float64 `json:"seconds"`
	Subscriptions  int     `json:"subscriptions"`
	PerSecond      float64 `json:"subscriptions_per_second"`
	Refused        int     `json:"refused"`
	Errors         int     `json:"errors"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	CPUPerThousand float64 `json:"server_cpu_seconds_per_1000,omitempty"`
}

func main() {
	target := flag.String("url", "", "subscriber URL (EventSource location and channels)")
	cookie := flag.String("cookie", "", "Cookie header to send, e.g. session=<token>")
	workers := flag.Int("c", 8, "concurrent workers")
	duration := flag.Duration("d", 10*time.Second, "how long to run")
	pids := flag.String("pids", "", "comma-separated pids whose CPU time is measured")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "subrate: -url must be an absolute URL")
		os.Exit(2)
	}
	request := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAccept: text/event-stream\r\n"
	if *cookie != "" {
		request += "Cookie: " + *cookie + "\r\n"
	}
	request += "\r\n"

	cpuBefore, err := cpuSeconds(*pids)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subrate:", err)
		os.Exit(1)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		refused   int
		failed    int
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(*duration)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			myRefused, myFailed := 0, 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				status, err := subscribe(u.Host, request)
				switch {
				case err != nil:
					myFailed++
				case status == http.StatusOK:
					mine = append(mine, time.Since(t0))
				case status == http.StatusForbidden || status == http.StatusUnauthorized:
					myRefused++
				default:
					myFailed++
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			refused += myRefused
			failed += myFailed
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	cpuAfter, err := cpuSeconds(*pids)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subrate:", err)
		os.Exit(1)
	}

	slices.Sort(latencies)
	res := result{
		URL: *target, Workers: *workers, Seconds: elapsed,
		Subscriptions: len(latencies), PerSecond: float64(len(latencies)) / elapsed,
		Refused: refused, Errors: failed,
		P50ms: percentile(latencies, 0.50), P99ms: percentile(latencies, 0.99),
	}
	if n := len(latencies) + refused; *pids != "" && n > 0 {
		res.CPUPerThousand = (cpuAfter - cpuBefore) / float64(n) * 1000
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// subscribe opens one subscription and ends it: the status of the answer,
// once its head and first body bytes are in (a refusal has no body).
func subscribe(host, request string) (int, error) {
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == http.StatusOK {
		// The EventSource header comment ": \n" follows the subscription.
		if _, err := resp.Body.Read(make([]byte, 16)); err != nil {
			return 0, err
		}
	}
	return resp.StatusCode, nil
}

// percentile returns the q-quantile of sorted durations in milliseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(q*float64(len(sorted))), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

// cpuSeconds sums the user and system CPU seconds of the processes in
// pids (comma-separated) from /proc/<pid>/stat.
func cpuSeconds(pids string) (float64, error) {
	if pids == "" {
		return 0, nil
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	total := 0.0
	for _, pid := range strings.Split(pids, ",") {
		stat, err := os.ReadFile("/proc/" + strings.TrimSpace(pid) + "/stat")
		if err != nil {
			return 0, fmt.Errorf("reading the CPU time of pid %s: %w", pid, err)
		}
		// Fields after the command name, which ends at the last ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		for _, i := range []int{11, 12} { // utime, stime (fields 14 and 15)
			ticks, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return 0, fmt.Errorf("parsing /proc/%s/stat: %w", pid, err)
			}
			total += ticks / ticksPerSecond
		}
	}
	return total, nil
}
