package pushstream

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// selection reads the old-message control values (docs/PROTOCOL.md §5.5).
func (h *SubscriberHandler) selection(r *http.Request) engine.Selection {
	var sel engine.Selection
	if v, ok := h.control(r, h.LastReceivedMessageTime, "If-Modified-Since"); ok {
		sel.SinceTime, sel.HasSinceTime = wire.ParseHTTPDate(v)
	}
	if v, ok := h.control(r, h.LastReceivedMessageTag, "If-None-Match"); ok {
		sel.SinceTag, sel.HasSinceTag = parseTag(v)
	}
	sel.LastEventID, sel.HasLastEventID = h.control(r, h.LastEventID, "Last-Event-Id")
	sel.AllOnGap = h.GapSignal
	return sel
}

// control returns a configured control value, or the request header when
// the setting is not configured. A configured empty value is absent.
func (h *SubscriberHandler) control(r *http.Request, setting *string, header string) (string, bool) {
	if setting != nil {
		v := evaluate(r, *setting)
		return v, v != ""
	}
	return firstHeader(r, header)
}

// parseTag parses an If-None-Match style tag: an optional `W/` prefix and
// an unsigned decimal.
func parseTag(v string) (int64, bool) {
	if len(v) > 2 && strings.HasPrefix(v, "W/") {
		v = v[2:]
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
