package wire

// ChannelRef is one channel named in a channels path with the number of old
// messages it asks for (docs/PROTOCOL.md §2.2).
type ChannelRef struct {
	// ID is the channel id, possibly empty.
	ID string
	// Backtrack is the number of stored messages asked for; 0 when absent.
	Backtrack int
}

// DecodeValue percent-decodes an evaluated setting the way nginx decodes
// the result of its variables (docs/PROTOCOL.md §2.1): invalid escapes are
// dropped rather than rejected, `+` stays, and decoding stops at the first
// `?`.
func DecodeValue(s string) string {
	out := make([]byte, 0, len(s))
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '?' {
			if changed {
				return string(append(out, '?'))
			}
			return s
		}
		if c != '%' {
			out = append(out, c)
			continue
		}
		changed = true
		if i+1 >= len(s) {
			break
		}
		h1, ok1 := unhex(s[i+1])
		if !ok1 {
			// "%" then a non-hex byte: the "%" goes, the byte stays as a
			// literal (even another "%").
			i++
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			break
		}
		h2, ok2 := unhex(s[i+2])
		i += 2
		if !ok2 {
			continue
		}
		b := h1<<4 | h2
		out = append(out, b)
		if b == '?' {
			return string(out)
		}
	}
	if !changed {
		return s
	}
	return string(out)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ParseChannelsPath splits a decoded channels path into channel references
// (docs/PROTOCOL.md §2.2). An empty path yields none.
func ParseChannelsPath(path string) []ChannelRef {
	var refs []ChannelRef
	pos := 0
	for pos < len(path) {
		start, end, backtrack := findTerminator(path, pos)
		refs = append(refs, ChannelRef{ID: path[pos:start], Backtrack: backtrack})
		pos = end
	}
	return refs
}

// findTerminator finds the leftmost match of `(\.b([0-9]+))?(/|$)` at or
// after from. It returns where the match starts, where it ends and the
// backtrack digits as a number.
func findTerminator(path string, from int) (start, end, backtrack int) {
	for i := from; i <= len(path); i++ {
		if i == len(path) {
			return i, i, 0
		}
		switch path[i] {
		case '/':
			return i, i + 1, 0
		case '.':
			if i+2 < len(path) && path[i+1] == 'b' && isDigit(path[i+2]) {
				j := i + 2
				n := 0
				for j < len(path) && isDigit(path[j]) {
					if n < 1<<30 {
						n = n*10 + int(path[j]-'0')
					}
					j++
				}
				if j == len(path) {
					return i, j, n
				}
				if path[j] == '/' {
					return i, j + 1, n
				}
			}
		}
	}
	return len(path), len(path), 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
