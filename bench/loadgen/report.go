//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Result is the JSON report of one run or part; merge combines parts.
type Result struct {
	Label       string  `json:"label,omitempty"`
	Target      string  `json:"target"`
	Style       string  `json:"style"`
	Mode        string  `json:"mode"`
	Part        int     `json:"part"`
	Parts       int     `json:"parts"`
	Subscribers int     `json:"subscribers"`
	Channels    int     `json:"channels"`
	Messages    int     `json:"messages"`
	Size        int     `json:"size"`
	Publishers  int     `json:"publishers"`
	Rate        float64 `json:"rate"`

	// Connecting.
	Connected int64 `json:"connected"`
	// ConnectedAllParts is set by the leader part of a split run: the
	// subscribers of every part, which the server figures are divided by.
	ConnectedAllParts int64          `json:"connected_all_parts,omitempty"`
	ConnectFailed     int64          `json:"connect_failed"`
	ConnectSeconds    float64        `json:"connect_seconds"`
	Disconnected      int64          `json:"disconnected"`
	SubErrors         map[string]int `json:"subscriber_errors,omitempty"`

	// Publishing (the leader part only).
	Publish          *PublishOutcome `json:"publish,omitempty"`
	PublishLatencyUS *HistSummary    `json:"publish_latency_us,omitempty"`
	PublishesPerSec  float64         `json:"publishes_per_sec"`

	// Delivery.
	Expected         int64       `json:"expected"`
	Delivered        int64       `json:"delivered"`
	Lost             int64       `json:"lost"`
	Duplicates       int64       `json:"duplicates"`
	Unparsed         int64       `json:"unparsed"`
	Foreign          int64       `json:"foreign"`
	LastDeliveryNS   int64       `json:"last_delivery_ns"`
	DeliverySeconds  float64     `json:"delivery_seconds"`
	DeliveriesPerSec float64     `json:"deliveries_per_sec"`
	LatencyUS        HistSummary `json:"latency_us"`

	// Server figures (the leader part only, when --pid is given): every
	// server summed.
	Server *ServerReport `json:"server,omitempty"`
	// Broker figures (the leader part only, when --broker-pid is given):
	// Redis, apart from the servers.
	Broker *ServerReport `json:"broker,omitempty"`

	// Client CPU seconds while publishing and draining (this process, or
	// all parts after merge), to tell a saturated client from a slow server.
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	ClientCPUPercent float64 `json:"client_cpu_percent"`
}

// ServerReport holds the raw samples and the figures derived from them.
type ServerReport struct {
	Before       ServerSample `json:"before"`
	AfterConnect ServerSample `json:"after_connect"`
	PublishStart ServerSample `json:"publish_start"`
	End          ServerSample `json:"end"`

	RSSPerSubscriber  float64 `json:"rss_per_subscriber_bytes"`
	CPUPerConnectUS   float64 `json:"cpu_per_connect_us"`
	CPUPerDeliveryUS  float64 `json:"cpu_per_delivery_us"`
	CPUPerPublishUS   float64 `json:"cpu_per_publish_us"`
	CPUPercentPublish float64 `json:"cpu_percent_while_publishing"`
}

// finalize computes the derived figures from the raw ones.
func (r *Result) finalize() {
	if r.Publish != nil {
		if d := float64(r.Publish.EndNS-r.Publish.StartNS) / 1e9; d > 0 {
			r.PublishesPerSec = float64(r.Publish.Succeeded) / d
		}
		if r.LastDeliveryNS > r.Publish.StartNS {
			r.DeliverySeconds = float64(r.LastDeliveryNS-r.Publish.StartNS) / 1e9
			r.DeliveriesPerSec = float64(r.Delivered) / r.DeliverySeconds
		}
	}
	r.LatencyUS = summarize(r.LatencyUS.Buckets)
	if r.PublishLatencyUS != nil {
		*r.PublishLatencyUS = summarize(r.PublishLatencyUS.Buckets)
	}
	for _, s := range []*ServerReport{r.Server, r.Broker} {
		if s != nil {
			s.derive(r)
		}
	}
	end := r.LastDeliveryNS
	if r.Publish != nil {
		end = max(end, r.Publish.EndNS)
		if wall := float64(end-r.Publish.StartNS) / 1e9; wall > 0 {
			r.ClientCPUPercent = 100 * r.ClientCPUSeconds / wall
		}
	}
}

