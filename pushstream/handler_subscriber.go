package pushstream

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

func init() {
	caddy.RegisterModule(SubscriberHandler{})
}

// Subscriber modes (docs/PROTOCOL.md §6).
const (
	ModeStreaming   = "streaming"
	ModePolling     = "polling"
	ModeLongPolling = "long-polling"
	ModeEventSource = "eventsource"
	ModeWebSocket   = "websocket"
)

// eventSourceContentType is the Content-Type of eventsource streams.
const eventSourceContentType = "text/event-stream; charset=utf-8"

// SubscriberHandler is the `push_stream_subscriber` handler: it delivers the
// messages of the channels named by the request in one of five modes.
type SubscriberHandler struct {
	// Mode is streaming (default), polling, long-polling, eventsource or
	// websocket; case-insensitive.
	Mode string `json:"mode,omitempty"`
	// ChannelsPath names the channels, with placeholders. Required.
	ChannelsPath string `json:"channels_path,omitempty"`
	// AuthorizedChannelsOnly refuses channels that do not exist or have no
	// stored message (wildcard channels exempt).
	AuthorizedChannelsOnly bool `json:"authorized_channels_only,omitempty"`
	// HeaderTemplate is sent at the start of a response body. nginx escapes
	// are decoded.
	HeaderTemplate string `json:"header_template,omitempty"`
	// HeaderTemplateFile reads the header template from a file, as is.
	HeaderTemplateFile string `json:"header_template_file,omitempty"`
	// MessageTemplate formats every message. Default "~text~"; may not be
	// empty. nginx escapes are decoded.
	MessageTemplate *string `json:"message_template,omitempty"`
	// FooterTemplate is sent when the module ends a response with a body.
	FooterTemplate string `json:"footer_template,omitempty"`
	// WildcardChannelMaxQtd caps wildcard channels per request. Default:
	// the app's max_number_of_wildcard_channels.
	WildcardChannelMaxQtd int `json:"wildcard_channel_max_qtd,omitempty"`
	// PingMessageInterval sends a ping after this long without a message.
	// Default: no pings.
	PingMessageInterval caddy.Duration `json:"ping_message_interval,omitempty"`
	// SubscriberConnectionTTL ends streaming, eventsource and websocket
	// subscribers this long after they connect. Default: never.
	SubscriberConnectionTTL caddy.Duration `json:"subscriber_connection_ttl,omitempty"`
	// LongpollingConnectionTTL answers a waiting long-poll this long after
	// it started. Default: SubscriberConnectionTTL.
	LongpollingConnectionTTL caddy.Duration `json:"longpolling_connection_ttl,omitempty"`
	// TimeoutWithBody answers a long-polling timeout with a 200 and the
	// timed-out message instead of a 304.
	TimeoutWithBody bool `json:"timeout_with_body,omitempty"`
	// WebsocketAllowPublish publishes text frames sent by websocket clients.
	WebsocketAllowPublish bool `json:"websocket_allow_publish,omitempty"`
	// StoreMessages stores messages published over websocket.
	StoreMessages bool `json:"store_messages,omitempty"`
	// AllowConnectionsToEventsChannel allows subscribing to the events channel.
	AllowConnectionsToEventsChannel bool `json:"allow_connections_to_events_channel,omitempty"`
	// LastReceivedMessageTime replaces If-Modified-Since when set.
	LastReceivedMessageTime *string `json:"last_received_message_time,omitempty"`
	// LastReceivedMessageTag replaces If-None-Match when set.
	LastReceivedMessageTag *string `json:"last_received_message_tag,omitempty"`
	// LastEventID replaces the Last-Event-Id header when set.
	LastEventID *string `json:"last_event_id,omitempty"`
	// UserAgent replaces the User-Agent header for padding when set.
	UserAgent *string `json:"user_agent,omitempty"`
	// PaddingByUserAgent is a list of `<regexp>,<header_min>,<message_min>`
	// rules separated by `:`.
	PaddingByUserAgent string `json:"padding_by_user_agent,omitempty"`
	// AllowedOrigins enables CORS headers with this origin value.
	AllowedOrigins string `json:"allowed_origins,omitempty"`
	// ContentType is the Content-Type of streaming and polling responses.
	// Default text/plain.
	ContentType string `json:"content_type,omitempty"`
	// WebsocketMaxMessageSize caps a message a websocket client sends to
	// a location with websocket_allow_publish, in bytes; a longer one
	// closes the connection with status 1009. Default 64 KiB.
	WebsocketMaxMessageSize int64 `json:"websocket_max_message_size,omitempty"`
	// GapSignal tells a subscriber that resumes from a point older than
	// what a channel still keeps (an expired or evicted message, an event
	// id the channel no longer has, a backtrack beyond what is kept) that
	// messages are missing, before what is kept: streaming, eventsource
	// and websocket get the gap message first, polling and long-polling
	// the X-Nginx-PushStream-Gap header and the gap message (docs/PROTOCOL.md
	// §11). Not in nginx; off keeps its protocol exactly.
	GapSignal bool `json:"gap_signal,omitempty"`
	// GapMessageText is the text of the gap message. Default "gap".
	GapMessageText string `json:"gap_message_text,omitempty"`

	store          engine.Engine
	logger         *zap.Logger
	mode           string
	header, footer []byte
	formatter      engine.Formatter
	eventSource    *wire.EventSourceFormatter
	padding        *wire.Padding
	wildcardMaxQtd int
	longPollTTL    time.Duration
	contentType    string
	maxMessageSize int64
	gapText        []byte
}

