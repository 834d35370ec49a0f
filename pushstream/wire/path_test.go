package wire

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// Tests of DecodeValue (docs/PROTOCOL.md §2.1).

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
			noPanic(t, fmt.Sprintf("DecodeValue(%q)", tc.in), func() { got = DecodeValue(tc.in) })
			if got != tc.want {
				t.Fatalf("DecodeValue(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// referenceDecode transcribes the §2.1 rules as a byte state
// machine (nginx's: a byte after an invalid `%` is kept literally).
func referenceDecode(s string) string {
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
		noPanic(t, fmt.Sprintf("DecodeValue(%q)", in), func() { got = DecodeValue(in) })
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
		if want := referenceDecode(in); got != want {
			t.Fatalf("DecodeValue(%q) = %q, want %q", in, got, want)
		}
	})
}
