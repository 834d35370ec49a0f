package redisbroker

import (
	"crypto/tls"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Config says how to reach Redis and where the broker keeps its keys.
type Config struct {
	// Address is the Redis server's host:port.
	Address string
	// Username and Password authenticate (Redis ACL user, or only a
	// password for requirepass); empty means none.
	Username, Password string
	// DB is the Redis database number.
	DB int
	// TLS, when not nil, makes the connection use TLS with this
	// configuration.
	TLS *tls.Config
	// KeyPrefix starts every key the broker uses; DefaultKeyPrefix when
	// empty. Processes sharing channels use the same prefix.
	KeyPrefix string
	// DialTimeout, ReadTimeout and WriteTimeout bound connecting to Redis
	// and each command; zero takes the defaults below.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// HeartbeatInterval is how often the process refreshes its
	// subscriber counts in Redis and reads the others'; a process whose
	// counts were not refreshed for three intervals counts as gone. Zero
	// takes DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
}

// Defaults of Config.
const (
	DefaultKeyPrefix         = "pushstream:"
	DefaultDialTimeout       = 5 * time.Second
	DefaultReadTimeout       = 3 * time.Second
	DefaultWriteTimeout      = 3 * time.Second
	DefaultHeartbeatInterval = 2 * time.Second
)

// withDefaults returns c with its zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	return c
}

// newClient returns a Redis client for c. Commands are never retried by
// the client: a publish whose answer was lost must not be appended twice;
// the broker's loops retry what is safe to retry.
func (c Config) newClient() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:         c.Address,
		Username:     c.Username,
		Password:     c.Password,
		DB:           c.DB,
		TLSConfig:    c.TLS,
		DialTimeout:  c.DialTimeout,
		ReadTimeout:  c.ReadTimeout,
		WriteTimeout: c.WriteTimeout,
		MaxRetries:   -1,
		// A command gives up when its context ends (a publish's deadline).
		ContextTimeoutEnabled: true,
		Protocol:              2,
		DisableIdentity:       true,
		// Maintenance notifications are a Redis Cloud feature; a plain
		// server answers the handshake with an error.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// keys are the Redis keys of one prefix.
type keys struct {
	prefix string
}

// log is the stream every publish and delete is appended to.
func (k keys) log() string { return k.prefix + "log" }

// sequence numbers the log's entries.
func (k keys) sequence() string { return k.prefix + "sequence" }

// clock holds the second and tag of the latest publish.
func (k keys) clock() string { return k.prefix + "clock" }

// channel holds the last message id of a channel.
func (k keys) channel(id string) string { return k.prefix + "channel:" + id }

// nodes is the sorted set of processes, scored by their last heartbeat.
func (k keys) nodes() string { return k.prefix + "nodes" }

// counts holds one process's subscriber count per channel.
func (k keys) counts(node string) string { return k.prefix + "node:" + node + ":channels" }

// total holds one process's number of subscribers.
func (k keys) total(node string) string { return k.prefix + "node:" + node + ":subscribers" }
