package redisbroker

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// Reading the log.
const (
	// readBatch is how many entries one read takes at most.
	readBatch = 512
	// readBlock is how long one read waits for new entries; the client
	// adds its read timeout to it before it considers Redis gone.
	readBlock = 5 * time.Second
	// retryMin and retryMax bound the pause between attempts to reach
	// Redis again.
	retryMin = 50 * time.Millisecond
	retryMax = time.Second
)

// follow reads the log after the cursor and applies every entry to the
// store until ctx ends. When Redis cannot be reached it says so, retries
// and resumes after the last applied entry.
func (e *Engine) follow(ctx context.Context, client *redis.Client, k keys) {
	pause := retryMin
	// retry records a failure and pauses; it reports false once ctx ended.
	retry := func(err error) bool {
		if ctx.Err() != nil {
			return false
		}
		e.lost(err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, retryMax)
		return true
	}
	for ctx.Err() == nil {
		// A read blocks until there are entries: while the broker is not
		// known to be up, a ping first tells at once whether Redis answers.
		if !e.Connected() {
			if err := client.Ping(ctx).Err(); err != nil {
				if !retry(err) {
					return
				}
				continue
			}
			pause = retryMin
			e.reached()
		}
		streams, err := client.XRead(ctx, &redis.XReadArgs{
			Streams: []string{k.log(), e.cursor.position().String()},
			Count:   readBatch,
			Block:   readBlock,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			if !retry(err) {
				return
			}
			continue
		}
		for _, stream := range streams {
			for _, entry := range stream.Messages {
				e.apply(entry)
			}
		}
	}
}

// apply applies one log entry to the store and advances the cursor.
func (e *Engine) apply(entry redis.XMessage) {
	id, ok := parseStreamID(entry.ID)
	if !ok {
		e.logger.Error("skipping a log entry with a malformed id", zap.String("id", entry.ID))
		return
	}
	field := func(name string) string {
		v, _ := entry.Values[name].(string)
		return v
	}
	channel := field("ch")
	var out outcome
	switch field("op") {
	case opPublish:
		flags := field("f") + "000"
		opts := engine.PublishOptions{
			EventID:      field("eid"),
			HasEventID:   flags[0] == '1',
			EventType:    field("ety"),
			HasEventType: flags[1] == '1',
			Store:        flags[2] == '1',
		}
		stamp := engine.Stamp{ID: intField(field("id")), Time: intField(field("t")), Tag: intField(field("tag"))}
		out.msg, out.err = e.Store.PublishStamped(channel, []byte(field("text")), opts, stamp)
	case opDelete:
		out.deleted, out.err = e.Store.DeleteByID(channel, []byte(field("text")))
	default:
		e.logger.Error("skipping a log entry with an unknown operation", zap.String("id", entry.ID))
	}
	if out.err != nil {
		// The other processes have this message; this one's memory cap
		// refused it. An operator must know, once a period however many.
		ApplyRefusals.Note(e.logger, zap.String("entry", entry.ID), zap.Error(out.err))
	}
	e.checkSequence(entry.ID, intField(field("s")))
	e.cursor.applied(id, field("n") == e.node, out)
}

// checkSequence checks that the entry numbered seq follows the last one
// this process read. A jump means entries were trimmed before it read
// them: it was cut off from Redis for longer than message_ttl while
// others published, and its subscribers missed those messages. A step
// back means Redis lost its log (a restart without persistence). Neither
// may go unnoticed (docs/PROTOCOL.md §12.4). A process that never read
// the log has nothing to miss: what was trimmed had expired.
func (e *Engine) checkSequence(id string, seq int64) {
	last := e.lastSeq.Swap(seq)
	switch {
	case last == 0 || seq == last+1:
	case seq > last+1:
		e.gaps.Add(1)
		e.logger.Error("entries of the shared log were trimmed before this process read them: its subscribers missed the messages published while it was cut off from Redis for longer than message_ttl",
			zap.String("entry", id), zap.Int64("missed", seq-last-1))
	default:
		e.gaps.Add(1)
		e.logger.Error("the shared log went back: Redis lost entries this process had read (a restart without persistence?); message ids may repeat",
			zap.String("entry", id))
	}
}

// intField parses a decimal field; a malformed one reads as 0.
func intField(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
