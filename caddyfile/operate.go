package caddyfile

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream"
)

// parseHealth parses `push_stream_health [<matcher>]`, which takes no
// settings.
func parseHealth(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next()
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	for h.NextBlock(0) {
		return nil, h.Errf("unknown push_stream_health subdirective %q", h.Val())
	}
	return new(pushstream.HealthHandler), nil
}

// parseDashboard parses `push_stream_dashboard [<matcher>] { ... }`.
func parseDashboard(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next()
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	dash := new(pushstream.DashboardHandler)
	for h.NextBlock(0) {
		var err error
		switch name := h.Val(); name {
		case "statistics_url":
			dash.StatisticsURL, err = stringArg(h.Dispenser)
		case "events_url":
			dash.EventsURL, err = stringArg(h.Dispenser)
		default:
			return nil, h.Errf("unknown push_stream_dashboard subdirective %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	return dash, nil
}
