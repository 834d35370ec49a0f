package pushstream

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parsersNoPanic runs fn and turns a panic into a test failure that names
// the input, so one bad input does not abort the whole test binary.
func parsersNoPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	fn()
}

// parsersTime is the publish time of the verified examples of PROTOCOL.md
// §6.1: Sat, 28 Nov 2026 01:22:24 GMT.
var parsersTime = time.Date(2026, time.November, 28, 1, 22, 24, 0, time.UTC).Unix()

// --- DecodeValue (PROTOCOL.md §2.1) ---

func TestDecodeValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ch1", "ch1"},
		{"empty", "", ""},
		{"two hex digits", "%41", "A"},
		{"lower case hex", "%4a", "J"},
		{"upper case hex", "%4A", "J"},
		{"encoded slash splits channels", "ch1%2Fch2", "ch1/ch2"},
		{"encoded space", "a%20b", "a b"},
		{"plus stays", "a+b", "a+b"},
		{"plus stays after decoding", "a%20b+c", "a b+c"},
		{"percent then non-hex drops the percent", "a%zb", "azb"},
		{"percent then non-hex keeps the byte literally", "%%41", "%41"},
		{"one hex digit then non-hex drops all three", "a%4zb", "ab"},
		{"one hex digit then question mark drops all three", "a%4?bc", "abc"},
		{"percent cut off at the end", "a%", "a"},
		{"percent and one digit cut off at the end", "a%4", "a"},
		{"only a percent", "%", ""},
		{"decoded question mark stops and cuts", "a%3Fb", "a?"},
		{"lower case decoded question mark", "a%3fb", "a?"},
		{"literal question mark with nothing decoded keeps the rest", "a?b%20c", "a?b%20c"},
		{"literal question mark after a decode cuts", "a%20b?c%20d", "a b?"},
		{"literal question mark after a dropped percent cuts", "%zz?x%41", "zz?"},
		{"question mark at the start", "?%41", "?%41"},
		{"binary bytes", "%00%ff", "\x00\xff"},
		{"utf-8 bytes", "%C3%A9t%C3%A9", "été"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got string
			parsersNoPanic(t, fmt.Sprintf("DecodeValue(%q)", tc.in), func() { got = DecodeValue(tc.in) })
			if got != tc.want {
				t.Fatalf("DecodeValue(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// parsersReferenceDecode transcribes the §2.1 rules as a byte state
// machine (nginx's: a byte after an invalid `%` is kept literally).
func parsersReferenceDecode(s string) string {
	hex := func(c byte) (byte, bool) {
		v, err := strconv.ParseUint(string(c), 16, 8)
		return byte(v), err == nil
	}
	const (
		usual = iota
		quoted
		quotedSecond
	)
	var out []byte
	state := usual
	var high byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch state {
		case usual:
			switch c {
			case '?':
				out = append(out, c)
				if len(out) < i+1 { // something was decoded or dropped
					return string(out)
				}
				return s
			case '%':
				state = quoted
			default:
				out = append(out, c)
			}
		case quoted:
			if h, ok := hex(c); ok {
				high, state = h, quotedSecond
				continue
			}
			state = usual
			out = append(out, c)
		case quotedSecond:
			state = usual
			if low, ok := hex(c); ok {
				out = append(out, high<<4|low)
				if out[len(out)-1] == '?' {
					return string(out)
				}
			}
		}
	}
	return string(out)
}

// FuzzDecodeValue: decoding never panics, never grows the value, leaves a
// value without `%` unchanged, and follows the §2.1 rules byte by byte.
func FuzzDecodeValue(f *testing.F) {
	for _, seed := range []string{"", "ch1", "%41", "a%3Fb", "a?b%20c", "%", "a%4", "%zz", "%%41", "ch1%2Fch2", "a%20b?c", "a%4?bc"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var got string
		parsersNoPanic(t, fmt.Sprintf("DecodeValue(%q)", in), func() { got = DecodeValue(in) })
		if len(got) > len(in) {
			t.Fatalf("DecodeValue(%q) = %q is longer than its input", in, got)
		}
		if !strings.Contains(in, "%") && got != in {
			t.Fatalf("DecodeValue(%q) = %q changed a value without escapes", in, got)
		}
		// Whether a `?` kept after an invalid `%` stops decoding is not
		// spelled out by §2.1; leave those inputs out of the comparison.
		if strings.Contains(in, "%?") {
			return
		}
		if want := parsersReferenceDecode(in); got != want {
			t.Fatalf("DecodeValue(%q) = %q, want %q", in, got, want)
		}
	})
}

// --- ParseChannelsPath (PROTOCOL.md §2.2) ---

func TestParseChannelsPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []ChannelRef
	}{
		{"empty", "", nil},
		{"one channel", "ch1", []ChannelRef{{"ch1", 0}}},
		{"backtrack", "ch1.b3", []ChannelRef{{"ch1", 3}}},
		{"three channels", "ch1/ch2.b2/ch3", []ChannelRef{{"ch1", 0}, {"ch2", 2}, {"ch3", 0}}},
		{"trailing slash", "ch1/", []ChannelRef{{"ch1", 0}}},
		{"leading slash gives the empty id", "/ch1", []ChannelRef{{"", 0}, {"ch1", 0}}},
		{"double slash gives the empty id", "ch1//ch2", []ChannelRef{{"ch1", 0}, {"", 0}, {"ch2", 0}}},
		{"backtrack-like part inside an id", "room.b18.beautiful", []ChannelRef{{"room.b18.beautiful", 0}}},
		{"backtrack after a backtrack-like part", "room.b18.beautiful.b3", []ChannelRef{{"room.b18.beautiful", 3}}},
		{"dot b without digits", "ch.b", []ChannelRef{{"ch.b", 0}}},
		{"dot b with a letter", "ch.bx", []ChannelRef{{"ch.bx", 0}}},
		{"only a backtrack", ".b5", []ChannelRef{{"", 5}}},
		{"one channel twice", "ch1.b2/ch1.b1", []ChannelRef{{"ch1", 2}, {"ch1", 1}}},
		{"only a slash", "/", []ChannelRef{{"", 0}}},
		{"multi-digit backtrack", "ch.b10", []ChannelRef{{"ch", 10}}},
		{"backtrack zero", "ch.b0", []ChannelRef{{"ch", 0}}},
		{"backtrack then junk", "ch.b2x", []ChannelRef{{"ch.b2x", 0}}},
		{"two backtracks in a row", "a.b1.b2", []ChannelRef{{"a.b1", 2}}},
		{"backtrack before a slash", "a.b7/", []ChannelRef{{"a", 7}}},
		{"upper case B is not a backtrack", "ch.B3", []ChannelRef{{"ch.B3", 0}}},
		{"subscriber properties example", "ch2.b2/ch3.b3", []ChannelRef{{"ch2", 2}, {"ch3", 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []ChannelRef
			parsersNoPanic(t, fmt.Sprintf("ParseChannelsPath(%q)", tc.in), func() { got = ParseChannelsPath(tc.in) })
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(got) != len(tc.want) {
				t.Fatalf("ParseChannelsPath(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// parsersTerminator is the terminator of PROTOCOL.md §2.2 as a regexp,
// searched (not anchored) from the current position.
var parsersTerminator = regexp.MustCompile(`(\.b([0-9]+))?(/|$)`)

// parsersReferencePath is a direct transcription of the §2.2 algorithm.
func parsersReferencePath(path string) []ChannelRef {
	var refs []ChannelRef
	for pos := 0; pos < len(path); {
		loc := parsersTerminator.FindStringSubmatchIndex(path[pos:])
		ref := ChannelRef{ID: path[pos : pos+loc[0]]}
		if loc[4] >= 0 {
			ref.Backtrack, _ = strconv.Atoi(path[pos+loc[4] : pos+loc[5]])
		}
		refs = append(refs, ref)
		pos += loc[1]
	}
	return refs
}

// FuzzParseChannelsPath: parsing never panics, ids never contain '/', a
// non-empty path names at least one channel, and the result equals the
// regexp transcription of §2.2.
func FuzzParseChannelsPath(f *testing.F) {
	for _, seed := range []string{"", "ch1", "ch1.b3", "ch1/ch2.b2/ch3", "ch1/", "/ch1", "ch1//ch2", "room.b18.beautiful", "room.b18.beautiful.b3", "ch.b", ".b5", "ch1.b2/ch1.b1", "a.b1.b2", ".b99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var got []ChannelRef
		parsersNoPanic(t, fmt.Sprintf("ParseChannelsPath(%q)", in), func() { got = ParseChannelsPath(in) })
		if in != "" && len(got) == 0 {
			t.Fatalf("ParseChannelsPath(%q) found no channel", in)
		}
		want := parsersReferencePath(in)
		if len(got) != len(want) {
			t.Fatalf("ParseChannelsPath(%q) = %+v, want %+v", in, got, want)
		}
		for i, ref := range got {
			if strings.Contains(ref.ID, "/") {
				t.Fatalf("ParseChannelsPath(%q): id %q contains '/'", in, ref.ID)
			}
			if ref.Backtrack < 0 {
				t.Fatalf("ParseChannelsPath(%q): negative backtrack %d", in, ref.Backtrack)
			}
			if ref.ID != want[i].ID {
				t.Fatalf("ParseChannelsPath(%q) = %+v, want %+v", in, got, want)
			}
			// Backtracks too large for an int are the implementation's
			// business; compare the ones a client can mean.
			if want[i].Backtrack > 0 && want[i].Backtrack < 1<<30 && ref.Backtrack != want[i].Backtrack {
				t.Fatalf("ParseChannelsPath(%q) = %+v, want %+v", in, got, want)
			}
		}
	})
}

// --- Message templates (PROTOCOL.md §5.4) ---

// parsersMessage is the §6.1 verified message: id 3 on t1, tag 2, event
// id e1, event type ty, text "hi there".
func parsersMessage() *Message {
	return &Message{
		ID: 3, Channel: "t1", Time: parsersTime, Tag: 2,
		EventID: "e1", HasEventID: true, EventType: "ty", HasEventType: true,
		Text: []byte("hi there"),
	}
}

func TestCompileTemplateAppend(t *testing.T) {
	t.Parallel()
	const allTokens = "[~id~|~channel~|~text~|~tag~|~time~|~size~|~event-id~|~event-type~|~TEXT~]"
	tests := []struct {
		name, template string
		msg            *Message
		want           string
	}{
		{"verified stream message", allTokens, parsersMessage(),
			"[3|t1|hi there|2|Sat, 28 Nov 2026 01:22:24 GMT|8|e1|ty|hi there]"},
		{"verified empty event id", allTokens,
			&Message{ID: 4, Channel: "t1", Time: parsersTime, Tag: 3, HasEventID: true, Text: []byte("x")},
			"[4|t1|x|3|Sat, 28 Nov 2026 01:22:24 GMT|1|||x]"},
		{"verified channel deleted with body", allTokens, newSyntheticMessage(DeletedMessageID, "sd1", []byte("bye")),
			"[-2|sd1|bye|0|Thu, 01 Jan 1970 00:00:00 GMT|3|||bye]"},
		{"verified channel deleted default text", allTokens, newSyntheticMessage(DeletedMessageID, "sd2", []byte("Channel deleted")),
			"[-2|sd2|Channel deleted|0|Thu, 01 Jan 1970 00:00:00 GMT|15|||Channel deleted]"},
		{"default template", "~text~", parsersMessage(), "hi there"},
		{"ping with default text", "~text~", newSyntheticMessage(PingMessageID, "", []byte(" ")), " "},
		{"ping with id template", "~id~:~text~", newSyntheticMessage(PingMessageID, "", []byte(" ")), "-1: "},
		{"ping with JSON template",
			`{"duplicated":"~channel~", "channel":"~channel~", "message":"~text~", "message_id":"~id~"}`,
			newSyntheticMessage(PingMessageID, "", []byte(" ")),
			`{"duplicated":"", "channel":"", "message":" ", "message_id":"-1"}`},
		{"verified timed-out message",
			`{"id":"~id~", "message":"~text~", "channel":"~channel~", "tag":"~tag~", "time":"~time~"}`,
			newSyntheticMessage(TimedOutMessageID, "", []byte(TimedOutMessageText)),
			`{"id":"-3", "message":"Timed out", "channel":"", "tag":"0", "time":"Thu, 01 Jan 1970 00:00:00 GMT"}`},
		{"tokens in any case", "~ID~ ~Channel~ ~tExT~ ~SIZE~ ~Tag~ ~EVENT-ID~ ~Event-Type~", parsersMessage(),
			"3 t1 hi there 8 2 e1 ty"},
		{"each occurrence replaced", "~id~~id~~id~", parsersMessage(), "333"},
		{"tilde that starts no token", "~x~ a~b ~~text~~ ~", parsersMessage(), "~x~ a~b ~hi there~ ~"},
		{"partial tokens are literal", "~tex ~id ~event-~ ~event~ ~tex~t~", parsersMessage(), "~tex ~id ~event-~ ~event~ ~tex~t~"},
		{"no escaping of quotes and markup", `<p class="~channel~">~text~</p>`,
			&Message{ID: 1, Channel: `a"b`, Text: []byte(`<b>"&'</b>`)}, `<p class="a"b"><b>"&'</b></p>`},
		{"inserted values are not scanned again",
			"~channel~|~text~|~event-id~",
			&Message{ID: 1, Channel: "~text~", Text: []byte("~id~ ~channel~"), EventID: "~tag~", HasEventID: true},
			"~text~|~id~ ~channel~|~tag~"},
		{"binary text", "[~text~]", &Message{Text: []byte{0, 0xff, '\n'}}, "[\x00\xff\n]"},
		{"absent event fields are empty", "<~event-id~|~event-type~>", &Message{ID: 1}, "<|>"},
		{"empty template", "", parsersMessage(), ""},
		{"no tokens", "plain text", parsersMessage(), "plain text"},
		{"non-ascii before a token", "été ~text~", parsersMessage(), "été hi there"},
		{"invalid utf-8 before a token", "\xff~text~", parsersMessage(), "\xffhi there"},
		{"kelvin sign before a token", "\u212a~text~", parsersMessage(), "\u212ahi there"},
		{"kelvin signs before a tilde", "\u212a\u212a\u212a~", parsersMessage(), "\u212a\u212a\u212a~"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []byte
			parsersNoPanic(t, fmt.Sprintf("CompileTemplate(%q)", tc.template), func() {
				got = CompileTemplate(tc.template).Append([]byte("prefix:"), tc.msg, tc.msg.Text)
			})
			if string(got) != "prefix:"+tc.want {
				t.Fatalf("template %q gives %q, want %q", tc.template, got, "prefix:"+tc.want)
			}
		})
	}
}

// TestCompileTemplateTimeFormat: ~time~ is the RFC 1123 GMT date with a
// two-digit day, always 29 bytes (PROTOCOL.md §5.4).
func TestCompileTemplateTimeFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		unix int64
		want string
	}{
		{"epoch", 0, "Thu, 01 Jan 1970 00:00:00 GMT"},
		{"verified publish time", parsersTime, "Sat, 28 Nov 2026 01:22:24 GMT"},
		{"one-digit day is padded", time.Date(2025, time.March, 5, 7, 8, 9, 0, time.UTC).Unix(), "Wed, 05 Mar 2025 07:08:09 GMT"},
	}
	tmpl := CompileTemplate("~time~")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(tmpl.Append(nil, &Message{Time: tc.unix}, nil))
			if got != tc.want || len(got) != 29 {
				t.Fatalf("~time~ of %d = %q, want %q (29 bytes)", tc.unix, got, tc.want)
			}
			if FormatHTTPDate(tc.unix) != tc.want {
				t.Fatalf("FormatHTTPDate(%d) = %q", tc.unix, FormatHTTPDate(tc.unix))
			}
		})
	}
}

