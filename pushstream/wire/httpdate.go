package wire

import (
	"time"
)

// httpDateLayout is RFC 1123 in GMT with a two-digit day, 29 bytes.
const httpDateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// appendHTTPDate appends unix seconds as an HTTP date (docs/PROTOCOL.md §5.4).
func appendHTTPDate(dst []byte, unix int64) []byte {
	return time.Unix(unix, 0).UTC().AppendFormat(dst, httpDateLayout)
}

// FormatHTTPDate formats unix seconds as an HTTP date.
func FormatHTTPDate(unix int64) string {
	return string(appendHTTPDate(nil, unix))
}

// sinceTimeLayouts are the HTTP date forms nginx accepts in
// If-Modified-Since (docs/PROTOCOL.md §5.5); the zone name is not checked.
var sinceTimeLayouts = []string{
	"Mon, 02 Jan 2006 15:04:05 MST",
	"Monday, 02-Jan-06 15:04:05 MST",
	"Mon Jan _2 15:04:05 2006",
}

// ParseHTTPDate parses an HTTP date into unix seconds.
func ParseHTTPDate(s string) (int64, bool) {
	for _, layout := range sinceTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}
