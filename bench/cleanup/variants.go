package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// body is the message upstream fills the memory with.
const body = "message to create a channel"

// variant is one example of misc/spec/mix/cleanup_memory_spec.rb run in
// the "nothing strange occur" context (docs/SCENARIOS.md mix/cleanup_memory
// #1 and #3-#10; #2 times nothing).
type variant struct {
	key  string // command-line name
	name string // table name, with the docs/SCENARIOS.md number
	// expect is the time upstream allows each wait, ± tolerance.
	expect, tolerance time.Duration
	settings          settings
	run               func(r *runner) (*outcome, error)
}

// outcome is what one variant measured on one server.
type outcome struct {
	fills  []fillResult    // fills, in order
	waits  []time.Duration // trash waits, in order, from upstream's start
	checks []string        // upstream's count assertions, "ok" or what differs
	notes  []string        // anything else worth a column
}

// runner runs a variant's steps against one server.
type runner struct {
	addr  string
	poll  time.Duration
	limit time.Time // upstream's 260 s test timeout
	stats *client
	subs  []io.Closer
	logf  func(format string, args ...any)
}

func (r *runner) close() {
	for _, s := range r.subs {
		s.Close()
	}
	r.stats.Close()
}

func (r *runner) sum() (stats, error) { return getStats(r.stats) }

// subscribe keeps a subscriber on id open until the variant ends (the
// spec's sub_1, never closed).
func (r *runner) subscribe(id string) error {
	s, err := subscribe(r.addr, id)
	if err != nil {
		return err
	}
	r.subs = append(r.subs, s)
	return nil
}

// subscribeNoted subscribes as subscribe does; a refusal (the memory
// full) is noted in o, not an error: upstream does not look at it.
func (r *runner) subscribeNoted(o *outcome, name, id string) {
	if err := r.subscribe(id); err != nil {
		r.logf("subscriber %s: %v", name, err)
		o.notes = append(o.notes, fmt.Sprintf("subscriber %s refused (%v)", name, err))
	}
}

// fill runs one fill, logs it and adds it to o.
func (r *runner) fill(o *outcome, idFor func(int) string) error {
	f, err := fill(r.addr, idFor, body)
	if err != nil {
		return err
	}
	r.logf("fill: %d publishes in %v, then %d, connection closed: %v", f.n, f.took.Round(time.Millisecond), f.status, f.closed)
	o.fills = append(o.fills, f)
	return nil
}

// waitOpts are the wait_until_trash_is_empty options.
type waitOpts struct{ stored, channels bool }

// wait is upstream's wait_until_trash_is_empty: poll the summarized
// statistics until messages_in_trash and channels_in_trash are 0 (and
// stored_messages, channels and channels_in_delete where asked); it
// adds the time since start to o's waits. Upstream polls every second;
// r.poll is finer, so the times here are upstream's minus up to a second.
func (r *runner) wait(o *outcome, start time.Time, opts waitOpts) error {
	for {
		s, err := r.sum()
		if err != nil {
			return err
		}
		if s.get("messages_in_trash") == 0 && s.get("channels_in_trash") == 0 &&
			(!opts.stored || s.get("stored_messages") == 0) &&
			(!opts.channels || s.get("channels") == 0 && s.get("channels_in_delete") == 0) {
			d := time.Since(start)
			r.logf("trash empty after %.2f s: %s", d.Seconds(), s.summary())
			o.waits = append(o.waits, d)
			return nil
		}
		if time.Now().After(r.limit) {
			return fmt.Errorf("trash not empty at upstream's 260 s limit: %s", s.summary())
		}
		time.Sleep(r.poll)
	}
}

// check records one of upstream's count assertions.
func (o *outcome) check(ok bool, what string, args ...any) {
	msg := fmt.Sprintf(what, args...)
	if ok {
		o.checks = append(o.checks, "ok: "+msg)
	} else {
		o.checks = append(o.checks, "DIFFERS: "+msg)
	}
}

// with returns baseline() changed by kv (key, value, ...).
func with(kv ...string) map[string]string {
	g := baseline()
	for i := 0; i+1 < len(kv); i += 2 {
		g[kv[i]] = kv[i+1]
	}
	return g
}

