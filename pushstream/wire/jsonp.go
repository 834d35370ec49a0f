package wire

// ValidJSONPCallback tells whether name may wrap a JSONP answer: a
// JavaScript identifier path, identifiers of ASCII letters, digits, `_`
// and `$` (not starting with a digit) joined by `.` (docs/PROTOCOL.md
// §5.6). Anything else could make the answer a script of the caller's
// choosing.
func ValidJSONPCallback(name string) bool {
	start := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if start {
				return false
			}
			start = true
			continue
		case c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
			if start {
				return false
			}
		default:
			return false
		}
		start = false
	}
	return !start
}
