//go:build linux

// Command redisclients measures the two Redis clients the broker
// (pushstream/redisbroker) could use, go-redis and rueidis, on what the
// broker does with Redis (issue 11):
//
//   - publish: the broker's append script per publish (EVALSHA, EVAL on
//     NOSCRIPT), a -size byte text, from each of -callers concurrent
//     goroutines in turn: publishes/s, this process's CPU per publish,
//     latency percentiles, allocations per publish, Redis's CPU per
//     publish;
//   - follow: after the script filled the log with -fill entries, one
//     reader draining it with XREAD COUNT 512 BLOCK 1000 from the start to
//     the end, again and again: entries/s, CPU and allocations per entry.
//
// It starts its own redis-server (without persistence) on a free loopback
// port, pinned to -redis-cpus if given, and stops it at the end. Every
// configuration runs -rounds times per client, the clients alternating
// (go-redis, rueidis, go-redis, ...), each run -d long with a new client
// after a short unmeasured warm-up. It prints one line per run on stderr
// and Markdown tables of the medians, with the ratio rueidis/go-redis, on
// stdout. bench/redisclients.sh builds and runs it (bench/README.md).
//
//	redisclients [-d 3s] [-rounds 5] [-callers 1,8,64] [-fill 200000] [-size 60] [-redis-cpus 0]
//
// Linux only (/proc, getrusage).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// options are the command's flags.
type options struct {
	// duration is the length of one measured run.
	duration time.Duration
	// rounds is how many runs each client gets per configuration.
	rounds int
	// callers are the numbers of concurrent publishers to measure.
	callers []int
	// fill is how many entries the follow runs read the log over.
	fill int
	// size is the length of a published text.
	size int
	// redisServer is the redis-server binary.
	redisServer string
	// redisCPUs pins the server with taskset -c, unless empty.
	redisCPUs string
}

// fillCallers is how many goroutines fill the log for the follow runs.
const fillCallers = 64

func main() {
	o, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisclients:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "redisclients:", err)
		os.Exit(1)
	}
}

// parseOptions reads the flags.
func parseOptions() (options, error) {
	var o options
	flag.DurationVar(&o.duration, "d", 3*time.Second, "length of one measured run")
	flag.IntVar(&o.rounds, "rounds", 5, "runs per client and configuration")
	callers := flag.String("callers", "1,8,64", "comma-separated numbers of concurrent publishers")
	flag.IntVar(&o.fill, "fill", 200000, "entries in the log the follow runs read")
	flag.IntVar(&o.size, "size", 60, "bytes per published text")
	flag.StringVar(&o.redisServer, "redis-server", "redis-server", "the redis-server binary")
	flag.StringVar(&o.redisCPUs, "redis-cpus", "", "taskset -c list to pin redis-server to (empty: not pinned)")
	flag.Parse()
	for field := range strings.SplitSeq(*callers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-callers: %q is not a positive number", field)
		}
		o.callers = append(o.callers, n)
	}
	if o.rounds < 1 || o.fill < 1 || o.duration <= 0 {
		return o, fmt.Errorf("-d, -rounds and -fill must be positive")
	}
	return o, nil
}

// run starts Redis, measures every configuration and prints the tables.
func run(ctx context.Context, o options) error {
	srv, err := startRedis(o.redisServer, o.redisCPUs)
	if err != nil {
		return err
	}
	defer srv.stop()
	adm := newAdmin(srv.addr)
	defer adm.close()
	if err := printSetup(ctx, adm, o); err != nil {
		return err
	}
	text := bytes.Repeat([]byte{'m'}, o.size)
	publish, err := measurePublish(ctx, srv, adm, o, text)
	if err != nil {
		return err
	}
	follow, err := measureFollow(ctx, srv, adm, o, text)
	if err != nil {
		return err
	}
	fmt.Println()
	printTable(os.Stdout, publish, publishColumns)
	fmt.Println()
	printTable(os.Stdout, []group{follow}, followColumns)
	return nil
}

// printSetup prints what the figures were measured on.
func printSetup(ctx context.Context, adm *admin, o options) error {
	version, err := adm.version(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("redis-server %s (cores %q), %s, GOMAXPROCS=%d, %d rounds of %s per client and configuration, %d-byte texts, follow over %d entries\n",
		version, o.redisCPUs, runtime.Version(), runtime.GOMAXPROCS(0), o.rounds, o.duration, o.size, o.fill)
	return nil
}

// measurePublish measures the publish with each number of callers, from
// an empty server each run.
func measurePublish(ctx context.Context, srv *redisServer, adm *admin, o options, text []byte) ([]group, error) {
	var groups []group
	for _, callers := range o.callers {
		name := fmt.Sprintf("publish ×%d", callers)
		g, err := rounds(name, srv.addr, o.rounds, publishColumns, func(c client) (sample, error) {
			if err := adm.reset(ctx); err != nil {
				return sample{}, err
			}
			return measure(srv, o.duration, func(d time.Duration) (int, *hist, error) {
				return publishPhase(ctx, c, callers, text, d)
			})
		})
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// measureFollow fills the log once with the first client, then measures
// the reader of each client over it.
func measureFollow(ctx context.Context, srv *redisServer, adm *admin, o options, text []byte) (group, error) {
	if err := adm.reset(ctx); err != nil {
		return group{}, err
	}
	start := time.Now()
	err := withClient(clientKinds[0], srv.addr, func(c client) error {
		return fill(ctx, c, o.fill, fillCallers, text)
	})
	if err != nil {
		return group{}, err
	}
	last, err := adm.lastID(ctx)
	if err != nil {
		return group{}, err
	}
	fmt.Fprintf(os.Stderr, "filled the log with %d entries in %s\n", o.fill, time.Since(start).Round(time.Millisecond))
	return rounds("follow", srv.addr, o.rounds, followColumns, func(c client) (sample, error) {
		return measure(srv, o.duration, func(d time.Duration) (int, *hist, error) {
			n, err := readPhase(ctx, c, last, d)
			return n, nil, err
		})
	})
}

// rounds runs one measurement per client, the clients alternating, n
// times, each with a new client of Redis at addr, and logs every run's
// figures.
func rounds(name, addr string, n int, columns []column, run func(client) (sample, error)) (group, error) {
	g := group{name: name, samples: make([][]sample, len(clientKinds))}
	for round := 1; round <= n; round++ {
		for k, kind := range clientKinds {
			var s sample
			err := withClient(kind, addr, func(c client) (err error) {
				s, err = run(c)
				return err
			})
			if err != nil {
				return g, fmt.Errorf("%s, %s: %w", name, kind.name, err)
			}
			g.samples[k] = append(g.samples[k], s)
			fmt.Fprintf(os.Stderr, "%s round %d %s: %s\n", name, round, kind.name, describe(s, columns))
		}
	}
	return g, nil
}

// withClient dials a client of kind to addr, hands it to use and closes
// it.
func withClient(kind clientKind, addr string, use func(client) error) error {
	c, err := kind.dial(addr)
	if err != nil {
		return err
	}
	defer c.close()
	return use(c)
}
