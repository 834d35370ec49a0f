//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/redis/rueidis"
)

// client is what a run needs from a Redis client.
type client interface {
	// publish runs the append script once, as the broker's appendEntry
	// does, and returns the new entry's stream id.
	publish(ctx context.Context, p publication) (string, error)
	// read reads at most readCount entries of stream after the id after,
	// blocking up to readBlock, and returns how many it read and the id
	// of the last.
	read(ctx context.Context, stream, after string) (int, string, error)
	// close closes the client's connections.
	close()
}

// clientKind is one client under test.
type clientKind struct {
	// name names it in the tables.
	name string
	// dial returns a new client of Redis at addr.
	dial func(addr string) (client, error)
}

// clientKinds are the clients under test, in the order each round runs
// them.
var clientKinds = []clientKind{
	{"go-redis", dialGoRedis},
	{"rueidis", dialRueidis},
}

// errNoID is a publish whose answer holds no stream id.
var errNoID = errors.New("the script returned no stream id")

// goRedis is go-redis as the broker has it.
type goRedis struct {
	// c is the client.
	c *redis.Client
}

// goRedisScript is the append script for go-redis.
var goRedisScript = redis.NewScript(appendScript)

// dialGoRedis returns go-redis with the options of the broker's
// Config.newClient at their defaults.
func dialGoRedis(addr string) (client, error) {
	return &goRedis{redis.NewClient(&redis.Options{
		Addr:                     addr,
		MaxRetries:               -1,
		ContextTimeoutEnabled:    true,
		Protocol:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})}, nil
}

// publish runs the script with EVALSHA, or EVAL when Redis does not have
// it (Script.Run), with the arguments appendEntry passes.
func (g *goRedis) publish(ctx context.Context, p publication) (string, error) {
	flags := []byte{'0', '0', '1'}
	id, err := goRedisScript.Run(ctx, g.c, p.keys,
		opPublish, p.channel, p.text, "", "", flags,
		messageTTL.Milliseconds(), channelExpiry.Milliseconds(), node,
	).Text()
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errNoID
	}
	return id, nil
}

// read runs XREAD as the broker's follow loop does.
func (g *goRedis) read(ctx context.Context, stream, after string) (int, string, error) {
	streams, err := g.c.XRead(ctx, &redis.XReadArgs{
		Streams: []string{stream, after},
		Count:   readCount,
		Block:   readBlock,
	}).Result()
	if err != nil {
		return 0, after, err
	}
	n, last := 0, after
	for _, s := range streams {
		if len(s.Messages) > 0 {
			n += len(s.Messages)
			last = s.Messages[len(s.Messages)-1].ID
		}
	}
	return n, last, nil
}

// close closes the pool.
func (g *goRedis) close() { _ = g.c.Close() }

// rueidisClient is rueidis at its defaults (RESP3, auto-pipelining),
// without client-side caching and retries, which the broker would not use.
type rueidisClient struct {
	// c is the client.
	c rueidis.Client
}

// rueidisScript is the append script for rueidis.
var rueidisScript = rueidis.NewLuaScript(appendScript)

// dialRueidis returns rueidis connected to addr.
func dialRueidis(addr string) (client, error) {
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:  []string{addr},
		DisableCache: true,
		DisableRetry: true,
	})
	if err != nil {
		return nil, fmt.Errorf("rueidis: %w", err)
	}
	return &rueidisClient{c}, nil
}

// publish runs the script with EVALSHA, or EVAL when Redis does not have
// it (Lua.Exec), with appendEntry's arguments as strings.
func (r *rueidisClient) publish(ctx context.Context, p publication) (string, error) {
	flags := []byte{'0', '0', '1'}
	args := []string{
		opPublish, p.channel, rueidis.BinaryString(p.text), "", "", rueidis.BinaryString(flags),
		strconv.FormatInt(messageTTL.Milliseconds(), 10), strconv.FormatInt(channelExpiry.Milliseconds(), 10), node,
	}
	id, err := rueidisScript.Exec(ctx, r.c, p.keys, args).ToString()
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errNoID
	}
	return id, nil
}

// read runs the same XREAD as goRedis.read.
func (r *rueidisClient) read(ctx context.Context, stream, after string) (int, string, error) {
	cmd := r.c.B().Xread().Count(readCount).Block(readBlock.Milliseconds()).Streams().Key(stream).Id(after).Build()
	streams, err := r.c.Do(ctx, cmd).AsXRead()
	if err != nil {
		return 0, after, err
	}
	n, last := 0, after
	for _, entries := range streams {
		if len(entries) > 0 {
			n += len(entries)
			last = entries[len(entries)-1].ID
		}
	}
	return n, last, nil
}

// close closes the connections.
func (r *rueidisClient) close() { r.c.Close() }
