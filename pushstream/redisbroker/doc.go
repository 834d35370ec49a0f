// Package redisbroker shares one set of push stream channels between
// several processes through Redis: each process keeps its own
// engine.Store, with its own subscribers, and the broker makes every
// store hold the same channels and messages.
//
// The model is a replicated ordered log. Every publish and delete runs
// one Lua script that atomically gives the message its id in its channel,
// its time and its tag (from Redis's clock, so every process agrees) and
// appends an entry to one Redis stream, trimmed to message_ttl. Every
// process reads the stream from its last entry and applies each entry to
// its store (engine.Store.PublishStamped), which delivers to the local
// subscribers, stores, trims and expires as in one process. A process
// that starts reads the stream from its beginning and so has the stored
// messages; one that lost Redis resumes after its last entry: nothing
// missed, nothing twice.
//
// Subscriber counts are per process; each keeps its counts in Redis under
// keys that expire unless a heartbeat refreshes them, and adds the counts
// of the other live processes to its statistics.
//
// The package knows nothing of HTTP or Caddy; the `push_stream.brokers.redis`
// Caddy module configures it.
package redisbroker
