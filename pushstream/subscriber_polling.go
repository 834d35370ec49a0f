package pushstream

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// pollPosition is the (time, tag) a polling answer reports in
// Last-Modified and Etag (docs/PROTOCOL.md §6.2).
type pollPosition struct {
	time, tag int64
}

// servePolling answers a polling or long-polling request (docs/PROTOCOL.md
// §6.2, §6.3); callback is the checked JSONP callback, or empty.
func (h *SubscriberHandler) servePolling(w http.ResponseWriter, r *http.Request, arrival *engine.Arrival, channels []*engine.Channel, refs []wire.ChannelRef, sel engine.Selection, callback string, long bool) {
	contentType := h.contentType
	if callback != "" {
		contentType = "application/javascript"
	}
	w.Header()["Content-Type"] = []string{contentType}

	msgs, pos, gaps := h.collect(channels, refs, sel)
	if len(msgs) > 0 {
		h.setGapHeaders(w.Header(), gaps)
		h.writePollAnswer(w, pos, callback, msgs)
		if long {
			h.expectRejoin(r, channels)
		}
		return
	}
	if !long {
		hdr := w.Header()
		if pos.time > 0 {
			hdr[headerLastModified] = []string{wire.FormatHTTPDate(pos.time)}
		}
		if pos.tag >= 0 {
			hdr[headerEtag] = []string{"W/" + strconv.FormatInt(pos.tag, 10)}
		}
		writeHeaderOnly(w, http.StatusNotModified, "")
		return
	}

	sub, _, rerr := h.subscribe(arrival, clientConn(r), channels, refs, nil, ModeLongPolling)
	if rerr != nil {
		writeHeaderOnly(w, rerr.status, rerr.explain)
		return
	}
	defer h.unsubscribe(sub, ModeLongPolling)
	// The client asks again once answered, however this one ends.
	defer h.expectRejoin(r, channels)
	reason := endClientGone
	defer func() { h.logEnd(reason) }()
	// A message stored between the first look and the subscription is
	// answered at once rather than missed.
	if msgs, pos, gaps = h.collect(channels, refs, sel); len(msgs) > 0 {
		h.setGapHeaders(w.Header(), gaps)
		reason = endAnswered
		h.writePollAnswer(w, pos, callback, msgs)
		return
	}

	var ttlC <-chan time.Time
	if h.longPollTTL > 0 {
		t := time.NewTimer(h.longPollTTL)
		defer t.Stop()
		ttlC = t.C
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ttlC:
			reason = endTTL
			h.writeTimedOut(w, callback)
			return
		case <-sub.Notify():
			batch, end := sub.Take()
			if len(batch) > 0 {
				reason = endAnswered
				msg := batch[0].Msg
				pos := pollPosition{time: msg.Time, tag: msg.Tag}
				if batch[0].Deleted {
					reason = endDeleted
					pos = pollPosition{time: time.Now().Unix(), tag: 0}
				}
				h.writePollAnswer(w, pos, callback, []*engine.Message{msg})
				return
			}
			switch end {
			case engine.EndShutdown:
				reason = endShutdown
				h.writeTimedOut(w, callback)
				return
			case engine.EndSlow:
				reason = endSlowQueue
				return
			}
		}
	}
}

// expectRejoin tells the store that the long-poll client answered on
// channels will most likely ask again at once on the same connection, so
// that what they publish meanwhile is kept for it (docs/PROTOCOL.md §6.3
// "Asking again at once").
func (h *SubscriberHandler) expectRejoin(r *http.Request, channels []*engine.Channel) {
	conn := clientConn(r)
	for _, ch := range channels {
		h.store.ExpectRejoin(ch, conn)
	}
}

// clientConn names the client connection r came on: its two addresses.
func clientConn(r *http.Request) string {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		return r.RemoteAddr
	}
	return r.RemoteAddr + " " + local.String()
}

