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
	// GapMessageID is the gap signal's message (docs/PROTOCOL.md §11).
	GapMessageID = -4
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
	// acct is what the store accounts for the message; nil for synthetic
	// messages, which are not accounted.
	acct  *account
	store *Store

	// first is the first rendering made: subscribers of one handler share
	// a formatter, so most lookups end here without a lock.
	first    atomic.Pointer[rendering]
	renderMu sync.Mutex
	renders  []*rendering
}

// account is the accounted size of one message, renderings included. The
// trash keeps it, not the message, so a message no subscriber holds any
// more is garbage while its bytes stay accounted.
type account struct {
	mu    sync.Mutex
	cost  int64
	freed bool
}

// add accounts n more bytes unless the store already freed the message.
func (a *account) add(s *Store, n int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.freed || !s.reserve(n) {
		return false
	}
	a.cost += n
	return true
}

// free marks the message released by the store and returns its cost.
func (a *account) free() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.freed = true
	return a.cost
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
	// A rendering is kept only while the memory cap has room for it and
	// the message is still accounted; otherwise every caller formats its
	// own.
	if m.acct != nil && !m.acct.add(m.store, renderingCost+int64(len(out))) {
		return out
	}
	r := &rendering{formatter: f, out: out}
	m.renders = append(m.renders, r)
	m.first.CompareAndSwap(nil, r)
	return r.out
}

// NewSyntheticMessage builds a ping, channel-deleted or timed-out message.
func NewSyntheticMessage(id int64, channel string, text []byte) *Message {
	return &Message{ID: id, Channel: channel, Text: text}
}
