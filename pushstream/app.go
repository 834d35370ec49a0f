package pushstream

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/oplog"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/redisbroker"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

func init() {
	caddy.RegisterModule(App{})
}

// shutdownTimeout bounds how long process exit waits for subscribers to
// write their footers.
const shutdownTimeout = 5 * time.Second

// App is the `push_stream` app: the channel store shared by every push
// stream handler of the process, and its store-wide limits. A Caddyfile
// without the global option gets the defaults.
type App struct {
	// SharedMemorySize caps the bytes accounted for channels, stored
	// messages and subscriptions. Default 32 MiB, minimum 128 KiB.
	SharedMemorySize int64 `json:"shared_memory_size,omitempty"`
	// MessageTTL is how long a stored message is kept. Default 30m.
	MessageTTL caddy.Duration `json:"message_ttl,omitempty"`
	// ChannelInactivityTime is how long a channel without stored messages
	// or subscribers survives. Default 30s; zero is allowed.
	ChannelInactivityTime *caddy.Duration `json:"channel_inactivity_time,omitempty"`
	// MaxMessagesStoredPerChannel caps stored messages per channel.
	// Default unlimited.
	MaxMessagesStoredPerChannel int `json:"max_messages_stored_per_channel,omitempty"`
	// MaxSubscribersPerChannel caps subscriptions per channel. Default
	// unlimited.
	MaxSubscribersPerChannel int `json:"max_subscribers_per_channel,omitempty"`
	// MaxChannelIDLength caps channel ids, in bytes. Default unlimited.
	MaxChannelIDLength int `json:"max_channel_id_length,omitempty"`
	// MaxNumberOfChannels caps live normal channels. Default unlimited.
	MaxNumberOfChannels int `json:"max_number_of_channels,omitempty"`
	// MaxNumberOfWildcardChannels caps live wildcard channels. Default
	// unlimited.
	MaxNumberOfWildcardChannels int `json:"max_number_of_wildcard_channels,omitempty"`
	// WildcardChannelPrefix marks wildcard channels. Default empty: none.
	WildcardChannelPrefix string `json:"wildcard_channel_prefix,omitempty"`
	// ChannelDeletedMessageText is the text subscribers get when a channel
	// is deleted without a body. Default "Channel deleted". nginx escapes
	// (\n, \r, \t) are decoded.
	ChannelDeletedMessageText *string `json:"channel_deleted_message_text,omitempty"`
	// PingMessageText is the text of ping messages. Default one space.
	// nginx escapes are decoded.
	PingMessageText *string `json:"ping_message_text,omitempty"`
	// EventsChannelID names the events channel. Default empty: disabled.
	EventsChannelID string `json:"events_channel_id,omitempty"`
	// SweepInterval is how often expired messages and inactive channels
	// are swept. Default 4s, as nginx. JSON only: a tuning knob for tests
	// and for stores with very many channels.
	SweepInterval caddy.Duration `json:"sweep_interval,omitempty"`
	// TrashDelay is how long a message or channel that left the store
	// stays accounted before its memory is released. Default 10s, as
	// nginx. JSON only, like SweepInterval.
	TrashDelay caddy.Duration `json:"trash_delay,omitempty"`
	// BrokerRaw is where the channels live: a `push_stream.brokers`
	// module, `memory` (the default: this process only) or `redis`
	// (shared by every Caddy on the same Redis).
	BrokerRaw json.RawMessage `json:"broker,omitempty" caddy:"namespace=push_stream.brokers inline_key=broker"`

	store     *engine.Store
	holder    *storeHolder
	engine    engine.Engine
	redis     *redisbroker.Config
	brokerKey string
	settings  engine.Settings
	logger    *zap.Logger
	flusher   *oplog.Flusher
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "push_stream",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision builds the settings and takes a reference to the store.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	a.settings = a.buildSettings()
	val, _, err := storePool.LoadOrNew(storePoolKey, func() (caddy.Destructor, error) {
		s := engine.NewStore(a.settings, nil)
		s.StartJanitor()
		return &storeHolder{store: s}, nil
	})
	if err != nil {
		return fmt.Errorf("loading push stream store: %w", err)
	}
	a.holder = val.(*storeHolder)
	a.store = a.holder.store
	a.engine = a.store
	if a.BrokerRaw != nil {
		// LoadModule clears BrokerRaw; the JSON tells a reload whether the
		// broker's configuration changed.
		a.brokerKey = string(a.BrokerRaw)
		mod, err := ctx.LoadModule(a, "BrokerRaw")
		if err != nil {
			return fmt.Errorf("loading push stream broker: %w", err)
		}
		if cfg, ok := mod.(Broker).redisConfig(); ok {
			a.redis = &cfg
			a.engine = a.holder.redisEngine()
		}
	}
	if reg := ctx.GetMetricsRegistry(); reg != nil {
		if err := registerMetrics(reg, a.engine); err != nil {
			return fmt.Errorf("registering push stream metrics: %w", err)
		}
	}

	eventsApp, err := ctx.App("events")
	if err != nil {
		return fmt.Errorf("loading events app: %w", err)
	}
	eventsApp.(*caddyevents.App).On("stopping", exitHandler{app: a})
	return nil
}

