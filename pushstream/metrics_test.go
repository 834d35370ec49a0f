package pushstream

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// TestRegisterMetricsTwice registers the collectors with two registries,
// as two configs do, and twice with one, as two apps of a config would:
// the second registration is not an error.
func TestRegisterMetricsTwice(t *testing.T) {
	t.Parallel()
	for range 2 {
		reg := prometheus.NewPedanticRegistry()
		for range 2 {
			if err := registerMetrics(reg, engine.NewStore(engine.DefaultSettings(), nil)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestStoreCollector reads a store's figures through a pedantic registry,
// which checks them against the descriptions.
func TestStoreCollector(t *testing.T) {
	store := engine.NewStore(engine.DefaultSettings(), nil)
	ch, _, err := store.GetOrCreate("collector")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := store.Register()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Subscribe(sub, ch, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Publish(ch, []byte("hello"), engine.PublishOptions{Store: true}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(storeCollector{store}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP caddy_push_stream_deliveries_total Messages queued to subscribers: one per subscriber a published message was handed to (events channel left out).
# TYPE caddy_push_stream_deliveries_total counter
caddy_push_stream_deliveries_total 1
# HELP caddy_push_stream_messages_published_total Messages published, the statistics' published_messages (events channel left out).
# TYPE caddy_push_stream_messages_published_total counter
caddy_push_stream_messages_published_total 1
# HELP caddy_push_stream_messages_stored Messages stored in channels, the statistics' stored_messages (events channel left out).
# TYPE caddy_push_stream_messages_stored gauge
caddy_push_stream_messages_stored 1
# HELP caddy_push_stream_subscriptions Subscriptions: the sum over channels of their subscribers (a subscriber of several channels counts once per channel).
# TYPE caddy_push_stream_subscriptions gauge
caddy_push_stream_subscriptions 1
`
	names := []string{"caddy_push_stream_deliveries_total", "caddy_push_stream_messages_published_total", "caddy_push_stream_messages_stored", "caddy_push_stream_subscriptions"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(storeCollector{store}, "caddy_push_stream_channels"); got != 2 {
		t.Fatalf("caddy_push_stream_channels has %d series, want normal and wildcard", got)
	}
	if got := testutil.CollectAndCount(storeCollector{store}, "caddy_push_stream_broker_up"); got != 0 {
		t.Fatalf("the memory store reports a broker")
	}
}

// TestClosedReason maps every end reason of the handlers and the
// transport to a metric reason.
func TestClosedReason(t *testing.T) {
	t.Parallel()
	for reason, want := range map[string]string{
		endSlowQueue:              closedSlow,
		"too slow: write stalled": closedSlow,
		endTTL:                    closedTTL,
		endDeleted:                closedDeleted,
		endShutdown:               closedShutdown,
		endOverLimit:              closedOverLimit,
		endAnswered:               closedAnswered,
		endClientGone:             closedClientGone,
		endWriteFail:              closedClientGone,
		"ping write failed":       closedClientGone,
		"websocket closed":        closedClientGone,
	} {
		if got := closedReason(reason); got != want {
			t.Errorf("closedReason(%q) = %q, want %q", reason, got, want)
		}
	}
}
