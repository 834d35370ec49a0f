package redisbroker

import (
	"context"

	"github.com/redis/go-redis/v9"
)

func init() {
	// go-redis logs connection failures to stderr, once per attempt: the
	// broker reports an outage itself, once, through the Caddy log.
	redis.SetLogger(silent{})
}

// silent is a go-redis logger that drops everything.
type silent struct{}

// Printf drops a go-redis log line.
func (silent) Printf(context.Context, string, ...any) {}
