package pushstream

import (
	"net/http"
	"strconv"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// The gap signal (docs/PROTOCOL.md §11), an extension a subscriber handler
// turns on with gap_signal: a subscriber that resumes from a point older
// than what a channel still keeps is told so before it gets what is kept.
const (
	// headerGap counts, on a polling or long-polling answer, the channels
	// whose resume point was older than what they keep.
	headerGap = "X-Nginx-PushStream-Gap"
	// headerExposeHeaders lets cross-origin pages read headerGap.
	headerExposeHeaders = "Access-Control-Expose-Headers"
	// DefaultGapMessageText is the text of the gap message when
	// gap_message_text is not set.
	DefaultGapMessageText = "gap"
	// GapEventType is the event type of the gap message: an EventSource
	// page reads it with addEventListener("gap", ...).
	GapEventType = "gap"
)

// gapMessage returns the synthetic message that tells a subscriber of
// channel that messages it asked for are gone. It goes through the
// handler's templates like the other synthetic messages; ~id~ is -4.
func (h *SubscriberHandler) gapMessage(channel string) *engine.Message {
	msg := engine.NewSyntheticMessage(engine.GapMessageID, channel, h.gapText)
	msg.EventType, msg.HasEventType = GapEventType, true
	return msg
}

// gapText decodes gap_message_text (nginx escapes, like the other
// message texts) or returns the default.
func gapText(setting string) []byte {
	if setting == "" {
		return []byte(DefaultGapMessageText)
	}
	return []byte(wire.DecodeConfigEscapes(setting))
}

// withGap puts the gap message of ch before backlog when the handler
// signals gaps and sel found one.
func (h *SubscriberHandler) withGap(ch *engine.Channel, sel *engine.Selection, backlog []*engine.Message) []*engine.Message {
	if !h.GapSignal || sel == nil || !sel.Gap {
		return backlog
	}
	return append([]*engine.Message{h.gapMessage(ch.ID)}, backlog...)
}

// setGapHeaders marks a polling answer that carries gap messages, and
// lets cross-origin pages read that mark.
func (h *SubscriberHandler) setGapHeaders(hdr http.Header, gaps int) {
	if gaps == 0 {
		return
	}
	hdr[headerGap] = []string{strconv.Itoa(gaps)}
	if _, cors := hdr[headerAllowOrigin]; cors {
		hdr[headerExposeHeaders] = []string{headerGap}
	}
}
