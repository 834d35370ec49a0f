package engine

// Selection says which stored messages a subscriber asks for
// (docs/PROTOCOL.md §5.5).
type Selection struct {
	// Backtrack asks for the last N stored messages; control values are
	// then ignored.
	Backtrack int
	// SinceTime and HasSinceTime come from If-Modified-Since or
	// last_received_message_time.
	SinceTime    int64
	HasSinceTime bool
	// SinceTag and HasSinceTag come from If-None-Match or
	// last_received_message_tag.
	SinceTag    int64
	HasSinceTag bool
	// LastEventID and HasLastEventID come from Last-Event-Id or
	// last_event_id.
	LastEventID    string
	HasLastEventID bool

	// AllOnGap makes a selection that finds a gap pick every stored
	// message: the client's point is older than all of them, even when it
	// is an event id the channel no longer has (gap_signal).
	AllOnGap bool
	// Gap is an answer, not a request: Stored and Subscribe set it when
	// the point this selection resumes from is older than what the channel
	// still keeps, so that messages the subscriber asks for are gone (the
	// gap_signal extension, docs/PROTOCOL.md §11).
	Gap bool
}

// pick returns the selected messages of msgs (oldest first) as a new slice.
func (sel *Selection) pick(msgs []*Message) []*Message {
	if len(msgs) == 0 {
		return nil
	}
	if sel.Backtrack > 0 {
		n := min(sel.Backtrack, len(msgs))
		return append([]*Message(nil), msgs[len(msgs)-n:]...)
	}
	if !sel.HasLastEventID && !sel.HasSinceTime {
		return nil
	}
	for i, m := range msgs {
		if sel.HasLastEventID && m.HasEventID && m.EventID == sel.LastEventID {
			return append([]*Message(nil), msgs[i+1:]...)
		}
		if !sel.HasSinceTime {
			continue
		}
		if m.Time > sel.SinceTime || (m.Time == sel.SinceTime && sel.HasSinceTag && m.Tag >= sel.SinceTag) {
			if m.Time == sel.SinceTime && sel.HasSinceTag && m.Tag == sel.SinceTag {
				return append([]*Message(nil), msgs[i+1:]...)
			}
			return append([]*Message(nil), msgs[i:]...)
		}
	}
	return nil
}

// gap tells whether the point sel resumes from is older than what msgs
// (the channel's stored messages, oldest first) still hold, given the
// newest message the channel dropped (expired or evicted), if any:
//
//   - a backtrack asks for more messages than are kept, and some were
//     dropped;
//   - a last-event-id names no stored message (it expired, was evicted, or
//     the channel never had it) and no since-time says more;
//   - a since-time (and tag) is older than a dropped message.
//
// Without control values there is no point to resume from, so no gap.
func (sel *Selection) gap(msgs []*Message, dropped droppedMark) bool {
	if sel.Backtrack > 0 {
		return dropped.ok && sel.Backtrack > len(msgs)
	}
	if sel.HasLastEventID {
		for _, m := range msgs {
			if m.HasEventID && m.EventID == sel.LastEventID {
				return false
			}
		}
		if !sel.HasSinceTime {
			return true
		}
	}
	if !sel.HasSinceTime || !dropped.ok {
		return false
	}
	// The selection's own rule for "after the point" (pick): a later
	// second, or the same second with a later tag when a tag was given.
	return dropped.time > sel.SinceTime || dropped.time == sel.SinceTime && sel.HasSinceTag && dropped.tag > sel.SinceTag
}

// droppedMark remembers the newest message a channel dropped from its
// store (expired or evicted), for gap.
type droppedMark struct {
	ok        bool
	time, tag int64
}

// resolve sets sel.Gap and returns what sel picks of msgs, the stored
// messages of a channel that dropped dropped; the channel's lock must be
// held.
func (sel *Selection) resolve(msgs []*Message, dropped droppedMark) []*Message {
	sel.Gap = sel.gap(msgs, dropped)
	if sel.Gap && sel.AllOnGap {
		if len(msgs) == 0 {
			return nil
		}
		return append([]*Message(nil), msgs...)
	}
	return sel.pick(msgs)
}

// Stored returns the stored messages of ch that sel picks, oldest first,
// with the time and tag of ch's latest publish. It sets sel.Gap.
func (s *Store) Stored(ch *Channel, sel *Selection) (msgs []*Message, lastTime, lastTag int64) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return sel.resolve(ch.messages, ch.dropped), ch.lastTime, ch.lastTag
}