// derive computes the figures of s, the samples of r's servers or of its
// broker, per subscriber, delivery and publish.
func (s *ServerReport) derive(r *Result) {
	connected := r.Connected
	if r.ConnectedAllParts > 0 {
		connected = r.ConnectedAllParts
	}
	if connected > 0 {
		s.RSSPerSubscriber = float64(s.AfterConnect.RSSBytes-s.Before.RSSBytes) / float64(connected)
		s.CPUPerConnectUS = (s.AfterConnect.CPUSeconds - s.Before.CPUSeconds) * 1e6 / float64(connected)
	}
	work := s.End.CPUSeconds - s.PublishStart.CPUSeconds
	if r.Delivered > 0 {
		s.CPUPerDeliveryUS = work * 1e6 / float64(r.Delivered)
	}
	if r.Publish != nil && r.Publish.Succeeded > 0 {
		s.CPUPerPublishUS = work * 1e6 / float64(r.Publish.Succeeded)
		end := max(r.LastDeliveryNS, r.Publish.EndNS)
		if wall := float64(end-r.Publish.StartNS) / 1e9; wall > 0 {
			s.CPUPercentPublish = 100 * work / wall
		}
	}
}

// totalCPUPerDeliveryUS returns the CPU per delivery of the servers and
// the broker together (the servers alone without a broker), and whether
// there is one.
func (r *Result) totalCPUPerDeliveryUS() (float64, bool) {
	if r.Server == nil || r.Delivered == 0 {
		return 0, false
	}
	us := r.Server.CPUPerDeliveryUS
	if r.Broker != nil {
		us += r.Broker.CPUPerDeliveryUS
	}
	return us, true
}

// merge combines the parts of one run into a single result.
func merge(parts []*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Part < parts[j].Part })
	out := *parts[0]
	out.Part, out.Parts, out.ConnectedAllParts = 0, 1, 0
	out.LatencyUS = HistSummary{Buckets: mergeBuckets(nil, parts[0].LatencyUS.Buckets)}
	out.SubErrors = map[string]int{}
	for k, v := range parts[0].SubErrors {
		out.SubErrors[k] += v
	}
	for _, p := range parts[1:] {
		if p.Publish != nil && out.Publish == nil {
			out.Publish, out.PublishLatencyUS = p.Publish, p.PublishLatencyUS
		}
		if p.Server != nil && out.Server == nil {
			out.Server = p.Server
		}
		if p.Broker != nil && out.Broker == nil {
			out.Broker = p.Broker
		}
		out.Connected += p.Connected
		out.ConnectFailed += p.ConnectFailed
		out.ConnectSeconds = max(out.ConnectSeconds, p.ConnectSeconds)
		out.Disconnected += p.Disconnected
		out.Expected += p.Expected
		out.Delivered += p.Delivered
		out.Lost += p.Lost
		out.Duplicates += p.Duplicates
		out.Unparsed += p.Unparsed
		out.Foreign += p.Foreign
		out.LastDeliveryNS = max(out.LastDeliveryNS, p.LastDeliveryNS)
		out.ClientCPUSeconds += p.ClientCPUSeconds
		out.LatencyUS.Buckets = mergeBuckets(out.LatencyUS.Buckets, p.LatencyUS.Buckets)
		for k, v := range p.SubErrors {
			out.SubErrors[k] += v
		}
	}
	out.finalize()
	return &out, nil
}

func readResult(path string) (*Result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &r, nil
}

