package pushstream

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/redisbroker"
)

func init() {
	caddy.RegisterModule(MemoryBroker{})
	caddy.RegisterModule(RedisBroker{})
}

// Broker is a guest module of the `push_stream` app, in the
// `push_stream.brokers` namespace: where the channels live. MemoryBroker,
// the default, keeps them in the process; RedisBroker shares them with
// every Caddy process on the same Redis.
type Broker interface {
	caddy.Module
	// redisConfig returns the Redis broker's configuration, or false for
	// the in-memory store.
	redisConfig() (redisbroker.Config, bool)
}

// MemoryBroker is the `push_stream.brokers.memory` module: the channels
// live in this process only, as with no broker configured.
type MemoryBroker struct{}

// CaddyModule returns the Caddy module information.
func (MemoryBroker) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "push_stream.brokers.memory",
		New: func() caddy.Module { return new(MemoryBroker) },
	}
}

func (MemoryBroker) redisConfig() (redisbroker.Config, bool) { return redisbroker.Config{}, false }

// RedisBroker is the `push_stream.brokers.redis` module: every Caddy
// process configured with the same Redis server and key prefix shares one
// set of channels. Publishes and deletes go through Redis; subscribers
// stay connected to their own process (README.md, "More than one Caddy").
type RedisBroker struct {
	// Address is the Redis server's host:port. Default localhost:6379.
	// Placeholders such as {env.REDIS_ADDR} are replaced.
	Address string `json:"address,omitempty"`
	// Username is the Redis ACL user; empty with a password means the
	// default user. Placeholders are replaced.
	Username string `json:"username,omitempty"`
	// Password authenticates to Redis. Placeholders are replaced, so
	// {env.REDIS_PASSWORD} keeps it out of the configuration.
	Password string `json:"password,omitempty"`
	// DB is the Redis database number. Default 0.
	DB int `json:"db,omitempty"`
	// TLS connects to Redis over TLS when set.
	TLS *RedisTLS `json:"tls,omitempty"`
	// KeyPrefix starts every key the broker uses. Default "pushstream:".
	// Processes share channels when they share the server and the prefix.
	KeyPrefix string `json:"key_prefix,omitempty"`
	// DialTimeout bounds connecting to Redis. Default 5s.
	DialTimeout caddy.Duration `json:"dial_timeout,omitempty"`
	// ReadTimeout and WriteTimeout bound each command. Default 3s each.
	ReadTimeout  caddy.Duration `json:"read_timeout,omitempty"`
	WriteTimeout caddy.Duration `json:"write_timeout,omitempty"`
	// HeartbeatInterval is how often this process refreshes its
	// subscriber counts in Redis; a process silent for three intervals no
	// longer counts. Default 2s.
	HeartbeatInterval caddy.Duration `json:"heartbeat_interval,omitempty"`

	config redisbroker.Config
}

// RedisTLS is the TLS configuration of the connection to Redis.
type RedisTLS struct {
	// ServerName is the name the server's certificate must have. Default:
	// the host of the address.
	ServerName string `json:"server_name,omitempty"`
	// CAFile is a PEM file of the authorities to trust instead of the
	// system's.
	CAFile string `json:"ca_file,omitempty"`
	// InsecureSkipVerify accepts any certificate. For tests only.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// DefaultRedisAddress is the Redis address when none is configured.
const DefaultRedisAddress = "localhost:6379"

// CaddyModule returns the Caddy module information.
func (RedisBroker) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "push_stream.brokers.redis",
		New: func() caddy.Module { return new(RedisBroker) },
	}
}

// Provision replaces placeholders and builds the broker's configuration.
func (b *RedisBroker) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	cfg := redisbroker.Config{
		Address:           repl.ReplaceAll(b.Address, ""),
		Username:          repl.ReplaceAll(b.Username, ""),
		Password:          repl.ReplaceAll(b.Password, ""),
		DB:                b.DB,
		KeyPrefix:         b.KeyPrefix,
		DialTimeout:       time.Duration(b.DialTimeout),
		ReadTimeout:       time.Duration(b.ReadTimeout),
		WriteTimeout:      time.Duration(b.WriteTimeout),
		HeartbeatInterval: time.Duration(b.HeartbeatInterval),
	}
	if cfg.Address == "" {
		cfg.Address = DefaultRedisAddress
	}
	if b.TLS != nil {
		tlsConfig, err := b.TLS.build()
		if err != nil {
			return err
		}
		cfg.TLS = tlsConfig
	}
	b.config = cfg
	return nil
}

// build returns the crypto/tls configuration.
func (t *RedisTLS) build() (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         t.ServerName,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // G402: an explicit, documented opt-in
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading Redis tls ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis tls ca_file %q holds no PEM certificate", t.CAFile)
		}
	}
	return cfg, nil
}

// Validate checks the settings.
func (b *RedisBroker) Validate() error {
	if b.DB < 0 {
		return fmt.Errorf("redis broker: db cannot be negative")
	}
	for name, d := range map[string]caddy.Duration{
		"dial_timeout":       b.DialTimeout,
		"read_timeout":       b.ReadTimeout,
		"write_timeout":      b.WriteTimeout,
		"heartbeat_interval": b.HeartbeatInterval,
	} {
		if d < 0 {
			return fmt.Errorf("redis broker: %s cannot be negative", name)
		}
	}
	return nil
}

func (b *RedisBroker) redisConfig() (redisbroker.Config, bool) { return b.config, true }

// headerBroker tells on every statistics answer, when a broker is
// configured, whether it can be reached: the health signal of a shared
// store (not in nginx).
const headerBroker = "X-PushStream-Broker"

// queuedPublisher is an engine shared through a broker, whose publishes
// wait for it: a websocket client's message, read where nothing may wait,
// is queued instead.
type queuedPublisher interface {
	// PublishQueued publishes in the background, in order.
	PublishQueued(ch *engine.Channel, text []byte, opts engine.PublishOptions)
}

// brokerState is the X-PushStream-Broker value.
func brokerState(b engine.BrokerReporter) string {
	if b.BrokerHealth() == nil {
		return "redis connected"
	}
	return "redis unreachable"
}

// Interface guards.
var (
	_ Broker                = (*MemoryBroker)(nil)
	_ Broker                = (*RedisBroker)(nil)
	_ caddy.Provisioner     = (*RedisBroker)(nil)
	_ caddy.Validator       = (*RedisBroker)(nil)
	_ engine.BrokerReporter = (*redisbroker.Engine)(nil)
	_ queuedPublisher       = (*redisbroker.Engine)(nil)
)
