package wire

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// Tests of Message templates (docs/PROTOCOL.md §5.4).

// sampleMessage is the §6.1 verified message: id 3 on t1, tag 2, event
// id e1, event type ty, text "hi there".
func sampleMessage() *engine.Message {
	return &engine.Message{
		ID: 3, Channel: "t1", Time: verifiedTime, Tag: 2,
		EventID: "e1", HasEventID: true, EventType: "ty", HasEventType: true,
		Text: []byte("hi there"),
	}
}

func TestCompileTemplateAppend(t *testing.T) {
	t.Parallel()
	const allTokens = "[~id~|~channel~|~text~|~tag~|~time~|~size~|~event-id~|~event-type~|~TEXT~]"
	tests := []struct {
		name, template string
		msg            *engine.Message
		want           string
	}{
		{"verified stream message", allTokens, sampleMessage(),
			"[3|t1|hi there|2|Sat, 28 Nov 2026 01:22:24 GMT|8|e1|ty|hi there]"},
		{"verified empty event id", allTokens,
			&engine.Message{ID: 4, Channel: "t1", Time: verifiedTime, Tag: 3, HasEventID: true, Text: []byte("x")},
			"[4|t1|x|3|Sat, 28 Nov 2026 01:22:24 GMT|1|||x]"},
		{"verified channel deleted with body", allTokens, engine.NewSyntheticMessage(engine.DeletedMessageID, "sd1", []byte("bye")),
			"[-2|sd1|bye|0|Thu, 01 Jan 1970 00:00:00 GMT|3|||bye]"},
		{"verified channel deleted default text", allTokens, engine.NewSyntheticMessage(engine.DeletedMessageID, "sd2", []byte("Channel deleted")),
			"[-2|sd2|Channel deleted|0|Thu, 01 Jan 1970 00:00:00 GMT|15|||Channel deleted]"},
		{"default template", "~text~", sampleMessage(), "hi there"},
		{"ping with default text", "~text~", engine.NewSyntheticMessage(engine.PingMessageID, "", []byte(" ")), " "},
		{"ping with id template", "~id~:~text~", engine.NewSyntheticMessage(engine.PingMessageID, "", []byte(" ")), "-1: "},
		{"ping with JSON template",
			`{"duplicated":"~channel~", "channel":"~channel~", "message":"~text~", "message_id":"~id~"}`,
			engine.NewSyntheticMessage(engine.PingMessageID, "", []byte(" ")),
			`{"duplicated":"", "channel":"", "message":" ", "message_id":"-1"}`},
		{"verified timed-out message",
			`{"id":"~id~", "message":"~text~", "channel":"~channel~", "tag":"~tag~", "time":"~time~"}`,
			engine.NewSyntheticMessage(engine.TimedOutMessageID, "", []byte(engine.TimedOutMessageText)),
			`{"id":"-3", "message":"Timed out", "channel":"", "tag":"0", "time":"Thu, 01 Jan 1970 00:00:00 GMT"}`},
		{"tokens in any case", "~ID~ ~Channel~ ~tExT~ ~SIZE~ ~Tag~ ~EVENT-ID~ ~Event-Type~", sampleMessage(),
			"3 t1 hi there 8 2 e1 ty"},
		{"each occurrence replaced", "~id~~id~~id~", sampleMessage(), "333"},
		{"tilde that starts no token", "~x~ a~b ~~text~~ ~", sampleMessage(), "~x~ a~b ~hi there~ ~"},
		{"partial tokens are literal", "~tex ~id ~event-~ ~event~ ~tex~t~", sampleMessage(), "~tex ~id ~event-~ ~event~ ~tex~t~"},
		{"no escaping of quotes and markup", `<p class="~channel~">~text~</p>`,
			&engine.Message{ID: 1, Channel: `a"b`, Text: []byte(`<b>"&'</b>`)}, `<p class="a"b"><b>"&'</b></p>`},
		{"inserted values are not scanned again",
			"~channel~|~text~|~event-id~",
			&engine.Message{ID: 1, Channel: "~text~", Text: []byte("~id~ ~channel~"), EventID: "~tag~", HasEventID: true},
			"~text~|~id~ ~channel~|~tag~"},
		{"binary text", "[~text~]", &engine.Message{Text: []byte{0, 0xff, '\n'}}, "[\x00\xff\n]"},
		{"absent event fields are empty", "<~event-id~|~event-type~>", &engine.Message{ID: 1}, "<|>"},
		{"empty template", "", sampleMessage(), ""},
		{"no tokens", "plain text", sampleMessage(), "plain text"},
		{"non-ascii before a token", "été ~text~", sampleMessage(), "été hi there"},
		{"invalid utf-8 before a token", "\xff~text~", sampleMessage(), "\xffhi there"},
		{"kelvin sign before a token", "\u212a~text~", sampleMessage(), "\u212ahi there"},
		{"kelvin signs before a tilde", "\u212a\u212a\u212a~", sampleMessage(), "\u212a\u212a\u212a~"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []byte
			noPanic(t, fmt.Sprintf("CompileTemplate(%q)", tc.template), func() {
				got = CompileTemplate(tc.template).Append([]byte("prefix:"), tc.msg, tc.msg.Text)
			})
			if string(got) != "prefix:"+tc.want {
				t.Fatalf("template %q gives %q, want %q", tc.template, got, "prefix:"+tc.want)
			}
		})
	}
}

