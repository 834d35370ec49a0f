package wire

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// tokenKind names one message template token (docs/PROTOCOL.md §5.4).
type tokenKind uint8

const (
	tokenLiteral tokenKind = iota
	tokenID
	tokenText
	tokenSize
	tokenChannel
	tokenTime
	tokenTag
	tokenEventID
	tokenEventType
)

var templateTokens = []struct {
	name string
	kind tokenKind
}{
	{"~id~", tokenID},
	{"~text~", tokenText},
	{"~size~", tokenSize},
	{"~channel~", tokenChannel},
	{"~time~", tokenTime},
	{"~tag~", tokenTag},
	{"~event-id~", tokenEventID},
	{"~event-type~", tokenEventType},
}

type templatePart struct {
	kind    tokenKind
	literal []byte
}

// MessageTemplate is a compiled message template. Substitution is single
// pass: inserted values are never scanned for tokens again.
type MessageTemplate struct {
	parts []templatePart
	// lineSafe keeps CR and LF of the channel id, event id and event type
	// out of the output (AppendEventSourceValue): an EventSource line must
	// not end inside a value.
	lineSafe bool
}

// CompileTemplate compiles a message template text. Tokens are matched
// case-insensitively; a `~` that starts no token is literal.
func CompileTemplate(text string) *MessageTemplate {
	t := &MessageTemplate{}
	lit := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '~' {
			continue
		}
		for _, tok := range templateTokens {
			if hasPrefixFold(text[i:], tok.name) {
				if lit < i {
					t.parts = append(t.parts, templatePart{kind: tokenLiteral, literal: []byte(text[lit:i])})
				}
				t.parts = append(t.parts, templatePart{kind: tok.kind})
				i += len(tok.name) - 1
				lit = i + 1
				break
			}
		}
	}
	if lit < len(text) {
		t.parts = append(t.parts, templatePart{kind: tokenLiteral, literal: []byte(text[lit:])})
	}
	return t
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case only: other bytes, valid UTF-8 or not, never match
// a token letter.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// Append formats msg with text standing for `~text~` and appends the result
// to dst.
func (t *MessageTemplate) Append(dst []byte, msg *engine.Message, text []byte) []byte {
	for _, p := range t.parts {
		switch p.kind {
		case tokenLiteral:
			dst = append(dst, p.literal...)
		case tokenID:
			dst = strconv.AppendInt(dst, msg.ID, 10)
		case tokenText:
			dst = append(dst, text...)
		case tokenSize:
			dst = strconv.AppendInt(dst, int64(len(text)), 10)
		case tokenChannel:
			dst = t.appendValue(dst, msg.Channel)
		case tokenTime:
			dst = appendHTTPDate(dst, msg.Time)
		case tokenTag:
			dst = strconv.AppendInt(dst, msg.Tag, 10)
		case tokenEventID:
			dst = t.appendValue(dst, msg.EventID)
		case tokenEventType:
			dst = t.appendValue(dst, msg.EventType)
		}
	}
	return dst
}

// appendValue appends a client-chosen value.
func (t *MessageTemplate) appendValue(dst []byte, v string) []byte {
	if t.lineSafe {
		return AppendEventSourceValue(dst, v)
	}
	return append(dst, v...)
}

// DecodeConfigEscapes decodes nginx's configuration-string escapes in a
// template-like setting (docs/PROTOCOL.md §5.4): `\n`, `\r`, `\t`, `\\`, `\"`
// and `\'`. Any other backslash is kept.
func DecodeConfigEscapes(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\', '"', '\'':
				b.WriteByte(s[i+1])
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitLines splits text into its non-empty lines; a line ends at CRLF, a
// lone CR or a lone LF (docs/PROTOCOL.md §5.4, eventsource adjustment).
func splitLines(text []byte) [][]byte {
	var lines [][]byte
	start := 0
	for i := 0; i < len(text); i++ {
		if text[i] != '\n' && text[i] != '\r' {
			continue
		}
		if i > start {
			lines = append(lines, text[start:i])
		}
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		start = i + 1
	}
	if start < len(text) {
		lines = append(lines, text[start:])
	}
	return lines
}

// EventSourceComment turns a header or footer template into eventsource
// comment lines (docs/PROTOCOL.md §5.4). keepEmpty tells what an empty text
// becomes: the header turns into `": \n"`, the footer stays empty.
func EventSourceComment(text string, emptyIsComment bool) string {
	if strings.HasPrefix(text, ": ") {
		return text
	}
	if text == "" {
		if emptyIsComment {
			return ": \n"
		}
		return ""
	}
	var b bytes.Buffer
	for _, line := range splitLines([]byte(text)) {
		b.WriteString(": ")
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}