// CaddyModule returns the Caddy module information.
func (SubscriberHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.push_stream_subscriber",
		New: func() caddy.Module { return new(SubscriberHandler) },
	}
}

// ParseSubscriberMode normalises a subscriber mode name.
func ParseSubscriberMode(mode string) (string, error) {
	m := strings.ToLower(mode)
	switch m {
	case "":
		return ModeStreaming, nil
	case ModeStreaming, ModePolling, ModeLongPolling, ModeEventSource, ModeWebSocket:
		return m, nil
	}
	return "", fmt.Errorf("invalid push_stream_subscriber mode value: %s, accepted values (streaming, polling, long-polling, eventsource, websocket)", mode)
}

// Provision compiles the templates and reads the app's limits.
func (h *SubscriberHandler) Provision(ctx caddy.Context) error {
	app, err := loadApp(ctx)
	if err != nil {
		return err
	}
	h.store = app.Engine()
	h.logger = ctx.Logger()
	if h.mode, err = ParseSubscriberMode(h.Mode); err != nil {
		return err
	}
	header := wire.DecodeConfigEscapes(h.HeaderTemplate)
	if h.HeaderTemplateFile != "" {
		if h.HeaderTemplate != "" {
			return fmt.Errorf("header_template_file is duplicate or template set by header_template")
		}
		content, err := os.ReadFile(h.HeaderTemplateFile)
		if err != nil {
			return fmt.Errorf("unable to open file %q for header template: %w", h.HeaderTemplateFile, err)
		}
		header = string(content)
	}
	message := "~text~"
	if h.MessageTemplate != nil {
		if *h.MessageTemplate == "" {
			return fmt.Errorf("message_template cannot be blank")
		}
		message = wire.DecodeConfigEscapes(*h.MessageTemplate)
	}
	footer := wire.DecodeConfigEscapes(h.FooterTemplate)
	switch h.mode {
	case ModeEventSource:
		header = wire.EventSourceComment(header, true)
		footer = wire.EventSourceComment(footer, false)
		h.eventSource = wire.NewEventSourceFormatter(message)
		h.formatter = h.eventSource
	case ModeWebSocket:
		h.formatter = wire.NewWebSocketFormatter(message)
	default:
		h.formatter = &wire.TextFormatter{Template: wire.CompileTemplate(message)}
	}
	h.header, h.footer = []byte(header), []byte(footer)
	h.gapText = gapText(h.GapMessageText)

	settings := app.settings
	h.wildcardMaxQtd = settings.MaxNumberOfWildcardChannels
	if h.WildcardChannelMaxQtd > 0 {
		if settings.WildcardChannelPrefix == "" {
			return fmt.Errorf("cannot set wildcard channel max qtd if wildcard_channel_prefix is not set or blank")
		}
		if settings.MaxNumberOfWildcardChannels > 0 && settings.MaxNumberOfWildcardChannels < h.WildcardChannelMaxQtd {
			return fmt.Errorf("max number of wildcard channels cannot be smaller than value in wildcard_channel_max_qtd")
		}
		h.wildcardMaxQtd = h.WildcardChannelMaxQtd
	}
	if h.PaddingByUserAgent != "" {
		if h.padding, err = wire.ParsePadding(h.PaddingByUserAgent); err != nil {
			return err
		}
	}
	h.longPollTTL = time.Duration(h.LongpollingConnectionTTL)
	if h.longPollTTL == 0 {
		h.longPollTTL = time.Duration(h.SubscriberConnectionTTL)
	}
	h.contentType = h.ContentType
	if h.contentType == "" {
		h.contentType = "text/plain"
	}
	h.maxMessageSize = h.WebsocketMaxMessageSize
	if h.maxMessageSize == 0 {
		h.maxMessageSize = DefaultWebsocketMaxMessageSize
	}
	return nil
}

