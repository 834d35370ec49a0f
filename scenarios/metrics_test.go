package scenarios_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The operator's view (README.md, "Operating it"): Caddy's admin /metrics,
// the health check and the dashboard's figures, against the statistics
// location after a scripted run.

// metricsConfig is the baseline with plain subscribers in every waiting
// mode, the health check and the dashboard.
func metricsConfig() config {
	return config{
		Sub: plainSub,
		Site: subscriberSite("ev", "^/ev/(.*)$", "eventsource", plainSub) +
			subscriberSite("lp", "^/lp/(.*)$", "long-polling", plainSub) +
			websocketSite(plainSub) +
			"\t@health path /health\n\tpush_stream_health @health\n" +
			"\t@dashboard path /dashboard\n\tpush_stream_dashboard @dashboard\n",
	}
}

// metricSeries is one scrape of the admin /metrics: each series, as
// `name` or `name{labels}`, with its value.
type metricSeries map[string]float64

// scrapeMetrics reads the push stream series of Caddy's admin /metrics.
func scrapeMetrics(t testing.TB) metricSeries {
	t.Helper()
	srv := serverOf(t)
	res, err := srv.client.Get(fmt.Sprintf("http://localhost:%d/metrics", srv.adminPort))
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scraping metrics: status %d", res.StatusCode)
	}
	series := metricSeries{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "caddy_push_stream_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		series[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return series
}