// collect selects the stored messages of every channel in path order and
// computes the answer's position (docs/PROTOCOL.md §6.2 step 2 and 4).
// With gap_signal, a channel with a gap counts in gaps, its gap message
// leads its messages, and the position moves to its latest publish so
// that the next request does not report the same gap (§11).
func (h *SubscriberHandler) collect(channels []*engine.Channel, refs []wire.ChannelRef, sel engine.Selection) (all []*engine.Message, pos pollPosition, gaps int) {
	pos = pollPosition{time: 0, tag: -1}
	if sel.HasSinceTime {
		pos.time = sel.SinceTime
	}
	if sel.HasSinceTag {
		pos.tag = sel.SinceTag
	}
	picked := make([][]*engine.Message, len(channels))
	for i, ch := range channels {
		s := sel
		s.Backtrack = refs[i].Backtrack
		msgs, lastTime, lastTag := h.store.Stored(ch, &s)
		if h.GapSignal && s.Gap {
			gaps++
			msgs = h.withGap(ch, &s, msgs)
		}
		if len(msgs) == 0 {
			continue
		}
		picked[i] = msgs
		if lastTime > pos.time {
			pos = pollPosition{time: lastTime, tag: lastTag}
		} else if lastTime == pos.time && lastTag > pos.tag {
			pos.tag = lastTag
		}
	}
	for _, msgs := range picked {
		for _, m := range msgs {
			if m.ID == engine.GapMessageID || m.Time < pos.time || m.Time == pos.time && m.Tag <= pos.tag {
				all = append(all, m)
			}
		}
	}
	if gaps > 0 && pos.tag < 0 {
		pos.tag = 0
	}
	return all, pos, gaps
}

// writePollAnswer writes a 200 polling answer: header template, messages
// (JSONP-wrapped with a callback), footer template.
func (h *SubscriberHandler) writePollAnswer(w http.ResponseWriter, pos pollPosition, callback string, msgs []*engine.Message) {
	hdr := w.Header()
	hdr[headerLastModified] = []string{wire.FormatHTTPDate(pos.time)}
	hdr[headerEtag] = []string{"W/" + strconv.FormatInt(pos.tag, 10)}
	hdr[headerNoSniff] = []string{"nosniff"}
	w.WriteHeader(http.StatusOK)
	stream := newHTTPStream(w)
	if stream.Write(h.header) != nil {
		return
	}
	if callback != "" {
		if stream.Write([]byte(callback+"([")) != nil {
			return
		}
	}
	for i, m := range msgs {
		if callback != "" && i > 0 {
			if stream.Write([]byte(",")) != nil {
				return
			}
		}
		if stream.Write(m.Rendered(h.formatter)) != nil {
			return
		}
	}
	if callback != "" {
		if stream.Write([]byte("]);")) != nil {
			return
		}
	}
	_ = stream.Write(h.footer)
}

// writeTimedOut answers a long-poll that timed out or met process exit.
func (h *SubscriberHandler) writeTimedOut(w http.ResponseWriter, callback string) {
	pos := pollPosition{time: time.Now().Unix(), tag: 0}
	if h.TimeoutWithBody {
		msg := engine.NewSyntheticMessage(engine.TimedOutMessageID, "", []byte(engine.TimedOutMessageText))
		h.writePollAnswer(w, pos, callback, []*engine.Message{msg})
		return
	}
	hdr := w.Header()
	hdr[headerLastModified] = []string{wire.FormatHTTPDate(pos.time)}
	hdr[headerEtag] = []string{"W/0"}
	writeHeaderOnly(w, http.StatusNotModified, "")
}

// jsonpCallback returns the decoded `callback` query argument, matched
// case-insensitively in the raw query (docs/PROTOCOL.md §5.6). Empty is none.
func jsonpCallback(r *http.Request) string {
	query := r.URL.RawQuery
	for len(query) > 0 {
		var arg string
		arg, query, _ = strings.Cut(query, "&")
		name, value, ok := strings.Cut(arg, "=")
		if ok && strings.EqualFold(name, "callback") {
			return wire.DecodeValue(value)
		}
	}
	return ""
}
