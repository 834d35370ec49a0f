// Command cleanup times the memory cleanup of our Caddy against the
// original nginx push stream module in one run (issue 15): the flows of
// misc/spec/mix/cleanup_memory_spec.rb (docs/SCENARIOS.md
// mix/cleanup_memory, "when nothing strange occur" and "when moving
// inactive channels to trash") with their production timings, each
// variant on a fresh server of each kind, both servers at the same time.
//
//	cleanup -caddy BIN -nginx BIN [-variants a,b] [-parallel] [-poll 100ms] [-dir DIR]
//
// A fill publishes on ONE keep-alive connection until the first non-200
// (the memory cap's 500, which should close the connection); a wait polls
// the statistics until the trash is empty and reports the time since
// upstream's start. It prints, per variant, the fill counts and wait
// times of both servers and their ratio, then upstream's count checks.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

func main() {
	caddyBin := flag.String("caddy", "", "our Caddy binary (go build ./cmd/caddy)")
	nginxBin := flag.String("nginx", "", "nginx built with the original module")
	only := flag.String("variants", "", "comma-separated variant keys (default all): "+variantKeys())
	parallel := flag.Bool("parallel", false, "run all variants at once instead of one after another")
	poll := flag.Duration("poll", 100*time.Millisecond, "statistics polling interval of a wait (upstream: 1s)")
	dir := flag.String("dir", "", "directory for configurations and logs (default a new temporary one)")
	flag.Parse()
	if *caddyBin == "" || *nginxBin == "" {
		fmt.Fprintln(os.Stderr, "cleanup: -caddy and -nginx are required")
		flag.Usage()
		os.Exit(2)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "cleanup-bench-")
		if err != nil {
			fatal(err)
		}
		*dir = d
	}
	chosen, err := choose(*only)
	if err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "cleanup: %d variants, work directory %s\n", len(chosen), *dir)

	results := make([]result, len(chosen))
	var wg sync.WaitGroup
	for i, v := range chosen {
		run := func() {
			results[i] = runVariant(v, *caddyBin, *nginxBin, filepath.Join(*dir, v.key), *poll)
		}
		if *parallel {
			wg.Add(1)
			go func() { defer wg.Done(); run() }()
		} else {
			run()
		}
	}
	wg.Wait()
	printTable(os.Stdout, results)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "cleanup:", err)
	os.Exit(1)
}

func variantKeys() string {
	keys := make([]string, len(variants))
	for i, v := range variants {
		keys[i] = v.key
	}
	return strings.Join(keys, ",")
}

// choose returns the variants named in list, all if it is empty.
func choose(list string) ([]variant, error) {
	if list == "" {
		return variants, nil
	}
	var out []variant
	for _, key := range strings.Split(list, ",") {
		found := false
		for _, v := range variants {
			if v.key == key {
				out = append(out, v)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown variant %q (known: %s)", key, variantKeys())
		}
	}
	return out, nil
}

// result is one variant on both servers.
type result struct {
	v              variant
	ours, original side
}

// side is what one server did with a variant.
type side struct {
	name string
	o    *outcome
	err  error
	took time.Duration
}

// runVariant starts a fresh server of each kind for v and runs v's flow
// on both at the same time.
func runVariant(v variant, caddyBin, nginxBin, dir string, poll time.Duration) result {
	res := result{v: v, ours: side{name: "ours"}, original: side{name: "original"}}
	var wg sync.WaitGroup
	one := func(bin string, sd *side) {
		defer wg.Done()
		began := time.Now()
		sd.o, sd.err = runOn(v, sd.name, bin, filepath.Join(dir, sd.name), poll)
		sd.took = time.Since(began)
	}
	wg.Add(2)
	go one(caddyBin, &res.ours)
	go one(nginxBin, &res.original)
	wg.Wait()
	return res
}

// runOn runs v on a fresh server of impl.
func runOn(v variant, impl, bin, dir string, poll time.Duration) (*outcome, error) {
	srv, err := startServer(impl, bin, v.settings, dir)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	r := &runner{
		addr:  srv.addr,
		poll:  poll,
		limit: time.Now().Add(260 * time.Second),
		stats: &client{addr: srv.addr},
		logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s %-17s %-8s %s\n", time.Now().UTC().Format("15:04:05.000"), v.key, impl, fmt.Sprintf(format, args...))
		},
	}
	defer r.close()
	o, err := v.run(r)
	if err != nil {
		r.logf("FAILED: %v", err)
	}
	return o, err
}