// TestCompileTemplateTimeFormat: ~time~ is the RFC 1123 GMT date with a
// two-digit day, always 29 bytes (docs/PROTOCOL.md §5.4).
func TestCompileTemplateTimeFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		unix int64
		want string
	}{
		{"epoch", 0, "Thu, 01 Jan 1970 00:00:00 GMT"},
		{"verified publish time", verifiedTime, "Sat, 28 Nov 2026 01:22:24 GMT"},
		{"one-digit day is padded", time.Date(2025, time.March, 5, 7, 8, 9, 0, time.UTC).Unix(), "Wed, 05 Mar 2025 07:08:09 GMT"},
	}
	tmpl := CompileTemplate("~time~")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(tmpl.Append(nil, &engine.Message{Time: tc.unix}, nil))
			if got != tc.want || len(got) != 29 {
				t.Fatalf("~time~ of %d = %q, want %q (29 bytes)", tc.unix, got, tc.want)
			}
			if FormatHTTPDate(tc.unix) != tc.want {
				t.Fatalf("FormatHTTPDate(%d) = %q", tc.unix, FormatHTTPDate(tc.unix))
			}
		})
	}
}

// referenceTemplate renders a template by the rules of §5.4 in the
// most direct way: scan, and at each `~` try the tokens ASCII
// case-insensitively.
func referenceTemplate(template string, msg *engine.Message) string {
	tokens := map[string]string{
		"~id~":         strconv.FormatInt(msg.ID, 10),
		"~text~":       string(msg.Text),
		"~size~":       strconv.Itoa(len(msg.Text)),
		"~channel~":    msg.Channel,
		"~time~":       FormatHTTPDate(msg.Time),
		"~tag~":        strconv.FormatInt(msg.Tag, 10),
		"~event-id~":   msg.EventID,
		"~event-type~": msg.EventType,
	}
	names := []string{"~id~", "~text~", "~size~", "~channel~", "~time~", "~tag~", "~event-id~", "~event-type~"}
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		matched := false
		if template[i] == '~' {
			for _, name := range names {
				if len(template)-i >= len(name) && asciiEqualFold(template[i:i+len(name)], name) {
					b.WriteString(tokens[name])
					i += len(name) - 1
					matched = true
					break
				}
			}
		}
		if !matched {
			b.WriteByte(template[i])
		}
	}
	return b.String()
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// FuzzCompileTemplate: compiling and rendering any template never panics
// and gives what the direct reading of §5.4 gives.
func FuzzCompileTemplate(f *testing.F) {
	for _, seed := range []string{"~text~", "~id~:~text~", "[~id~|~channel~|~text~|~tag~|~time~|~size~|~event-id~|~event-type~|~TEXT~]", "~", "~~", "~tex", "~x~ a~b", "été ~text~", "\xff~text~", "\u212a~text~"} {
		f.Add(seed, "hi there", "t1")
	}
	f.Fuzz(func(t *testing.T, template, text, channel string) {
		msg := &engine.Message{ID: 7, Channel: channel, Time: verifiedTime, Tag: 2, EventID: "e", HasEventID: true, Text: []byte(text)}
		var got []byte
		noPanic(t, fmt.Sprintf("CompileTemplate(%q)", template), func() {
			got = CompileTemplate(template).Append(nil, msg, msg.Text)
		})
		if want := referenceTemplate(template, msg); string(got) != want {
			t.Fatalf("template %q gives %q, want %q", template, got, want)
		}
	})
}