// DefaultWebsocketMaxMessageSize is the default cap of a websocket
// client's message.
const DefaultWebsocketMaxMessageSize = 64 << 10

// Validate checks the handler's settings (docs/PROTOCOL.md §9.2).
func (h *SubscriberHandler) Validate() error {
	if h.ChannelsPath == "" {
		return fmt.Errorf("channels_path must be set")
	}
	for name, d := range map[string]caddy.Duration{
		"ping_message_interval":      h.PingMessageInterval,
		"subscriber_connection_ttl":  h.SubscriberConnectionTTL,
		"longpolling_connection_ttl": h.LongpollingConnectionTTL,
	} {
		if d < 0 {
			return fmt.Errorf("%s cannot be negative", name)
		}
	}
	if h.WildcardChannelMaxQtd < 0 {
		return fmt.Errorf("wildcard_channel_max_qtd cannot be negative")
	}
	if h.WebsocketMaxMessageSize < 0 {
		return fmt.Errorf("websocket_max_message_size cannot be negative")
	}
	return nil
}

// ServeHTTP answers a subscriber request (docs/PROTOCOL.md §5.1).
func (h *SubscriberHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if h.mode == ModeWebSocket {
		h.serveWebSocket(w, r)
		return nil
	}
	// A publish that stores nothing waits for requests on their way to
	// their subscriptions (docs/PROTOCOL.md §6.3 "Asking again at once").
	arrival := h.store.Arrive()
	defer arrival.Done()
	hdr := w.Header()
	setCORS(hdr, evaluate(r, h.AllowedOrigins), subscriberMethods)
	if r.Method == http.MethodOptions {
		writeHeaderOnly(w, http.StatusOK, "")
		return nil
	}
	setAntiCache(hdr)
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, subscriberMethods)
		return nil
	}
	mode, callback := h.requestMode(r), ""
	if mode == ModePolling || mode == ModeLongPolling {
		// The callback is checked before any channel is created.
		if callback = jsonpCallback(r); callback != "" && !wire.ValidJSONPCallback(callback) {
			writeHeaderOnly(w, http.StatusBadRequest, explainBadCallback)
			return nil
		}
	}
	refs := subscriberRefs(r, h.ChannelsPath)
	if len(refs) == 0 {
		writeHeaderOnly(w, http.StatusBadRequest, explainNoChannel)
		return nil
	}
	channels, rerr := h.admit(refs)
	if rerr != nil {
		writeHeaderOnly(w, rerr.status, rerr.explain)
		return nil
	}
	sel := h.selection(r)
	switch mode {
	case ModePolling, ModeLongPolling:
		h.servePolling(w, r, arrival, channels, refs, sel, callback, mode == ModeLongPolling)
	default:
		h.serveStream(w, r, arrival, channels, refs, sel)
	}
	return nil
}

