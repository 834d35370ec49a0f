package scenarios_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"testing"
)

// realClientConfig serves an eventsource and a websocket location beside
// the baseline handlers; both end subscribers after a short TTL.
var realClientConfig = config{Site: `
	@ev path_regexp ev ^/ev/(.*)$
	push_stream_subscriber @ev eventsource {
		channels_path {re.ev.1}
		subscriber_connection_ttl 1s
	}
	@ws path_regexp ws ^/ws/(.*)$
	push_stream_websocket @ws {
		channels_path {re.ws.1}
		websocket_allow_publish on
		subscriber_connection_ttl 2s
	}
`}

// runNodeClient runs one of testdata/node's clients and decodes its
// report. The clients need `npm ci` in testdata/node (.ci/run does it).
func runNodeClient(t *testing.T, script, channel string, report any) {
	t.Helper()
	if _, err := os.Stat("testdata/node/node_modules"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("testdata/node/node_modules is missing: run npm ci in scenarios/testdata/node")
		}
		t.Skip("real-client tests need: (cd scenarios/testdata/node && npm ci)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit+10e9)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, serverOf(t).baseURL, channel)
	cmd.Dir = "testdata/node"
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v", script, err)
	}
	if err := json.Unmarshal(out, report); err != nil {
		t.Fatalf("node %s report %q: %v", script, out, err)
	}
}

// TestRealClientEventSource: a WHATWG EventSource implementation nobody
// here wrote receives messages with ids and event types, reconnects after
// the server ends the stream, and resumes from Last-Event-ID without loss
// or duplicates (docs/PROTOCOL.md §6.4).
func TestRealClientEventSource(t *testing.T) {
	t.Parallel()
	load(t, realClientConfig)
	type event struct{ Data, ID, Type string }
	var report struct {
		Error    string
		Received []event
		Opens    int
	}
	runNodeClient(t, "eventsource_client.mjs", channelID(t), &report)
	want := []event{{"first", "1", "note"}, {"second", "2", "note"}, {"while away", "3", "note"}}
	if report.Error != "" || !reflect.DeepEqual(report.Received, want) || report.Opens < 2 {
		t.Fatalf("report %+v, want received %+v after a reconnection", report, want)
	}
}

// TestRealClientWebSocket: the npm ws client receives a message published
// over HTTP, publishes one itself and gets it back, and sees the server
// close the connection at TTL (docs/PROTOCOL.md §6.5).
func TestRealClientWebSocket(t *testing.T) {
	t.Parallel()
	load(t, realClientConfig)
	var report struct {
		Error     string
		Received  []string
		CloseCode int
	}
	runNodeClient(t, "websocket_client.mjs", channelID(t), &report)
	want := []string{"from http", "from websocket"}
	if report.Error != "" || !reflect.DeepEqual(report.Received, want) {
		t.Fatalf("report %+v, want %v", report, want)
	}
	// "\x88\x00" carries no status code: RFC 6455 reports 1005.
	if report.CloseCode != 1005 {
		t.Fatalf("close code %d, want 1005", report.CloseCode)
	}
}
