package redisbroker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// appendScript appends one publish or delete to the log, atomically with
// what it assigns (docs/PROTOCOL.md §1.3): a publish gets the channel's
// next id, Redis's current second and the tag of that second across every
// channel; a delete resets the channel's ids, so the channel published
// next starts at 1 as in one process. The stream keeps what may still be
// stored: entries older than message_ttl are trimmed.
//
// Every entry is numbered (field s) by one counter, so a reader sees a
// gap: entries trimmed before it read them.
//
// KEYS: log, clock, channel, sequence. ARGV: op (p or d), channel id, text, event
// id, event type, flags (three 0/1: has event id, has event type, store),
// message_ttl in ms, channel key expiry in ms, node id.
// It returns the entry's stream id (readers take the rest from the entry).
var appendScript = redis.NewScript(`
local now = redis.call('TIME')
local sec = tonumber(now[1])
local ms = sec * 1000 + math.floor(tonumber(now[2]) / 1000)
local minid = tostring(ms - tonumber(ARGV[7]))
local seq = redis.call('INCR', KEYS[4])
if ARGV[1] == 'd' then
	redis.call('DEL', KEYS[3])
	return redis.call('XADD', KEYS[1], 'MINID', minid, '*', 'op', 'd', 'ch', ARGV[2], 'text', ARGV[3], 'n', ARGV[9], 's', seq)
end
local clock = redis.call('HMGET', KEYS[2], 'sec', 'tag')
local tag = 1
if tonumber(clock[1]) == sec then
	tag = tonumber(clock[2]) + 1
end
redis.call('HSET', KEYS[2], 'sec', sec, 'tag', tag)
local id = redis.call('HINCRBY', KEYS[3], 'id', 1)
redis.call('PEXPIRE', KEYS[3], ARGV[8])
return redis.call('XADD', KEYS[1], 'MINID', minid, '*', 'op', 'p', 'ch', ARGV[2], 'id', id, 't', sec, 'tag', tag,
	'text', ARGV[3], 'eid', ARGV[4], 'ety', ARGV[5], 'f', ARGV[6], 'n', ARGV[9], 's', seq)
`)

// Operations of log entries.
const (
	opPublish = "p"
	opDelete  = "d"
)

// appendEntry runs appendScript and returns the entry's stream id. node
// is the id of the process that waits for the entry, or empty.
func appendEntry(ctx context.Context, client *redis.Client, k keys, settings *engine.Settings, op, channel string, text []byte, opts engine.PublishOptions, node string) (streamID, error) {
	ttl := settings.MessageTTL
	// A channel's ids outlive its messages and its inactivity time, as a
	// channel in one process lives while it has either.
	expiry := 2 * (ttl + settings.ChannelInactivityTime + time.Minute)
	flags := []byte{flag(opts.HasEventID), flag(opts.HasEventType), flag(opts.Store)}
	raw, err := appendScript.Run(ctx, client,
		[]string{k.log(), k.clock(), k.channel(channel), k.sequence()},
		op, channel, text, opts.EventID, opts.EventType, flags,
		ttl.Milliseconds(), expiry.Milliseconds(), node,
	).Text()
	if err != nil {
		return streamID{}, fmt.Errorf("%w: %v", engine.ErrUnavailable, err)
	}
	id, ok := parseStreamID(raw)
	if !ok {
		return streamID{}, fmt.Errorf("%w: unexpected stream id %q", engine.ErrUnavailable, raw)
	}
	return id, nil
}

func flag(b bool) byte {
	if b {
		return '1'
	}
	return '0'
}

// streamID is a Redis stream entry id, ms-seq.
type streamID struct {
	ms, seq uint64
}

// parseStreamID parses "ms-seq".
func parseStreamID(s string) (streamID, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		ms, err1 := strconv.ParseUint(s[:i], 10, 64)
		seq, err2 := strconv.ParseUint(s[i+1:], 10, 64)
		return streamID{ms, seq}, err1 == nil && err2 == nil
	}
	return streamID{}, false
}

// String formats the id as Redis does.
func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// less tells whether id comes before other in the stream.
func (id streamID) less(other streamID) bool {
	return id.ms < other.ms || id.ms == other.ms && id.seq < other.seq
}