// subscriberRefs evaluates a subscriber's channels path. A channel named
// more than once is one subscription, at its first place, asking for the
// most old messages any of its mentions asks for (docs/PROTOCOL.md
// §10.1): a request takes one slot per channel, whatever its path repeats.
func subscriberRefs(r *http.Request, channelsPath string) []wire.ChannelRef {
	refs := channelRefs(r, channelsPath)
	if len(refs) < 2 {
		return refs
	}
	first := make(map[string]int, len(refs))
	unique := refs[:0]
	for _, ref := range refs {
		if i, seen := first[ref.ID]; seen {
			unique[i].Backtrack = max(unique[i].Backtrack, ref.Backtrack)
			continue
		}
		first[ref.ID] = len(unique)
		unique = append(unique, ref)
	}
	return unique
}

// requestMode applies the X-Nginx-PushStream-Mode override (docs/PROTOCOL.md §5.2).
func (h *SubscriberHandler) requestMode(r *http.Request) string {
	v, _ := firstHeader(r, headerMode)
	switch {
	case strings.EqualFold(v, ModeLongPolling):
		return ModeLongPolling
	case strings.EqualFold(v, ModePolling) && h.mode != ModeLongPolling:
		return ModePolling
	}
	return h.mode
}

// admit validates the path and creates missing channels (docs/PROTOCOL.md
// §5.10). The channels it returns are aligned with refs.
func (h *SubscriberHandler) admit(refs []wire.ChannelRef) ([]*engine.Channel, *requestError) {
	settings := h.store.Settings()
	wildcards := 0
	for _, ref := range refs {
		if err := checkID(settings, ref.ID); err != nil {
			return nil, err
		}
		ch := h.store.Lookup(ref.ID)
		wildcard := settings.IsWildcard(ref.ID)
		if wildcard {
			wildcards++
		}
		if h.AuthorizedChannelsOnly && !wildcard && (ch == nil || !h.store.HasStoredMessages(ch)) {
			return nil, &requestError{http.StatusForbidden, explainCannotCreate}
		}
		if ch == nil {
			continue
		}
		if settings.MaxSubscribersPerChannel > 0 && h.store.Subscribers(ch) >= settings.MaxSubscribersPerChannel {
			return nil, &requestError{http.StatusForbidden, explainSubscribersExceeded}
		}
		if ch.IsEvents() && !h.AllowConnectionsToEventsChannel {
			return nil, &requestError{http.StatusForbidden, explainEventsNotAllowed}
		}
	}
	if h.wildcardMaxQtd > 0 && wildcards > 0 && (wildcards > h.wildcardMaxQtd || wildcards == len(refs)) {
		return nil, &requestError{http.StatusForbidden, explainTooManyWildcard}
	}
	channels := make([]*engine.Channel, len(refs))
	for i, ref := range refs {
		ch, _, err := h.store.GetOrCreate(ref.ID)
		if err != nil {
			return nil, creationError(err)
		}
		channels[i] = ch
	}
	return channels, nil
}

// userAgent returns the user agent padding is chosen by.
func (h *SubscriberHandler) userAgent(r *http.Request) string {
	if h.UserAgent != nil {
		return evaluate(r, *h.UserAgent)
	}
	return r.Header.Get("User-Agent")
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*SubscriberHandler)(nil)
	_ caddy.Validator             = (*SubscriberHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*SubscriberHandler)(nil)
)
