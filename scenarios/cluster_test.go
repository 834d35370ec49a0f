package scenarios_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/internal/redistest"
)

// TestCluster runs three Caddy nodes on one Redis (README.md, "More than
// one Caddy"): a publish on any node reaches every subscriber on every
// node once, with the same id, time, tag, event id and type; resume works
// on any node; delete, statistics and the events channel are
// cluster-wide; a reload that changes the Redis address keeps
// subscribers; a Redis restart answers publishes with 503 meanwhile and
// loses nothing; a node killed with subscribers and a publisher running
// loses nothing for subscribers that reconnect elsewhere. The subtests
// share the nodes and run in order; the kill comes last.
func TestCluster(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, 3, clusterConfig())
	t.Run("EveryMode", func(t *testing.T) { clusterEveryMode(t, cl) })
	t.Run("BatchPublish", func(t *testing.T) { clusterBatchPublish(t, cl) })
	t.Run("Delete", func(t *testing.T) { clusterDelete(t, cl) })
	t.Run("Statistics", func(t *testing.T) { clusterStatistics(t, cl) })
	t.Run("EventsChannel", func(t *testing.T) { clusterEventsChannel(t, cl) })
	t.Run("ReloadChangesAddress", func(t *testing.T) { clusterReload(t, cl) })
	t.Run("RedisRestart", func(t *testing.T) { clusterRedisRestart(t, cl) })
	t.Run("NodeKilled", func(t *testing.T) { clusterNodeKilled(t, cl) })
}

// lines reads `|`-terminated messages from a stream, whatever its chunks.
type lines struct {
	c    *rawConn
	rest string
}

// next returns the next message without its `|`.
func (l *lines) next() string {
	l.c.t.Helper()
	for !strings.Contains(l.rest, "|") {
		l.rest += l.c.mustChunk()
	}
	line, rest, _ := strings.Cut(l.rest, "|")
	l.rest = rest
	return line
}

// streamAt opens a streaming subscriber on node i for path.
func streamAt(t *testing.T, cl *cluster, i int, path string) *lines {
	t.Helper()
	cl.at(t, i)
	c, _ := subscribeOK(t, path)
	return &lines{c: c}
}

// clusterEveryMode: stream, eventsource, websocket and long-polling
// subscribers on different nodes get a publish made on a third with the
// same fields; polling and resume (.bN, Last-Event-ID, If-Modified-Since
// with If-None-Match) work on a node other than the one that served
// before.
func clusterEveryMode(t *testing.T, cl *cluster) {
	id := channelID(t)
	stream := streamAt(t, cl, 0, "/sub/"+id)
	cl.at(t, 1)
	es := openEventSource(t, "/ev/"+id, "")
	lp := dialRaw(t)
	lp.send(http.MethodGet, "/lp/"+id, "")
	cl.at(t, 2)
	ws := wsOpen(t, "/ws/"+id)
	waitSubscribers(t, id, 4)

	cl.at(t, 2)
	res := publish(t, id, "first", "Event-Id", "e1", "Event-Type", "note")
	if got := jsonBody(t, res); num(t, got, "published_messages") != 1 || num(t, got, "subscribers") != 4 {
		t.Fatalf("publish answer %v, want published 1 and the 4 subscribers of 3 nodes", got)
	}
	want := stream.next()
	fields := strings.Split(want, ";")
	if len(fields) != 7 || want != clusterLine(id, 1, fields[2], fields[3], "e1", "note", "first") {
		t.Fatalf("stream on node 0 got %q", want)
	}
	if ev := es.mustNext(t); ev.Data != want || ev.LastEventID != "e1" || ev.Type != "note" {
		t.Fatalf("eventsource on node 1 got %+v, want data %q", ev, want)
	}
	if got := evNextFrame(t, ws); got != want {
		t.Fatalf("websocket on node 2 got %q, want %q", got, want)
	}
	lpHead, lpBody := lp.readResponse()
	if lpBody != want {
		t.Fatalf("long-poll on node 1 got %q, want %q", lpBody, want)
	}

	cl.at(t, 0)
	publish(t, id, "second")
	second := stream.next()
	if fields := strings.Split(second, ";"); len(fields) != 7 || fields[0] != id || fields[1] != "2" || fields[6] != "second" {
		t.Fatalf("stream got %q for the second publish", second)
	}
	if ev := es.mustNext(t); ev.Data != second {
		t.Fatalf("eventsource got %q, want %q", ev.Data, second)
	}
	if got := evNextFrame(t, ws); got != second {
		t.Fatalf("websocket got %q, want %q", got, second)
	}

	ws.send(wsClientFrame(0x81, []byte("from-ws"), wsMask))
	if got := strings.Split(stream.next(), ";"); got[1] != "3" || got[6] != "from-ws" {
		t.Fatalf("stream on node 0 got %q for node 2's websocket client message", got)
	}
	if got := strings.Split(evNextFrame(t, ws), ";"); got[1] != "3" || got[6] != "from-ws" {
		t.Fatalf("the websocket client got %q for its own message", got)
	}
	if ev := es.mustNext(t); !strings.HasSuffix(ev.Data, ";from-ws") {
		t.Fatalf("eventsource got %q for the websocket client message", ev.Data)
	}

	cl.at(t, 2)
	poll := dialRaw(t)
	poll.send(http.MethodGet, "/sub/"+id, "", "X-Nginx-PushStream-Mode: polling",
		"If-Modified-Since: "+lpHead.Header("Last-Modified"), "If-None-Match: "+lpHead.Header("Etag"))
	res2, body := poll.readResponse()
	if res2.Status != http.StatusOK || !strings.HasPrefix(body, second+"|") || !strings.HasSuffix(body, ";from-ws|") {
		t.Fatalf("polling node 2 after node 1's answer: %d %q, want %q then the websocket message", res2.Status, body, second+"|")
	}
	backlog := streamAt(t, cl, 1, "/sub/"+id+".b2")
	if got := backlog.next(); got != second {
		t.Fatalf(".b2 on node 1 got %q, want %q", got, second)
	}
	cl.at(t, 0)
	resumed := openEventSource(t, "/ev/"+id, "e1")
	if ev := resumed.mustNext(t); ev.Data != second {
		t.Fatalf("Last-Event-ID e1 on node 0 got %q, want %q", ev.Data, second)
	}
	if ev := resumed.mustNext(t); !strings.HasSuffix(ev.Data, ";from-ws") {
		t.Fatalf("Last-Event-ID e1 on node 0 then got %q, want the websocket message", ev.Data)
	}
}

