package wire

import (
	"strconv"
	"unicode/utf8"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/jsontext"
)

// Channel ids are any bytes a client chose (docs/PROTOCOL.md §2), so every
// format escapes them by its own rules; an id of letters, digits and the
// usual punctuation needs none and comes out byte for byte as nginx writes
// it (docs/PROTOCOL.md §10.1).

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as the inside of a JSON string (RFC 8259
// §7): quote, backslash and control characters escaped, invalid UTF-8
// replaced by U+FFFD.
func AppendJSONString(dst []byte, s string) []byte { return jsontext.AppendString(dst, s) }

// AppendXMLText appends s as XML character data: markup characters as
// entities, and what XML 1.0 cannot carry at all (control characters,
// invalid UTF-8) as U+FFFD.
func AppendXMLText(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '&':
			dst = append(dst, "&amp;"...)
		case r == '<':
			dst = append(dst, "&lt;"...)
		case r == '>':
			dst = append(dst, "&gt;"...)
		case r == '"':
			dst = append(dst, "&quot;"...)
		case r == '\'':
			dst = append(dst, "&apos;"...)
		case r == utf8.RuneError && size == 1,
			r < 0x20 && r != '\t' && r != '\n' && r != '\r',
			r == 0xFFFE || r == 0xFFFF:
			dst = append(dst, "\uFFFD"...)
		case r == '\t' || r == '\n' || r == '\r':
			dst = append(dst, "&#"...)
			dst = strconv.AppendInt(dst, int64(r), 10)
			dst = append(dst, ';')
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// AppendYAMLScalar appends s as a YAML scalar: plain when it is made only
// of letters, digits and `_-./@`, and does not start with `-`, `.` or
// `@`; otherwise double-quoted with escapes, which any YAML parser reads
// back as s (invalid UTF-8 as U+FFFD).
func AppendYAMLScalar(dst []byte, s string) []byte {
	if yamlPlain(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	dst = AppendJSONString(dst, s)
	return append(dst, '"')
}

func yamlPlain(s string) bool {
	if s == "" || s[0] == '-' || s[0] == '.' || s[0] == '@' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/' || c == '@') {
			return false
		}
	}
	return true
}

// AppendPlainText appends s for the plain statistics format, one value a
// line: control characters (CR and LF among them) and backslash are
// written as `\xHH`, so a value never starts a line of its own.
func AppendPlainText(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != 0x7F && c != '\\' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, `\x`...)
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return dst
}

// AppendEventSourceValue appends s where an EventSource line must not
// end: CR and LF, which would start a field of the client's choosing, are
// written as the two characters `\r` and `\n`.
func AppendEventSourceValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\r':
			dst = append(dst, `\r`...)
		case '\n':
			dst = append(dst, `\n`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