// variants are the examples in docs/SCENARIOS.md's order.
var variants = []variant{
	{
		key: "published", name: "#1 published messages, max stored 100, subscriber",
		expect: 25 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with("max_messages_stored_per_channel", "100")},
		run:      runStoredFills("ch_test_message_cleanup", true),
	},
	{
		key: "published_nomax", name: "#3 published messages, no max stored, subscriber",
		expect: 25 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with()},
		run:      runStoredFills("ch_test_message_cleanup_without_max_messages_stored_per_channel", false),
	},
	{
		key: "channels", name: "#4 one channel per message, message_ttl 2s",
		expect: 45 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with("message_ttl", "2s")},
		run:      runChannelFills("ch_test_channel_cleanup_%d", "channels"),
	},
	{
		key: "storeoff_sub", name: "#5 store off, subscriber",
		expect: 15 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with(), storeOff: true},
		run:      runStoreOffWithSubscriber,
	},
	{
		key: "storeoff_channels", name: "#6 store off, one channel per message",
		expect: 45 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with(), storeOff: true},
		run:      runChannelFills("ch_test_message_cleanup_with_store_off_without_subscriber %d", "published_messages"),
	},
	{
		key: "deleted", name: "#7 delete created channels",
		expect: 15 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with(), admin: true},
		run:      runDeleteCreated,
	},
	{
		key: "deleted_same_id", name: "#8 create and delete the same id",
		expect: 15 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with(), admin: true},
		run:      runDeleteSameID,
	},
	{
		key: "inactive_default", name: "#9 inactive channel to trash, default 30s",
		expect: 30 * time.Second, tolerance: 5 * time.Second,
		settings: settings{global: with(), storeOff: true},
		run:      runInactive("ch_move_inactive_channels"),
	},
	{
		key: "inactive_5s", name: "#10 inactive channel to trash, 5s",
		expect: 5 * time.Second, tolerance: 3 * time.Second,
		settings: settings{global: with("channel_inactivity_time", "5s"), storeOff: true},
		run:      runInactive("ch_move_inactive_channels_with_custom_value"),
	},
}

// runStoredFills is #1 (maxStored) and #3: fill, wait (stored 0), fill,
// wait, fill; the third fill publishes as many as the first and stores
// as many. The spec's subscribers ("ensure channel will not be cleaned
// up") are requested before the fills, but the fills are synchronous
// socket code inside EventMachine's run block, so a subscriber's request
// goes out only after the fill that follows it: subscriber A after fill
// 1; B after fill 2 (#1) or before wait 1 (#3). They are opened at those
// moments here, and a subscription the full memory refuses is noted.
func runStoredFills(id string, maxStored bool) func(r *runner) (*outcome, error) {
	return func(r *runner) (*outcome, error) {
		o := &outcome{}
		if err := r.fill(o, sameID(id)); err != nil {
			return o, err
		}
		start := time.Now()
		r.subscribeNoted(o, "A", id)
		s1, err := r.sum()
		if err != nil {
			return o, err
		}
		stored1, published1 := s1.get("stored_messages"), s1.get("published_messages")
		if maxStored {
			o.check(stored1 == 100 && published1 > 100 && published1 == stored1+s1.get("messages_in_trash"),
				"after fill 1: stored %d (100), published %d = stored + in trash %d", stored1, published1, s1.get("messages_in_trash"))
		} else {
			o.check(stored1 > 100, "after fill 1: stored %d > 100", stored1)
			r.subscribeNoted(o, "B", id)
		}
		if err := r.wait(o, start, waitOpts{stored: true}); err != nil {
			return o, err
		}
		if err := r.fill(o, sameID(id)); err != nil {
			return o, err
		}
		start = time.Now()
		if maxStored {
			r.subscribeNoted(o, "B", id)
		}
		s2, err := r.sum()
		if err != nil {
			return o, err
		}
		published2 := s2.get("published_messages")
		if err := r.wait(o, start, waitOpts{stored: true}); err != nil {
			return o, err
		}
		if err := r.fill(o, sameID(id)); err != nil {
			return o, err
		}
		s3, err := r.sum()
		if err != nil {
			return o, err
		}
		o.check(s3.get("stored_messages") == stored1, "after fill 3: stored %d, fill 1 %d", s3.get("stored_messages"), stored1)
		o.check(s3.get("published_messages")-published2 == published1, "fill 3 published %d, fill 1 %d", s3.get("published_messages")-published2, published1)
		return o, nil
	}
}

// runChannelFills is #4 and #6: one new channel per message; fill, wait
// (stored 0, channels 0, in delete 0), fill, wait, fill; the third fill
// matches the first in counter (channels, or published messages).
func runChannelFills(format, counter string) func(r *runner) (*outcome, error) {
	return func(r *runner) (*outcome, error) {
		o := &outcome{}
		if err := r.fill(o, numbered(format)); err != nil {
			return o, err
		}
		start := time.Now()
		s1, err := r.sum()
		if err != nil {
			return o, err
		}
		first := s1.get(counter)
		for i := 0; i < 2; i++ {
			if err := r.wait(o, start, waitOpts{stored: true, channels: true}); err != nil {
				return o, err
			}
			if err := r.fill(o, numbered(format)); err != nil {
				return o, err
			}
			start = time.Now()
		}
		s3, err := r.sum()
		if err != nil {
			return o, err
		}
		got := s3.get(counter)
		if counter == "published_messages" {
			got -= int64(o.fills[0].n + o.fills[1].n)
		}
		o.check(got == first, "fill 3: %s %d, fill 1 %d", counter, got, first)
		return o, nil
	}
}

