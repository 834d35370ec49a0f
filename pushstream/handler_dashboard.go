package pushstream

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

func init() {
	caddy.RegisterModule(DashboardHandler{})
}

// defaultDashboardStatisticsURL is where the dashboard lists channels
// unless configured: the statistics location of the examples, asked for
// every channel.
const defaultDashboardStatisticsURL = "/channels-stats?id=ALL"

// DashboardHandler is the `push_stream_dashboard` handler: a page, embedded
// in the plugin, that shows the channels and the store's figures live.
// The page lists channels from a statistics location, reads the store's
// totals (deliveries and memory, which the statistics lack) from this
// handler with the `figures` query argument, and refreshes at once on
// every event of the events channel when it has an eventsource location
// for it. It fetches nothing from anywhere else. Protect it like the
// statistics location: the channel list it shows is the statistics'.
type DashboardHandler struct {
	// StatisticsURL is the URL, on the dashboard's origin, of a
	// statistics location answering the list of every channel in JSON.
	// Default /channels-stats?id=ALL.
	StatisticsURL string `json:"statistics_url,omitempty"`
	// EventsURL is the URL, on the dashboard's origin, of an eventsource
	// subscriber location on the events channel (events_channel_id, with
	// allow_connections_to_events_channel). Default none: the page
	// refreshes every second only.
	EventsURL string `json:"events_url,omitempty"`

	store engine.Engine
}

// CaddyModule returns the Caddy module information.
func (DashboardHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.push_stream_dashboard",
		New: func() caddy.Module { return new(DashboardHandler) },
	}
}

// Provision takes the store and applies defaults.
func (h *DashboardHandler) Provision(ctx caddy.Context) error {
	var err error
	if h.store, err = loadEngine(ctx); err != nil {
		return err
	}
	if h.StatisticsURL == "" {
		h.StatisticsURL = defaultDashboardStatisticsURL
	}
	return nil
}

// dashboardPage is the page; dashboardCSP allows exactly its own script
// and style, and connections to its origin only.
var (
	//go:embed dashboard/index.html
	dashboardPage []byte
	dashboardCSP  = "default-src 'none'; script-src '" + inlineHash(dashboardPage, "script") +
		"'; style-src '" + inlineHash(dashboardPage, "style") +
		"'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// inlineHash returns the CSP hash source of the first inline element tag
// of page.
func inlineHash(page []byte, tag string) string {
	open, end := []byte("<"+tag+">"), []byte("</"+tag+">")
	i := bytes.Index(page, open)
	j := bytes.Index(page, end)
	if i < 0 || j < i {
		return "none"
	}
	sum := sha256.Sum256(page[i+len(open) : j])
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// ServeHTTP serves the page, or its figures with `?figures`.
func (h *DashboardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	hdr := w.Header()
	setAntiCache(hdr)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeMethodNotAllowed(w, getHeadMethods)
		return nil
	}
	if r.URL.Query().Has("figures") {
		body, err := json.Marshal(h.figures())
		if err != nil {
			return caddyhttp.Error(http.StatusInternalServerError, err)
		}
		writeBody(w, http.StatusOK, "application/json", body)
		return nil
	}
	hdr["Content-Security-Policy"] = []string{dashboardCSP}
	hdr["Referrer-Policy"] = []string{"no-referrer"}
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", dashboardPage)
	return nil
}

// dashboardFigures is the `?figures` answer: the store's totals, and
// where the page finds the rest.
type dashboardFigures struct {
	StatisticsURL     string           `json:"statistics_url"`
	EventsURL         string           `json:"events_url,omitempty"`
	Hostname          string           `json:"hostname"`
	Uptime            int64            `json:"uptime"`
	Health            string           `json:"health"`
	Channels          int              `json:"channels"`
	WildcardChannels  int              `json:"wildcard_channels"`
	Subscribers       int              `json:"subscribers"`
	SubscribersByMode map[string]int64 `json:"subscribers_by_mode"`
	Subscriptions     int64            `json:"subscriptions"`
	Published         int64            `json:"published_messages"`
	Stored            int64            `json:"stored_messages"`
	Deliveries        int64            `json:"deliveries"`
	MemoryUsed        int64            `json:"memory_used"`
	MemoryLimit       int64            `json:"memory_limit"`
}

// figures reads the store's totals.
func (h *DashboardHandler) figures() dashboardFigures {
	sum := h.store.Summary()
	f := dashboardFigures{
		StatisticsURL:     h.StatisticsURL,
		EventsURL:         h.EventsURL,
		Hostname:          hostname,
		Uptime:            sum.Uptime,
		Health:            healthOK,
		Channels:          sum.Channels,
		WildcardChannels:  sum.WildcardChannels,
		Subscribers:       sum.Subscribers,
		SubscribersByMode: make(map[string]int64, len(waitingModes)),
		Published:         sum.Published,
		Stored:            sum.Stored,
		MemoryLimit:       h.store.Settings().SharedMemorySize,
	}
	for _, mode := range waitingModes {
		f.SubscribersByMode[mode] = modeSubscribers[mode].Load()
	}
	if s, ok := h.store.(storeFigures); ok {
		f.Subscriptions = s.Subscriptions()
		f.Deliveries = s.Deliveries()
		f.MemoryUsed = s.MemoryUsed()
	}
	if reason, _ := nodeHealth(h.store); reason != "" {
		f.Health = reason
	}
	return f
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*DashboardHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*DashboardHandler)(nil)
)
