//go:build linux

package main

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// admin prepares the server between runs, on a connection of its own.
type admin struct {
	// c is the client.
	c *redis.Client
}

// newAdmin returns an admin of the server at addr.
func newAdmin(addr string) *admin {
	return &admin{redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})}
}

// reset empties the server and forgets its scripts, so a run starts from
// nothing and its first publishes fall back to EVAL.
func (a *admin) reset(ctx context.Context) error {
	if err := a.c.FlushAll(ctx).Err(); err != nil {
		return err
	}
	return a.c.ScriptFlush(ctx).Err()
}

// lastID returns the id of the log's last entry.
func (a *admin) lastID(ctx context.Context) (string, error) {
	entries, err := a.c.XRevRangeN(ctx, logKey, "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "", errors.New("the log is empty")
	}
	return entries[0].ID, nil
}

// version returns the server's redis_version.
func (a *admin) version(ctx context.Context) (string, error) {
	info, err := a.c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			return v, nil
		}
	}
	return "?", nil
}

// close closes the connection.
func (a *admin) close() { _ = a.c.Close() }
