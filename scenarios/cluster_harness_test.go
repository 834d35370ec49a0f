package scenarios_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/internal/redistest"
)

// A cluster is several Caddy processes sharing their channels through one
// Redis (the `redis` broker). The helpers of the single-process scenarios
// work on one node at a time: at makes a node the server of a test.

// cluster is the Redis server and the Caddy nodes of one test.
type cluster struct {
	redis *redistest.Server
	nodes []*server
	cfg   config
}

// clusterHeartbeat is the nodes' heartbeat: subscriber counts of other
// nodes show within it, and a dead node's disappear within three.
const clusterHeartbeat = "200ms"

// clusterBroker is the global `broker` setting for Redis at addr.
func clusterBroker(addr string) string {
	return fmt.Sprintf("redis %s {\n\t\t\theartbeat_interval %s\n\t\t}", addr, clusterHeartbeat)
}

// startCluster starts Redis and n Caddy nodes running c plus the broker,
// and waits until every node reads the Redis log.
func startCluster(t *testing.T, n int, c config) *cluster {
	t.Helper()
	cl := &cluster{redis: redistest.Start(t)}
	c.Global = mergeSettings(c.Global, map[string]string{"broker": clusterBroker(cl.redis.Addr)})
	cl.cfg = c
	for range n {
		cl.nodes = append(cl.nodes, startNode(t, c))
	}
	for i := range cl.nodes {
		cl.at(t, i)
		waitBroker(t, "redis connected")
	}
	return cl
}

// startNode starts one Caddy process on c, not registered as any test's
// server, retrying on ports taken meanwhile as loadCaddyfile does.
func startNode(t *testing.T, c config) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		srv := newNode(t)
		if srv.start(t, srv.adapt(t, c.Caddyfile(), c.Timing)) {
			return srv
		}
		if attempt == 5 {
			t.Fatalf("Caddy found its ports taken %d times:\n%s", attempt, srv.log)
		}
	}
}

// at makes node i the server of t (and of its subtests without one): the
// requests of the scenario helpers go to it from now on.
func (cl *cluster) at(t testing.TB, i int) *server {
	servers.Store(t.Name(), cl.nodes[i])
	return cl.nodes[i]
}

// brokerState returns the X-PushStream-Broker header of t's node.
func brokerState(t testing.TB) string {
	t.Helper()
	return statsAnswer(t, "").Header.Get("X-PushStream-Broker")
}

// waitBroker waits until t's node reports the broker state want.
func waitBroker(t testing.TB, want string) {
	t.Helper()
	waitFor(t, "the broker to be "+want, func() bool { return brokerState(t) == want })
}

// clusterTemplate shows everything that must agree between nodes.
const clusterTemplate = "~channel~;~id~;~time~;~tag~;~event-id~;~event-type~;~text~"

// clusterLine is what clusterTemplate gives for the message id with text.
func clusterLine(channel string, id int, time, tag, eventID, eventType, text string) string {
	return strings.Join([]string{channel, fmt.Sprint(id), time, tag, eventID, eventType, text}, ";")
}

// clusterConfig is every node's configuration: the baseline with admin
// publisher, stored messages enough for the tests, an events channel, and
// a subscriber location per mode, each with clusterTemplate.
func clusterConfig() config {
	template := map[string]string{"message_template": backquoted(clusterTemplate)}
	plain := mergeSettings(plainSub, template)
	return config{
		Global: map[string]string{
			"max_messages_stored_per_channel": "500",
			"events_channel_id":               "cluster_events",
		},
		PubMode: "admin",
		Pub:     map[string]string{"batch_publish": "on"},
		Sub:     mergeSettings(plain, map[string]string{"message_template": backquoted(clusterTemplate + "|")}),
		Site: subscriberSite("ev", `^/ev/(.*)$`, "eventsource", template) +
			subscriberSite("lp", `^/lp/(.*)$`, "long-polling", plain) +
			handlerSite("push_stream_websocket", "", "ws", "^/ws/(.*)$", mergeSettings(plain, map[string]string{
				"channels_path":           "{re.ws.1}",
				"websocket_allow_publish": "on",
				"store_messages":          "on",
			})) +
			subscriberSite("events", `^/events/(.*)$`, "", mergeSettings(plain, map[string]string{
				"message_template":                    backquoted("~text~|"),
				"allow_connections_to_events_channel": "on",
			})),
	}
}
