package pushstream

import (
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

func init() {
	caddy.RegisterModule(StatisticsHandler{})
}

// Version is the protocol version reported in X-Nginx-PushStream-Tag.
const Version = "0.6.0"

// StatisticsHandler is the `push_stream_channels_statistics` handler
// (docs/PROTOCOL.md §7).
type StatisticsHandler struct {
	// ChannelsPath names the channels to report, with placeholders. Empty
	// gives the summarized statistics; `ALL` and `prefix*` list channels.
	ChannelsPath string `json:"channels_path,omitempty"`
	// AllowedOrigins is accepted for nginx compatibility and has no effect.
	AllowedOrigins string `json:"allowed_origins,omitempty"`

	store engine.Engine
}

// CaddyModule returns the Caddy module information.
func (StatisticsHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.push_stream_channels_statistics",
		New: func() caddy.Module { return new(StatisticsHandler) },
	}
}

// Provision takes the store.
func (h *StatisticsHandler) Provision(ctx caddy.Context) (err error) {
	h.store, err = loadEngine(ctx)
	return err
}

// ServeHTTP answers a statistics request (docs/PROTOCOL.md §7.1, §7.2).
func (h *StatisticsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	hdr := w.Header()
	setAntiCache(hdr)
	if r.Method != http.MethodGet {
		writeMethodNotAllowed(w, subscriberMethods)
		return nil
	}
	hdr[headerTag] = []string{Version}
	hdr[headerCommit] = []string{buildRevision}
	if b, ok := h.store.(engine.BrokerReporter); ok {
		hdr[headerBroker] = []string{brokerState(b)}
	}

	refs := channelRefs(r, h.ChannelsPath)
	if len(refs) == 0 {
		format := wire.NegotiateStatsFormat(r.Header.Get("Accept"))
		body := format.AppendSummary(nil, statsHead(h.store), h.store.Summary(), os.Getpid())
		writeBody(w, http.StatusOK, format.ContentType, body)
		return nil
	}
	settings := h.store.Settings()
	var infos []engine.ChannelInfo
	for _, ref := range refs {
		if settings.MaxChannelIDLength > 0 && len(ref.ID) > settings.MaxChannelIDLength {
			writeHeaderOnly(w, http.StatusBadRequest, explainTooLarge)
			return nil
		}
		prefix, list := ref.ID, ref.ID == "ALL"
		if i := strings.IndexByte(ref.ID, '*'); i >= 0 {
			prefix, list = ref.ID[:i], true
		} else if list {
			prefix = ""
		}
		if list {
			var listed []engine.ChannelInfo
			for _, ch := range h.store.Channels(prefix) {
				listed = append(listed, h.store.Info(ch))
			}
			writeInfos(w, r, h.store, listed, true)
			return nil
		}
		if ch := h.store.Lookup(ref.ID); ch != nil {
			infos = append(infos, h.store.Info(ch))
		}
	}
	writeInfos(w, r, h.store, infos, false)
	return nil
}

// buildRevision is the VCS revision of the build, or "unknown".
var buildRevision = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}()

// Interface guards.
var (
	_ caddy.Provisioner           = (*StatisticsHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*StatisticsHandler)(nil)
)
