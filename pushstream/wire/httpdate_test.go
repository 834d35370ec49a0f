package wire

import (
	"fmt"
	"testing"
)

// Tests of HTTP dates (docs/PROTOCOL.md §5.5).

func TestParseHTTPDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     int64
		ok       bool
	}{
		{"rfc 1123 epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0, true},
		{"rfc 1123 verified time", "Sat, 28 Nov 2026 01:22:24 GMT", verifiedTime, true},
		{"rfc 1123 one-digit day is unparseable", "Thu, 1 Jan 1970 00:00:00 GMT", 0, false},
		{"rfc 850", "Thursday, 01-Jan-70 00:00:10 GMT", 10, true},
		{"asctime", "Thu Jan  1 00:00:20 1970", 20, true},
		{"asctime two-digit day", "Sat Nov 28 01:22:24 2026", verifiedTime, true},
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
	f.Add("", verifiedTime)
	f.Fuzz(func(t *testing.T, in string, unix int64) {
		noPanic(t, fmt.Sprintf("ParseHTTPDate(%q)", in), func() { ParseHTTPDate(in) })
		if unix < 0 || unix > 253402300799 { // years 1970 to 9999
			return
		}
		if got, ok := ParseHTTPDate(FormatHTTPDate(unix)); !ok || got != unix {
			t.Fatalf("ParseHTTPDate(FormatHTTPDate(%d) = %q) = %d, %v", unix, FormatHTTPDate(unix), got, ok)
		}
	})
}
