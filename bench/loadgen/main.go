//go:build linux

// Command loadgen is the load generator of the benchmarks (bench/README.md):
// it connects subscribers to a push server (ours or Nchan), publishes
// numbered, timestamped messages and reports deliveries/s, publish-to-receive
// latency, lost and duplicated messages and the server's CPU and memory.
//
//	loadgen [flags]                      one run (or one part of a run)
//	loadgen merge [-json out] a.json ... combine the parts of one run
//	loadgen compare [-names a,b] [-title t] a.json b.json
//	loadgen table a.json b.json ...      several runs as one Markdown table
//	loadgen abuse -flood NAME -pid PID [flags]  one hostile-client flood (abuse.go)
//	loadgen abuse-table a.json ...       the table of several floods
//	loadgen free-port                    a free TCP port on 127.0.0.1
//
// It reads /proc and uses epoll: Linux only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pathTemplate is a URL path with one `{ch}` placeholder for the channel.
type pathTemplate struct{ before, after string }

func parsePathTemplate(s string) pathTemplate {
	before, after, _ := strings.Cut(s, "{ch}")
	return pathTemplate{before, after}
}

func (p pathTemplate) expand(channel string) string { return p.before + channel + p.after }

func (p pathTemplate) appendExpanded(dst []byte, channel string) []byte {
	dst = append(dst, p.before...)
	dst = append(dst, channel...)
	return append(dst, p.after...)
}

// URL styles: the default paths of each server.
var styles = map[string]map[string]string{
	"ours": {
		modeStream: "/sub/{ch}", modeEventSource: "/ev/{ch}", modeWebSocket: "/ws/{ch}",
		modeLongPolling: "/lp/{ch}", "pub": "/pub?id={ch}",
	},
	"nchan": {
		modeStream: "/raw/{ch}", modeEventSource: "/sub/{ch}", modeWebSocket: "/sub/{ch}",
		modeLongPolling: "/sub/{ch}", "pub": "/pub/{ch}",
	},
}

// Where publishes go with several targets (--publish-to).
const (
	publishFirst     = "first"     // every publish to the first target
	publishAlternate = "alternate" // each channel's publishes to the targets in turn
)

// config is the parsed command line.
type config struct {
	target, style, mode string
	// hosts holds the host:port of every --target, in order.
	hosts            []string
	publishTo        string
	subPath, pubPath pathTemplate

	subscribers, channels, messages, size, publishers int
	batchSize                                         int
	rate                                              float64
	duration                                          time.Duration

	spread             int
	reader             string
	batchDelay         time.Duration
	connectConcurrency int
	connectTimeout     time.Duration
	settle, hold       time.Duration
	drainTimeout       time.Duration
	timeout            time.Duration

	pids, brokerPids []int
	children         bool

	part, parts int
	syncDir     string

	prefix, label, jsonOut string
	quiet                  bool
	cpuProfile             string
}

func (c *config) channelName(i int) string { return c.prefix + strconv.Itoa(i) }

// subscriberHost returns the host:port subscriber i connects to: the
// targets in turn, so with two targets the even subscribers go to the
// first and the odd ones to the second.
func (c *config) subscriberHost(i int) string { return c.hosts[i%len(c.hosts)] }

// publishTarget returns the index in hosts of the target message seq is
// published to: the first, or with --publish-to alternate the targets in
// turn for each channel (message seq is the seq/channels-th of its
// channel), so that every channel gets publishes on every target.
func (c *config) publishTarget(seq uint64) int {
	if c.publishTo == publishFirst {
		return 0
	}
	return int(seq / uint64(c.channels) % uint64(len(c.hosts)))
}

// parseTargets reads --target: one base URL, or several separated by
// commas, and returns the host:port of each.
func parseTargets(s string) ([]string, error) {
	var hosts []string
	for t := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(t)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("--target %q: want http://host:port", t)
		}
		host := u.Host
		if u.Port() == "" {
			host += ":80"
		}
		hosts = append(hosts, host)
	}
	return hosts, nil
}

// pidList is a repeatable, comma-separated --pid flag.
type pidList []int

func (p *pidList) String() string { return fmt.Sprint(*p) }

