// Package pushstream is the nginx push stream module rebuilt for Caddy:
// the channel store (channels, stored messages, subscribers, sweeps and
// the memory cap) and the Caddy modules that speak its wire protocol —
// the `push_stream` app and the subscriber, publisher and statistics
// HTTP handlers.
package pushstream