// clusterDelete: an admin DELETE on one node ends the subscribers of the
// others with the channel-deleted message, and the channel's ids start
// over.
func clusterDelete(t *testing.T, cl *cluster) {
	id := channelID(t)
	s0 := streamAt(t, cl, 0, "/sub/"+id)
	s1 := streamAt(t, cl, 1, "/sub/"+id)
	publish(t, id, "x")
	s0.next()
	s1.next()
	cl.at(t, 2)
	waitFor(t, "node 2 to hold the channel", func() bool { return statsAnswer(t, id).StatusCode == http.StatusOK })
	expectHeaderOnly(t, do(t, http.MethodDelete, "/pub?id="+id, ""), http.StatusOK, "Channel deleted.")
	for i, s := range []*lines{s0, s1} {
		if got := s.next(); !strings.HasPrefix(got, id+";-2;") || !strings.HasSuffix(got, ";Channel deleted") {
			t.Fatalf("subscriber on node %d got %q, want the channel-deleted message", i, got)
		}
	}
	cl.at(t, 0)
	if got := num(t, jsonBody(t, publish(t, id, "again")), "published_messages"); got != 1 {
		t.Fatalf("published_messages %d after the delete, want 1", got)
	}
}

// clusterStatistics: a channel's subscribers are counted over every live
// node, in its statistics, the list and the summary.
func clusterStatistics(t *testing.T, cl *cluster) {
	id := channelID(t)
	streamAt(t, cl, 0, "/sub/"+id)
	streamAt(t, cl, 1, "/sub/"+id)
	third := streamAt(t, cl, 1, "/sub/"+id)
	cl.at(t, 2)
	publish(t, id, "x")
	waitSubscribers(t, id, 3)
	list := stats(t, "ALL")
	found := false
	for _, item := range list["infos"].([]any) {
		info := item.(map[string]any)
		if info["channel"] == id {
			found = true
			statsCheckInfo(t, info, id, 1, 1, 3)
		}
	}
	if !found {
		t.Fatalf("node 2's list lacks %s: %v", id, list)
	}
	if got := num(t, stats(t, ""), "subscribers"); got < 3 {
		t.Fatalf("summary subscribers %d, want at least 3", got)
	}
	third.c.conn.Close()
	cl.at(t, 0)
	waitSubscribers(t, id, 2)
}

// clusterEventsChannel: the events channel's subscribers on one node see
// what subscribers do on another.
func clusterEventsChannel(t *testing.T, cl *cluster) {
	events := streamAt(t, cl, 0, "/events/cluster_events")
	id := channelID(t)
	streamAt(t, cl, 1, "/sub/"+id)
	for _, want := range []string{
		`{"type": "channel_created", "channel": "` + id + `"}`,
		`{"type": "client_subscribed", "channel": "` + id + `"}`,
	} {
		for got := events.next(); got != want; got = events.next() {
		}
	}
}

