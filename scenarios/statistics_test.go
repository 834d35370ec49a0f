package scenarios_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests for docs/SCENARIOS.md misc/spec/mix/channel_statistics_spec.rb and the
// statistics wire format of docs/PROTOCOL.md §7.
//
// Upstream starts a fresh nginx for every example, and several examples
// assert store-wide values (`channels` 0, `infos` of ALL, uptime since the
// server started). loadFresh therefore destroys the process-wide store
// before loading the test's configuration (loadFresh), so those
// values are exact here too.

// statsVariant is one of the two upstream contexts every statistics
// example runs in: without and with gzip.
type statsVariant struct {
	name string
	gzip bool
}

var statsVariants = []statsVariant{{"identity", false}, {"gzip", true}}

// statsEncodeGzip is the Caddy form of the upstream `gzip on` context.
// nginx compresses bodies from gzip_min_length (default 20 bytes) on; Caddy's
// encode only from 512 bytes unless told, which would leave every
// statistics body of these examples uncompressed.
const statsEncodeGzip = "\tencode gzip {\n\t\tminimum_length 20\n\t}\n"

// statsEach runs fn once per variant, in parallel, each on a fresh store
// running c (plus `encode` in the gzip variant).
func statsEach(t *testing.T, c config, fn func(t *testing.T, v statsVariant)) {
	t.Helper()
	for _, v := range statsVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			loadFresh(t, v.config(c))
			fn(t, v)
		})
	}
}

func (v statsVariant) config(c config) config {
	if v.gzip {
		c.Site = statsEncodeGzip + c.Site
	}
	return c
}

// get requests the statistics with `Accept: application/json`, in the gzip
// variant also with `Accept-Encoding: gzip, compressed`. There a 200
// response must be gzip-encoded; its body is returned decoded.
func (v statsVariant) get(t *testing.T, query string) response {
	t.Helper()
	return v.fetch(t, query, "application/json", true)
}

// fetch is get with another Accept value; requireGzip says whether the
// gzip variant must find a gzip-encoded 200 body.
func (v statsVariant) fetch(t *testing.T, query, accept string, requireGzip bool) response {
	t.Helper()
	var headers []string
	if accept != "" {
		headers = append(headers, "Accept", accept)
	}
	if v.gzip {
		headers = append(headers, "Accept-Encoding", "gzip, compressed")
	}
	res := do(t, http.MethodGet, "/channels-stats"+query, "", headers...)
	encoding := res.Header.Get("Content-Encoding")
	if v.gzip && requireGzip && res.StatusCode == http.StatusOK && encoding != "gzip" {
		t.Fatalf("GET %s: Content-Encoding %q, want gzip", query, encoding)
	}
	if !v.gzip && encoding != "" {
		t.Fatalf("GET %s: Content-Encoding %q without Accept-Encoding", query, encoding)
	}
	if encoding == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(res.body))
		if err != nil {
			t.Fatalf("GET %s: gunzip: %v", query, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("GET %s: gunzip: %v", query, err)
		}
		res.body = string(b)
	}
	return res
}

// json requests the statistics, expects a 200 and decodes the JSON body.
func (v statsVariant) json(t *testing.T, query string) map[string]any {
	t.Helper()
	res := v.get(t, query)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /channels-stats%s: status %d, want 200", query, res.StatusCode)
	}
	return jsonBody(t, res)
}

// statsInfos returns the `infos` list of a group or list answer.
func statsInfos(t *testing.T, v map[string]any) []map[string]any {
	t.Helper()
	list, ok := v["infos"].([]any)
	if !ok {
		t.Fatalf("no infos list in %v", v)
	}
	infos := make([]map[string]any, len(list))
	for i, item := range list {
		info, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("infos[%d] is not an object: %v", i, item)
		}
		infos[i] = info
	}
	return infos
}

// statsCheckInfo checks one channel's statistics.
func statsCheckInfo(t *testing.T, info map[string]any, id string, published, stored, subscribers int) {
	t.Helper()
	if info["channel"] != id {
		t.Fatalf("channel %v, want %q (in %v)", info["channel"], id, info)
	}
	got := [3]int{num(t, info, "published_messages"), num(t, info, "stored_messages"), num(t, info, "subscribers")}
	if want := [3]int{published, stored, subscribers}; got != want {
		t.Fatalf("%s: published/stored/subscribers %v, want %v", id, got, want)
	}
}

// statsCheckNums checks number fields of decoded JSON.
func statsCheckNums(t *testing.T, v map[string]any, want map[string]int) {
	t.Helper()
	for key, n := range want {
		if got := num(t, v, key); got != n {
			t.Fatalf("%s = %d, want %d in %v", key, got, n, v)
		}
	}
}

// statsSubscribe opens a streaming subscriber on id and waits until the
// statistics count it.
func statsSubscribe(t *testing.T, id string) {
	t.Helper()
	_, head := subscribe(t, "/sub/"+id)
	if head.Status != http.StatusOK {
		t.Fatalf("subscribing to %s: %q", id, head.StatusLine)
	}
	waitSubscribers(t, id, 1)
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #1
func TestStatisticsUnknownChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		res := v.get(t, "?id="+channelID(t))
		if res.StatusCode != http.StatusNotFound || res.body != "" {
			t.Fatalf("status %d body %q, want 404 without body", res.StatusCode, res.body)
		}
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #2
func TestStatisticsExistingChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		id := channelID(t)
		publish(t, id, "body")
		statsCheckInfo(t, v.json(t, "?id="+id), id, 1, 1, 0)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #3
func TestStatisticsExistingChannelWithSubscriber(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		id := channelID(t)
		statsSubscribe(t, id)
		statsCheckInfo(t, v.json(t, "?id="+id), id, 0, 0, 1)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #4
func TestStatisticsAllWithoutChannels(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		if infos := statsInfos(t, v.json(t, "?id=ALL")); len(infos) != 0 {
			t.Fatalf("infos %v, want none", infos)
		}
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #5
func TestStatisticsAllWithChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		id := channelID(t)
		publish(t, id, "body")
		infos := statsInfos(t, v.json(t, "?id=ALL"))
		if len(infos) != 1 {
			t.Fatalf("infos %v, want one", infos)
		}
		statsCheckInfo(t, infos[0], id, 1, 1, 0)
	})
}