// get returns a series' value and fails the test if it is missing.
func (m metricSeries) get(t testing.TB, name string) int {
	t.Helper()
	v, ok := m[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	return int(v)
}

// expect checks series values.
func (m metricSeries) expect(t testing.TB, want map[string]int) {
	t.Helper()
	for name, v := range want {
		if got := m.get(t, name); got != v {
			t.Errorf("%s = %d, want %d", name, got, v)
		}
	}
}

// TestMetricsMatchStatistics runs subscribers in every waiting mode, some
// publishes and refused publishes, and a client leaving, then checks that
// the admin /metrics agree with the statistics location (summary and
// ALL), and with the dashboard's figures; a reload then logs what it
// changed and keeps the counters.
func TestMetricsMatchStatistics(t *testing.T) {
	t.Parallel()
	loadFresh(t, metricsConfig())
	a, b, c := channelID(t), channelID(t), channelID(t)

	streams := []*rawConn{subscribeCounted(t, "/sub/"+a, a, 1), subscribeCounted(t, "/sub/"+a, a, 2)}
	es := openEventSource(t, "/ev/"+a+"/"+b, "")
	waitSubscribers(t, b, 1)
	ws := wsOpen(t, "/ws/"+b)
	waitSubscribers(t, b, 2)
	polled := make(chan response, 1)
	go func() { polled <- do(t, http.MethodGet, "/lp/"+c, "") }()
	waitSubscribers(t, c, 1)

	// 3 × 3 + 2 × 2 + 1 deliveries.
	for i := range 3 {
		publish(t, a, fmt.Sprintf("a%d", i))
	}
	for i := range 2 {
		publish(t, b, fmt.Sprintf("b%d", i))
	}
	publish(t, c, "c0")
	if res := <-polled; res.StatusCode != http.StatusOK || res.body != "c0" {
		t.Fatalf("long-poll answer: %d %q", res.StatusCode, res.body)
	}
	for _, s := range streams {
		if got := s.chunksUntil(func(body string) bool { return strings.HasSuffix(body, "a2") }); got != "a0a1a2" {
			t.Fatalf("stream got %q", got)
		}
	}
	for _, want := range []string{"a0", "a1", "a2", "b0", "b1"} {
		if ev := es.mustNext(t); ev.Data != want {
			t.Fatalf("eventsource got %q, want %q", ev.Data, want)
		}
	}
	for _, want := range []string{"b0", "b1"} {
		if _, payload := ws.frame(); string(payload) != want {
			t.Fatalf("websocket got %q, want %q", payload, want)
		}
	}

	expectHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+a, ""), http.StatusBadRequest, "Empty post requests are not allowed.")
	expectHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+strings.Repeat("x", 201), "m"), http.StatusBadRequest, "Channel id is too large.")
	expectHeaderOnly(t, do(t, http.MethodPost, "/pub?id="+a, strings.Repeat("m", 33<<10)), http.StatusRequestEntityTooLarge, "")

	streams[0].conn.Close()
	waitSubscribers(t, a, 2)
	// A subscriber's end is counted once its request is done, just after
	// the statistics stop counting it.
	waitFor(t, "the ends to be counted", func() bool {
		m := scrapeMetrics(t)
		return m.get(t, `caddy_push_stream_subscribers_closed_total{reason="client_gone"}`) == 1 &&
			m.get(t, `caddy_push_stream_subscribers_closed_total{reason="answered"}`) == 1
	})

	m := scrapeMetrics(t)
	sum := stats(t, "")
	all := stats(t, "ALL")
	subscriptions := 0
	for _, info := range all["infos"].([]any) {
		subscriptions += num(t, info.(map[string]any), "subscribers")
	}
	// The statistics themselves say what the script did.
	if p, st, sb, ch := num(t, sum, "published_messages"), num(t, sum, "stored_messages"), num(t, sum, "subscribers"), num(t, sum, "channels"); p != 6 || st != 6 || sb != 3 || ch != 3 || subscriptions != 4 {
		t.Fatalf("statistics: published %d stored %d subscribers %d channels %d subscriptions %d, want 6 6 3 3 4", p, st, sb, ch, subscriptions)
	}
	m.expect(t, map[string]int{
		`caddy_push_stream_messages_published_total`:                       num(t, sum, "published_messages"),
		`caddy_push_stream_messages_stored`:                                num(t, sum, "stored_messages"),
		`caddy_push_stream_channels{type="normal"}`:                        num(t, sum, "channels"),
		`caddy_push_stream_channels{type="wildcard"}`:                      num(t, sum, "wildcard_channels"),
		`caddy_push_stream_subscriptions`:                                  subscriptions,
		`caddy_push_stream_deliveries_total`:                               9 + 4 + 1,
		`caddy_push_stream_subscribers{mode="streaming"}`:                  num(t, sum, "subscribers") - 2,
		`caddy_push_stream_subscribers{mode="eventsource"}`:                1,
		`caddy_push_stream_subscribers{mode="websocket"}`:                  1,
		`caddy_push_stream_subscribers{mode="long-polling"}`:               0,
		`caddy_push_stream_publishes_rejected_total{reason="bad_request"}`: 1,
		`caddy_push_stream_publishes_rejected_total{reason="limits"}`:      2,
		`caddy_push_stream_publishes_rejected_total{reason="no_memory"}`:   0,
		`caddy_push_stream_subscribers_closed_total{reason="slow"}`:        0,
		`caddy_push_stream_publish_duration_seconds_count`:                 6,
		`caddy_push_stream_memory_limit_bytes`:                             10 << 20,
		`caddy_push_stream_subscribers_closed_total{reason="over_limit"}`:  0,
		`caddy_push_stream_subscribers_closed_total{reason="ttl"}`:         0,
		`caddy_push_stream_subscribers_closed_total{reason="deleted"}`:     0,
		`caddy_push_stream_subscribers_closed_total{reason="shutdown"}`:    0,
		`caddy_push_stream_subscribers_closed_total{reason="client_gone"}`: 1,
		`caddy_push_stream_subscribers_closed_total{reason="answered"}`:    1,
		`caddy_push_stream_publish_duration_seconds_bucket{le="+Inf"}`:     6,
	})
	if used := m.get(t, "caddy_push_stream_memory_used_bytes"); used <= 0 {
		t.Errorf("caddy_push_stream_memory_used_bytes = %d", used)
	}
	if _, ok := m["caddy_push_stream_broker_up"]; ok {
		t.Errorf("the memory store reports a broker")
	}

	health := do(t, http.MethodGet, "/health", "")
	if health.StatusCode != http.StatusOK || health.body != "{\"status\": \"ok\"}\n" {
		t.Errorf("health: %d %q", health.StatusCode, health.body)
	}
	figures := jsonBody(t, do(t, http.MethodGet, "/dashboard?figures", ""))
	for field, want := range map[string]int{
		"published_messages": num(t, sum, "published_messages"),
		"deliveries":         9 + 4 + 1,
		"subscribers":        num(t, sum, "subscribers"),
		"subscriptions":      subscriptions,
		"memory_used":        m.get(t, "caddy_push_stream_memory_used_bytes"),
	} {
		if got := num(t, figures, field); got != want {
			t.Errorf("dashboard figures: %s = %d, want %d", field, got, want)
		}
	}

	// A reload logs the settings it changes and keeps the counters.
	cfg := metricsConfig()
	cfg.Global = map[string]string{"message_ttl": "40m"}
	load(t, cfg)
	scrapeMetrics(t).expect(t, map[string]int{
		`caddy_push_stream_messages_published_total`:                       6,
		`caddy_push_stream_deliveries_total`:                               9 + 4 + 1,
		`caddy_push_stream_publishes_rejected_total{reason="limits"}`:      2,
		`caddy_push_stream_subscribers_closed_total{reason="client_gone"}`: 1,
	})
	log := serverOf(t).log.String()
	if !strings.Contains(log, `"msg":"push stream settings changed","message_ttl":{"from":"50m0s","to":"40m0s"}}`) {
		t.Errorf("the reload did not log the changed message_ttl alone:\n%s", log)
	}
}

// TestMetricsMemoryFull fills the memory cap: the refused publishes are
// counted, the first is logged as a warning, and the health check turns
// unavailable.
func TestMetricsMemoryFull(t *testing.T) {
	t.Parallel()
	cfg := metricsConfig()
	cfg.Global = map[string]string{"shared_memory_size": "128k", "max_messages_stored_per_channel": ""}
	loadFresh(t, cfg)
	id := channelID(t)
	// Large messages until one is refused, then one-byte ones until the
	// cap has no room for any message.
	fillOnOneConnection(t, id, 1000)
	fillOnOneConnection(t, id, 1)

	scrapeMetrics(t).expect(t, map[string]int{
		`caddy_push_stream_publishes_rejected_total{reason="no_memory"}`: 2,
	})
	health := do(t, http.MethodGet, "/health", "")
	if health.StatusCode != http.StatusServiceUnavailable || health.body != "{\"status\": \"unavailable\", \"reason\": \"shared memory cap reached\"}\n" {
		t.Errorf("health with the cap full: %d %q", health.StatusCode, health.body)
	}
	log := serverOf(t).log.String()
	if n := strings.Count(log, "push stream publishes refused: shared_memory_size is full"); n != 1 {
		t.Errorf("the memory warning was logged %d times, want once within a minute:\n%s", n, log)
	}
}
