package redisbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/oplog"
)

// applyWait bounds how long a publish waits for its entry to come back
// from the log into the local store. Past it the publish is answered
// anyway: the message is in the log and every store applies it when it
// can.
const applyWait = 10 * time.Second

// ApplyRefusals is the operator-log warning for entries of the shared
// log this process's store refused (its memory cap full): written at
// most once a minute, with a count. The app's flusher writes what it
// holds (package pushstream).
var ApplyRefusals = &oplog.Warning{
	Message: "messages of the shared log could not be applied to this process's store",
	Period:  time.Minute,
	Now:     time.Now,
}

// Engine is an engine.Engine whose publishes and deletes go through the
// Redis log, and whose subscriber counts include the other processes'.
// Everything else is its local store's.
type Engine struct {
	*engine.Store
	logger *zap.Logger
	node   string
	cursor *cursor

	mu   sync.Mutex
	link *link

	state atomic.Int32

	roundTrips     atomic.Int64
	roundTripNanos atomic.Int64
	gaps           atomic.Int64
	lastSeq        atomic.Int64
	others         atomic.Pointer[presence]
	events         *forwarder
}

// Broker states (Engine.Connected).
const (
	stateConnecting int32 = iota
	stateUp
	stateDown
)

// link is one connection to Redis and the goroutines that use it.
type link struct {
	cfg    Config
	keys   keys
	client *redis.Client
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// New returns a broker engine around store, not connected yet: publishes
// fail with engine.ErrUnavailable until Connect. It changes nothing in
// the store until Connect.
func New(store *engine.Store, logger *zap.Logger) *Engine {
	node := make([]byte, 8)
	_, _ = rand.Read(node)
	e := &Engine{Store: store, logger: logger, node: hex.EncodeToString(node), cursor: newCursor()}
	e.others.Store(&presence{})
	e.events = newForwarder(e)
	return e
}

// Node returns the id this process has among the broker's processes.
func (e *Engine) Node() string { return e.node }

// Connect makes the broker use Redis as cfg says, from now on: a previous
// connection is closed first, and the log is read on from the last entry
// applied, so a changed address loses nothing that the new server's log
// holds. From then on the store's events channel messages go through the
// log (engine.Store.SetEventSink) until Close. It does not wait for Redis
// to answer.
func (e *Engine) Connect(cfg Config) {
	cfg = cfg.withDefaults()
	e.disconnect()
	e.Store.SetEventSink(e.events.take)
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{cfg: cfg, keys: keys{cfg.KeyPrefix}, client: cfg.newClient(), cancel: cancel}
	e.state.Store(stateConnecting)
	l.done.Add(2)
	go func() {
		defer l.done.Done()
		e.follow(ctx, l.client, l.keys)
	}()
	go func() {
		defer l.done.Done()
		e.heartbeat(ctx, l)
	}()
	e.mu.Lock()
	e.link = l
	e.mu.Unlock()
}

// disconnect closes the current connection, if any, and waits for its
// goroutines: two readers must never apply the log at once.
func (e *Engine) disconnect() {
	e.mu.Lock()
	l := e.link
	e.link = nil
	e.mu.Unlock()
	if l == nil {
		return
	}
	l.cancel()
	// Closing the client ends a read blocked in Redis at once.
	_ = l.client.Close()
	l.done.Wait()
	e.leave(l.cfg)
}

// Close disconnects from Redis, removes this process's subscriber counts
// from it and gives the events channel back to the store. It is safe to
// call more than once.
func (e *Engine) Close() {
	e.Store.SetEventSink(nil)
	e.disconnect()
	e.events.stop()
}

// current returns the connection in use, or nil.
func (e *Engine) current() *link {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.link
}

// Connected tells whether the broker reads the log now: false while
// Redis cannot be reached, when publishes answer engine.ErrUnavailable.
func (e *Engine) Connected() bool { return e.state.Load() == stateUp }

// Gaps returns how many times this process found entries of the log
// missing (trimmed before it read them, or lost by Redis): its
// subscribers missed messages.
func (e *Engine) Gaps() int64 { return e.gaps.Load() }

// lost records that Redis could not be reached, logging the start of an
// outage once.
func (e *Engine) lost(err error) {
	if e.state.Swap(stateDown) == stateDown {
		return
	}
	l := e.current()
	addr := ""
	if l != nil {
		addr = l.cfg.Address
	}
	e.logger.Error("Redis broker unreachable: publishes and deletes answer 503 until it is back; subscribers stay connected",
		zap.String("address", addr), zap.Error(err))
}

// reached records that the log was read, logging the end of an outage.
func (e *Engine) reached() {
	if prev := e.state.Swap(stateUp); prev == stateDown {
		e.logger.Warn("Redis broker reachable again: following the log after the last entry applied",
			zap.String("after", e.cursor.position().String()))
	}
}

// Publish appends the message to the log and returns it once the local
// store applied it. It fails with engine.ErrUnavailable when Redis cannot
// be reached (nothing was published), and with engine.ErrNoMemory when
// the local store refused it (the other processes have it). A message the
// local store did not apply within applyWait is published and returned
// as nil.
func (e *Engine) Publish(ch *engine.Channel, text []byte, opts engine.PublishOptions) (*engine.Message, error) {
	out, err := e.submit(opPublish, ch.ID, text, opts)
	return out.msg, err
}

// PublishAll publishes one message to each channel of chs through the
// log, channel by channel: each publish is atomic, and those before a
// failure stay published. It hides the local store's PublishAll, which
// would publish on this process alone.
func (e *Engine) PublishAll(chs []*engine.Channel, text []byte, opts engine.PublishOptions) ([]*engine.Message, error) {
	msgs := make([]*engine.Message, 0, len(chs))
	for _, ch := range chs {
		msg, err := e.Publish(ch, text, opts)
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// PublishQueued appends a message to the log in the background, after
// those queued before it, for a publisher that must not wait: a
// websocket client's message, read on the poller's goroutine. While Redis
// cannot be reached the message is dropped, as one process drops it when
// its memory cap is full.
func (e *Engine) PublishQueued(ch *engine.Channel, text []byte, opts engine.PublishOptions) {
	e.events.take(ch.ID, text, opts)
}

// Delete appends the delete of ch to the log and reports, once the local
// store applied it, whether the channel was live here. It fails with
// engine.ErrUnavailable when Redis cannot be reached.
func (e *Engine) Delete(ch *engine.Channel, text []byte) (bool, error) {
	out, err := e.submit(opDelete, ch.ID, text, engine.PublishOptions{})
	return out.deleted, err
}

// submit appends one entry and waits for the local store to apply it.
func (e *Engine) submit(op, channel string, text []byte, opts engine.PublishOptions) (outcome, error) {
	l := e.current()
	if l == nil {
		return outcome{}, engine.ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.WriteTimeout+l.cfg.ReadTimeout)
	defer cancel()
	start := time.Now()
	id, err := appendEntry(ctx, l.client, l.keys, e.Store.Settings(), op, channel, text, opts, e.node)
	if err != nil {
		return outcome{}, err
	}
	e.noteRoundTrip(time.Since(start))
	out, ok := e.cursor.wait(id, applyWait)
	if !ok {
		e.logger.Warn("an entry appended to the shared log was not applied here in time", zap.String("entry", id.String()))
		return outcome{deleted: op == opDelete}, nil
	}
	return out, out.err
}

// Info returns ch's statistics with the subscribers of every live process.
func (e *Engine) Info(ch *engine.Channel) engine.ChannelInfo {
	info := e.Store.Info(ch)
	info.Subscribers += e.others.Load().channels[ch.ID]
	return info
}

// Subscribers returns the subscriptions to ch in every live process.
func (e *Engine) Subscribers(ch *engine.Channel) int {
	return e.Store.Subscribers(ch) + e.others.Load().channels[ch.ID]
}

// Summary returns the local store's statistics with the subscribers of
// every live process.
func (e *Engine) Summary() engine.Summary {
	sum := e.Store.Summary()
	sum.Subscribers += e.others.Load().subscribers
	return sum
}

var _ engine.Engine = (*Engine)(nil)