// clusterReload: a node reloaded with another spelling of the Redis
// address reconnects and its subscriber keeps receiving.
func clusterReload(t *testing.T, cl *cluster) {
	id := channelID(t)
	sub := streamAt(t, cl, 1, "/sub/"+id)
	cl.at(t, 0)
	publish(t, id, "before")
	sub.next()
	c := cl.cfg
	c.Global = mergeSettings(c.Global, map[string]string{"broker": clusterBroker(strings.Replace(cl.redis.Addr, "127.0.0.1", "localhost", 1))})
	node := cl.nodes[1]
	node.reload(t, node.adapt(t, c.Caddyfile(), c.Timing))
	if n := strings.Count(node.log.String(), "sharing channels through Redis"); n != 2 {
		t.Fatalf("node 1 connected to Redis %d times, want 2 (start, reload)", n)
	}
	publish(t, id, "after")
	if got := sub.next(); !strings.HasSuffix(got, ";after") {
		t.Fatalf("subscriber got %q after the reload", got)
	}
}

// clusterRedisRestart: with Redis down a publish answers 503 with a body
// saying so, the statistics show the outage, subscribers stay connected;
// once Redis is back delivery resumes by itself, and the failed publish
// took no id.
func clusterRedisRestart(t *testing.T, cl *cluster) {
	id := channelID(t)
	s0 := streamAt(t, cl, 0, "/sub/"+id)
	s1 := streamAt(t, cl, 1, "/sub/"+id)
	cl.at(t, 2)
	publish(t, id, "before")
	s0.next()
	s1.next()

	cl.redis.Kill()
	res := do(t, http.MethodPost, "/pub?id="+id, "during")
	if res.StatusCode != http.StatusServiceUnavailable || explainHeader(res) != "Broker unavailable." || !strings.Contains(res.body, "Redis cannot be reached") {
		t.Fatalf("publish with Redis down: %d %q %q", res.StatusCode, explainHeader(res), res.body)
	}
	if got := res.Header.Get("Retry-After"); got != "1" {
		t.Fatalf("publish with Redis down: Retry-After %q, want 1", got)
	}
	del := do(t, http.MethodDelete, "/pub?id="+id, "")
	if del.StatusCode != http.StatusServiceUnavailable || explainHeader(del) != "Broker unavailable." || !strings.Contains(del.body, "nothing was deleted") {
		t.Fatalf("delete with Redis down: %d %q %q", del.StatusCode, explainHeader(del), del.body)
	}
	for i := range cl.nodes {
		cl.at(t, i)
		waitBroker(t, "redis unreachable")
	}
	cl.redis.Restart()
	for i := range cl.nodes {
		cl.at(t, i)
		waitBroker(t, "redis connected")
	}
	if got := num(t, jsonBody(t, publish(t, id, "after")), "published_messages"); got != 2 {
		t.Fatalf("published_messages %d after the restart, want 2", got)
	}
	for i, s := range []*lines{s0, s1} {
		if got := s.next(); !strings.HasPrefix(got, id+";2;") || !strings.HasSuffix(got, ";after") {
			t.Fatalf("subscriber on node %d got %q after the restart", i, got)
		}
	}
	for _, want := range []string{"Redis broker unreachable", "Redis broker reachable again"} {
		if !strings.Contains(cl.nodes[0].log.String(), want) {
			t.Errorf("node 0's log lacks %q", want)
		}
	}
}

// clusterNodeKilled: node 2 is killed (SIGKILL) while its eventsource
// subscriber reads and a publisher publishes on node 0; the subscriber
// reconnects to node 1 with its Last-Event-ID and gets every message
// once, in order; node 2's subscriber count ages out.
func clusterNodeKilled(t *testing.T, cl *cluster) {
	const total, killAfter = 60, 20
	id := channelID(t)
	cl.at(t, 2)
	es := openEventSource(t, "/ev/"+id, "")
	waitSubscribers(t, id, 1)

	publisher := cl.nodes[0]
	failed := make(chan error, 1)
	go func() {
		defer close(failed)
		for n := 1; n <= total; n++ {
			req, err := http.NewRequest(http.MethodPost, publisher.baseURL+"/pub?id="+id, strings.NewReader(strconv.Itoa(n)))
			if err != nil {
				failed <- err
				return
			}
			req.Header.Set("Event-Id", strconv.Itoa(n))
			res, err := publisher.client.Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
			}
			if err != nil {
				failed <- fmt.Errorf("publish %d: %w", n, err)
				return
			}
		}
	}()

	var got []string
	record := func(data string) {
		fields := strings.Split(data, ";")
		got = append(got, fields[len(fields)-1])
	}
	for len(got) < killAfter {
		record(es.mustNext(t).Data)
	}
	_ = cl.nodes[2].cmd.Process.Kill()
	<-cl.nodes[2].exited
	for {
		ev, err := es.next()
		if err != nil {
			break
		}
		record(ev.Data)
	}
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
	cl.at(t, 1)
	resumed := openEventSource(t, "/ev/"+id, got[len(got)-1])
	for len(got) < total {
		ev, err := resumed.next()
		if err != nil {
			t.Fatalf("reading event on node 1 after %q: %v", got, err)
		}
		record(ev.Data)
	}
	for i, text := range got {
		if text != strconv.Itoa(i+1) {
			t.Fatalf("messages %q: lost or duplicated at %d", got, i+1)
		}
	}
	cl.at(t, 0)
	waitSubscribers(t, id, 1)
}

