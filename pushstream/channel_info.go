package pushstream

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// Channel information answers, shared by the publisher (docs/PROTOCOL.md
// §4.4) and the statistics (§7).

// writeInfos writes channel infos in the negotiated format: the group form
// for a list, otherwise 404, single or group by count.
func writeInfos(w http.ResponseWriter, r *http.Request, store engine.Engine, infos []engine.ChannelInfo, list bool) {
	format := wire.NegotiateStatsFormat(r.Header.Get("Accept"))
	var body []byte
	switch {
	case list || len(infos) > 1:
		body = format.AppendGroup(nil, statsHead(store), infos)
	case len(infos) == 1:
		body = format.AppendChannelInfo(nil, infos[0])
	default:
		writeHeaderOnly(w, http.StatusNotFound, "")
		return
	}
	writeBody(w, http.StatusOK, format.ContentType, body)
}

// statsHead collects the fields the group and summarized forms share.
func statsHead(store engine.Engine) wire.StatsHead {
	channels, wildcard := store.Counts()
	return wire.StatsHead{
		Hostname:         hostname,
		Time:             time.Now().UTC().Format("2006-01-02T15:04:05"),
		Channels:         channels,
		WildcardChannels: wildcard,
		Uptime:           store.Uptime(),
	}
}

// hostname is the machine host name, lower-cased (docs/PROTOCOL.md §7.3).
var hostname = func() string {
	name, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return strings.ToLower(name)
}()
