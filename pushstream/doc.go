// Package pushstream is the nginx push stream module rebuilt for Caddy:
// the Caddy modules that speak its wire protocol, the `push_stream` app
// and the subscriber, publisher and statistics HTTP handlers; and for
// operators, the Prometheus metrics, the operator log, the health check
// and the dashboard (README.md, "Operating it").
//
// The plugin is layered, each package importing only those below
// it (doc_test.go checks this):
//
//   - pushstream (this package): the Caddy modules; requests become engine
//     calls, engine messages become bytes through wire and transport;
//   - wire: the protocol's bytes (paths, templates, formats, frames);
//   - engine: channels, messages, subscribers and fan-out, with no HTTP,
//     Caddy or logging;
//   - transport: subscribers on hijacked connections, driven through a
//     Session this package implements;
//   - redisbroker: the engine shared by several processes through Redis,
//     beside wire and transport, above the engine only (and internal/oplog,
//     the operator log's rate limit, which imports nothing of ours).
package pushstream
