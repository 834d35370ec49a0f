package wire

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// Tests of Eventsource (docs/PROTOCOL.md §5.4).

func TestParseEventSourceLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"one line", "abc", []string{"abc"}},
		{"verified mixed line ends", "l1\n\nl2\r\nl3\rl4\n", []string{"l1", "l2", "l3", "l4"}},
		{"only a newline", "\n", nil},
		{"only line ends", "\r\n\r\n\r\r\n\n", nil},
		{"lone cr at the end", "a\r", []string{"a"}},
		{"lf then cr is two line ends", "a\n\rb", []string{"a", "b"}},
		{"leading line ends", "\r\rb", []string{"b"}},
		{"escaped n is not a line end", `a\nb`, []string{`a\nb`}},
		{"spaces are kept", " a \n b ", []string{" a ", " b "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, line := range splitLines([]byte(tc.in)) {
				got = append(got, string(line))
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Fatalf("splitLines(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzEventSourceLines: splitting never panics, lines are non-empty and
// free of CR and LF, and together they are the text without its CRs and
// LFs.
func FuzzEventSourceLines(f *testing.F) {
	for _, seed := range []string{"", "l1\n\nl2\r\nl3\rl4\n", "\r", "\n\r", `a\nb`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var lines [][]byte
		noPanic(t, fmt.Sprintf("splitLines(%q)", in), func() { lines = splitLines([]byte(in)) })
		var joined []byte
		for _, line := range lines {
			if len(line) == 0 || bytes.ContainsAny(line, "\r\n") {
				t.Fatalf("splitLines(%q) gave line %q", in, line)
			}
			joined = append(joined, line...)
		}
		if want := strings.NewReplacer("\r", "", "\n", "").Replace(in); string(joined) != want {
			t.Fatalf("splitLines(%q) lines join to %q, want %q", in, joined, want)
		}
	})
}

// TestCompileEventSourceFormatter checks the verified eventsource bytes of
// docs/PROTOCOL.md §5.4 and §8 and the template adjustment rules.
func TestCompileEventSourceFormatter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, template string
		msg            *engine.Message
		want           string
	}{
		{"verified event id, type and mixed lines", "",
			&engine.Message{ID: 1, EventID: "e1", HasEventID: true, EventType: "ty", HasEventType: true, Text: []byte("l1\n\nl2\r\nl3\rl4\n")},
			"id: e1\nevent: ty\ndata: l1\ndata: l2\ndata: l3\ndata: l4\n\n"},
		{"verified empty event id", "",
			&engine.Message{ID: 2, HasEventID: true, Text: []byte("x")},
			"id: \ndata: x\n\n"},
		{"verified text without lines", "", &engine.Message{ID: 3, Text: []byte("\n")}, "\n"},
		{"empty text", "~text~", &engine.Message{ID: 3}, "\n"},
		{"default template", "~text~", &engine.Message{ID: 1, Text: []byte("hello")}, "data: hello\n\n"},
		{"verified events channel message", "~text~|~event-type~",
			&engine.Message{ID: 1, Channel: "events", EventType: "channel_created", HasEventType: true,
				Text: []byte(`{"type": "channel_created", "channel": "newch"}`)},
			"event: channel_created\ndata: {\"type\": \"channel_created\", \"channel\": \"newch\"}|channel_created\n\n"},
		{"size is per line", "~size~:~text~", &engine.Message{Text: []byte("ab\ncde")}, "data: 2:ab\ndata: 3:cde\n\n"},
		{"other tokens per line", "~id~ ~channel~ ~text~", &engine.Message{ID: 5, Channel: "c", Text: []byte("a\nb")}, "data: 5 c a\ndata: 5 c b\n\n"},
		{"template already starting with data", "data: ~text~\n", &engine.Message{Text: []byte("a\nb")}, "data: a\ndata: b\n\n"},
		{"data template without newline is used as is", "data: ~text~", &engine.Message{Text: []byte("a\nb")}, "data: adata: b\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := NewEventSourceFormatter(tc.template)
			got := string(f.Format(tc.msg))
			if got != tc.want {
				t.Fatalf("eventsource message = %q, want %q", got, tc.want)
			}
			body := string(f.AppendBody(nil, tc.msg))
			if prefix := got[:len(got)-len(body)]; f.PrefixLen(tc.msg) != len(prefix) || !strings.HasSuffix(got, body) {
				t.Fatalf("prefix %q (PrefixLen %d) and body %q do not make %q", prefix, f.PrefixLen(tc.msg), body, got)
			}
		})
	}
}

// TestCompileEventSourceComments checks the eventsource header and footer
// adjustment (docs/PROTOCOL.md §5.4).
func TestCompileEventSourceComments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		header   bool
		want     string
	}{
		{"empty header", "", true, ": \n"},
		{"empty footer stays empty", "", false, ""},
		{"one line", "HEADER", true, ": HEADER\n"},
		{"footer line", "FOOTER", false, ": FOOTER\n"},
		{"several lines", "HEADER\r\nTEMPLATE\r\n1234\r\n", true, ": HEADER\n: TEMPLATE\n: 1234\n"},
		{"empty lines dropped", "a\n\n\rb", false, ": a\n: b\n"},
		{"already a comment", ": ready\nmore", true, ": ready\nmore"},
		{"colon without space is not a comment", ":x", true, ": :x\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := EventSourceComment(tc.in, tc.header); got != tc.want {
				t.Fatalf("EventSourceComment(%q, %v) = %q, want %q", tc.in, tc.header, got, tc.want)
			}
		})
	}
}

// BenchmarkFormatters formats a message once per subscriber kind, as
// Message.Rendered does for the first subscriber of each template.
func BenchmarkFormatters(b *testing.B) {
	oneLine := bytes.Repeat([]byte("x"), 100)
	multiLine := bytes.Repeat([]byte("0123456789abcdefghi\n"), 5)
	for _, tc := range []struct {
		name string
		f    engine.Formatter
		text []byte
	}{
		{"stream", &TextFormatter{Template: CompileTemplate("~text~\n")}, oneLine},
		{"eventsource", NewEventSourceFormatter(""), oneLine},
		{"eventsource-multiline", NewEventSourceFormatter(""), multiLine},
		{"websocket", NewWebSocketFormatter("~text~"), oneLine},
	} {
		b.Run(tc.name, func(b *testing.B) {
			msg := benchMessage(tc.text)
			b.ReportAllocs()
			for b.Loop() {
				tc.f.Format(msg)
			}
		})
	}
}

// BenchmarkRenderedShared is the per-subscriber cost of getting a message's
// shared bytes once it was rendered: the cache lookup under renderMu.
func BenchmarkRenderedShared(b *testing.B) {
	msg := benchMessage(bytes.Repeat([]byte("x"), 100))
	f := NewEventSourceFormatter("")
	msg.Rendered(f)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			msg.Rendered(f)
		}
	})
}