func (p *pidList) Set(s string) error {
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("pid %q: %w", f, err)
		}
		*p = append(*p, n)
	}
	return nil
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	cfg := &config{}
	var subPath, pubPath, part string
	var pids, brokerPids pidList
	fs.StringVar(&cfg.target, "target", "http://127.0.0.1:8080", "server base URL (http only); several, comma-separated, make a cluster: subscriber i connects to target i % n, publishers as --publish-to says")
	fs.StringVar(&cfg.publishTo, "publish-to", publishFirst, "with several targets: first (every publish to the first target) or alternate (each channel's publishes to the targets in turn)")
	fs.StringVar(&cfg.style, "style", "ours", "URL style giving the default paths: ours (nginx push stream) or nchan")
	fs.StringVar(&cfg.mode, "mode", modeEventSource, "subscriber mode: stream, eventsource, websocket, long-polling or none")
	fs.StringVar(&subPath, "sub-path", "", "subscriber path with {ch} (default: from --style and --mode)")
	fs.StringVar(&pubPath, "pub-path", "", "publisher path with {ch} (default: from --style)")
	fs.IntVar(&cfg.subscribers, "subscribers", 100, "subscribers in the whole run (all parts); subscriber i listens to channel i % channels")
	fs.IntVar(&cfg.channels, "channels", 1, "channels; message s goes to channel s % channels")
	fs.IntVar(&cfg.messages, "messages", 1000, "messages to publish (the cap when --duration is set)")
	fs.IntVar(&cfg.size, "size", 100, "message body size in bytes (at least the 22-40 bytes of sequence and timestamp)")
	fs.IntVar(&cfg.publishers, "publishers", 1, "publisher keep-alive connections, one request in flight each")
	fs.Float64Var(&cfg.rate, "rate", 0, "total publish rate in messages/s; 0 publishes flat out")
	fs.IntVar(&cfg.batchSize, "batch-publish", 0, "messages per request with the batch publish (docs/PROTOCOL.md §4.6, ours only); 0: one per request")
	fs.DurationVar(&cfg.duration, "duration", 0, "stop publishing after this long (wrk-like runs); 0: after --messages")
	fs.IntVar(&cfg.spread, "spread", 16, "source addresses 127.0.0.1 .. 127.0.0.<spread> for the connections")
	fs.StringVar(&cfg.reader, "reader", "epoll", "how subscribers are read: epoll (one goroutine, one read per ready connection) or goroutine (one per subscriber, Go's netpoller)")
	fs.DurationVar(&cfg.batchDelay, "batch-delay", 0, "epoll reader: pause between rounds so that each read takes more messages (a client-bound check; adds up to this much latency)")
	fs.IntVar(&cfg.connectConcurrency, "connect-concurrency", 200, "subscriber connections being opened at once")
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 15*time.Second, "time for a subscriber's response head")
	fs.DurationVar(&cfg.settle, "settle", time.Second, "pause after connecting, before the server is sampled and publishing starts")
	fs.DurationVar(&cfg.hold, "hold", 0, "extra pause with the subscribers connected, before sampling (idle-memory runs)")
	fs.DurationVar(&cfg.drainTimeout, "drain-timeout", 5*time.Second, "after publishing, stop waiting once nothing arrived for this long")
	fs.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "give up the whole run after this long")
	fs.Var(&pids, "pid", "server process id to sample in /proc (repeatable, comma-separated)")
	fs.Var(&brokerPids, "broker-pid", "broker process id (Redis) to sample apart from the servers (repeatable, comma-separated)")
	fs.BoolVar(&cfg.children, "children", true, "also sample the descendants of --pid and --broker-pid (nginx workers)")
	fs.StringVar(&part, "part", "", "i/n: this process runs part i (0-based) of n; part 0 publishes and samples the server")
	fs.StringVar(&cfg.syncDir, "sync-dir", "", "directory, new and shared by all parts, where the parts line up (with --part)")
	fs.StringVar(&cfg.prefix, "prefix", "", "channel id prefix (default: unique per run; parts must share it)")
	fs.StringVar(&cfg.label, "label", "", "name of the run in the reports")
	fs.StringVar(&cfg.jsonOut, "json", "", "write the JSON report to this file (- for stdout)")
	fs.BoolVar(&cfg.quiet, "quiet", false, "no human table")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the client's CPU profile here (is the client the limit?)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.hosts, err = parseTargets(cfg.target); err != nil {
		return nil, err
	}
	switch cfg.publishTo {
	case publishFirst:
	case publishAlternate:
		if cfg.batchSize > 0 {
			return nil, fmt.Errorf("--batch-publish does not take --publish-to %s", publishAlternate)
		}
	default:
		return nil, fmt.Errorf("--publish-to %q: want %s or %s", cfg.publishTo, publishFirst, publishAlternate)
	}
	paths, ok := styles[cfg.style]
	if !ok {
		return nil, fmt.Errorf("--style %q: want ours or nchan", cfg.style)
	}
	switch cfg.mode {
	case modeStream, modeEventSource, modeWebSocket, modeLongPolling:
	case modeNone:
		cfg.subscribers = 0
	default:
		return nil, fmt.Errorf("--mode %q: want stream, eventsource, websocket, long-polling or none", cfg.mode)
	}
	if cfg.reader != "epoll" && cfg.reader != "goroutine" {
		return nil, fmt.Errorf("--reader %q: want epoll or goroutine", cfg.reader)
	}
	if subPath == "" {
		subPath = paths[cfg.mode]
	}
	if pubPath == "" {
		pubPath = paths["pub"]
	}
	cfg.subPath, cfg.pubPath = parsePathTemplate(subPath), parsePathTemplate(pubPath)
	if cfg.batchSize > 0 && cfg.rate > 0 {
		return nil, fmt.Errorf("--batch-publish does not take --rate")
	}
	if cfg.channels < 1 || cfg.batchSize < 0 || cfg.subscribers < 0 || cfg.messages < 0 || cfg.publishers < 0 || cfg.connectConcurrency < 1 {
		return nil, fmt.Errorf("--channels, --connect-concurrency must be at least 1; counts not negative")
	}
	cfg.pids, cfg.brokerPids = pids, brokerPids
	cfg.part, cfg.parts = 0, 1
	if part != "" {
		i, n, ok := strings.Cut(part, "/")
		cfg.part, err = strconv.Atoi(i)
		if err == nil {
			cfg.parts, err = strconv.Atoi(n)
		}
		if !ok || err != nil || cfg.parts < 1 || cfg.part < 0 || cfg.part >= cfg.parts {
			return nil, fmt.Errorf("--part %q: want i/n with 0 <= i < n", part)
		}
		if cfg.parts > 1 && (cfg.syncDir == "" || cfg.prefix == "") {
			return nil, fmt.Errorf("--part needs --sync-dir and --prefix shared by every part")
		}
	}
	if cfg.prefix == "" {
		cfg.prefix = "b" + strconv.FormatInt(time.Now().UnixNano()/1e6, 36) + "_"
	}
	return cfg, nil
}

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "merge":
		err = mergeCommand(args[1:])
	case len(args) > 0 && args[0] == "compare":
		err = compareCommand(args[1:])
	case len(args) > 0 && args[0] == "table":
		err = tableCommand(args[1:])
	case len(args) > 0 && args[0] == "abuse":
		err = abuseCommand(args[1:])
	case len(args) > 0 && args[0] == "abuse-table":
		err = abuseTableCommand(args[1:])
	case len(args) > 0 && args[0] == "free-port":
		err = freePortCommand()
	default:
		var cfg *config
		if cfg, err = parseFlags(args); err == nil {
			err = profiled(cfg.cpuProfile, func() error { return run(cfg) })
		}
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func mergeCommand(args []string) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	out := fs.String("json", "", "write the merged JSON here (- for stdout)")
	quiet := fs.Bool("quiet", false, "no human table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	parts, err := readResults(fs.Args())
	if err != nil {
		return err
	}
	merged, err := merge(parts)
	if err != nil {
		return err
	}
	if !*quiet {
		printTable(os.Stdout, merged)
	}
	if *out != "" {
		return writeResult(*out, merged)
	}
	return nil
}

func compareCommand(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	names := fs.String("names", "ours,nchan", "the two column names")
	title := fs.String("title", "", "table title")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("compare wants two JSON reports")
	}
	a, err := readResult(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := readResult(fs.Arg(1))
	if err != nil {
		return err
	}
	nameA, nameB, _ := strings.Cut(*names, ",")
	if *title == "" {
		*title = a.Label
	}
	printCompare(os.Stdout, *title, nameA, nameB, a, b)
	return nil
}

// clientCPU returns this process's user+system CPU seconds.
func clientCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// profiled runs f, with a CPU profile written to path unless path is empty.
func profiled(path string, f func() error) error {
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return f()
}
