//go:build linux

package main

// The abuse benchmark's floods (bench/abuse.sh): hostile clients against
// the input and memory bounds of docs/PROTOCOL.md §6.5.7 and §1.7, with the
// server's CPU and RSS sampled before, during and after each.
//
//	loadgen abuse --flood NAME --target URL --pid PID [flags]
//	loadgen abuse-table a.json b.json ...

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The floods.
const (
	floodWholeFrames = "whole-frames"  // large websocket frames, each in one write
	floodSlowFrames  = "slow-frames"   // the same frames trickled in small pieces
	floodFragments   = "fragments"     // unfinished fragmented messages up to the limit
	floodChannels    = "channels"      // polling requests creating distinct channels
	floodDupPath     = "dup-path"      // stream subscribers naming one channel many times
	floodEventHeader = "event-headers" // publishes with large Event-Id/Event-Type headers
)

// abuseConfig is the command line of `loadgen abuse`.
type abuseConfig struct {
	flood, target, host, path, label, jsonOut, prefix string

	pid     int
	port    int
	spread  int
	timeout time.Duration

	conns, count, frames, frameSize, piece, fragment, limit int
	idLen, mentions, headerSize, bodySize, refusals         int
	sameID                                                  bool
	pieceGap, hold                                          time.Duration

	boundName  string
	boundBytes int64
}

// AbuseResult is the JSON report of one flood.
type AbuseResult struct {
	Flood    string `json:"flood"`
	Label    string `json:"label,omitempty"`
	Location string `json:"location"`
	Clients  int    `json:"clients"`
	// Sent says what the clients sent; SentBytes counts it (payloads and
	// request or frame heads).
	Sent      string  `json:"sent"`
	SentBytes int64   `json:"sent_bytes"`
	Seconds   float64 `json:"seconds"`

	Before ServerSample `json:"before"`
	After  ServerSample `json:"after"`
	// ReadBytes is what the server read from its sockets meanwhile
	// (rchar of /proc/<pid>/io): what it received of SentBytes, the rest
	// having been cut off by its closes.
	ReadBytes int64 `json:"read_bytes"`
	// PeakRSS is the largest RSS seen, sampled every 20 ms during the
	// flood, after included.
	PeakRSS int64 `json:"peak_rss_bytes"`

	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	// CPUPerMiBMS is server CPU in ms per MiB it read.
	CPUPerMiBMS float64 `json:"cpu_per_mib_ms"`
	// CPUPerRequestUS is server CPU in µs per request (HTTP floods).
	CPUPerRequestUS float64 `json:"cpu_per_request_us,omitempty"`

	BoundName  string `json:"bound_name,omitempty"`
	BoundBytes int64  `json:"bound_bytes,omitempty"`

	// Statuses counts what the server answered: HTTP statuses, "close
	// 1009", "close" (plain close frame), "held" (a connection still open
	// at the end) and the like.
	Statuses map[string]int `json:"statuses"`
	Outcome  string         `json:"outcome"`
	Errors   map[string]int `json:"errors,omitempty"`
}

