package engine

import "github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/jsontext"

// Events published to the events channel (docs/PROTOCOL.md §8).
const (
	EventChannelCreated     = "channel_created"
	EventClientSubscribed   = "client_subscribed"
	EventClientUnsubscribed = "client_unsubscribed"
	EventChannelDestroyed   = "channel_destroyed"
)

// EventsChannel returns the events channel, or nil when disabled.
func (s *Store) EventsChannel() *Channel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.eventsChannel
}

// emit publishes event about channel id to the events channel. Activity
// on the events channel itself produces no event.
func (s *Store) emit(event, id string) {
	ec := s.EventsChannel()
	if ec == nil || ec.ID == id {
		return
	}
	text := make([]byte, 0, 36+len(event)+len(id))
	text = append(text, `{"type": "`...)
	text = append(text, event...)
	text = append(text, `", "channel": `...)
	// A channel id is any bytes a client chose: the event stays valid JSON
	// (docs/PROTOCOL.md §8, §10.1); ids without special characters come
	// out as they are.
	text = append(text, '"')
	text = jsontext.AppendString(text, id)
	text = append(text, `"}`...)
	opts := PublishOptions{EventType: event, HasEventType: true, Store: true}
	if sink := s.eventSink.Load(); sink != nil {
		(*sink)(ec.ID, text, opts)
		return
	}
	// A full memory cap drops the event; the activity itself goes on.
	_, _ = s.Publish(ec, text, opts)
}