// runStoreOffWithSubscriber is #5: store off; fill, wait (stored 0),
// fill, wait, fill; the third fill publishes as many as the first. The
// subscribers go out after fill 1 and before wait 1 (see runStoredFills).
func runStoreOffWithSubscriber(r *runner) (*outcome, error) {
	const id = "ch_test_message_cleanup_with_store_off_with_subscriber"
	o := &outcome{}
	for i := 0; i < 3; i++ {
		if err := r.fill(o, sameID(id)); err != nil {
			return o, err
		}
		if i == 2 {
			break
		}
		start := time.Now()
		if i == 0 {
			r.subscribeNoted(o, "A", id)
			r.subscribeNoted(o, "B", id)
		}
		if err := r.wait(o, start, waitOpts{stored: true}); err != nil {
			return o, err
		}
	}
	o.check(o.fills[2].n == o.fills[0].n, "fill 3 published %d, fill 1 %d", o.fills[2].n, o.fills[0].n)
	return o, nil
}

// deleteChannels is upstream's delete_channels: DELETE each id in turn, a
// 500 or a failed request retried 1 s later, 5 ms between ids. It returns
// how many DELETEs were refused.
func (r *runner) deleteChannels(ids []string) (int, error) {
	cl := &client{addr: r.addr}
	defer cl.Close()
	refused := 0
	began, first := time.Now(), true
	for len(ids) > 0 {
		if time.Now().After(r.limit) {
			return refused, fmt.Errorf("%d channels left to delete at upstream's 260 s limit", len(ids))
		}
		res, err := cl.do(http.MethodDelete, pubPath(ids[0]), "", "Accept: text/html")
		if err != nil || res.status == http.StatusInternalServerError {
			refused++
			sum, _ := r.sum()
			r.logf("DELETE %s refused %.2f s after the loop began: %s", ids[0], time.Since(began).Seconds(), sum.summary())
			time.Sleep(time.Second)
			continue
		}
		if first {
			// Evidence of what made room: the counters right after.
			first = false
			sum, _ := r.sum()
			r.logf("first DELETE accepted %.2f s after the loop began, %d refused before: %s", time.Since(began).Seconds(), refused, sum.summary())
		}
		ids = ids[1:]
		time.Sleep(5 * time.Millisecond)
	}
	return refused, nil
}

// publishOnce POSTs text to id on a connection of its own.
func (r *runner) publishOnce(id, text string) (int, error) {
	cl := &client{addr: r.addr}
	defer cl.Close()
	res, err := cl.do(http.MethodPost, pubPath(id), text, "Accept: text/html")
	if err != nil {
		return 0, err
	}
	return res.status, nil
}

// runDeleteCreated is #7: a 5400-byte placeholder, 3 s later a fill of new
// channels, then every channel deleted (a refused DELETE retried every
// second); wait (stored 0, channels 0, in delete 0); the same again
// publishes as many. Upstream's fill sends each publish on a connection
// of its own every millisecond; here the fill is the keep-alive one of
// the other variants: the memory it fills is the same.
func runDeleteCreated(r *runner) (*outcome, error) {
	const channel = "ch_test_channel_cleanup_after_delete"
	o := &outcome{}
	if _, err := r.publishOnce("pub_placeholder", strings.Repeat(body, 200)); err != nil {
		return o, err
	}
	time.Sleep(3 * time.Second)
	if err := r.fill(o, numbered(channel+"%d")); err != nil {
		return o, err
	}
	ids, err := channelList(r.stats)
	if err != nil {
		return o, err
	}
	began := time.Now()
	refused, err := r.deleteChannels(ids)
	if err != nil {
		return o, err
	}
	o.notes = append(o.notes, fmt.Sprintf("delete loop %.1f s, %d refused", time.Since(began).Seconds(), refused))
	r.logf("deleted %d channels in %.2f s, %d DELETEs refused", len(ids), time.Since(began).Seconds(), refused)
	start := time.Now()
	s1, err := r.sum()
	if err != nil {
		return o, err
	}
	published1 := s1.get("published_messages")
	o.check(published1 > 0 && s1.get("channels") == 0 && s1.get("channels_in_delete") > 0 && s1.get("channels_in_trash") == 0,
		"after deleting: published %d > 0, channels %d = 0, in delete %d > 0, in trash %d = 0",
		published1, s1.get("channels"), s1.get("channels_in_delete"), s1.get("channels_in_trash"))
	if err := r.wait(o, start, waitOpts{stored: true, channels: true}); err != nil {
		return o, err
	}
	if _, err := r.publishOnce("pub_placeholder", strings.Repeat(body, 200)); err != nil {
		return o, err
	}
	if err := r.fill(o, numbered(channel+"%d")); err != nil {
		return o, err
	}
	s2, err := r.sum()
	if err != nil {
		return o, err
	}
	o.check(s2.get("published_messages")/2 == published1, "published %d after round 2, want twice %d", s2.get("published_messages"), published1)
	return o, nil
}