func parseAbuseFlags(args []string) (*abuseConfig, error) {
	fs := flag.NewFlagSet("abuse", flag.ContinueOnError)
	c := &abuseConfig{}
	var bound string
	fs.StringVar(&c.flood, "flood", "", "whole-frames, slow-frames, fragments, channels, dup-path or event-headers")
	fs.StringVar(&c.target, "target", "http://127.0.0.1:18090", "server base URL (http, loopback)")
	fs.StringVar(&c.path, "path", "", "location prefix the flood uses (default per flood: /wsp/, /poll/, /sub/, /pub?id=)")
	fs.IntVar(&c.pid, "pid", 0, "server process id to sample in /proc")
	fs.IntVar(&c.spread, "spread", 16, "source addresses 127.0.0.1 .. 127.0.0.<spread>")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Second, "the flood's time bound: every loop stops by then")
	fs.IntVar(&c.conns, "conns", 8, "client connections")
	fs.IntVar(&c.count, "count", 0, "requests or publishes in all (channels, dup-path, event-headers)")
	fs.IntVar(&c.frames, "frames", 4, "frames per connection (whole-frames, slow-frames)")
	fs.IntVar(&c.frameSize, "frame-size", 1<<20, "payload bytes of a frame (whole-frames, slow-frames)")
	fs.IntVar(&c.piece, "piece", 1<<10, "bytes per write when trickling (slow-frames)")
	fs.DurationVar(&c.pieceGap, "piece-gap", time.Millisecond, "pause between the pieces of one connection (slow-frames)")
	fs.IntVar(&c.fragment, "fragment", 64<<10, "payload bytes of a fragment (fragments)")
	fs.IntVar(&c.limit, "limit", 1<<20, "payload bytes of each unfinished message (fragments)")
	fs.DurationVar(&c.hold, "hold", time.Second, "how long at least the connections stay open after sending, and until the server's CPU stands still for 0.5 s (fragments)")
	fs.IntVar(&c.idLen, "id-len", 256, "channel id length in bytes (channels)")
	fs.BoolVar(&c.sameID, "same-id", false, "every request names the same channel: the baseline of the channels flood")
	fs.IntVar(&c.mentions, "mentions", 500, "times the path names its channel (dup-path)")
	fs.IntVar(&c.headerSize, "header-size", 10000, "bytes of the Event-Id and of the Event-Type header (event-headers)")
	fs.IntVar(&c.bodySize, "body-size", 100, "message body bytes (dup-path, event-headers)")
	fs.IntVar(&c.refusals, "refusals", 50, "publishes refused with 500 after which the flood stops (event-headers)")
	fs.StringVar(&bound, "bound", "", "name=size of the bound the RSS growth is compared with, e.g. shared_memory_size=8m")
	fs.StringVar(&c.prefix, "prefix", "", "channel id prefix (default: unique per run)")
	fs.StringVar(&c.label, "label", "", "name of the flood in the table (default: the flood)")
	fs.StringVar(&c.jsonOut, "json", "", "write the JSON report here (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	u, err := url.Parse(c.target)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return nil, fmt.Errorf("--target %q: want http://host:port", c.target)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--target %q: the floods only go to a loopback address", c.target)
	}
	c.host = u.Host
	c.port, _ = strconv.Atoi(u.Port())
	defaults := map[string]string{
		floodWholeFrames: "/wsp/", floodSlowFrames: "/wsp/", floodFragments: "/wsp/",
		floodChannels: "/poll/", floodDupPath: "/sub/", floodEventHeader: publisherPath,
	}
	def, ok := defaults[c.flood]
	if !ok {
		return nil, fmt.Errorf("--flood %q: want whole-frames, slow-frames, fragments, channels, dup-path or event-headers", c.flood)
	}
	if c.path == "" {
		c.path = def
	}
	if c.count == 0 {
		c.count = map[string]int{floodChannels: 20000, floodDupPath: 10, floodEventHeader: 2000}[c.flood]
	}
	if c.conns < 1 || c.frames < 1 || c.frameSize < 1 || c.piece < 1 || c.fragment < 1 || c.limit < 1 || c.idLen < 1 || c.mentions < 1 {
		return nil, fmt.Errorf("counts and sizes must be at least 1")
	}
	if c.piece%4 != 0 || c.fragment%4 != 0 {
		// The masked payload is computed once and cut in pieces: the mask
		// must line up with every piece.
		return nil, fmt.Errorf("--piece and --fragment must be multiples of 4")
	}
	if c.timeout <= 0 || c.timeout > time.Minute {
		return nil, fmt.Errorf("--timeout %v: want more than 0 and at most 1m", c.timeout)
	}
	if bound != "" {
		name, size, ok := strings.Cut(bound, "=")
		n, err := parseSize(size)
		if !ok || err != nil {
			return nil, fmt.Errorf("--bound %q: want name=size", bound)
		}
		c.boundName, c.boundBytes = name, n
	}
	if c.prefix == "" {
		c.prefix = "a" + strconv.FormatInt(time.Now().UnixNano()/1e6, 36) + "_"
	}
	if c.label == "" {
		c.label = c.flood
	}
	return c, nil
}

