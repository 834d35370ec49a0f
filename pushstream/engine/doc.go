// Package engine is the channel store of the push stream module: channels,
// stored messages, subscribers and the fan-out of a publish to them, the
// memory cap, the limits and the sweeps that expire messages and collect
// channels (docs/PROTOCOL.md §1). It knows nothing of HTTP, Caddy or
// logging: callers hand it ids, texts and settings, and take deliveries
// from their subscribers' queues.
//
// Engine is the face the HTTP handlers use. Store implements it in
// memory for one process; a store that shares channels between processes
// through a broker implements the same interface.
package engine