// readResults reads the JSON reports at paths, in order.
func readResults(paths []string) ([]*Result, error) {
	var runs []*Result
	for _, path := range paths {
		r, err := readResult(path)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func writeResult(path string, r *Result) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(raw)
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

// printTable writes the human form of r.
func printTable(w io.Writer, r *Result) {
	title := r.Label
	if title == "" {
		title = r.Target
	}
	fmt.Fprintf(w, "== %s: %s %s, %d subscribers on %d channels, %d x %d B messages, %d publishers",
		title, r.Style, r.Mode, r.Subscribers, r.Channels, r.Messages, r.Size, r.Publishers)
	if r.Parts > 1 {
		fmt.Fprintf(w, " (part %d/%d)", r.Part, r.Parts)
	}
	fmt.Fprintln(w)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(w, "  %-34s "+format+"\n", append([]any{name}, args...)...)
	}
	row("connected subscribers", "%d (failed %d, dropped later %d) in %.2fs", r.Connected, r.ConnectFailed, r.Disconnected, r.ConnectSeconds)
	if p := r.Publish; p != nil {
		row("published", "%d ok, %d failed in %.2fs: %.0f/s", p.Succeeded, p.Failed, float64(p.EndNS-p.StartNS)/1e9, r.PublishesPerSec)
		if p.Unsent > 0 {
			row("not sent (duration over)", "%d", p.Unsent)
		}
		if l := r.PublishLatencyUS; l != nil && l.Count > 0 {
			row("publish round trip µs", "p50 %.0f  p99 %.0f  max %.0f", l.P50, l.P99, l.Max)
		}
	}
	if r.Expected > 0 || r.Delivered > 0 {
		row("deliveries", "%d of %d expected: lost %d, duplicated %d", r.Delivered, r.Expected, r.Lost, r.Duplicates)
		row("deliveries/s", "%.0f (over %.2fs)", r.DeliveriesPerSec, r.DeliverySeconds)
		l := r.LatencyUS
		row("publish-to-receive latency µs", "p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f", l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	if r.Unparsed+r.Foreign > 0 {
		row("unparsed / foreign messages", "%d / %d", r.Unparsed, r.Foreign)
	}
	if s := r.Server; s != nil {
		row("server RSS before / connected", "%.1f MiB / %.1f MiB (%d processes)", mib(s.Before.RSSBytes), mib(s.AfterConnect.RSSBytes), s.AfterConnect.Processes)
		if r.Connected > 0 {
			row("server RSS per subscriber", "%.0f B", s.RSSPerSubscriber)
			row("server CPU per connect", "%.1f µs", s.CPUPerConnectUS)
		}
		if r.Publish != nil {
			if r.Delivered > 0 {
				row("server CPU per delivery", "%.3f µs", s.CPUPerDeliveryUS)
			}
			row("server CPU per publish", "%.1f µs", s.CPUPerPublishUS)
			row("server CPU busy while publishing", "%.0f%%", s.CPUPercentPublish)
		}
	}
	if b := r.Broker; b != nil && r.Publish != nil {
		if total, ok := r.totalCPUPerDeliveryUS(); ok {
			row("broker CPU per delivery", "%.3f µs", b.CPUPerDeliveryUS)
			row("servers + broker CPU per delivery", "%.3f µs", total)
		}
		row("broker CPU busy while publishing", "%.0f%%", b.CPUPercentPublish)
	}
	if r.Publish != nil {
		row("client CPU busy while publishing", "%.0f%% of a core (near 100%%: the client is the limit)", r.ClientCPUPercent)
	}
	if len(r.SubErrors) > 0 {
		keys := make([]string, 0, len(r.SubErrors))
		for k := range r.SubErrors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			row("subscriber error", "%dx %s", r.SubErrors[k], k)
		}
	}
	if r.Publish != nil {
		for k, v := range r.Publish.Errors {
			row("publish error", "%dx %s", v, k)
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// figure is one number of the comparison table.
type figure struct {
	name  string
	unit  string
	value func(*Result) (float64, bool)
}

var figures = []figure{
	{"connected", "", func(r *Result) (float64, bool) { return float64(r.Connected), true }},
	{"deliveries/s", "/s", func(r *Result) (float64, bool) { return r.DeliveriesPerSec, r.Delivered > 0 }},
	{"latency p50", "µs", func(r *Result) (float64, bool) { return r.LatencyUS.P50, r.LatencyUS.Count > 0 }},
	{"latency p99", "µs", func(r *Result) (float64, bool) { return r.LatencyUS.P99, r.LatencyUS.Count > 0 }},
	{"lost", "", func(r *Result) (float64, bool) { return float64(r.Lost), r.Publish != nil && r.Connected > 0 }},
	{"dropped subscribers", "", func(r *Result) (float64, bool) { return float64(r.Disconnected), r.Connected > 0 }},
	{"publishes/s", "/s", func(r *Result) (float64, bool) { return r.PublishesPerSec, r.Publish != nil }},
	{"publish failures", "", func(r *Result) (float64, bool) {
		if r.Publish == nil {
			return 0, false
		}
		return float64(r.Publish.Failed), true
	}},
	{"publish rtt p50", "µs", func(r *Result) (float64, bool) {
		if r.PublishLatencyUS == nil || r.PublishLatencyUS.Count == 0 {
			return 0, false
		}
		return r.PublishLatencyUS.P50, true
	}},
	{"server RSS/subscriber", "B", func(r *Result) (float64, bool) {
		return serverValue(r, func(s *ServerReport) float64 { return s.RSSPerSubscriber }, r.Connected > 0)
	}},
	{"server CPU/delivery", "µs", func(r *Result) (float64, bool) {
		return serverValue(r, func(s *ServerReport) float64 { return s.CPUPerDeliveryUS }, r.Delivered > 0)
	}},
	{"broker CPU/delivery", "µs", func(r *Result) (float64, bool) {
		if r.Broker == nil || r.Delivered == 0 {
			return 0, false
		}
		return r.Broker.CPUPerDeliveryUS, true
	}},
	{"total CPU/delivery", "µs", func(r *Result) (float64, bool) {
		if r.Broker == nil {
			return 0, false
		}
		return r.totalCPUPerDeliveryUS()
	}},
	{"server CPU/publish", "µs", func(r *Result) (float64, bool) {
		return serverValue(r, func(s *ServerReport) float64 { return s.CPUPerPublishUS }, r.Publish != nil && r.Publish.Succeeded > 0)
	}},
	{"server CPU busy", "%", func(r *Result) (float64, bool) {
		return serverValue(r, func(s *ServerReport) float64 { return s.CPUPercentPublish }, r.Publish != nil)
	}},
	{"client CPU busy", "%", func(r *Result) (float64, bool) { return r.ClientCPUPercent, r.Publish != nil }},
}

func serverValue(r *Result, f func(*ServerReport) float64, ok bool) (float64, bool) {
	if r.Server == nil || !ok {
		return 0, false
	}
	return f(r.Server), true
}

// printCompare writes the figures of a and b side by side with a/b.
func printCompare(w io.Writer, title, nameA, nameB string, a, b *Result) {
	fmt.Fprintf(w, "== %s\n", title)
	fmt.Fprintf(w, "  %-24s %16s %16s %10s\n", "figure", nameA, nameB, nameA+"/"+nameB)
	for _, f := range figures {
		va, okA := f.value(a)
		vb, okB := f.value(b)
		if !okA && !okB {
			continue
		}
		ratio := "-"
		if okA && okB && vb != 0 {
			ratio = fmt.Sprintf("%.2f", va/vb)
		}
		fmt.Fprintf(w, "  %-24s %16s %16s %10s\n", f.name, cell(va, okA, f.unit), cell(vb, okB, f.unit), ratio)
	}
}

func cell(v float64, ok bool, unit string) string {
	if !ok {
		return "-"
	}
	var s string
	switch {
	case v >= 100 || v == float64(int64(v)):
		s = fmt.Sprintf("%.0f", v)
	default:
		s = fmt.Sprintf("%.3g", v)
	}
	return strings.TrimSpace(s + " " + unit)
}
