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
	cost    int64

	// first is the first rendering made: subscribers of one handler share
	// a formatter, so most lookups end here without a lock.
	first    atomic.Pointer[rendering]
	renderMu sync.Mutex
	renders  []*rendering
}

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
// that shares f shares the bytes.
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
	r := &rendering{formatter: f, out: f.Format(m)}
	m.renders = append(m.renders, r)
	m.first.CompareAndSwap(nil, r)
	return r.out
}

// NewSyntheticMessage builds a ping, channel-deleted or timed-out message.
func NewSyntheticMessage(id int64, channel string, text []byte) *Message {
	return &Message{ID: id, Channel: channel, Text: text}
}