// parsersReferenceTemplate renders a template by the rules of §5.4 in the
// most direct way: scan, and at each `~` try the tokens ASCII
// case-insensitively.
func parsersReferenceTemplate(template string, msg *Message) string {
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
				if len(template)-i >= len(name) && parsersASCIIEqualFold(template[i:i+len(name)], name) {
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

func parsersASCIIEqualFold(a, b string) bool {
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
		msg := &Message{ID: 7, Channel: channel, Time: parsersTime, Tag: 2, EventID: "e", HasEventID: true, Text: []byte(text)}
		var got []byte
		parsersNoPanic(t, fmt.Sprintf("CompileTemplate(%q)", template), func() {
			got = CompileTemplate(template).Append(nil, msg, msg.Text)
		})
		if want := parsersReferenceTemplate(template, msg); string(got) != want {
			t.Fatalf("template %q gives %q, want %q", template, got, want)
		}
	})
}

// --- nginx configuration escapes (PROTOCOL.md §5.4) ---

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
		parsersNoPanic(t, fmt.Sprintf("DecodeConfigEscapes(%q)", in), func() { got = DecodeConfigEscapes(in) })
		if len(got) > len(in) {
			t.Fatalf("DecodeConfigEscapes(%q) = %q grew", in, got)
		}
		if !strings.Contains(in, `\`) && got != in {
			t.Fatalf("DecodeConfigEscapes(%q) = %q changed a text without escapes", in, got)
		}
	})
}

// --- Eventsource (PROTOCOL.md §5.4) ---

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
		parsersNoPanic(t, fmt.Sprintf("splitLines(%q)", in), func() { lines = splitLines([]byte(in)) })
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
// PROTOCOL.md §5.4 and §8 and the template adjustment rules.
func TestCompileEventSourceFormatter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, template string
		msg            *Message
		want           string
	}{
		{"verified event id, type and mixed lines", "",
			&Message{ID: 1, EventID: "e1", HasEventID: true, EventType: "ty", HasEventType: true, Text: []byte("l1\n\nl2\r\nl3\rl4\n")},
			"id: e1\nevent: ty\ndata: l1\ndata: l2\ndata: l3\ndata: l4\n\n"},
		{"verified empty event id", "",
			&Message{ID: 2, HasEventID: true, Text: []byte("x")},
			"id: \ndata: x\n\n"},
		{"verified text without lines", "", &Message{ID: 3, Text: []byte("\n")}, "\n"},
		{"empty text", "~text~", &Message{ID: 3}, "\n"},
		{"default template", "~text~", &Message{ID: 1, Text: []byte("hello")}, "data: hello\n\n"},
		{"verified events channel message", "~text~|~event-type~",
			&Message{ID: 1, Channel: "events", EventType: "channel_created", HasEventType: true,
				Text: []byte(`{"type": "channel_created", "channel": "newch"}`)},
			"event: channel_created\ndata: {\"type\": \"channel_created\", \"channel\": \"newch\"}|channel_created\n\n"},
		{"size is per line", "~size~:~text~", &Message{Text: []byte("ab\ncde")}, "data: 2:ab\ndata: 3:cde\n\n"},
		{"other tokens per line", "~id~ ~channel~ ~text~", &Message{ID: 5, Channel: "c", Text: []byte("a\nb")}, "data: 5 c a\ndata: 5 c b\n\n"},
		{"template already starting with data", "data: ~text~\n", &Message{Text: []byte("a\nb")}, "data: a\ndata: b\n\n"},
		{"data template without newline is used as is", "data: ~text~", &Message{Text: []byte("a\nb")}, "data: adata: b\n"},
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
// adjustment (PROTOCOL.md §5.4).
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
			if got := eventSourceComment(tc.in, tc.header); got != tc.want {
				t.Fatalf("eventSourceComment(%q, %v) = %q, want %q", tc.in, tc.header, got, tc.want)
			}
		})
	}
}

// --- Padding (PROTOCOL.md §5.7) ---

func TestParsePadding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec, wantErr string
	}{
		{"verified rules", "[T|t]est 1,1024,508:[T|t]est 2,4097,0", ""},
		{"one rule", "[T|t]est 1,0,545", ""},
		{"regexp with commas", "a,b,10,20", ""},
		{"sizes are letters", "user_agent,as,df", "padding pattern not match the value user_agent,as,df"},
		{"semicolons", "user_agent;10;0", "padding pattern not match the value user_agent;10;0"},
		{"second rule with semicolons", "user_agent,10,0:other_user_agent;20;0:another_user_agent,30,0",
			"error applying padding pattern to other_user_agent;20;0:another_user_agent,30,0"},
		{"third rule broken", "a,1,2:b,3,4:c;5;6", "error applying padding pattern to c;5;6"},
		{"missing message size", "ua,10", "padding pattern not match the value ua,10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePadding(tc.spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParsePadding(%q): %v", tc.spec, err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("ParsePadding(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
			}
		})
	}
}

// parsersCRLFPadding is what §5.7 says a padding of n bytes is: the last n
// bytes of "\r\n" pairs.
func parsersCRLFPadding(n int) string {
	s := strings.Repeat("\r\n", (n+1)/2)
	return s[len(s)-n:]
}

// TestParsePaddingSizes checks the verified numbers of PROTOCOL.md §5.7.
func TestParsePaddingSizes(t *testing.T) {
	t.Parallel()
	headers, err := ParsePadding("[T|t]est 1,1024,508:[T|t]est 2,4097,0")
	if err != nil {
		t.Fatal(err)
	}
	messages, err := ParsePadding("[T|t]est 1,0,545")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		padding     *Padding
		userAgent   string
		header      bool
		written     int
		eventSource bool
		want        int
	}{
		{"verified Test 1 header", headers, "Test 1", true, 10, false, 1100},
		{"verified Test 2 header gets Lmax", headers, "Test 2", true, 10, false, 4097},
		{"verified Test 3 gets nothing", headers, "Test 3", true, 10, false, 0},
		{"verified unanchored lower case match", headers, "xx test 1 yy", true, 10, false, 1100},
		{"Test 1 message", headers, "Test 1", false, 8, false, 600},
		{"Test 2 message minimum zero", headers, "Test 2", false, 8, false, 0},
		{"empty user agent", headers, "", true, 10, false, 0},
		{"header at the minimum", headers, "Test 1", true, 1024, false, 0},
		{"header one under the minimum", headers, "Test 1", true, 1023, false, 100},
		{"verified message 1 byte", messages, "Test 1", false, 1, false, 545},
		{"verified message 105 bytes", messages, "Test 1", false, 105, false, 500},
		{"verified message 221 bytes", messages, "Test 1", false, 221, false, 400},
		{"verified message 331 bytes", messages, "Test 1", false, 331, false, 300},
		{"verified message 435 bytes", messages, "Test 1", false, 435, false, 200},
		{"verified message 502 bytes", messages, "Test 1", false, 502, false, 100},
		{"verified message 550 bytes", messages, "Test 1", false, 550, false, 0},
		{"header minimum zero", messages, "Test 1", true, 0, false, 0},
		{"eventsource header", headers, "Test 1", true, 3, true, 1100},
		{"eventsource message", messages, "test 1", false, 105, true, 500},
		{"nil padding", nil, "Test 1", true, 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sizes := tc.padding.For(tc.userAgent)
			var got []byte
			if tc.header {
				got = sizes.HeaderPadding(tc.written, tc.eventSource)
			} else {
				got = sizes.MessagePadding(tc.written, tc.eventSource)
			}
			if len(got) != tc.want {
				t.Fatalf("padding length %d, want %d", len(got), tc.want)
			}
			want := parsersCRLFPadding(tc.want)
			if tc.eventSource && tc.want > 0 {
				want = strings.Repeat(":", tc.want-1) + "\n"
			}
			if string(got) != want {
				t.Fatalf("padding bytes %q..., want %q...", got[:min(8, len(got))], want[:min(8, len(want))])
			}
		})
	}
	// Verified: the 4097 bytes after the header start "\n\r\n\r".
	if got := headers.For("Test 2").HeaderPadding(10, false); !bytes.HasPrefix(got, []byte("\n\r\n\r")) {
		t.Fatalf("odd padding starts %q, want \"\\n\\r\\n\\r\"", got[:4])
	}
	// A regexp with commas: the last two fields are the sizes.
	commas, err := ParsePadding("a,b,10,200")
	if err != nil {
		t.Fatal(err)
	}
	if got := commas.For("xa,bx").MessagePadding(0, false); len(got) != 200 {
		t.Fatalf("rule with a comma in its regexp: padding %d, want 200", len(got))
	}
	if got := commas.For("ab").MessagePadding(0, false); len(got) != 0 {
		t.Fatalf("user agent without the comma matched: %d", len(got))
	}
}

// FuzzParsePadding: parsing never panics, and an accepted value pads any
// user agent and any length without panicking, never beyond Lmax, with
// the bytes §5.7 prescribes.
func FuzzParsePadding(f *testing.F) {
	for _, seed := range []string{"[T|t]est 1,1024,508:[T|t]est 2,4097,0", "user_agent,as,df", "user_agent;10;0", "a,1,2:", ":", "", ",,", "a,b,10,20", "(,1,2"} {
		f.Add(seed, "Test 1", 10)
	}
	longNumber := regexp.MustCompile(`[0-9]{6,}`)
	f.Fuzz(func(t *testing.T, spec, userAgent string, written int) {
		// Sizes are allocated up front (the Lmax buffer), so huge numbers
		// only measure the machine's memory.
		if longNumber.MatchString(spec) {
			t.Skip()
		}
		var p *Padding
		var err error
		parsersNoPanic(t, fmt.Sprintf("ParsePadding(%q)", spec), func() { p, err = ParsePadding(spec) })
		if err != nil {
			return
		}
		parsersNoPanic(t, fmt.Sprintf("padding of %q for %q after %d bytes", spec, userAgent, written), func() {
			sizes := p.For(userAgent)
			for _, eventSource := range []bool{false, true} {
				for _, pad := range [][]byte{sizes.HeaderPadding(written, eventSource), sizes.MessagePadding(written, eventSource)} {
					if len(pad) > p.max {
						t.Fatalf("padding %d bytes over Lmax %d", len(pad), p.max)
					}
					if len(pad) > 0 && eventSource && (pad[len(pad)-1] != '\n' || strings.Trim(string(pad[:len(pad)-1]), ":") != "") {
						t.Fatalf("eventsource padding %q", pad)
					}
					if !eventSource && string(pad) != parsersCRLFPadding(len(pad)) {
						t.Fatalf("padding %q", pad)
					}
				}
			}
		})
	})
}

// --- HTTP dates (PROTOCOL.md §5.5) ---

func TestParseHTTPDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     int64
		ok       bool
	}{
		{"rfc 1123 epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0, true},
		{"rfc 1123 verified time", "Sat, 28 Nov 2026 01:22:24 GMT", parsersTime, true},
		{"rfc 1123 one-digit day is unparseable", "Thu, 1 Jan 1970 00:00:00 GMT", 0, false},
		{"rfc 850", "Thursday, 01-Jan-70 00:00:10 GMT", 10, true},
		{"asctime", "Thu Jan  1 00:00:20 1970", 20, true},
		{"asctime two-digit day", "Sat Nov 28 01:22:24 2026", parsersTime, true},
		{"zone name not checked", "Thu, 01 Jan 1970 00:00:30 XYZ", 30, true},
		{"empty", "", 0, false},
		{"garbage", "yesterday", 0, false},
		{"unix seconds", "1795828944", 0, false},
		{"truncated", "Thu, 01 Jan 1970 00:00", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseHTTPDate(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("ParseHTTPDate(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzParseHTTPDate: parsing never panics, and what ~time~ and
// Last-Modified print parses back to the same second.
func FuzzParseHTTPDate(f *testing.F) {
	for _, seed := range []string{"Thu, 01 Jan 1970 00:00:00 GMT", "Thu, 1 Jan 1970 00:00:00 GMT", "Thursday, 01-Jan-70 00:00:00 GMT", "Thu Jan  1 00:00:00 1970", ""} {
		f.Add(seed, int64(0))
	}
	f.Add("", parsersTime)
	f.Fuzz(func(t *testing.T, in string, unix int64) {
		parsersNoPanic(t, fmt.Sprintf("ParseHTTPDate(%q)", in), func() { ParseHTTPDate(in) })
		if unix < 0 || unix > 253402300799 { // years 1970 to 9999
			return
		}
		if got, ok := ParseHTTPDate(FormatHTTPDate(unix)); !ok || got != unix {
			t.Fatalf("ParseHTTPDate(FormatHTTPDate(%d) = %q) = %d, %v", unix, FormatHTTPDate(unix), got, ok)
		}
	})
}

// --- Statistics format negotiation (PROTOCOL.md §7.3) ---

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
		parsersNoPanic(t, fmt.Sprintf("NegotiateStatsFormat(%q)", accept), func() { got = NegotiateStatsFormat(accept) })
		if !known[got.ContentType] {
			t.Fatalf("NegotiateStatsFormat(%q) = %+v", accept, got)
		}
		if !strings.Contains(accept, "/") && got.ContentType != "application/json" {
			t.Fatalf("NegotiateStatsFormat(%q) = %+v without a '/'", accept, got)
		}
	})
}

// --- Old message selection (PROTOCOL.md §5.5) ---

func TestSelectionPick(t *testing.T) {
	t.Parallel()
	msg := func(id, unix, tag int64, eventID string, hasEventID bool) *Message {
		return &Message{ID: id, Time: unix, Tag: tag, EventID: eventID, HasEventID: hasEventID, Text: []byte(fmt.Sprintf("m%d", id))}
	}
	// The verified example: m1, m2, m3 with events "ev 1" to "ev 3".
	verified := []*Message{msg(1, 100, 1, "ev 1", true), msg(2, 100, 2, "ev 2", true), msg(3, 100, 3, "ev 3", true)}
	// Times and tags for the since-time rules: (100,1) (100,2) (101,1).
	timed := []*Message{msg(1, 100, 1, "", false), msg(2, 100, 2, "", false), msg(3, 101, 1, "", false)}
	mixed := []*Message{msg(1, 100, 1, "a", true), msg(2, 101, 1, "b", true)}
	emptyIDs := []*Message{msg(1, 100, 1, "", false), msg(2, 100, 2, "", true), msg(3, 100, 3, "x", true)}
	tests := []struct {
		name string
		sel  Selection
		msgs []*Message
		want string
	}{
		{"verified last event id", Selection{LastEventID: "ev 2", HasLastEventID: true}, verified, "3"},
		{"verified since epoch", Selection{SinceTime: 0, HasSinceTime: true}, verified, "1,2,3"},
		{"verified backtrack 2", Selection{Backtrack: 2}, verified, "2,3"},
		{"no control values", Selection{}, verified, ""},
		{"no stored messages", Selection{Backtrack: 3}, nil, ""},
		{"backtrack over the stored count", Selection{Backtrack: 5}, verified, "1,2,3"},
		{"backtrack ignores control values", Selection{Backtrack: 1, LastEventID: "ev 1", HasLastEventID: true, HasSinceTime: true}, verified, "3"},
		{"last event id of the newest message", Selection{LastEventID: "ev 3", HasLastEventID: true}, verified, ""},
		{"unknown last event id", Selection{LastEventID: "ev 9", HasLastEventID: true}, verified, ""},
		{"event ids are byte-exact", Selection{LastEventID: "EV 1", HasLastEventID: true}, verified, ""},
		{"empty last event id matches an empty event id", Selection{LastEventID: "", HasLastEventID: true}, emptyIDs, "3"},
		{"since time without tag", Selection{SinceTime: 100, HasSinceTime: true}, timed, "3"},
		{"since time and tag of the first message", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 1, HasSinceTag: true}, timed, "2,3"},
		{"since time and tag of the second message", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 2, HasSinceTag: true}, timed, "3"},
		{"since tag below every tag", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 0, HasSinceTag: true}, timed, "1,2,3"},
		{"since an earlier time", Selection{SinceTime: 99, HasSinceTime: true}, timed, "1,2,3"},
		{"since the newest time and tag", Selection{SinceTime: 101, HasSinceTime: true, SinceTag: 1, HasSinceTag: true}, timed, ""},
		{"since a later time", Selection{SinceTime: 102, HasSinceTime: true}, timed, ""},
		{"since tag without since time is ignored", Selection{SinceTag: 0, HasSinceTag: true}, timed, ""},
		{"since time matches before the event id", Selection{SinceTime: 99, HasSinceTime: true, LastEventID: "b", HasLastEventID: true}, mixed, "1,2"},
		{"event id matches before the since time", Selection{SinceTime: 100, HasSinceTime: true, LastEventID: "a", HasLastEventID: true}, mixed, "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.sel.pick(tc.msgs)
			ids := make([]string, len(got))
			for i, m := range got {
				ids[i] = strconv.FormatInt(m.ID, 10)
			}
			if strings.Join(ids, ",") != tc.want {
				t.Fatalf("pick = [%s], want [%s]", strings.Join(ids, ","), tc.want)
			}
			if len(got) > 0 && len(tc.msgs) > 0 {
				// The result is a new slice: changing it leaves the store alone.
				before := tc.msgs[len(tc.msgs)-1]
				got[len(got)-1] = nil
				if tc.msgs[len(tc.msgs)-1] != before {
					t.Fatal("pick returned the channel's own slice")
				}
			}
		})
	}
}