// createAndDelete is upstream's create_and_delete_channel: POST then
// DELETE id until either is refused, then delete id (retried). It returns
// the number of accepted POSTs and refused final DELETEs.
func (r *runner) createAndDelete(id string) (fillResult, int, error) {
	cl := &client{addr: r.addr}
	defer cl.Close()
	began := time.Now()
	n := 0
	for {
		if time.Now().After(r.limit) {
			return fillResult{}, 0, errors.New("the memory cap was never reached")
		}
		pub, err := cl.do(http.MethodPost, pubPath(id), body, "Accept: text/html")
		if err != nil {
			return fillResult{}, 0, err
		}
		del, err := cl.do(http.MethodDelete, pubPath(id), "", "Accept: text/html")
		if err != nil {
			return fillResult{}, 0, err
		}
		if pub.status == http.StatusOK {
			n++
		}
		if pub.status != http.StatusOK || del.status != http.StatusOK {
			refused, err := r.deleteChannels([]string{id})
			f := fillResult{n: n, status: pub.status, closed: pub.close, took: time.Since(began)}
			if pub.status == http.StatusOK {
				f.status, f.closed = del.status, del.close
			}
			r.logf("create and delete: %d POSTs in %v, then POST %d DELETE %d, last DELETE refused %d times", n, f.took.Round(time.Millisecond), pub.status, del.status, refused)
			return f, refused, err
		}
		time.Sleep(time.Millisecond)
	}
}

// runDeleteSameID is #8: POST and DELETE the same id until refused;
// wait (stored 0, channels 0, in delete 0) from then; the same again
// publishes as many.
func runDeleteSameID(r *runner) (*outcome, error) {
	const id = "ch_test_channel_cleanup_after_delete_same_id"
	o := &outcome{}
	f1, refused, err := r.createAndDelete(id)
	if err != nil {
		return o, err
	}
	o.fills = append(o.fills, f1)
	o.notes = append(o.notes, fmt.Sprintf("last DELETE refused %d×", refused))
	s1, err := r.sum()
	if err != nil {
		return o, err
	}
	published1 := s1.get("published_messages")
	o.check(published1 > 0 && s1.get("channels_in_delete") > 0 && s1.get("channels_in_trash") == 0,
		"after the loop: published %d > 0, in delete %d > 0, in trash %d = 0", published1, s1.get("channels_in_delete"), s1.get("channels_in_trash"))
	if err := r.wait(o, time.Now(), waitOpts{stored: true, channels: true}); err != nil {
		return o, err
	}
	f2, _, err := r.createAndDelete(id)
	if err != nil {
		return o, err
	}
	o.fills = append(o.fills, f2)
	s2, err := r.sum()
	if err != nil {
		return o, err
	}
	o.check(s2.get("published_messages")/2 == published1, "published %d after loop 2, want twice %d", s2.get("published_messages"), published1)
	return o, nil
}

// runInactive is #9 and #10: one publish (store off), then the statistics
// until channels is not 1: the channel went to the trash.
func runInactive(id string) func(r *runner) (*outcome, error) {
	return func(r *runner) (*outcome, error) {
		o := &outcome{}
		status, err := r.publishOnce(id, "body")
		if err != nil {
			return o, err
		}
		if status != http.StatusOK {
			return o, fmt.Errorf("publish: status %d", status)
		}
		start := time.Now()
		for {
			s, err := r.sum()
			if err != nil {
				return o, err
			}
			if s.get("channels") != 1 {
				d := time.Since(start)
				r.logf("channel gone after %.2f s: %s", d.Seconds(), s.summary())
				o.waits = append(o.waits, d)
				o.check(s.get("channels_in_trash") == 1 && s.get("channels") == 0, "channels %d = 0, in trash %d = 1", s.get("channels"), s.get("channels_in_trash"))
				return o, nil
			}
			if time.Now().After(r.limit) {
				return o, fmt.Errorf("channel still live at the limit: %s", s.summary())
			}
			time.Sleep(r.poll)
		}
	}
}
