package pushstream

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport"
)

// The plugin's Prometheus metrics (README.md, "Operating it"). They are
// created once per process and registered with each config's registry,
// so counters survive reloads; the store's figures are read at scrape
// time. No metric has a channel id as a label: ids are unbounded and may
// carry user data (the statistics location gives per-channel figures).

const metricsPrefix = "caddy_push_stream_"

// Subscriber end reasons, the `reason` label of
// caddy_push_stream_subscribers_closed_total.
const (
	closedSlow       = "slow"
	closedTTL        = "ttl"
	closedDeleted    = "deleted"
	closedShutdown   = "shutdown"
	closedClientGone = "client_gone"
	closedOverLimit  = "over_limit"
	closedAnswered   = "answered"
)

// Publish refusal reasons, the `reason` label of
// caddy_push_stream_publishes_rejected_total.
const (
	rejectedNoMemory   = "no_memory"
	rejectedLimits     = "limits"
	rejectedBadRequest = "bad_request"
)

// waitingModes are the modes whose subscribers wait for messages, the
// `mode` label of caddy_push_stream_subscribers; polling never waits.
var waitingModes = []string{ModeStreaming, ModeEventSource, ModeWebSocket, ModeLongPolling}

// modeSubscribers counts the waiting subscribers of each mode.
var modeSubscribers = func() map[string]*atomic.Int64 {
	m := make(map[string]*atomic.Int64, len(waitingModes))
	for _, mode := range waitingModes {
		m[mode] = new(atomic.Int64)
	}
	return m
}()

var (
	subscribersClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricsPrefix + "subscribers_closed_total",
		Help: "Subscribers that ended, by reason: slow (fell behind), ttl, deleted (their channels were deleted), shutdown, client_gone, over_limit (websocket message too big), answered (long-polls answered with messages).",
	}, []string{"reason"})
	publishesRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricsPrefix + "publishes_rejected_total",
		Help: "Publishes refused, by reason: no_memory (shared_memory_size full), limits (max_body_size, max_channel_id_length, max_number_of_channels) and bad_request (no channel, empty body, a forbidden channel id).",
	}, []string{"reason"})
	publishDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    metricsPrefix + "publish_duration_seconds",
		Help:    "Time to store a published message and queue it to every subscriber of its channels, per publish request.",
		Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	})
)

func init() {
	for _, reason := range []string{closedSlow, closedTTL, closedDeleted, closedShutdown, closedClientGone, closedOverLimit, closedAnswered} {
		subscribersClosed.WithLabelValues(reason)
	}
	for _, reason := range []string{rejectedNoMemory, rejectedLimits, rejectedBadRequest} {
		publishesRejected.WithLabelValues(reason)
	}
}

// registerMetrics registers the plugin's collectors with a config's
// registry (each config has its own), the store collector reading e; a
// collector another module of the config already registered is kept.
func registerMetrics(reg prometheus.Registerer, e engine.Engine) error {
	for _, c := range []prometheus.Collector{storeCollector{e}, subscribersClosed, publishesRejected, publishDuration} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// storeFigures is what the metrics read from an engine besides the
// Engine interface; the in-memory Store has all of it.
type storeFigures interface {
	Deliveries() int64
	Subscriptions() int64
	MemoryUsed() int64
}

func storeDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(metricsPrefix+name, help, labels, nil)
}

var (
	descChannels      = storeDesc("channels", "Live channels, by type: normal or wildcard (wildcard_channel_prefix). The events channel counts as normal.", "type")
	descSubscribers   = storeDesc("subscribers", "Subscribers waiting for messages, by mode: streaming, eventsource, websocket, long-polling.", "mode")
	descSubscriptions = storeDesc("subscriptions", "Subscriptions: the sum over channels of their subscribers (a subscriber of several channels counts once per channel).")
	descPublished     = storeDesc("messages_published_total", "Messages published, the statistics' published_messages (events channel left out).")
	descDeliveries    = storeDesc("deliveries_total", "Messages queued to subscribers: one per subscriber a published message was handed to (events channel left out).")
	descStored        = storeDesc("messages_stored", "Messages stored in channels, the statistics' stored_messages (events channel left out).")
	descMemoryUsed    = storeDesc("memory_used_bytes", "Bytes accounted against shared_memory_size: channels, messages (in the trash too), renderings and subscriptions.")
	descMemoryLimit   = storeDesc("memory_limit_bytes", "The shared_memory_size cap, in bytes.")
	descBrokerUp      = storeDesc("broker_up", "1 while the broker accepts publishes, 0 otherwise; only with a broker configured.")
	descBrokerRTT     = storeDesc("broker_round_trip_seconds", "Round trips to the broker; only with a broker configured.")
)