// parseSize reads 8m, 64MiB, 1024 and the like (1024-based).
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// abuseRun is one flood in progress.
type abuseRun struct {
	cfg      *abuseConfig
	dial     *dialer
	watch    serverWatch
	deadline time.Time
	res      *AbuseResult

	peak      atomic.Int64
	readStart int64
	stopped   chan struct{}
	sampler   sync.WaitGroup

	mu       sync.Mutex
	statuses map[string]int
	errs     map[string]int
	sent     atomic.Int64
}

func (a *abuseRun) status(key string, n int) {
	a.mu.Lock()
	a.statuses[key] += n
	a.mu.Unlock()
}

func (a *abuseRun) fail(err error) {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	a.mu.Lock()
	a.errs[msg]++
	a.mu.Unlock()
}

// sample reads the server now and keeps the peak RSS.
func (a *abuseRun) sample() (ServerSample, error) {
	s, err := a.watch.Sample()
	if err == nil {
		for {
			p := a.peak.Load()
			if s.RSSBytes <= p || a.peak.CompareAndSwap(p, s.RSSBytes) {
				break
			}
		}
	}
	return s, err
}

// startSampler samples the server every 20 ms until stopSampler.
func (a *abuseRun) startSampler() {
	a.stopped = make(chan struct{})
	a.sampler.Add(1)
	go func() {
		defer a.sampler.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-a.stopped:
				return
			case <-t.C:
				_, _ = a.sample()
			}
		}
	}()
}

func (a *abuseRun) stopSampler() {
	close(a.stopped)
	a.sampler.Wait()
}

// after takes the closing sample: while the flood's connections are still
// open, so that what they made the server hold is counted.
func (a *abuseRun) after() error {
	s, err := a.sample()
	a.res.After = s
	if err != nil {
		return err
	}
	read, err := readChars(a.cfg.pid)
	a.res.ReadBytes = read - a.readStart
	return err
}

// readChars returns rchar of /proc/<pid>/io: the bytes the process got
// from read system calls, its sockets' included.
func readChars(pid int) (int64, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "io"))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "rchar:"); ok {
			return strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io has no rchar", pid)
}

