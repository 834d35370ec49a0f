// Package caddyfile turns the push stream Caddyfile syntax (docs/CONFIGURATION.md)
// into the JSON of the pushstream modules: the `push_stream` global option
// and the handler directives. It holds no runtime logic.
package caddyfile

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("push_stream", parseGlobalOption)
	// A slice, not a map: the registration order is the directive order,
	// and adaptation must not change from one process to the next.
	directives := []struct {
		name  string
		parse httpcaddyfile.UnmarshalHandlerFunc
	}{
		{"push_stream_subscriber", parseSubscriber},
		{"push_stream_websocket", parseWebSocket},
		{"push_stream_publisher", parsePublisher},
		{"push_stream_channels_statistics", parseStatistics},
		{"push_stream_dashboard", parseDashboard},
		{"push_stream_health", parseHealth},
	}
	for _, d := range directives {
		httpcaddyfile.RegisterHandlerDirective(d.name, d.parse)
		httpcaddyfile.RegisterDirectiveOrder(d.name, httpcaddyfile.Before, "reverse_proxy")
	}
}

// parseGlobalOption parses the `push_stream` global option block.
func parseGlobalOption(d *caddyfile.Dispenser, _ any) (any, error) {
	app := new(pushstream.App)
	d.Next() // the option name
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		var err error
		switch name {
		case "shared_memory_size":
			app.SharedMemorySize, err = sizeArg(d)
			if err == nil && app.SharedMemorySize < engine.MinSharedMemorySize {
				err = d.Errf("shared_memory_size value must be at least 128KiB")
			}
		case "message_ttl":
			app.MessageTTL, err = durationArg(d, false)
		case "channel_inactivity_time":
			v := new(caddy.Duration)
			*v, err = durationArg(d, true)
			app.ChannelInactivityTime = v
		case "max_messages_stored_per_channel":
			app.MaxMessagesStoredPerChannel, err = positiveIntArg(d)
		case "max_subscribers_per_channel":
			app.MaxSubscribersPerChannel, err = positiveIntArg(d)
		case "max_channel_id_length":
			app.MaxChannelIDLength, err = positiveIntArg(d)
		case "max_number_of_channels":
			app.MaxNumberOfChannels, err = positiveIntArg(d)
		case "max_number_of_wildcard_channels":
			app.MaxNumberOfWildcardChannels, err = positiveIntArg(d)
		case "wildcard_channel_prefix":
			app.WildcardChannelPrefix, err = stringArg(d)
		case "channel_deleted_message_text":
			app.ChannelDeletedMessageText, err = stringPtrArg(d)
		case "ping_message_text":
			app.PingMessageText, err = stringPtrArg(d)
		case "events_channel_id":
			app.EventsChannelID, err = stringArg(d)
		case "broker":
			app.BrokerRaw, err = parseBroker(d)
		default:
			return nil, d.Errf("unknown push_stream option %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	return httpcaddyfile.App{Name: "push_stream", Value: caddyconfig.JSON(app, nil)}, nil
}

// parseSubscriber parses `push_stream_subscriber [<matcher>] [mode] { ... }`.
func parseSubscriber(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next()
	sub := new(pushstream.SubscriberHandler)
	if h.NextArg() {
		mode, err := pushstream.ParseSubscriberMode(h.Val())
		if err != nil {
			return nil, h.Errf("%v", err)
		}
		sub.Mode = mode
	}
	return finishSubscriber(h, "push_stream_subscriber", sub)
}

// parseWebSocket parses `push_stream_websocket [<matcher>] { ... }`, the
// websocket mode of push_stream_subscriber.
func parseWebSocket(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next()
	return finishSubscriber(h, "push_stream_websocket", &pushstream.SubscriberHandler{Mode: pushstream.ModeWebSocket})
}

// finishSubscriber parses a subscriber block and checks channels_path.
func finishSubscriber(h httpcaddyfile.Helper, directive string, sub *pushstream.SubscriberHandler) (caddyhttp.MiddlewareHandler, error) {
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	line := h.Line()
	for h.NextBlock(0) {
		if err := parseSubscriberSetting(h.Dispenser, sub); err != nil {
			return nil, err
		}
	}
	if sub.ChannelsPath == "" {
		return nil, missingChannelsPath(h, directive, line)
	}
	return sub, nil
}

// parseSubscriberSetting parses one line of a subscriber block.
func parseSubscriberSetting(d *caddyfile.Dispenser, sub *pushstream.SubscriberHandler) error {
	var err error
	switch name := d.Val(); name {
	case "channels_path":
		sub.ChannelsPath, err = stringArg(d)
	case "authorized_channels_only":
		sub.AuthorizedChannelsOnly, err = boolArg(d)
	case "header_template":
		if sub.HeaderTemplateFile != "" {
			return d.Errf("header_template_file is duplicate or template set by header_template")
		}
		sub.HeaderTemplate, err = stringArg(d)
	case "header_template_file":
		if sub.HeaderTemplate != "" {
			return d.Errf("header_template_file is duplicate or template set by header_template")
		}
		sub.HeaderTemplateFile, err = stringArg(d)
	case "message_template":
		sub.MessageTemplate, err = stringPtrArg(d)
		if err == nil && *sub.MessageTemplate == "" {
			err = d.Errf("message_template cannot be blank")
		}
	case "footer_template":
		sub.FooterTemplate, err = stringArg(d)
	case "wildcard_channel_max_qtd":
		sub.WildcardChannelMaxQtd, err = positiveIntArg(d)
	case "ping_message_interval":
		sub.PingMessageInterval, err = durationArg(d, false)
	case "subscriber_connection_ttl":
		sub.SubscriberConnectionTTL, err = durationArg(d, false)
	case "longpolling_connection_ttl":
		sub.LongpollingConnectionTTL, err = durationArg(d, false)
	case "timeout_with_body":
		sub.TimeoutWithBody, err = boolArg(d)
	case "websocket_allow_publish":
		sub.WebsocketAllowPublish, err = boolArg(d)
	case "store_messages":
		sub.StoreMessages, err = boolArg(d)
	case "allow_connections_to_events_channel":
		sub.AllowConnectionsToEventsChannel, err = boolArg(d)
	case "last_received_message_time":
		sub.LastReceivedMessageTime, err = stringPtrArg(d)
	case "last_received_message_tag":
		sub.LastReceivedMessageTag, err = stringPtrArg(d)
	case "last_event_id":
		sub.LastEventID, err = stringPtrArg(d)
	case "user_agent":
		sub.UserAgent, err = stringPtrArg(d)
	case "padding_by_user_agent":
		sub.PaddingByUserAgent, err = stringArg(d)
		if err == nil {
			if _, perr := wire.ParsePadding(sub.PaddingByUserAgent); perr != nil {
				err = d.Errf("padding_by_user_agent: %v", perr)
			}
		}
	case "allowed_origins":
		sub.AllowedOrigins, err = stringArg(d)
	case "content_type":
		sub.ContentType, err = stringArg(d)
	case "websocket_max_message_size":
		sub.WebsocketMaxMessageSize, err = sizeArg(d)
	case "gap_signal":
		sub.GapSignal, err = boolArg(d)
	case "gap_message_text":
		sub.GapMessageText, err = stringArg(d)
	default:
		return d.Errf("unknown push_stream_subscriber subdirective %q", name)
	}
	return err
}

// parsePublisher parses `push_stream_publisher [<matcher>] [normal|admin] { ... }`.
func parsePublisher(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next()
	pub := new(pushstream.PublisherHandler)
	if h.NextArg() {
		mode, err := pushstream.ParsePublisherMode(h.Val())
		if err != nil {
			return nil, h.Errf("%v", err)
		}
		pub.Mode = mode
	}
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	directive, line := "push_stream_publisher", h.Line()
	for h.NextBlock(0) {
		var err error
		switch name := h.Val(); name {
		case "channels_path":
			pub.ChannelsPath, err = stringArg(h.Dispenser)
		case "store_messages":
			pub.StoreMessages, err = boolArg(h.Dispenser)
		case "channel_info_on_publish":
			var on bool
			on, err = boolArg(h.Dispenser)
			pub.ChannelInfoOnPublish = &on
		case "allowed_origins":
			pub.AllowedOrigins, err = stringArg(h.Dispenser)
		case "max_body_size":
			pub.MaxBodySize, err = sizeArg(h.Dispenser)
		case "batch_publish":
			pub.BatchPublish, err = boolArg(h.Dispenser)
		default:
			return nil, h.Errf("unknown push_stream_publisher subdirective %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if pub.ChannelsPath == "" {
		return nil, missingChannelsPath(h, directive, line)
	}
	return pub, nil
}

// missingChannelsPath reports a subscriber or publisher block without
// channels_path at the line of its directive.
func missingChannelsPath(h httpcaddyfile.Helper, directive string, line int) error {
	return fmt.Errorf("%s: channels_path must be set, at %s:%d", directive, h.File(), line)
}

// parseStatistics parses `push_stream_channels_statistics [<matcher>] { ... }`.
func parseStatistics(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	h.Next()
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	stats := new(pushstream.StatisticsHandler)
	for h.NextBlock(0) {
		var err error
		switch name := h.Val(); name {
		case "channels_path":
			stats.ChannelsPath, err = stringArg(h.Dispenser)
		case "allowed_origins":
			stats.AllowedOrigins, err = stringArg(h.Dispenser)
		default:
			return nil, h.Errf("unknown push_stream_channels_statistics subdirective %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	return stats, nil
}