// buildSettings turns the configuration into the engine's settings: the
// defaults are engine.DefaultSettings, overridden by what is set.
func (a *App) buildSettings() engine.Settings {
	s := engine.DefaultSettings()
	if a.SharedMemorySize != 0 {
		s.SharedMemorySize = a.SharedMemorySize
	}
	if a.MessageTTL != 0 {
		s.MessageTTL = time.Duration(a.MessageTTL)
	}
	if a.ChannelInactivityTime != nil {
		s.ChannelInactivityTime = time.Duration(*a.ChannelInactivityTime)
	}
	s.MaxMessagesStoredPerChannel = a.MaxMessagesStoredPerChannel
	s.MaxSubscribersPerChannel = a.MaxSubscribersPerChannel
	s.MaxChannelIDLength = a.MaxChannelIDLength
	s.MaxNumberOfChannels = a.MaxNumberOfChannels
	s.MaxNumberOfWildcardChannels = a.MaxNumberOfWildcardChannels
	s.WildcardChannelPrefix = a.WildcardChannelPrefix
	if a.ChannelDeletedMessageText != nil {
		s.ChannelDeletedMessageText = wire.DecodeConfigEscapes(*a.ChannelDeletedMessageText)
	}
	if a.PingMessageText != nil {
		s.PingMessageText = wire.DecodeConfigEscapes(*a.PingMessageText)
	}
	s.EventsChannelID = a.EventsChannelID
	if a.SweepInterval > 0 {
		s.SweepInterval = time.Duration(a.SweepInterval)
	}
	if a.TrashDelay > 0 {
		s.TrashDelay = time.Duration(a.TrashDelay)
	}
	return s
}

// Validate checks the settings (docs/PROTOCOL.md §9.2).
func (a *App) Validate() error {
	if a.SharedMemorySize != 0 && a.SharedMemorySize < engine.MinSharedMemorySize {
		return fmt.Errorf("shared_memory_size value must be at least 128KiB")
	}
	if a.MessageTTL < 0 {
		return fmt.Errorf("message_ttl cannot be negative")
	}
	if a.ChannelInactivityTime != nil && *a.ChannelInactivityTime < 0 {
		return fmt.Errorf("channel_inactivity_time cannot be negative")
	}
	if a.SweepInterval < 0 || a.TrashDelay < 0 {
		return fmt.Errorf("sweep_interval and trash_delay cannot be negative")
	}
	for name, v := range map[string]int{
		"max_messages_stored_per_channel": a.MaxMessagesStoredPerChannel,
		"max_subscribers_per_channel":     a.MaxSubscribersPerChannel,
		"max_channel_id_length":           a.MaxChannelIDLength,
		"max_number_of_channels":          a.MaxNumberOfChannels,
		"max_number_of_wildcard_channels": a.MaxNumberOfWildcardChannels,
	} {
		if v < 0 {
			return fmt.Errorf("%s cannot be negative", name)
		}
	}
	return nil
}

// Start applies this config's store-wide settings: a config that failed
// to provision never changes the running store.
func (a *App) Start() error {
	a.beginOperating()
	a.store.Apply(a.settings)
	if a.redis != nil {
		a.holder.useRedis(*a.redis, a.brokerKey, a.logger)
	} else {
		a.holder.useMemory()
	}
	return nil
}

// Stop stops the operator log's flusher; the store and its subscribers
// outlive a reload.
func (a *App) Stop() error {
	a.endOperating()
	return nil
}

// Cleanup releases this config's reference to the store.
func (a *App) Cleanup() error {
	if a.store == nil {
		return nil
	}
	a.store, a.engine, a.holder = nil, nil, nil
	_, err := storePool.Delete(storePoolKey)
	return err
}

// Engine returns the channel store: the process's own, or the Redis
// broker's around it.
func (a *App) Engine() engine.Engine { return a.engine }

// exitHandler ends every subscriber when the process exits, before the
// HTTP servers wait for their connections (docs/PROTOCOL.md §10).
type exitHandler struct{ app *App }

// Handle implements caddyevents.Handler.
func (h exitHandler) Handle(context.Context, caddy.Event) error {
	if !caddy.Exiting() {
		return nil
	}
	if s := h.app.store; s != nil {
		h.app.logger.Info("ending push stream subscribers for process exit")
		s.Shutdown(shutdownTimeout)
	}
	return nil
}

// Interface guards.
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