// settle waits until the server has read everything its clients sent
// (its sockets' receive queues are empty) and its CPU time stood still
// for idle, for at least least and at most until the deadline. Clients'
// writes end as soon as the socket buffers take them, before the server
// has read them, the more so on a busy machine.
func (a *abuseRun) settle(least, idle time.Duration) {
	start := time.Now()
	last, since := -1.0, time.Now()
	for time.Now().Before(a.deadline) {
		s, err := a.sample()
		if err != nil {
			return
		}
		unread, err := unreadBytes(a.cfg.port)
		if err != nil {
			return
		}
		if s.CPUSeconds != last || unread > 0 {
			last, since = s.CPUSeconds, time.Now()
		}
		if time.Since(start) >= least && time.Since(since) >= idle {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unreadBytes sums the receive queues of the IPv4 TCP connections whose
// local port is port (the server's side): what they received and the
// server has not read yet.
func unreadBytes(port int) (int64, error) {
	raw, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	want := fmt.Sprintf(":%04X", port)
	var sum int64
	for line := range strings.SplitSeq(string(raw), "\n") {
		f := strings.Fields(line)
		// sl local rem st tx_queue:rx_queue ...; 0A is LISTEN, whose
		// rx_queue is the accept backlog.
		if len(f) < 5 || !strings.HasSuffix(f[1], want) || f[3] == "0A" {
			continue
		}
		_, rx, ok := strings.Cut(f[4], ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(rx, 16, 64)
		if err == nil {
			sum += n
		}
	}
	return sum, nil
}

func abuseCommand(args []string) error {
	cfg, err := parseAbuseFlags(args)
	if err != nil {
		return err
	}
	if cfg.pid <= 0 {
		return fmt.Errorf("--pid is required: the flood is measured on the server")
	}
	a := &abuseRun{
		cfg:      cfg,
		dial:     &dialer{addr: cfg.host, spread: cfg.spread, timeout: 5 * time.Second},
		watch:    serverWatch{pids: []int{cfg.pid}},
		deadline: time.Now().Add(cfg.timeout),
		statuses: map[string]int{},
		errs:     map[string]int{},
		res: &AbuseResult{
			Flood: cfg.flood, Label: cfg.label, Location: cfg.path,
			BoundName: cfg.boundName, BoundBytes: cfg.boundBytes,
		},
	}
	if a.res.Before, err = a.sample(); err != nil {
		return err
	}
	if a.readStart, err = readChars(cfg.pid); err != nil {
		return err
	}
	a.startSampler()
	started := time.Now()
	var requests int
	switch cfg.flood {
	case floodWholeFrames, floodSlowFrames:
		err = a.frames(cfg.flood == floodSlowFrames)
	case floodFragments:
		err = a.fragments()
	case floodChannels:
		requests, err = a.channels()
	case floodDupPath:
		requests, err = a.dupPath()
	case floodEventHeader:
		requests, err = a.eventHeaders()
	}
	a.stopSampler()
	if err != nil {
		return err
	}
	r := a.res
	if r.After.Processes == 0 {
		return fmt.Errorf("%s: the flood took no closing sample", cfg.flood)
	}
	r.Seconds = time.Since(started).Seconds()
	r.PeakRSS = max(a.peak.Load(), r.After.RSSBytes)
	r.SentBytes = a.sent.Load()
	r.ServerCPUSeconds = r.After.CPUSeconds - r.Before.CPUSeconds
	if r.ReadBytes > 0 {
		r.CPUPerMiBMS = r.ServerCPUSeconds * 1e3 / mib(r.ReadBytes)
	}
	if requests > 0 {
		r.CPUPerRequestUS = r.ServerCPUSeconds * 1e6 / float64(requests)
	}
	r.Statuses, r.Errors = a.statuses, a.errs
	if len(r.Errors) == 0 {
		r.Errors = nil
	}
	printAbuseRows(stdout, []*AbuseResult{r})
	if cfg.jsonOut != "" {
		raw, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		return writeRaw(cfg.jsonOut, append(raw, '\n'))
	}
	return nil
}

// --- websocket clients ------------------------------------------------------

// wsClient is a websocket connection whose server frames a goroutine reads:
// it counts data bytes and notes the close frame.
type wsClient struct {
	conn net.Conn
	br   *bufio.Reader
	// closeStatus: 0 no close frame yet, -1 a close frame without status,
	// otherwise its status.
	closeStatus atomic.Int32
	received    atomic.Int64
	done        chan struct{}
}

// dialWS opens connection i to path and completes the handshake; the
// connection's deadline is the flood's.
func (a *abuseRun) dialWS(i int, path string) (*wsClient, error) {
	conn, err := a.dial.dial(i)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	_ = conn.SetDeadline(a.deadline.Add(5 * time.Second))
	var key [16]byte
	_, _ = rand.Read(key[:])
	head := requestHead("GET", path, a.cfg.host, "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: "+base64.StdEncoding.EncodeToString(key[:]), "Sec-WebSocket-Version: 13")
	if _, err := conn.Write(head); err != nil {
		conn.Close()
		return nil, fmt.Errorf("writing handshake: %w", err)
	}
	br := bufio.NewReaderSize(conn, 4096)
	h, err := readHead(br)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("reading handshake: %w", err)
	}
	if h.status != 101 {
		conn.Close()
		return nil, fmt.Errorf("handshake status %d", h.status)
	}
	c := &wsClient{conn: conn, br: br, done: make(chan struct{})}
	go c.read()
	return c, nil
}

// read takes server frames (never masked) until a close frame or an error.
func (c *wsClient) read() {
	defer close(c.done)
	var h [8]byte
	for {
		if _, err := io.ReadFull(c.br, h[:2]); err != nil {
			return
		}
		opcode, n := h[0]&0x0F, uint64(h[1]&0x7F)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, h[:2]); err != nil {
				return
			}
			n = uint64(h[0])<<8 | uint64(h[1])
		case 127:
			if _, err := io.ReadFull(c.br, h[:8]); err != nil {
				return
			}
			n = 0
			for _, b := range h {
				n = n<<8 | uint64(b)
			}
		}
		if opcode == 8 {
			status := int32(-1)
			var p [2]byte
			if n >= 2 {
				if _, err := io.ReadFull(c.br, p[:]); err == nil {
					status = int32(p[0])<<8 | int32(p[1])
				}
			}
			c.closeStatus.Store(status)
			return
		}
		got, err := io.CopyN(io.Discard, c.br, int64(n))
		if opcode <= 2 {
			c.received.Add(got)
		}
		if err != nil {
			return
		}
	}
}

// closed reports whether the server sent a close frame.
func (c *wsClient) closed() bool { return c.closeStatus.Load() != 0 }

// closeKey names a close frame in the statuses.
func closeKey(status int32) string {
	if status < 0 {
		return "close (no status)"
	}
	return "close " + strconv.Itoa(int(status))
}

// clientFrameHead returns the head of a masked client frame.
func clientFrameHead(fin bool, opcode byte, n int, mask [4]byte) []byte {
	b := make([]byte, 0, 14)
	first := opcode
	if fin {
		first |= 0x80
	}
	b = append(b, first)
	switch {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		for s := 56; s >= 0; s -= 8 {
			b = append(b, byte(uint64(n)>>s))
		}
	}
	return append(b, mask[:]...)
}

// maskedText returns n bytes of ASCII text masked with mask, from offset 0.
func maskedText(n int, mask [4]byte) []byte {
	b := bytes.Repeat([]byte("x"), n)
	for i := range b {
		b[i] ^= mask[i&3]
	}
	return b
}

var frameMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// --- flood 1: large frames, whole or trickled --------------------------------

// frames sends cfg.frames text frames of cfg.frameSize bytes on each of
// cfg.conns connections to the publishing location, each connection on a
// channel of its own: in one write each, or in pieces of cfg.piece bytes
// cfg.pieceGap apart. Each published frame comes back to its sender.
func (a *abuseRun) frames(slow bool) error {
	cfg := a.cfg
	payload := maskedText(cfg.frameSize, frameMask)
	head := clientFrameHead(true, 1, cfg.frameSize, frameMask)
	clients, err := a.connectWS(cfg.conns, func(i int) string { return cfg.path + cfg.prefix + "f" + strconv.Itoa(i) })
	if err != nil {
		return err
	}
	defer closeAll(clients)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			k := 0 // pieces written on this connection
			for f := 0; f < cfg.frames && time.Now().Before(a.deadline) && !c.closed(); f++ {
				if !a.write(c, head) {
					return
				}
				if !slow {
					if !a.write(c, payload) {
						return
					}
					continue
				}
				for off := 0; off < len(payload); off += cfg.piece {
					if !time.Now().Before(a.deadline) || c.closed() {
						return
					}
					// Paced from the start, so that a late wake-up does
					// not slow the whole trickle down.
					k++
					if d := time.Until(start.Add(time.Duration(k) * cfg.pieceGap)); d > 0 {
						time.Sleep(d)
					}
					if !a.write(c, payload[off:min(off+cfg.piece, len(payload))]) {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	// Let the server finish with the last frames and send the echoes.
	a.settle(0, 300*time.Millisecond)
	if err := a.after(); err != nil {
		return err
	}
	stats, err := a.stats("")
	if err != nil {
		return err
	}
	var echoed int64
	for _, c := range clients {
		echoed += c.received.Load()
		if s := c.closeStatus.Load(); s != 0 {
			a.status(closeKey(s), 1)
		}
	}
	sentFrames := a.sent.Load() / int64(cfg.frameSize+len(head))
	how := "whole"
	if slow {
		how = fmt.Sprintf("in %d B pieces %v apart", cfg.piece, cfg.pieceGap)
	}
	a.res.Clients = len(clients)
	a.res.Sent = fmt.Sprintf("%d × %d KiB frames, %s", sentFrames, cfg.frameSize>>10, how)
	a.res.Outcome = fmt.Sprintf("%v published and echoed (%.0f MiB back); the memory cap refused the rest",
		stats["published_messages"], mib(echoed))
	a.status("echoed", int(echoed/int64(cfg.frameSize)))
	return nil
}

// connectWS opens n websocket clients, at most 50 handshakes at a time.
func (a *abuseRun) connectWS(n int, path func(i int) string) ([]*wsClient, error) {
	clients := make([]*wsClient, n)
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := a.dialWS(i, path(i))
			if err != nil {
				a.fail(err)
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	var ok []*wsClient
	for _, c := range clients {
		if c != nil {
			ok = append(ok, c)
		}
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("no websocket connected: %v", a.errs)
	}
	return ok, nil
}

// write writes p on c and counts it; false when the connection is done.
func (a *abuseRun) write(c *wsClient, p []byte) bool {
	n, err := c.conn.Write(p)
	a.sent.Add(int64(n))
	return err == nil
}

func closeAll(clients []*wsClient) {
	for _, c := range clients {
		c.conn.Close()
	}
	for _, c := range clients {
		<-c.done
	}
}

// --- flood 2: unfinished fragmented messages ---------------------------------

// fragments opens cfg.conns websocket connections and has each send a
// fragmented text message of cfg.limit bytes in cfg.fragment-byte
// fragments without its final fragment, then keeps them open for cfg.hold.
func (a *abuseRun) fragments() error {
	cfg := a.cfg
	payload := maskedText(cfg.fragment, frameMask)
	first := clientFrameHead(false, 1, cfg.fragment, frameMask)
	cont := clientFrameHead(false, 0, cfg.fragment, frameMask)
	clients, err := a.connectWS(cfg.conns, func(i int) string { return cfg.path + cfg.prefix + "g" + strconv.Itoa(i) })
	if err != nil {
		return err
	}
	defer closeAll(clients)
	var complete atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := 0
			for sent < cfg.limit && time.Now().Before(a.deadline) && !c.closed() {
				head := cont
				if sent == 0 {
					head = first
				}
				n := min(cfg.fragment, cfg.limit-sent)
				if n != cfg.fragment {
					head = clientFrameHead(false, head[0]&0x0F, n, frameMask)
				}
				if !a.write(c, head) || !a.write(c, payload[:n]) {
					return
				}
				sent += n
			}
			if sent == cfg.limit {
				complete.Add(1)
			}
		}()
	}
	wg.Wait()
	// Hold everything open until the server is done with what the socket
	// buffers still held (the clients' writes end before the server's
	// reads); closes on their way arrive meanwhile.
	a.settle(cfg.hold, 500*time.Millisecond)
	if err := a.after(); err != nil {
		return err
	}
	held := 0
	for _, c := range clients {
		if s := c.closeStatus.Load(); s != 0 {
			a.status(closeKey(s), 1)
			continue
		}
		select {
		case <-c.done:
			a.status("closed without frame", 1)
		default:
			held++
		}
	}
	a.status("held open", held)
	a.res.Clients = len(clients)
	a.res.Sent = fmt.Sprintf("%d × %d KiB unfinished messages in %d KiB fragments (%d written in full)",
		len(clients), cfg.limit>>10, cfg.fragment>>10, complete.Load())
	a.res.Outcome = fmt.Sprintf("%d got close 1009, %d held open", a.statuses["close 1009"], held)
	return nil
}

// --- flood 3: ids ---------------------------------------------------------------

// httpConn is a keep-alive HTTP/1.1 client connection.
type httpConn struct {
	a    *abuseRun
	i    int
	conn net.Conn
	br   *bufio.Reader
}

// do sends req and reads the answer, reconnecting when needed; it
// returns the status, or 0 after an error (noted).
func (h *httpConn) do(req []byte) int {
	if h.conn == nil {
		conn, err := h.a.dial.dial(h.i)
		if err != nil {
			h.a.fail(fmt.Errorf("dial: %w", err))
			return 0
		}
		_ = conn.SetDeadline(h.a.deadline.Add(5 * time.Second))
		h.conn, h.br = conn, bufio.NewReaderSize(conn, 4096)
	}
	status, keep, err := roundTrip(h.conn, h.br, req)
	h.a.sent.Add(int64(len(req)))
	if err != nil || !keep {
		h.conn.Close()
		h.conn = nil
	}
	if err != nil {
		h.a.fail(err)
		return 0
	}
	return status
}

func (h *httpConn) close() {
	if h.conn != nil {
		h.conn.Close()
	}
}

// channels sends cfg.count polling requests, each naming a new channel of
// cfg.idLen bytes, over cfg.conns keep-alive connections.
func (a *abuseRun) channels() (int, error) {
	cfg := a.cfg
	var next atomic.Int64
	var done atomic.Int64
	var wg sync.WaitGroup
	for i := range cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &httpConn{a: a, i: i}
			defer h.close()
			for time.Now().Before(a.deadline) {
				n := int(next.Add(1)) - 1
				if n >= cfg.count {
					return
				}
				id := channelID(cfg.prefix+"c"+strconv.Itoa(n)+"_", cfg.idLen)
				if cfg.sameID {
					id = channelID(cfg.prefix+"c_", cfg.idLen)
				}
				a.status(strconv.Itoa(h.do(requestHead("GET", cfg.path+id, cfg.host))), 1)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if err := a.after(); err != nil {
		return 0, err
	}
	stats, err := a.stats("")
	if err != nil {
		return 0, err
	}
	a.res.Clients = cfg.conns
	a.res.Sent = fmt.Sprintf("%d polling requests, each to a new %d B id", done.Load(), cfg.idLen)
	if cfg.sameID {
		a.res.Sent = fmt.Sprintf("%d polling requests, all to one %d B id", done.Load(), cfg.idLen)
	}
	a.res.Outcome = fmt.Sprintf("%v channels live; statuses %s", stats["channels"], statusList(a.statuses))
	return int(done.Load()), nil
}

// channelID pads prefix with 'x' to n bytes.
func channelID(prefix string, n int) string {
	if len(prefix) >= n {
		return prefix
	}
	return prefix + strings.Repeat("x", n-len(prefix))
}

// dupPath connects cfg.conns stream subscribers whose path names one
// channel cfg.mentions times, then publishes cfg.count messages to it.
// Each subscriber should get each message once.
func (a *abuseRun) dupPath() (int, error) {
	cfg := a.cfg
	ch := cfg.prefix + "dup"
	path := cfg.path + strings.TrimSuffix(strings.Repeat(ch+"/", cfg.mentions), "/")
	var lines atomic.Int64
	conns := make([]net.Conn, 0, cfg.conns)
	var mu sync.Mutex
	var readers sync.WaitGroup
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range cfg.conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conn, err := a.dial.dial(i)
			if err != nil {
				a.fail(fmt.Errorf("dial: %w", err))
				return
			}
			_ = conn.SetDeadline(a.deadline.Add(5 * time.Second))
			req := requestHead("GET", path, cfg.host)
			n, err := conn.Write(req)
			a.sent.Add(int64(n))
			br := bufio.NewReaderSize(conn, 4096)
			var h responseHead
			if err == nil {
				h, err = readHead(br)
			}
			if err != nil {
				conn.Close()
				a.fail(err)
				return
			}
			a.status(strconv.Itoa(h.status), 1)
			if h.status != 200 || !h.chunked {
				conn.Close()
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			readers.Add(1)
			go func() {
				defer readers.Done()
				body := bufio.NewReader(httputil.NewChunkedReader(br))
				for {
					if _, err := body.ReadSlice('\n'); err != nil {
						if !errors.Is(err, bufio.ErrBufferFull) {
							return
						}
						continue
					}
					lines.Add(1)
				}
			}()
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	}()
	// Publish, one message at a time.
	pub := &httpConn{a: a, i: cfg.conns}
	defer pub.close()
	body := bytes.Repeat([]byte("m"), cfg.bodySize)
	published := 0
	for i := 0; i < cfg.count && time.Now().Before(a.deadline); i++ {
		req := publishRequest(cfg, publisherPath, ch, nil, body)
		st := pub.do(req)
		a.status("publish "+strconv.Itoa(st), 1)
		if st == 200 {
			published++
		}
	}
	want := int64(published * len(conns))
	for end := time.Now().Add(3 * time.Second); lines.Load() < want && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // duplicates, if any, would arrive now
	if err := a.after(); err != nil {
		return 0, err
	}
	info, err := a.stats(ch)
	if err != nil {
		return 0, err
	}
	a.res.Clients = cfg.conns
	a.res.Sent = fmt.Sprintf("%d stream subscribers, path naming one channel %d times (%d B); %d publishes",
		cfg.conns, cfg.mentions, len(path), published)
	a.res.Outcome = fmt.Sprintf("%v subscriptions on the channel for %d subscribers; %d messages received, %d expected",
		info["subscribers"], len(conns), lines.Load(), want)
	return cfg.conns + published, nil
}

// publishRequest builds a POST of body to channel ch through the
// publisher at pub (a path ending in `id=`); extra holds complete header
// lines.
func publishRequest(cfg *abuseConfig, pub, ch string, extra []string, body []byte) []byte {
	lines := append([]string{"Content-Type: text/plain", "Content-Length: " + strconv.Itoa(len(body))}, extra...)
	return append(requestHead("POST", pub+ch, cfg.host, lines...), body...)
}

// publisherPath is the publisher of bench/abuse.Caddyfile.
const publisherPath = "/pub?id="

// eventHeaders keeps one eventsource subscriber on a channel and publishes
// to it with Event-Id and Event-Type headers of cfg.headerSize bytes each,
// until the memory cap has refused cfg.refusals publishes (or cfg.count
// were sent).
func (a *abuseRun) eventHeaders() (int, error) {
	cfg := a.cfg
	ch := cfg.prefix + "ev"
	// The subscriber: its formatter keeps a rendering of every message.
	conn, err := a.dial.dial(0)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(a.deadline.Add(5 * time.Second))
	if _, err := conn.Write(requestHead("GET", "/ev/"+ch, cfg.host, "Accept: text/event-stream")); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(conn, 4096)
	h, err := readHead(br)
	if err != nil || h.status != 200 {
		return 0, fmt.Errorf("eventsource subscriber: status %d, %v", h.status, err)
	}
	var got counter
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		_, _ = io.Copy(&got, br)
	}()
	defer func() { conn.Close(); <-readDone }()

	pub := &httpConn{a: a, i: 1}
	defer pub.close()
	body := bytes.Repeat([]byte("b"), cfg.bodySize)
	refused, sent, firstRefusal := 0, 0, 0
	for sent < cfg.count && refused < cfg.refusals && time.Now().Before(a.deadline) {
		seq := strconv.Itoa(sent) + "_"
		st := pub.do(publishRequest(cfg, cfg.path, ch, []string{
			"Event-Id: " + channelID(seq, cfg.headerSize),
			"Event-Type: " + channelID(seq, cfg.headerSize),
		}, body))
		sent++
		a.status(strconv.Itoa(st), 1)
		if st == 500 {
			if refused == 0 {
				firstRefusal = sent
			}
			refused++
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := a.after(); err != nil {
		return 0, err
	}
	stats, err := a.stats("")
	if err != nil {
		return 0, err
	}
	a.res.Clients = 2
	a.res.Sent = fmt.Sprintf("%d publishes of %d B with %d B Event-Id and Event-Type, 1 eventsource subscriber",
		sent, cfg.bodySize, cfg.headerSize)
	first := "none"
	if firstRefusal > 0 {
		first = "#" + strconv.Itoa(firstRefusal)
	}
	a.res.Outcome = fmt.Sprintf("first 500 at publish %s; %v messages stored; statuses %s; the subscriber got %.1f MiB",
		first, stats["stored_messages"], statusList(a.statuses), mib(got.Load()))
	return sent, nil
}

// counter is an io.Writer that counts and drops what it is given.
type counter struct{ n atomic.Int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

func (c *counter) Load() int64 { return c.n.Load() }

// stats returns the summarized statistics (id empty) or one channel's.
func (a *abuseRun) stats(id string) (map[string]any, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	u := a.cfg.target + "/channels-stats"
	if id != "" {
		u += "?id=" + url.QueryEscape(id)
	}
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("statistics %s: status %d: %w", u, resp.StatusCode, err)
	}
	return out, nil
}
