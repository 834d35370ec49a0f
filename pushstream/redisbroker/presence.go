package redisbroker

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// presence is what the other live processes report: their subscriptions
// per channel and their number of subscribers.
type presence struct {
	channels    map[string]int
	subscribers int
}

// heartbeat publishes this process's subscriber counts every interval and
// reads the other processes' until ctx ends. The counts expire after
// three intervals without a heartbeat, so a process that died stops
// counting. While Redis cannot be reached the last counts read are kept.
func (e *Engine) heartbeat(ctx context.Context, l *link) {
	ticker := time.NewTicker(l.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		e.beat(ctx, l)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// beat runs one heartbeat.
func (e *Engine) beat(ctx context.Context, l *link) {
	expiry := 3 * l.cfg.HeartbeatInterval
	counts := map[string]any{}
	for _, ch := range e.Store.Channels("") {
		if n := e.Store.Subscribers(ch); n > 0 {
			counts[ch.ID] = n
		}
	}
	total := e.Store.Summary().Subscribers
	k := l.keys
	now := time.Now().UnixMilli()

	var nodes *redis.StringSliceCmd
	_, err := l.client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, k.counts(e.node))
		if len(counts) > 0 {
			pipe.HSet(ctx, k.counts(e.node), counts)
			pipe.PExpire(ctx, k.counts(e.node), expiry)
		}
		pipe.Set(ctx, k.total(e.node), total, expiry)
		pipe.ZAdd(ctx, k.nodes(), redis.Z{Score: float64(now), Member: e.node})
		pipe.ZRemRangeByScore(ctx, k.nodes(), "-inf", strconv.FormatInt(now-expiry.Milliseconds(), 10))
		nodes = pipe.ZRange(ctx, k.nodes(), 0, -1)
		return nil
	})
	if err != nil {
		return
	}
	var others []string
	for _, node := range nodes.Val() {
		if node != e.node {
			others = append(others, node)
		}
	}
	seen := &presence{channels: map[string]int{}}
	if len(others) > 0 {
		channelCmds := make([]*redis.MapStringStringCmd, len(others))
		totalCmds := make([]*redis.StringCmd, len(others))
		_, err = l.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for i, node := range others {
				channelCmds[i] = pipe.HGetAll(ctx, k.counts(node))
				totalCmds[i] = pipe.Get(ctx, k.total(node))
			}
			return nil
		})
		if err != nil && err != redis.Nil {
			return
		}
		for i := range others {
			for id, v := range channelCmds[i].Val() {
				n, _ := strconv.Atoi(v)
				seen.channels[id] += n
			}
			n, _ := totalCmds[i].Int()
			seen.subscribers += n
		}
	}
	e.others.Store(seen)
}

// leave removes this process's counts from Redis, as a clean exit or a
// change of server, so that they stop counting at once.
// It uses a client of its own: the link's is closed.
func (e *Engine) leave(cfg Config) {
	e.others.Store(&presence{})
	client := cfg.newClient()
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.WriteTimeout)
	defer cancel()
	k := keys{cfg.KeyPrefix}
	_, _ = client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, k.counts(e.node), k.total(e.node))
		pipe.ZRem(ctx, k.nodes(), e.node)
		return nil
	})
}
