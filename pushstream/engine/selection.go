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

// Stored returns the stored messages of ch that sel picks, oldest first,
// with the time and tag of ch's latest publish.
func (s *Store) Stored(ch *Channel, sel *Selection) (msgs []*Message, lastTime, lastTag int64) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return sel.pick(ch.messages), ch.lastTime, ch.lastTag
}
