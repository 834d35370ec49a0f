//go:build linux

package main

import "time"

// appendScript is the broker's publish, copied from appendScript in
// pushstream/redisbroker/script.go (this module does not import the
// plugin; TestBenchScriptIsTheBrokers there keeps the two equal).
//
// KEYS: log, clock, channel, sequence. ARGV: op (p or d), channel id, text, event
// id, event type, flags (three 0/1: has event id, has event type, store),
// message_ttl in ms, channel key expiry in ms, node id.
// It returns the entry's stream id (readers take the rest from the entry).
const appendScript = `
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
`

// What the broker passes with a publish, at the plugin's defaults.
const (
	// opPublish is the script's operation for a publish.
	opPublish = "p"
	// messageTTL is message_ttl's default; the stream is trimmed to it.
	messageTTL = 30 * time.Minute
	// channelInactivity is channel_inactivity_time's default.
	channelInactivity = 30 * time.Second
	// node stands for the id of the publishing process.
	node = "bench-node"
)

// channelExpiry is the channel key's expiry as appendEntry computes it.
const channelExpiry = 2 * (messageTTL + channelInactivity + time.Minute)

// The reader's XREAD, as the brief of issue 11 gives it.
const (
	// readCount is the COUNT of one XREAD (the broker's readBatch).
	readCount = 512
	// readBlock is the BLOCK of one XREAD.
	readBlock = time.Second
)

// publication is one caller's publish: the script's keys and the message.
type publication struct {
	// keys are the log, clock, channel and sequence keys.
	keys []string
	// channel is the channel id.
	channel string
	// text is the message.
	text []byte
}

// newPublication returns the publish of text to channel under the
// broker's default key prefix.
func newPublication(channel string, text []byte) publication {
	const prefix = "pushstream:"
	return publication{
		keys:    []string{logKey, prefix + "clock", prefix + "channel:" + channel, prefix + "sequence"},
		channel: channel,
		text:    text,
	}
}

// logKey is the stream every publish is appended to.
const logKey = "pushstream:log"