// storeCollector reports the store's figures at scrape time. It reads
// the store once per scrape instead of one GaugeFunc per figure, so the
// figures of one scrape belong together, and reports the broker's only
// where there is one. A nil e reports the subscribers by mode only.
type storeCollector struct{ e engine.Engine }

// Describe implements prometheus.Collector.
func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descChannels, descSubscribers, descSubscriptions, descPublished, descDeliveries, descStored, descMemoryUsed, descMemoryLimit, descBrokerUp, descBrokerRTT} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, mode := range waitingModes {
		gauge(descSubscribers, float64(modeSubscribers[mode].Load()), mode)
	}
	e := c.e
	if e == nil {
		return
	}
	sum := e.Summary()
	gauge(descChannels, float64(sum.Channels), "normal")
	gauge(descChannels, float64(sum.WildcardChannels), "wildcard")
	gauge(descStored, float64(sum.Stored))
	gauge(descMemoryLimit, float64(e.Settings().SharedMemorySize))
	if f, ok := e.(storeFigures); ok {
		gauge(descSubscriptions, float64(f.Subscriptions()))
		gauge(descMemoryUsed, float64(f.MemoryUsed()))
		ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.CounterValue, float64(f.Deliveries()))
	}
	ch <- prometheus.MustNewConstMetric(descPublished, prometheus.CounterValue, float64(sum.Published))
	if b, ok := e.(engine.BrokerReporter); ok {
		up := 0.0
		if b.BrokerHealth() == nil {
			up = 1
		}
		gauge(descBrokerUp, up)
		count, total := b.BrokerRoundTrips()
		ch <- prometheus.MustNewConstSummary(descBrokerRTT, count, total.Seconds(), nil)
	}
}

// observePublish records the duration of a publish request's engine work.
func observePublish(start time.Time) { publishDuration.Observe(time.Since(start).Seconds()) }

// rejectPublish counts a refused publish.
func rejectPublish(reason string) { publishesRejected.WithLabelValues(reason).Inc() }

// subscriberStarted counts a waiting subscriber of mode.
func subscriberStarted(mode string) {
	if n := modeSubscribers[mode]; n != nil {
		n.Add(1)
	}
}

// subscriberStopped uncounts a waiting subscriber of mode.
func subscriberStopped(mode string) {
	if n := modeSubscribers[mode]; n != nil {
		n.Add(-1)
	}
}

// closedReason maps the end reasons of the handlers and the transport to
// the reasons of caddy_push_stream_subscribers_closed_total.
func closedReason(reason string) string {
	switch reason {
	case endSlowQueue, transport.EndWriteStalled:
		return closedSlow
	case endTTL:
		return closedTTL
	case endDeleted:
		return closedDeleted
	case endShutdown:
		return closedShutdown
	case endOverLimit:
		return closedOverLimit
	case endAnswered:
		return closedAnswered
	}
	// client gone, write failed, ping write failed, websocket closed
	return closedClientGone
}

// Subscriber end reasons the handlers give, those the transport gives
// (transport.End*) among them.
const (
	endSlowQueue       = "too slow: queue full"
	endTTL             = transport.EndTTL
	endDeleted         = "channels deleted"
	endShutdown        = "process exit"
	endOverLimit       = "websocket message over the size limit"
	endAnswered        = "answered"
	endClientGone      = transport.EndClientGone
	endWriteFail       = transport.EndWriteFailed
	endPingFail        = transport.EndPingFailed
	endWebSocketClosed = "websocket closed"
)
