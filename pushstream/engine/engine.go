package engine

import "time"

// Engine is what the push stream handlers need from a channel store. Store
// is the in-memory implementation; another (a broker-backed store shared
// by several processes) must keep the same semantics: ids and tags as in
// docs/PROTOCOL.md §1.3, a publish never waits for a subscriber, and the
// errors below.
//
// Channels and subscribers are handles the engine hands out; callers keep
// them only for the request that got them.
type Engine interface {
	// Settings returns the settings in force.
	Settings() *Settings
	// Apply installs new settings; later operations use them.
	Apply(settings Settings)

	// Lookup returns the live channel with the id, or nil.
	Lookup(id string) *Channel
	// GetOrCreate returns the channel with the id, creating it if needed.
	// It fails with ErrTooManyChannels or ErrNoMemory.
	GetOrCreate(id string) (ch *Channel, created bool, err error)
	// Channels returns the live channels whose id starts with prefix, in
	// creation order.
	Channels(prefix string) []*Channel
	// EventsChannel returns the events channel, or nil when disabled.
	EventsChannel() *Channel

	// Info returns a channel's statistics.
	Info(ch *Channel) ChannelInfo
	// Subscribers returns the number of subscriptions to ch.
	Subscribers(ch *Channel) int
	// HasStoredMessages tells whether ch keeps at least one message.
	HasStoredMessages(ch *Channel) bool
	// Stored returns the stored messages of ch that sel picks, with the
	// time and tag of ch's latest publish, and sets sel.Gap.
	Stored(ch *Channel, sel *Selection) (msgs []*Message, lastTime, lastTag int64)

	// Publish adds a message to ch and queues it to its subscribers
	// without waiting for any. It fails with ErrNoMemory, or with
	// ErrUnavailable when a broker cannot be reached.
	Publish(ch *Channel, text []byte, opts PublishOptions) (*Message, error)
	// PublishAll publishes one message to each channel of chs, in order
	// (a batch publish, docs/PROTOCOL.md §4.6): to all or none where the
	// engine can account for every copy first (the Store), channel by
	// channel elsewhere, those before a failure published.
	PublishAll(chs []*Channel, text []byte, opts PublishOptions) ([]*Message, error)
	// Delete deletes ch: its subscribers get the channel-deleted message
	// with text. It reports false if ch was already deleted, and fails with
	// ErrNoMemory when the memory cap has no room for that message, or
	// with ErrUnavailable when a broker cannot be reached.
	Delete(ch *Channel, text []byte) (bool, error)

	// Register adds a subscriber. It fails with ErrStoreClosed once the
	// process is exiting.
	Register() (*Subscriber, error)
	// Subscribe subscribes sub to ch and returns the stored messages sel
	// picks, chosen atomically with the subscription, and sets sel.Gap. It
	// fails with ErrNoMemory.
	Subscribe(sub *Subscriber, ch *Channel, sel *Selection) ([]*Message, error)
	// Unregister removes sub and every subscription it still has.
	Unregister(sub *Subscriber)
	// Arrive notes that a subscriber request is on its way to its
	// subscriptions; the caller ends it with Done.
	Arrive() *Arrival
	// Arrivals returns channels closed once the subscriber requests now on
	// their way have subscribed; requests that start later are not
	// waited for.
	Arrivals() []<-chan struct{}
	// ExpectRejoin notes that the long-poll client on the connection
	// named conn got its answer from ch and is expected to subscribe
	// again (Subscriber.Rejoin) within RejoinWindow: what ch publishes
	// meanwhile is kept for it.
	ExpectRejoin(ch *Channel, conn string)

	// Summary returns the store-wide statistics.
	Summary() Summary
	// Counts returns the live normal and wildcard channel counts.
	Counts() (channels, wildcard int)
	// Uptime returns whole seconds since the store was created.
	Uptime() int64

	// Shutdown ends every subscriber as on process exit and waits, at most
	// timeout, for their owners to unregister them.
	Shutdown(timeout time.Duration)
}

var _ Engine = (*Store)(nil)