// Tests of nginx configuration escapes (docs/PROTOCOL.md §5.4).

func TestDecodeConfigEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"no backslash", "~text~", "~text~"},
		{"newline", `a\nb`, "a\nb"},
		{"carriage return", `a\rb`, "a\rb"},
		{"tab", `a\tb`, "a\tb"},
		{"crlf template", `~text~\r\n`, "~text~\r\n"},
		{"backslash", `a\\b`, `a\b`},
		{"double quote", `a\"b`, `a"b`},
		{"single quote", `a\'b`, `a'b`},
		{"escaped backslash before n", `a\\nb`, `a\nb`},
		{"other escapes are kept", `a\xb\0\u`, `a\xb\0\u`},
		{"trailing backslash", `abc\`, `abc\`},
		{"lone backslash", `\`, `\`},
		{"baseline header line", `<html>\r\n<body>`, "<html>\r\n<body>"},
		{"subscriber properties header", `HEADER\r\nTEMPLATE\r\n1234\r\n`, "HEADER\r\nTEMPLATE\r\n1234\r\n"},
		{"json template", `{\"text\":\"~text~\"}`, `{"text":"~text~"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := DecodeConfigEscapes(tc.in); got != tc.want {
				t.Fatalf("DecodeConfigEscapes(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzDecodeConfigEscapes: decoding never panics, never grows the text,
// and leaves a text without backslashes unchanged.
func FuzzDecodeConfigEscapes(f *testing.F) {
	for _, seed := range []string{"", `~text~\r\n`, `\\`, `\`, `a\xb`, `\"\'\t`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var got string
		noPanic(t, fmt.Sprintf("DecodeConfigEscapes(%q)", in), func() { got = DecodeConfigEscapes(in) })
		if len(got) > len(in) {
			t.Fatalf("DecodeConfigEscapes(%q) = %q grew", in, got)
		}
		if !strings.Contains(in, `\`) && got != in {
			t.Fatalf("DecodeConfigEscapes(%q) = %q changed a text without escapes", in, got)
		}
	})
}

// benchMessage is a typical message: 100 bytes, an event id and type.
func benchMessage(text []byte) *engine.Message {
	return &engine.Message{
		ID: 42, Channel: "my_channel", Time: 1767225600, Tag: 3,
		EventID: "evt-42", HasEventID: true, EventType: "note", HasEventType: true,
		Text: text,
	}
}

// BenchmarkTemplateAppend renders message templates into a reused buffer.
func BenchmarkTemplateAppend(b *testing.B) {
	msg := benchMessage(bytes.Repeat([]byte("x"), 100))
	for _, tc := range []struct{ name, template string }{
		{"text", "~text~"},
		{"json", `{"id":~id~,"channel":"~channel~","text":"~text~","tag":~tag~}`},
		{"time", "~time~ ~event-id~ ~event-type~ ~size~: ~text~\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			t := CompileTemplate(tc.template)
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = t.Append(buf[:0], msg, msg.Text)
			}
		})
	}
}

// BenchmarkCompileTemplate compiles a template with every token.
func BenchmarkCompileTemplate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		CompileTemplate(`{"id":~id~,"channel":"~channel~","text":"~text~","size":~size~,"time":"~time~","tag":~tag~,"event":"~event-id~/~event-type~"}`)
	}
}
