package engine

import (
	"sync"
	"sync/atomic"
)

// Synthetic message ids (docs/PROTOCOL.md §1.3).
const (
	PingMessageID     = -1
	DeletedMessageID  = -2
	TimedOutMessageID = -3
)

// TimedOutMessageText is the text of the long-polling timed-out message.
const TimedOutMessageText = "Timed out"

// Message is one published or synthetic message. Its fields never change
// after it is handed to subscribers, so it is shared without copying.
type Message struct {
	// ID is the per-channel sequence number, or a negative synthetic id.
	ID int64
	// Channel is the channel id the message belongs to.
	Channel string
	// Time is the publish time in whole Unix seconds (0 for synthetic).
	Time int64
	// Tag is the store-wide tie-breaker within one second.
	Tag int64
	// EventID is the Event-Id header value; HasEventID tells if it was sent.
	EventID    string
	HasEventID bool
	// EventType is the Event-Type header value; HasEventType tells if it was sent.
	EventType    string
	HasEventType bool
	// Text is the message body, unmodified.
	Text []byte

	expires int64
	// cost is what the store accounts for the message besides its
	// renderings; store is nil for synthetic messages, which are not
	// accounted.
	cost  int64
	store *Store

	// first is the first rendering made: subscribers of one handler share
	// a formatter, so most lookups end here without a lock.
	first    atomic.Pointer[rendering]
	renderMu sync.Mutex
	renders  []*rendering
	// renderCost is what the renderings kept are accounted; freed is set
	// once the store released the message's bytes. Both are guarded by
	// renderMu.
	renderCost int64
	freed      bool
}

// renderingCost is what a kept rendering is accounted besides its bytes.
const renderingCost = 64

// rendering is the output of one formatter for a message.
type rendering struct {
	formatter Formatter
	out       []byte
}

// Formatter turns a message into the bytes one kind of subscriber writes.
// Implementations must be comparable (pointers) and safe for concurrent use.
type Formatter interface {
	Format(msg *Message) []byte
}

// Rendered returns f's output for m, computing it once: every subscriber
// that shares f shares the bytes. Kept renderings count against the
// store's memory cap (docs/PROTOCOL.md §1.7).
func (m *Message) Rendered(f Formatter) []byte {
	if r := m.first.Load(); r != nil && r.formatter == f {
		return r.out
	}
	m.renderMu.Lock()
	defer m.renderMu.Unlock()
	for _, r := range m.renders {
		if r.formatter == f {
			return r.out
		}
	}
	out := f.Format(m)
	if m.store != nil {
		// A rendering is kept only while the memory cap has room for it
		// and the message is still accounted; otherwise every caller
		// formats its own.
		cost := renderingCost + int64(len(out))
		if m.freed || !m.store.reserve(cost) {
			return out
		}
		m.renderCost += cost
	}
	r := &rendering{formatter: f, out: out}
	m.renders = append(m.renders, r)
	m.first.CompareAndSwap(nil, r)
	return r.out
}

// free marks m released by the store and returns what it was accounted,
// renderings included.
func (m *Message) free() int64 {
	m.renderMu.Lock()
	defer m.renderMu.Unlock()
	m.freed = true
	return m.cost + m.renderCost
}

// NewSyntheticMessage builds a ping, channel-deleted or timed-out message.
func NewSyntheticMessage(id int64, channel string, text []byte) *Message {
	return &Message{ID: id, Channel: channel, Text: text}
}
