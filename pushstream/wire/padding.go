package wire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// paddingRule is one `<regexp>,<header_min>,<message_min>` rule.
type paddingRule struct {
	userAgent  *regexp.Regexp
	headerMin  int
	messageMin int
}

// Padding pads streaming and eventsource writes per user agent
// (docs/PROTOCOL.md §5.7).
type Padding struct {
	rules []paddingRule
	max   int
	// crlf and colons hold the padding bytes; a padding is a suffix of one.
	crlf, colons []byte
}

var paddingRulePattern = regexp.MustCompile(`^(.+),(\d+),(\d+)$`)

// maxPadding bounds a rule's sizes: the padding buffers are allocated at
// configuration time.
const maxPadding = 1 << 20

// ParsePadding parses a `padding_by_user_agent` value.
func ParsePadding(spec string) (*Padding, error) {
	p := &Padding{}
	rest := spec
	for first := true; first || rest != ""; first = false {
		rule, tail, _ := strings.Cut(rest, ":")
		m := paddingRulePattern.FindStringSubmatch(rule)
		var re *regexp.Regexp
		var err error
		if m != nil {
			re, err = regexp.Compile(m[1])
		}
		if m == nil || err != nil {
			if first {
				return nil, fmt.Errorf("padding pattern not match the value %s", spec)
			}
			return nil, fmt.Errorf("error applying padding pattern to %s", rest)
		}
		header, herr := strconv.Atoi(m[2])
		message, merr := strconv.Atoi(m[3])
		if herr != nil || merr != nil || header > maxPadding || message > maxPadding {
			return nil, fmt.Errorf("padding sizes in %q must be at most %d bytes", rule, maxPadding)
		}
		p.rules = append(p.rules, paddingRule{userAgent: re, headerMin: header, messageMin: message})
		p.max = max(p.max, header, message)
		rest = tail
	}
	p.crlf = []byte(strings.Repeat("\r\n", (p.max+1)/2))
	p.colons = []byte(strings.Repeat(":", p.max))
	if p.max > 0 {
		p.colons[p.max-1] = '\n'
	}
	return p, nil
}

// PaddingSizes are the minimum sizes one user agent gets; zero values pad
// nothing.
type PaddingSizes struct {
	header, message int
	padding         *Padding
}

// For returns the sizes of the first rule matching userAgent.
func (p *Padding) For(userAgent string) PaddingSizes {
	if p == nil || userAgent == "" {
		return PaddingSizes{}
	}
	for _, r := range p.rules {
		if r.userAgent.MatchString(userAgent) {
			return PaddingSizes{header: r.headerMin, message: r.messageMin, padding: p}
		}
	}
	return PaddingSizes{}
}

// HeaderPadding returns the padding after a header of length written.
func (s PaddingSizes) HeaderPadding(written int, eventSource bool) []byte {
	return s.pad(s.header, written, eventSource)
}

// MessagePadding returns the padding after a message of length written.
func (s PaddingSizes) MessagePadding(written int, eventSource bool) []byte {
	return s.pad(s.message, written, eventSource)
}

func (s PaddingSizes) pad(minimum, written int, eventSource bool) []byte {
	if s.padding == nil || minimum-written <= 0 {
		return nil
	}
	limit := s.padding.max
	k := (minimum - written) / 100
	size := limit
	if k < limit/100 {
		size = (k + 1) * 100
	}
	if eventSource {
		return s.padding.colons[len(s.padding.colons)-size:]
	}
	return s.padding.crlf[len(s.padding.crlf)-size:]
}