// statsWildcardConfig is the upstream wildcard context: prefix bd_, at most
// one wildcard channel per subscriber.
var statsWildcardConfig = config{
	Global: map[string]string{"wildcard_channel_prefix": "bd_"},
	Sub:    map[string]string{"wildcard_channel_max_qtd": "1"},
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #6
func TestStatisticsAllWithWildcardChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, statsWildcardConfig, func(t *testing.T, v statsVariant) {
		id := "bd_" + channelID(t)
		publish(t, id, "body")
		all := v.json(t, "?id=ALL")
		infos := statsInfos(t, all)
		if len(infos) != 1 {
			t.Fatalf("infos %v, want one", infos)
		}
		statsCheckNums(t, all, map[string]int{"channels": 0, "wildcard_channels": 1})
		statsCheckInfo(t, infos[0], id, 1, 1, 0)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #7
func TestStatisticsAllWithSubscriber(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		id := channelID(t)
		statsSubscribe(t, id)
		infos := statsInfos(t, v.json(t, "?id=ALL"))
		if len(infos) != 1 {
			t.Fatalf("infos %v, want one", infos)
		}
		statsCheckInfo(t, infos[0], id, 0, 0, 1)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #8
func TestStatisticsSummaryWithoutChannels(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		sum := v.json(t, "")
		if _, ok := sum["channels"]; !ok {
			t.Fatalf("no channels key in %v", sum)
		}
		statsCheckNums(t, sum, map[string]int{"channels": 0})
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #9
func TestStatisticsSummaryWithChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		publish(t, channelID(t), "body")
		statsCheckNums(t, v.json(t, ""), map[string]int{"channels": 1, "published_messages": 1, "subscribers": 0})
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #10
func TestStatisticsSummaryWithWildcardChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, statsWildcardConfig, func(t *testing.T, v statsVariant) {
		publish(t, "bd_"+channelID(t), "body")
		statsCheckNums(t, v.json(t, ""), map[string]int{
			"channels": 0, "wildcard_channels": 1, "published_messages": 1, "subscribers": 0,
		})
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #11
func TestStatisticsSummaryWithSubscriber(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		statsSubscribe(t, channelID(t))
		statsCheckNums(t, v.json(t, ""), map[string]int{"channels": 1, "published_messages": 0, "subscribers": 1})
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #12, with the details of
// docs/PROTOCOL.md §7.1 and §9.1: every method but GET (OPTIONS and PATCH
// included) gets a header-only 405 with `Allow: GET` and the anti-cache
// headers.
func TestStatisticsMethods(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		if res := do(t, http.MethodGet, "/channels-stats", ""); res.StatusCode == http.StatusMethodNotAllowed {
			t.Fatal("GET answered 405")
		}
		for _, method := range []string{http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodPatch} {
			c := dialRaw(t)
			body := ""
			if method == http.MethodPut {
				body = "body"
			}
			var headers []string
			if v.gzip {
				headers = append(headers, "Accept-Encoding: gzip, compressed")
			}
			c.send(method, "/channels-stats?id=ALL", body, headers...)
			res := c.head()
			if res.Status != http.StatusMethodNotAllowed {
				t.Fatalf("%s: %q, want 405", method, res.StatusLine)
			}
			statsCheckHeaderOnly(t, method, res)
			if got := res.Headers["Allow"]; len(got) != 1 || got[0] != "GET" {
				t.Fatalf("%s: Allow %q, want exactly \"GET\" (head %q)", method, got, res.Head)
			}
			statsCheckAntiCache(t, method, res)
		}
	})
}

// statsCheckHeaderOnly checks docs/PROTOCOL.md §0.3: no body, Content-Length 0,
// no Content-Type.
func statsCheckHeaderOnly(t *testing.T, what string, res *rawResponse) {
	t.Helper()
	if res.Header("Content-Length") != "0" || res.HasHeader("Content-Type") || res.HasHeader("Transfer-Encoding") {
		t.Fatalf("%s: not header-only: %q", what, res.Head)
	}
}

// statsCheckAntiCache checks the anti-cache headers of docs/PROTOCOL.md §0.2,
// spelled exactly.
func statsCheckAntiCache(t *testing.T, what string, res *rawResponse) {
	t.Helper()
	if got := res.Headers["Expires"]; len(got) != 1 || got[0] != "Thu, 01 Jan 1970 00:00:01 GMT" {
		t.Fatalf("%s: Expires %q in %q", what, got, res.Head)
	}
	if got := res.Headers["Cache-Control"]; len(got) != 1 || got[0] != "no-cache, no-store, must-revalidate" {
		t.Fatalf("%s: Cache-Control %q in %q", what, got, res.Head)
	}
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #13
func TestStatisticsContentTypes(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		id := channelID(t)
		publish(t, id, "body")
		for _, tc := range []struct {
			accept, contentType string
			body                *regexp.Regexp
		}{
			{"", "application/json", regexp.MustCompile(`"stored_messages": 1, `)},
			{"text/plain", "text/plain", regexp.MustCompile("stored_messages: 1\r\n")},
			{"application/json", "application/json", regexp.MustCompile(`"stored_messages": 1, `)},
			{"application/yaml", "application/yaml", regexp.MustCompile("stored_messages: 1\r\n")},
			{"application/xml", "application/xml", regexp.MustCompile(`<stored_messages>1</stored_messages>`)},
			{"text/x-json", "text/x-json", regexp.MustCompile(`"stored_messages": 1, `)},
			{"text/x-yaml", "text/x-yaml", regexp.MustCompile("stored_messages: 1\r\n")},
		} {
			res := v.fetch(t, "", tc.accept, false)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("Accept %q: status %d", tc.accept, res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Fatalf("Accept %q: Content-Type %q, want %q", tc.accept, got, tc.contentType)
			}
			if !tc.body.MatchString(res.body) {
				t.Fatalf("Accept %q: body %q does not match %q", tc.accept, res.body, tc.body)
			}
		}
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #14 and #20. Both create
// 20000 channels `<prefix>1`..`<prefix>20000` on a keep-alive connection;
// they are created once and both queries run in both variants (the gzip
// variant is a config reload, which keeps the store). Upstream POSTs once
// per channel; here each POST lists perPost of them (docs/PROTOCOL.md §4.3),
// as 20000 POSTs take over 30 s under the race detector.
func TestStatisticsManyChannels(t *testing.T) {
	t.Parallel()
	c := config{Global: map[string]string{"shared_memory_size": "200m"}}
	loadFresh(t, c)
	prefix := channelID(t) + "_"
	const channels, perPost = 20000, 100
	conn := dialRaw(t)
	ids := make([]string, perPost)
	for i := 0; i < channels; i += perPost {
		for j := range ids {
			ids[j] = fmt.Sprintf("%s%d", prefix, i+j+1)
		}
		conn.send(http.MethodPost, "/pub?id="+strings.Join(ids, "/"), "body")
		res := conn.head()
		if res.StatusLine != "HTTP/1.1 200 OK" {
			t.Fatalf("publishing to channels %d to %d: %q", i+1, i+perPost, res.StatusLine)
		}
		conn.readBody(res)
	}
	conn.conn.Close()
	for _, v := range statsVariants {
		t.Run(v.name, func(t *testing.T) {
			load(t, v.config(c))
			// #14
			if n := len(statsInfos(t, v.json(t, "?id=ALL"))); n != channels {
				t.Fatalf("ALL lists %d channels, want %d", n, channels)
			}
			// #20: 10, 100-109, 1000-1099, 10000-10999.
			if n := len(statsInfos(t, v.json(t, "?id="+prefix+"10*"))); n != 1111 {
				t.Fatalf("%s10* lists %d channels, want 1111", prefix, n)
			}
		})
	}
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #15
func TestStatisticsPrefixWithoutChannels(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		if infos := statsInfos(t, v.json(t, "?id=prefix_*")); len(infos) != 0 {
			t.Fatalf("infos %v, want none", infos)
		}
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #16
func TestStatisticsPrefix(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		base := channelID(t)
		id, other := "ch_test_"+base, "another_ch_test_"+base
		publish(t, id, "body")
		publish(t, other, "body")
		infos := statsInfos(t, v.json(t, "?id=ch_test_*"))
		if len(infos) != 1 {
			t.Fatalf("infos %v, want one", infos)
		}
		statsCheckInfo(t, infos[0], id, 1, 1, 0)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #17
func TestStatisticsPrefixStarIsAll(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		base := channelID(t)
		id, other := "ch_test_"+base, "another_ch_test_"+base
		publish(t, id, "body")
		publish(t, other, "body")
		infos := statsInfos(t, v.json(t, "?id=*"))
		if len(infos) != 2 {
			t.Fatalf("infos %v, want two", infos)
		}
		statsCheckInfo(t, infos[0], id, 1, 1, 0)
		statsCheckInfo(t, infos[1], other, 1, 1, 0)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #18
func TestStatisticsPrefixWildcardChannel(t *testing.T) {
	t.Parallel()
	statsEach(t, statsWildcardConfig, func(t *testing.T, v statsVariant) {
		id := "bd_test_" + channelID(t)
		publish(t, id, "body")
		list := v.json(t, "?id=bd_test_*")
		infos := statsInfos(t, list)
		if len(infos) != 1 {
			t.Fatalf("infos %v, want one", infos)
		}
		statsCheckNums(t, list, map[string]int{"channels": 0, "wildcard_channels": 1})
		statsCheckInfo(t, infos[0], id, 1, 1, 0)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #19
func TestStatisticsPrefixWithSubscriber(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		id := "ch_test_" + channelID(t)
		statsSubscribe(t, id)
		infos := statsInfos(t, v.json(t, "?id=ch_test_*"))
		if len(infos) != 1 {
			t.Fatalf("infos %v, want one", infos)
		}
		statsCheckInfo(t, infos[0], id, 0, 0, 1)
	})
}

// The clock of the scenarios that wait for the store (upstream in
// brackets).
const (
	// statsSweep is the sweep interval where a scenario waits for a sweep
	// [4 s].
	statsSweep = 200 * time.Millisecond
	// statsAlignedSweep is the sweep interval where a scenario also needs
	// a moment without a sweep (statsAfterSweep): whole seconds [4 s].
	statsAlignedSweep = time.Second
	// statsSweepSettle is how long statsAfterSweep gives the sweep that
	// runs as the uptime turns to finish.
	statsSweepSettle = 100 * time.Millisecond
	// statsUptimeWait is the uptime, in seconds, the uptime scenarios wait
	// for: upstream reads it 2 s after the start.
	statsUptimeWait = 2
	// statsTolerance is how late a wait may end past its model: the tests
	// run 8 at a time under the race detector on 2 cores.
	statsTolerance = 5 * time.Second
)

// statsAfterSweep waits for a moment right after a sweep of t's store,
// whose sweep interval is a whole number of seconds: the sweeps run every
// interval from the store's creation (docs/PROTOCOL.md §1.6), that is as the
// uptime turns to a multiple of it. statsAfterSweep returns once it saw
// that turn and gave the sweep statsSweepSettle to finish; the next sweep
// is then almost an interval away.
func statsAfterSweep(t *testing.T, interval time.Duration) {
	t.Helper()
	n, last := int(interval/time.Second), -1
	waitFor(t, "a sweep", func() bool {
		uptime := num(t, stats(t, ""), "uptime")
		turned := last >= 0 && uptime != last && uptime%n == 0
		last = uptime
		return turned
	})
	time.Sleep(statsSweepSettle)
}

// statsWaitUptime polls the statistics at query until their uptime reaches
// statsUptimeWait, and returns them. The store existed at ready: the
// uptime must get there at most statsTolerance later than that many
// seconds after it.
func statsWaitUptime(t *testing.T, v statsVariant, query string, ready time.Time) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, fmt.Sprintf("an uptime of %d s", statsUptimeWait), func() bool {
		got = v.json(t, query)
		return num(t, got, "uptime") >= statsUptimeWait
	})
	if took, want := time.Since(ready), statsUptimeWait*time.Second; took > want+statsTolerance {
		t.Fatalf("uptime reached %d s %v after the store answered, want %v", statsUptimeWait, took.Round(10*time.Millisecond), want)
	}
	return got
}

// statsCheckUptime checks an uptime read once it reached statsUptimeWait
// against the store's creation, which happened after loaded: at most the
// whole seconds elapsed since then.
func statsCheckUptime(t *testing.T, what string, uptime int, loaded time.Time) {
	t.Helper()
	max := int(time.Since(loaded) / time.Second)
	if uptime < statsUptimeWait || uptime > max {
		t.Fatalf("%s %d, want between %d and %d (seconds since the store was created)", what, uptime, statsUptimeWait, max)
	}
}

// statsNonEmpty checks that fields of decoded JSON are present and not
// empty once printed (the upstream `.to_s.not_to be_empty`).
func statsNonEmpty(t *testing.T, v map[string]any, keys ...string) {
	t.Helper()
	for _, key := range keys {
		if val, ok := v[key]; !ok || fmt.Sprint(val) == "" {
			t.Fatalf("field %q missing or empty in %v", key, v)
		}
	}
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #21: instead of reading the
// uptime 2 s after the start, the test waits for it to reach 2 s and
// checks it against the time that passed.
func TestStatisticsUptimeInList(t *testing.T) {
	t.Parallel()
	statsEachUptime(t, func(t *testing.T, v statsVariant, loaded, ready time.Time) {
		publish(t, channelID(t), "body")
		all := v.json(t, "?id=ALL")
		statsNonEmpty(t, all, "hostname", "time", "channels", "wildcard_channels", "uptime")
		if len(statsInfos(t, all)) == 0 {
			t.Fatalf("empty infos in %v", all)
		}
		statsCheckUptime(t, "uptime", num(t, statsWaitUptime(t, v, "?id=ALL", ready), "uptime"), loaded)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #22, waiting for the uptime
// as #21.
func TestStatisticsUptimeInSummary(t *testing.T) {
	t.Parallel()
	statsEachUptime(t, func(t *testing.T, v statsVariant, loaded, ready time.Time) {
		publish(t, channelID(t), "body")
		sum := v.json(t, "")
		statsNonEmpty(t, sum, "hostname", "time", "channels", "wildcard_channels", "subscribers", "uptime", "by_worker")
		statsNonEmpty(t, statsWorker(t, sum), "pid", "subscribers", "uptime")
		sum = statsWaitUptime(t, v, "", ready)
		statsCheckUptime(t, "uptime", num(t, sum, "uptime"), loaded)
		statsCheckUptime(t, "by_worker[0].uptime", num(t, statsWorker(t, sum), "uptime"), loaded)
	})
}

// statsEachUptime is statsEach with the default configuration for the
// uptime scenarios: fn learns that the store was created after loaded and
// answered at ready.
func statsEachUptime(t *testing.T, fn func(t *testing.T, v statsVariant, loaded, ready time.Time)) {
	t.Helper()
	for _, v := range statsVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			loaded := loadFresh(t, v.config(config{}))
			fn(t, v, loaded, time.Now())
		})
	}
}

// statsWorker returns the single by_worker entry of a summary.
func statsWorker(t *testing.T, sum map[string]any) map[string]any {
	t.Helper()
	workers, ok := sum["by_worker"].([]any)
	if !ok || len(workers) != 1 {
		t.Fatalf("by_worker %v, want one entry", sum["by_worker"])
	}
	worker, ok := workers[0].(map[string]any)
	if !ok {
		t.Fatalf("by_worker[0] %v is not an object", workers[0])
	}
	return worker
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #23 (message_ttl 2s instead
// of 1s, sweeps every statsSweep): the expired message reaches the trash at
// the first sweep after it expired (docs/PROTOCOL.md §1.6), where upstream
// looks 5 s later. Message times are whole seconds, so a message lives
// between message_ttl-1s and message_ttl: a 1 s one could expire before
// the first statistics are read.
func TestStatisticsMessagesInTrash(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	c := config{Global: map[string]string{"message_ttl": ttl.String()}, Timing: timing{sweepInterval: statsSweep.String()}}
	statsEach(t, c, func(t *testing.T, v statsVariant) {
		start := time.Now()
		publish(t, channelID(t), "body")
		statsCheckNums(t, v.json(t, ""), map[string]int{"stored_messages": 1, "messages_in_trash": 0})
		waitFor(t, "the expired message in the trash", func() bool {
			sum := v.json(t, "")
			return num(t, sum, "stored_messages") == 0 && num(t, sum, "messages_in_trash") == 1
		})
		if elapsed, min, max := time.Since(start), ttl-time.Second, ttl+statsSweep; elapsed < min || elapsed > max+statsTolerance {
			t.Fatalf("message reached the trash after %v, want between %v and %v", elapsed.Round(10*time.Millisecond), min, max)
		}
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #24 (sweeps every
// statsAlignedSweep): a deleted channel without subscribers reaches the
// channel trash at the next sweep (docs/PROTOCOL.md §1.6), where upstream looks
// 5 s later. The channel is deleted right after a sweep (statsAfterSweep),
// so that no sweep can trash it before the statistics are read.
func TestStatisticsChannelsInTrash(t *testing.T) {
	t.Parallel()
	c := statsWildcardConfig
	c.PubMode = "admin"
	c.Timing = timing{sweepInterval: statsAlignedSweep.String()}
	statsEach(t, c, func(t *testing.T, v statsVariant) {
		id := channelID(t)
		publish(t, id, "body")
		publish(t, id+"_1", "body")
		publish(t, "bd_"+id+"_1", "body")
		statsCheckNums(t, v.json(t, ""), map[string]int{
			"channels": 2, "wildcard_channels": 1, "channels_in_delete": 0, "channels_in_trash": 0,
		})
		statsAfterSweep(t, statsAlignedSweep)
		deleted := time.Now()
		res := do(t, http.MethodDelete, "/pub?id="+id, "")
		if res.StatusCode != http.StatusOK || res.body != "" {
			t.Fatalf("DELETE: status %d body %q, want 200 without body", res.StatusCode, res.body)
		}
		statsCheckNums(t, v.json(t, ""), map[string]int{
			"channels": 1, "wildcard_channels": 1, "channels_in_delete": 1, "channels_in_trash": 0,
		})
		waitFor(t, "the deleted channel in the trash", func() bool {
			sum := v.json(t, "")
			return num(t, sum, "channels_in_delete") == 0 && num(t, sum, "channels_in_trash") == 1
		})
		if elapsed := time.Since(deleted); elapsed > statsAlignedSweep+statsTolerance {
			t.Fatalf("channel reached the trash after %v, want at most %v", elapsed.Round(10*time.Millisecond), statsAlignedSweep)
		}
		statsCheckNums(t, v.json(t, ""), map[string]int{"channels": 1, "wildcard_channels": 1})
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #25
func TestStatisticsNotFoundNotCached(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		res := v.get(t, "?id="+channelID(t))
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
		if got := res.Header.Get("Expires"); got != "Thu, 01 Jan 1970 00:00:01 GMT" {
			t.Fatalf("Expires %q", got)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache, no-store, must-revalidate" {
			t.Fatalf("Cache-Control %q", got)
		}
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #26
func TestStatisticsMultipleIDs(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		base := channelID(t)
		ch1, ch2, ch3 := base+"_ch1", base+"_ch2", base+"_ch3"
		for _, id := range []string{ch1, ch2, ch3} {
			publish(t, id, "body")
		}
		infos := statsInfos(t, v.json(t, "?id="+ch3+"/"+ch1))
		if len(infos) != 2 {
			t.Fatalf("infos %v, want two", infos)
		}
		statsCheckInfo(t, infos[0], ch3, 1, 1, 0)
		statsCheckInfo(t, infos[1], ch1, 1, 1, 0)
	})
}

// docs/SCENARIOS.md mix/channel_statistics_spec.rb #27
func TestStatisticsMultipleIDsWithMissing(t *testing.T) {
	t.Parallel()
	statsEach(t, config{}, func(t *testing.T, v statsVariant) {
		base := channelID(t)
		ch1, ch2, ch3, ch4 := base+"_ch1", base+"_ch2", base+"_ch3", base+"_ch4"
		for _, id := range []string{ch1, ch2, ch3} {
			publish(t, id, "body")
		}
		infos := statsInfos(t, v.json(t, "?id="+ch3+"/"+ch4+"/"+ch2))
		if len(infos) != 2 {
			t.Fatalf("infos %v, want two", infos)
		}
		statsCheckInfo(t, infos[0], ch3, 1, 1, 0)
		statsCheckInfo(t, infos[1], ch2, 1, 1, 0)
	})
}

// The byte-exact formats of docs/PROTOCOL.md §7.3 and §7.4, written out from
// the spec text. Values the server cannot be told beforehand are markers:
// statsTime (current UTC time) and statsUptime (store uptime).
const (
	statsTime   = "\x00TIME\x00"
	statsUptime = "\x00UPTIME\x00"
)

// statsFormat names a body shape of docs/PROTOCOL.md §7.3.
type statsFormat string

const (
	statsJSON  statsFormat = "json"
	statsPlain statsFormat = "plain"
	statsYAML  statsFormat = "yaml"
	statsXML   statsFormat = "xml"
)

// statsChannel is one channel's expected statistics.
type statsChannel struct {
	id                             string
	published, stored, subscribers int
}

// statsHostname is the machine host name, lower-cased (docs/PROTOCOL.md §7.3).
func statsHostname(t *testing.T) string {
	t.Helper()
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(name)
}

// statsWantSingle is the single-channel form.
func statsWantSingle(f statsFormat, ch statsChannel) string {
	pub, stored, subs := strconv.Itoa(ch.published), strconv.Itoa(ch.stored), strconv.Itoa(ch.subscribers)
	switch f {
	case statsPlain:
		return "channel: " + ch.id + "\r\npublished_messages: " + pub + "\r\nstored_messages: " + stored + "\r\nactive_subscribers: " + subs + "\r\n"
	case statsYAML:
		return "  channel: " + ch.id + "\r\n  published_messages: " + pub + "\r\n  stored_messages: " + stored + "\r\n  subscribers: " + subs + "\r\n"
	case statsXML:
		return "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<channel>\r\n  <name>" + ch.id + "</name>\r\n  <published_messages>" + pub +
			"</published_messages>\r\n  <stored_messages>" + stored + "</stored_messages>\r\n  <subscribers>" + subs + "</subscribers>\r\n</channel>\r\n\r\n"
	default:
		return `{"channel": "` + ch.id + `", "published_messages": ` + pub + `, "stored_messages": ` + stored + `, "subscribers": ` + subs + "}\r\n"
	}
}

// statsWantGroup is the group form (also the detailed list) with the
// given live channel counts.
func statsWantGroup(f statsFormat, host string, channels, wildcard int, items []statsChannel) string {
	var b strings.Builder
	chans, wild := strconv.Itoa(channels), strconv.Itoa(wildcard)
	switch f {
	case statsPlain:
		b.WriteString("hostname: " + host + ", time: " + statsTime + ", channels: " + chans + ", wildcard_channels: " + wild + ", uptime: " + statsUptime + ", infos: \r\n")
		for i, ch := range items {
			b.WriteString(strings.TrimSuffix(statsWantSingle(statsPlain, ch), "\r\n"))
			if i < len(items)-1 {
				b.WriteString(",\r\n")
			}
		}
		b.WriteString("\r\n")
	case statsYAML:
		b.WriteString("hostname: " + host + "\r\ntime: " + statsTime + "\r\nchannels: " + chans + "\r\nwildcard_channels: " + wild + "\r\nuptime: " + statsUptime + "\r\ninfos: \r\n")
		for i, ch := range items {
			item := statsWantSingle(statsYAML, ch)
			if i == len(items)-1 {
				item = strings.TrimSuffix(item, "\r\n")
			}
			b.WriteString(" -\r\n" + item)
		}
		b.WriteString("\r\n")
	case statsXML:
		b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<root>\r\n  <hostname>" + host + "</hostname>\r\n  <time>" + statsTime +
			"</time>\r\n  <channels>" + chans + "</channels>\r\n  <wildcard_channels>" + wild + "</wildcard_channels>\r\n  <uptime>" + statsUptime +
			"</uptime>\r\n  <infos>\r\n")
		for _, ch := range items {
			single := statsWantSingle(statsXML, ch)
			single = strings.TrimPrefix(single, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n")
			b.WriteString(strings.TrimSuffix(single, "\r\n"))
		}
		b.WriteString("  </infos>\r\n</root>\r\n")
	default:
		b.WriteString(`{"hostname": "` + host + `", "time": "` + statsTime + `", "channels": ` + chans + `, "wildcard_channels": ` + wild + `, "uptime": ` + statsUptime + `, "infos": [` + "\r\n")
		for i, ch := range items {
			b.WriteString(strings.TrimSuffix(statsWantSingle(statsJSON, ch), "\r\n"))
			if i < len(items)-1 {
				b.WriteString(",\r\n")
			} else {
				b.WriteString("\r\n")
			}
		}
		b.WriteString("]}\r\n")
	}
	return b.String()
}

// statsSummaryValues are the store-wide numbers of docs/PROTOCOL.md §7.4.
type statsSummaryValues struct {
	channels, wildcard, published, stored, trash, inDelete, inTrash, subscribers int
}

// statsWantSummary is the summarized form; pid is the Caddy process id.
func statsWantSummary(f statsFormat, host string, s statsSummaryValues, pid int) string {
	p := strconv.Itoa(pid)
	lines := [][2]string{
		{"hostname", host},
		{"time", statsTime},
		{"channels", strconv.Itoa(s.channels)},
		{"wildcard_channels", strconv.Itoa(s.wildcard)},
		{"published_messages", strconv.Itoa(s.published)},
		{"stored_messages", strconv.Itoa(s.stored)},
		{"messages_in_trash", strconv.Itoa(s.trash)},
		{"channels_in_delete", strconv.Itoa(s.inDelete)},
		{"channels_in_trash", strconv.Itoa(s.inTrash)},
		{"subscribers", strconv.Itoa(s.subscribers)},
		{"uptime", statsUptime},
	}
	subs := strconv.Itoa(s.subscribers)
	var b strings.Builder
	switch f {
	case statsPlain, statsYAML:
		indent := ""
		if f == statsYAML {
			indent = "  "
		}
		for _, l := range lines {
			b.WriteString(indent + l[0] + ": " + l[1] + "\r\n")
		}
		b.WriteString(indent + "by_worker:\r\n")
		if f == statsYAML {
			b.WriteString("   -\r\n    pid: " + p + "\r\n    subscribers: " + subs + "\r\n    uptime: " + statsUptime + "\r\n")
		} else {
			b.WriteString("  pid: " + p + "\r\n  subscribers: " + subs + "\r\n  uptime: " + statsUptime + "\r\n")
		}
	case statsXML:
		b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<infos>\r\n")
		for _, l := range lines {
			b.WriteString("  <" + l[0] + ">" + l[1] + "</" + l[0] + ">\r\n")
		}
		b.WriteString("  <by_worker><worker>\r\n  <pid>" + p + "</pid>\r\n  <subscribers>" + subs + "</subscribers>\r\n  <uptime>" + statsUptime +
			"</uptime>\r\n</worker>\r\n</by_worker>\r\n</infos>\r\n")
	default:
		b.WriteString(`{"hostname": "` + host + `", "time": "` + statsTime + `"`)
		for _, l := range lines[2:] {
			b.WriteString(`, "` + l[0] + `": ` + l[1])
		}
		b.WriteString(`, "by_worker": [` + "\r\n" + `{"pid": "` + p + `", "subscribers": ` + subs + `, "uptime": ` + statsUptime + "}\r\n]}\r\n")
	}
	return b.String()
}

var statsMarker = regexp.MustCompile("\x00(TIME|UPTIME)\x00")

// statsMatch compares a body with an expected body byte for byte, except
// that markers match the current UTC time (within 10 s) and an uptime of
// at most the seconds since loaded; all uptimes of one body are equal.
func statsMatch(t *testing.T, what, got, want string, loaded time.Time) {
	t.Helper()
	var expr strings.Builder
	expr.WriteString("^")
	last := 0
	for _, m := range statsMarker.FindAllStringSubmatchIndex(want, -1) {
		expr.WriteString(regexp.QuoteMeta(want[last:m[0]]))
		if want[m[2]:m[3]] == "TIME" {
			expr.WriteString(`(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)`)
		} else {
			expr.WriteString(`(\d+)`)
		}
		last = m[1]
	}
	expr.WriteString(regexp.QuoteMeta(want[last:]) + "$")
	m := regexp.MustCompile(expr.String()).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("%s:\n got %q\nwant %q\n(markers %q for time, %q for uptime)", what, got, want, statsTime, statsUptime)
	}
	uptime := ""
	maxUptime := int(math.Ceil(time.Since(loaded).Seconds()))
	for _, value := range m[1:] {
		if strings.Contains(value, "T") {
			at, err := time.Parse("2006-01-02T15:04:05", value)
			if err != nil {
				t.Fatalf("%s: time %q: %v", what, value, err)
			}
			if d := time.Since(at); d < -10*time.Second || d > 10*time.Second {
				t.Fatalf("%s: time %q is not the current UTC time", what, value)
			}
			continue
		}
		if uptime != "" && value != uptime {
			t.Fatalf("%s: uptimes %q and %q differ", what, uptime, value)
		}
		uptime = value
		if n, _ := strconv.Atoi(value); n > maxUptime {
			t.Fatalf("%s: uptime %d, but the store is at most %d s old", what, n, maxUptime)
		}
	}
}

// statsAccept maps each format of docs/PROTOCOL.md §7.3 to an Accept value that
// selects it and the Content-Type it gives.
var statsAccept = []struct {
	accept, contentType string
	format              statsFormat
}{
	{"application/json", "application/json", statsJSON},
	{"text/plain", "text/plain", statsPlain},
	{"application/yaml", "application/yaml", statsYAML},
	{"application/xml", "application/xml", statsXML},
	{"text/x-json", "text/x-json", statsJSON},
	{"text/x-yaml", "text/x-yaml", statsYAML},
}

// statsRawGet sends a statistics GET on a raw keep-alive connection and
// reads the head and the Content-Length body. The body is exact bytes and
// the header names are exactly as sent.
func statsRawGet(t *testing.T, c *rawConn, query, accept string) (*rawResponse, string) {
	t.Helper()
	var headers []string
	if accept != "" {
		headers = append(headers, "Accept: "+accept)
	}
	c.send(http.MethodGet, "/channels-stats"+query, "", headers...)
	res := c.head()
	if res.Status == http.StatusOK && !res.HasHeader("Content-Length") {
		t.Fatalf("GET %s: no Content-Length in %q", query, res.Head)
	}
	return res, c.readBody(res)
}

// statsCheckGetHeaders checks what docs/PROTOCOL.md §7.1 puts on every GET
// response: anti-cache headers, `X-Nginx-PushStream-Tag: 0.6.0` and a
// non-empty `X-Nginx-PushStream-Commit`, spelled exactly; no CORS.
func statsCheckGetHeaders(t *testing.T, what string, res *rawResponse) {
	t.Helper()
	statsCheckAntiCache(t, what, res)
	if got := res.Headers["X-Nginx-PushStream-Tag"]; len(got) != 1 || got[0] != "0.6.0" {
		t.Fatalf("%s: X-Nginx-PushStream-Tag %q, want \"0.6.0\" spelled exactly, in %q", what, got, res.Head)
	}
	if got := res.Headers["X-Nginx-PushStream-Commit"]; len(got) != 1 || got[0] == "" {
		t.Fatalf("%s: X-Nginx-PushStream-Commit %q, want one non-empty value spelled exactly, in %q", what, got, res.Head)
	}
	if res.HasHeader("Access-Control-Allow-Origin") {
		t.Fatalf("%s: CORS header in %q", what, res.Head)
	}
}

// statsFormatsFixture publishes a known state on a fresh store: channel a
// with two stored messages and one subscriber, b with one message, the
// wildcard channel broad_… with one message, created in that order.
func statsFormatsFixture(t *testing.T) (loaded time.Time, a, b, w statsChannel) {
	t.Helper()
	loaded = loadFresh(t, config{})
	base := channelID(t)
	a = statsChannel{id: base + "_a", published: 2, stored: 2, subscribers: 1}
	b = statsChannel{id: base + "_b", published: 1, stored: 1}
	w = statsChannel{id: "broad_" + base, published: 1, stored: 1}
	publish(t, a.id, "first")
	publish(t, a.id, "second")
	publish(t, b.id, "body")
	publish(t, w.id, "body")
	statsSubscribe(t, a.id)
	return loaded, a, b, w
}

// docs/PROTOCOL.md §7.3 single form, every format, byte for byte; §7.1 headers.
func TestStatisticsFormatSingle(t *testing.T) {
	t.Parallel()
	_, a, b, _ := statsFormatsFixture(t)
	c := dialRaw(t)
	for _, f := range statsAccept {
		for _, tc := range []struct {
			query string
			ch    statsChannel
		}{
			{"?id=" + a.id, a},
			{"?id=" + b.id, b},
			// One found among several listed: the single form (§7.2).
			{"?id=" + channelID(t) + "/" + b.id, b},
			// Backtracks are ignored (§2.3).
			{"?id=" + a.id + ".b3", a},
		} {
			what := fmt.Sprintf("Accept %s, %s", f.accept, tc.query)
			res, body := statsRawGet(t, c, tc.query, f.accept)
			if res.Status != http.StatusOK || res.Header("Content-Type") != f.contentType {
				t.Fatalf("%s: %q, Content-Type %q, want 200 %q", what, res.StatusLine, res.Header("Content-Type"), f.contentType)
			}
			statsCheckGetHeaders(t, what, res)
			if want := statsWantSingle(f.format, tc.ch); body != want {
				t.Fatalf("%s:\n got %q\nwant %q", what, body, want)
			}
		}
	}
}

// docs/PROTOCOL.md §7.3 group form (path list, ALL, prefix, empty list), every
// format, byte for byte.
func TestStatisticsFormatGroup(t *testing.T) {
	t.Parallel()
	loaded, a, b, w := statsFormatsFixture(t)
	host := statsHostname(t)
	c := dialRaw(t)
	for _, f := range statsAccept {
		for _, tc := range []struct {
			query string
			items []statsChannel
		}{
			{"?id=" + b.id + "/" + a.id, []statsChannel{b, a}},
			{"?id=" + b.id + "/" + channelID(t) + "/" + w.id, []statsChannel{b, w}},
			{"?id=ALL", []statsChannel{a, b, w}},
			{"?id=*", []statsChannel{a, b, w}},
			{"?id=broad_*", []statsChannel{w}},
			{"?id=" + a.id + "*", []statsChannel{a}},
			{"?id=no_such_prefix_*", nil},
			// ALL ends the walk; earlier ids are discarded (§7.2).
			{"?id=" + b.id + "/ALL/" + a.id, []statsChannel{a, b, w}},
		} {
			what := fmt.Sprintf("Accept %s, %s", f.accept, tc.query)
			res, body := statsRawGet(t, c, tc.query, f.accept)
			if res.Status != http.StatusOK || res.Header("Content-Type") != f.contentType {
				t.Fatalf("%s: %q, Content-Type %q, want 200 %q", what, res.StatusLine, res.Header("Content-Type"), f.contentType)
			}
			statsCheckGetHeaders(t, what, res)
			statsMatch(t, what, body, statsWantGroup(f.format, host, 2, 1, tc.items), loaded)
		}
	}
}

// docs/PROTOCOL.md §7.4 summarized form, every format, byte for byte.
func TestStatisticsFormatSummary(t *testing.T) {
	t.Parallel()
	loaded, _, _, _ := statsFormatsFixture(t)
	host := statsHostname(t)
	want := statsSummaryValues{channels: 2, wildcard: 1, published: 4, stored: 4, subscribers: 1}
	c := dialRaw(t)
	for _, f := range statsAccept {
		what := "Accept " + f.accept
		res, body := statsRawGet(t, c, "", f.accept)
		if res.Status != http.StatusOK || res.Header("Content-Type") != f.contentType {
			t.Fatalf("%s: %q, Content-Type %q, want 200 %q", what, res.StatusLine, res.Header("Content-Type"), f.contentType)
		}
		statsCheckGetHeaders(t, what, res)
		statsMatch(t, what, body, statsWantSummary(f.format, host, want, serverOf(t).cmd.Process.Pid), loaded)
	}
}

// docs/PROTOCOL.md §7.1, §7.2, §0.3: 404 for missing channels is header-only
// and still carries the §7.1 headers.
func TestStatisticsNotFoundHeaders(t *testing.T) {
	t.Parallel()
	loadFresh(t, config{})
	c := dialRaw(t)
	for _, accept := range []string{"", "text/plain", "application/xml"} {
		query := "?id=" + channelID(t) + "/" + channelID(t)
		res, body := statsRawGet(t, c, query, accept)
		if res.Status != http.StatusNotFound || body != "" {
			t.Fatalf("Accept %q: %q body %q, want 404 without body", accept, res.StatusLine, body)
		}
		statsCheckHeaderOnly(t, "404", res)
		statsCheckGetHeaders(t, "404", res)
	}
}

// docs/PROTOCOL.md §7.3 Accept negotiation: the first `/` followed by a known
// subtype decides, q-values and `*/*` play no role, JSON otherwise.
func TestStatisticsAcceptNegotiation(t *testing.T) {
	t.Parallel()
	_, a, _, _ := statsFormatsFixture(t)
	c := dialRaw(t)
	for _, tc := range []struct {
		accept, contentType string
		format              statsFormat
	}{
		{"", "application/json", statsJSON},
		{"text/html, application/xml;q=0.9", "application/xml", statsXML},
		{"text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", "application/xml", statsXML},
		{"application/jsonp", "application/json", statsJSON},
		{"text/pl", "application/json", statsJSON},
		{"text/html", "application/json", statsJSON},
		{"*/*", "application/json", statsJSON},
		{"application/xhtml+xml", "application/json", statsJSON},
		{"text/xml", "application/xml", statsXML},
		{"application/x-json", "text/x-json", statsJSON},
		{"application/x-yaml", "text/x-yaml", statsYAML},
		{"text/yaml", "application/yaml", statsYAML},
		{"image/png, text/plain", "text/plain", statsPlain},
		{"text/plain;q=0.1, application/json", "text/plain", statsPlain},
		{"application/json, text/plain", "application/json", statsJSON},
		{"text/plainfoo", "text/plain", statsPlain},
		{"TEXT/PLAIN", "application/json", statsJSON},
	} {
		what := fmt.Sprintf("Accept %q", tc.accept)
		res, body := statsRawGet(t, c, "?id="+a.id, tc.accept)
		if res.Status != http.StatusOK || res.Header("Content-Type") != tc.contentType {
			t.Fatalf("%s: %q, Content-Type %q, want 200 %q", what, res.StatusLine, res.Header("Content-Type"), tc.contentType)
		}
		if want := statsWantSingle(tc.format, a); body != want {
			t.Fatalf("%s:\n got %q\nwant %q", what, body, want)
		}
	}
}
