package engine

import (
	"strings"
	"testing"
	"time"
)

// TestPublishStamped: a message stamped by a broker keeps its id, time and
// tag, creates its channel as a replica (no channel events), obeys
// max_messages_stored_per_channel, and counts as published.
func TestPublishStamped(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{EventsChannelID: "events", MaxMessagesStoredPerChannel: 2, MaxNumberOfChannels: 2})
	if _, _, err := s.GetOrCreate("local"); err != nil {
		t.Fatal(err)
	}
	sec := storeEpoch.Unix()
	for i, stamp := range []Stamp{{ID: 7, Time: sec, Tag: 3}, {ID: 8, Time: sec, Tag: 4}, {ID: 9, Time: sec + 1, Tag: 1}} {
		msg, err := s.PublishStamped("remote", []byte("m"), PublishOptions{Store: true, EventID: "e", HasEventID: true}, stamp)
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if msg.ID != stamp.ID || msg.Time != stamp.Time || msg.Tag != stamp.Tag || msg.EventID != "e" {
			t.Fatalf("publish %d: message %+v, want stamp %+v", i, msg, stamp)
		}
	}
	ch := s.Lookup("remote")
	if ch == nil {
		t.Fatal("the stamped publish created no channel (the channel limit must not apply)")
	}
	if got := storeStoredIDs(ch); got != "8,9" {
		t.Fatalf("stored ids %s, want 8,9", got)
	}
	if info := s.Info(ch); info.Published != 9 || info.Stored != 2 {
		t.Fatalf("info %+v", info)
	}
	if _, lastTime, lastTag := s.Stored(ch, &Selection{}); lastTime != sec+1 || lastTag != 1 {
		t.Fatalf("last time %d tag %d", lastTime, lastTag)
	}
	if got := s.Summary().Published; got != 3 {
		t.Fatalf("published %d, want 3", got)
	}
	if _, err := s.DeleteByID("remote", []byte("bye")); err != nil {
		t.Fatal(err)
	}
	storeSweepAt(s, clock, time.Minute)
	want := []string{storeEvent(EventChannelCreated, "local"), storeEvent(EventChannelDestroyed, "local")}
	if got := storeEvents(t, s); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
}

// TestPublishStampedExpired: a replayed message older than message_ttl
// counts as published but is not stored.
func TestPublishStampedExpired(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{MessageTTL: time.Minute})
	old := storeEpoch.Add(-2 * time.Minute).Unix()
	if _, err := s.PublishStamped("c", []byte("old"), PublishOptions{Store: true}, Stamp{ID: 1, Time: old, Tag: 1}); err != nil {
		t.Fatal(err)
	}
	if info := s.Info(s.Lookup("c")); info.Published != 1 || info.Stored != 0 {
		t.Fatalf("info %+v, want published 1 stored 0", info)
	}
}

// TestEventSink: with a sink the events channel's messages go to it,
// not into the events channel.
func TestEventSink(t *testing.T) {
	t.Parallel()
	s, _ := storeNew(t, Settings{EventsChannelID: "events"})
	var got []string
	s.SetEventSink(func(channel string, text []byte, opts PublishOptions) {
		got = append(got, channel+" "+opts.EventType+" "+string(text))
	})
	if _, _, err := s.GetOrCreate("c"); err != nil {
		t.Fatal(err)
	}
	want := "events channel_created " + storeEvent(EventChannelCreated, "c")
	if len(got) != 1 || got[0] != want {
		t.Fatalf("sink got %q, want %q", got, want)
	}
	if stored := storeEvents(t, s); len(stored) != 0 {
		t.Fatalf("events channel stored %q", stored)
	}
	s.SetEventSink(nil)
	if _, _, err := s.GetOrCreate("d"); err != nil {
		t.Fatal(err)
	}
	if stored := storeEvents(t, s); len(stored) != 1 {
		t.Fatalf("events channel stored %q after the sink was removed", stored)
	}
}
