// Package scenarios is the behavioural test suite of the push stream
// plugin: the acceptance scenarios of docs/SCENARIOS.md and the plugin's
// own guarantees, run against real Caddy processes on loopback with real
// clients (raw sockets, net/http, gorilla/websocket, Node's eventsource
// and ws, Chromium in the examples). Every test starts its own Caddy,
// built once from cmd/caddy, on ports it picks itself, so tests run
// in parallel and each starts on an empty store. The package holds tests
// only.
package scenarios
