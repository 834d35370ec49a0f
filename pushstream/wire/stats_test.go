package wire

import (
	"fmt"
	"strings"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// Tests of Statistics format negotiation (docs/PROTOCOL.md §7.3).

func TestNegotiateStatsFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, accept, contentType string
		shape                     statsShape
	}{
		{"no header", "", "application/json", shapeJSON},
		{"plain", "text/plain", "text/plain", shapePlain},
		{"json", "application/json", "application/json", shapeJSON},
		{"yaml", "application/yaml", "application/yaml", shapeYAML},
		{"xml", "application/xml", "application/xml", shapeXML},
		{"x-json", "text/x-json", "text/x-json", shapeJSON},
		{"x-yaml", "text/x-yaml", "text/x-yaml", shapeYAML},
		{"q-values play no role", "text/html, application/xml;q=0.9", "application/xml", shapeXML},
		{"jsonp starts with json", "application/jsonp", "application/json", shapeJSON},
		{"truncated subtype", "text/pl", "application/json", shapeJSON},
		{"html only", "text/html", "application/json", shapeJSON},
		{"any", "*/*", "application/json", shapeJSON},
		{"first hit decides", "application/xml, application/json", "application/xml", shapeXML},
		{"later slash hits", "text/html,text/plain", "text/plain", shapePlain},
		{"json before plain", "application/json, text/plain", "application/json", shapeJSON},
		{"browser accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml", shapeXML},
		{"slash at the end", "text/", "application/json", shapeJSON},
		{"no slash", "json", "application/json", shapeJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := NegotiateStatsFormat(tc.accept)
			if got.ContentType != tc.contentType || got.shape != tc.shape {
				t.Fatalf("NegotiateStatsFormat(%q) = %+v, want %s shape %d", tc.accept, got, tc.contentType, tc.shape)
			}
		})
	}
}

// FuzzNegotiateStatsFormat: negotiation never panics and always picks one
// of the six formats.
func FuzzNegotiateStatsFormat(f *testing.F) {
	for _, seed := range []string{"", "text/plain", "text/html, application/xml;q=0.9", "/", "//x-yaml"} {
		f.Add(seed)
	}
	known := map[string]bool{}
	for _, entry := range statsFormats {
		known[entry.format.ContentType] = true
	}
	f.Fuzz(func(t *testing.T, accept string) {
		var got StatsFormat
		noPanic(t, fmt.Sprintf("NegotiateStatsFormat(%q)", accept), func() { got = NegotiateStatsFormat(accept) })
		if !known[got.ContentType] {
			t.Fatalf("NegotiateStatsFormat(%q) = %+v", accept, got)
		}
		if !strings.Contains(accept, "/") && got.ContentType != "application/json" {
			t.Fatalf("NegotiateStatsFormat(%q) = %+v without a '/'", accept, got)
		}
	})
}

// BenchmarkStats formats the statistics answers in every format: the
// summary, one channel and the detailed list of 1000 channels.
func BenchmarkStats(b *testing.B) {
	head := StatsHead{Hostname: "bench-host", Time: "2026-01-01T00:00:00", Channels: 1000, WildcardChannels: 2, Uptime: 3600}
	sum := engine.Summary{Channels: 1000, WildcardChannels: 2, Published: 123456789, Stored: 10000, MessagesInTrash: 42, Subscribers: 10000, Uptime: 3600}
	infos := make([]engine.ChannelInfo, 1000)
	for i := range infos {
		infos[i] = engine.ChannelInfo{ID: fmt.Sprintf("channel_%d", i), Published: int64(i * 100), Stored: i % 10, Subscribers: i % 50}
	}
	for _, tc := range []struct{ name, accept string }{
		{"json", "application/json"},
		{"plain", "text/plain"},
		{"yaml", "application/yaml"},
		{"xml", "application/xml"},
	} {
		format, name := NegotiateStatsFormat(tc.accept), tc.name
		b.Run("summary/"+name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = format.AppendSummary(buf[:0], head, sum, 1234)
			}
		})
		b.Run("channel/"+name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = format.AppendChannelInfo(buf[:0], infos[7])
			}
		})
		b.Run("group1000/"+name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = format.AppendGroup(buf[:0], head, infos)
			}
		})
	}
}
