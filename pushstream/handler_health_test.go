package pushstream

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// brokerStore is a store with a broker, as a broker-backed engine reports
// it through engine.BrokerReporter.
type brokerStore struct {
	*engine.Store
	err error
}

func (b brokerStore) BrokerHealth() error { return b.err }

func (b brokerStore) BrokerRoundTrips() (uint64, time.Duration) { return 4, 2 * time.Millisecond }

// TestHealthAnswer answers for a store alone and for one with a broker
// up or down.
func TestHealthAnswer(t *testing.T) {
	t.Parallel()
	store := engine.NewStore(engine.DefaultSettings(), nil)
	for _, tc := range []struct {
		name   string
		e      engine.Engine
		status int
		body   string
	}{
		{"store", store, http.StatusOK, `{"status": "ok"}`},
		{"broker up", brokerStore{Store: store}, http.StatusOK, `{"status": "ok", "broker": "ok"}`},
		{
			"broker down",
			brokerStore{Store: store, err: errors.New(`dial "redis": refused`)},
			http.StatusServiceUnavailable,
			`{"status": "unavailable", "reason": "broker: dial \"redis\": refused", "broker": "dial \"redis\": refused"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := healthAnswer(tc.e)
			if status != tc.status || string(body) != tc.body+"\n" {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.status, tc.body)
			}
		})
	}
}

// TestBrokerMetrics reports a broker's state and round trips where the
// engine has a broker.
func TestBrokerMetrics(t *testing.T) {
	broker := brokerStore{Store: engine.NewStore(engine.DefaultSettings(), nil), err: errors.New("down")}
	want := `
# HELP caddy_push_stream_broker_up 1 while the broker accepts publishes, 0 otherwise; only with a broker configured.
# TYPE caddy_push_stream_broker_up gauge
caddy_push_stream_broker_up 0
# HELP caddy_push_stream_broker_round_trip_seconds Round trips to the broker; only with a broker configured.
# TYPE caddy_push_stream_broker_round_trip_seconds summary
caddy_push_stream_broker_round_trip_seconds_sum 0.002
caddy_push_stream_broker_round_trip_seconds_count 4
`
	if err := testutil.CollectAndCompare(storeCollector{broker}, strings.NewReader(want), "caddy_push_stream_broker_up", "caddy_push_stream_broker_round_trip_seconds"); err != nil {
		t.Fatal(err)
	}
}