// clusterBatchPublish: a batch (docs/PROTOCOL.md §4.6) published on one
// node goes through the broker like single publishes: a subscriber on
// another node gets each message, numbered in the cluster's sequence.
func clusterBatchPublish(t *testing.T, cl *cluster) {
	a, b := channelID(t), channelID(t)
	sa := streamAt(t, cl, 1, "/sub/"+a)
	sb := streamAt(t, cl, 2, "/sub/"+b)
	cl.at(t, 0)
	publish(t, a, "single")
	if got := sa.next(); !strings.HasPrefix(got, a+";1;") {
		t.Fatalf("node 1 got %q for the single publish", got)
	}
	answer := publishBatch(t, `[{"channels": [`+quoted(a)+`, `+quoted(b)+`], "text": "batched", "event_id": "e2"}]`)
	if len(answer.Messages) != 1 || answer.Messages[0].Status != http.StatusOK {
		t.Fatalf("batch answer %+v", answer.Messages)
	}
	if got := sa.next(); !strings.HasPrefix(got, a+";2;") || !strings.HasSuffix(got, ";e2;;batched") {
		t.Fatalf("node 1 got %q for the batch, want message 2 of %s", got, a)
	}
	if got := sb.next(); !strings.HasPrefix(got, b+";1;") || !strings.HasSuffix(got, ";e2;;batched") {
		t.Fatalf("node 2 got %q for the batch, want message 1 of %s", got, b)
	}
}

// TestClusterRefusedCommand: a Redis that answers but refuses the
// broker's script (an ACL user without EVAL and EVALSHA) gets the same 503
// as an outage, with a body that says Redis may have refused the command
// (a batch message: 503 with the same explain), and the node's log names
// Redis's error, so an operator can tell a misconfiguration from an
// outage. Nothing is published.
func TestClusterRefusedCommand(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	redisCommand(t, redis.Addr, "ACL SETUSER pusher on >secret ~* &* +@all -eval -evalsha")
	c := clusterConfig()
	c.Global = mergeSettings(c.Global, map[string]string{"broker": fmt.Sprintf(
		"redis %s {\n\t\t\tusername pusher\n\t\t\tpassword secret\n\t\t\theartbeat_interval %s\n\t\t}", redis.Addr, clusterHeartbeat)})
	node := startNode(t, c)
	servers.Store(t.Name(), node)
	waitBroker(t, "redis connected")

	id := channelID(t)
	res := do(t, http.MethodPost, "/pub?id="+id, "refused")
	if res.StatusCode != http.StatusServiceUnavailable || explainHeader(res) != "Broker unavailable." ||
		!strings.Contains(res.body, "refused the command, nothing was published") {
		t.Fatalf("publish refused by Redis: %d %q %q", res.StatusCode, explainHeader(res), res.body)
	}
	// In a batch, the message gets the same status and explain.
	if m := publishBatch(t, `[{"channels": [`+quoted(id)+`], "text": "refused too"}]`).Messages; len(m) != 1 ||
		m[0].Status != http.StatusServiceUnavailable || m[0].Explain != "Broker unavailable." {
		t.Fatalf("batch refused by Redis: %+v", m)
	}
	waitFor(t, "the refusal in the node's log", func() bool {
		log := node.log.String()
		return strings.Contains(log, "the Redis broker failed") && strings.Contains(log, "NOPERM")
	})
	// The channel the request created stays (docs/PROTOCOL.md §4.2), empty.
	if got := num(t, jsonBody(t, do(t, http.MethodGet, "/pub?id="+id, "")), "published_messages"); got != 0 {
		t.Fatalf("published_messages %d after the refused publish, want 0", got)
	}
}

// redisCommand sends one inline command to the Redis at addr and fails t
// unless Redis answers +OK.
func redisCommand(t *testing.T, addr, command string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := conn.Write([]byte(command + "\r\n")); err != nil {
		t.Fatal(err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || reply != "+OK\r\n" {
		t.Fatalf("redis %q: %q, %v", command, reply, err)
	}
}
