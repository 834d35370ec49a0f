package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests of Old message selection (docs/PROTOCOL.md §5.5).

func TestSelectionPick(t *testing.T) {
	t.Parallel()
	msg := func(id, unix, tag int64, eventID string, hasEventID bool) *Message {
		return &Message{ID: id, Time: unix, Tag: tag, EventID: eventID, HasEventID: hasEventID, Text: []byte(fmt.Sprintf("m%d", id))}
	}
	// The verified example: m1, m2, m3 with events "ev 1" to "ev 3".
	verified := []*Message{msg(1, 100, 1, "ev 1", true), msg(2, 100, 2, "ev 2", true), msg(3, 100, 3, "ev 3", true)}
	// Times and tags for the since-time rules: (100,1) (100,2) (101,1).
	timed := []*Message{msg(1, 100, 1, "", false), msg(2, 100, 2, "", false), msg(3, 101, 1, "", false)}
	mixed := []*Message{msg(1, 100, 1, "a", true), msg(2, 101, 1, "b", true)}
	emptyIDs := []*Message{msg(1, 100, 1, "", false), msg(2, 100, 2, "", true), msg(3, 100, 3, "x", true)}
	tests := []struct {
		name string
		sel  Selection
		msgs []*Message
		want string
	}{
		{"verified last event id", Selection{LastEventID: "ev 2", HasLastEventID: true}, verified, "3"},
		{"verified since epoch", Selection{SinceTime: 0, HasSinceTime: true}, verified, "1,2,3"},
		{"verified backtrack 2", Selection{Backtrack: 2}, verified, "2,3"},
		{"no control values", Selection{}, verified, ""},
		{"no stored messages", Selection{Backtrack: 3}, nil, ""},
		{"backtrack over the stored count", Selection{Backtrack: 5}, verified, "1,2,3"},
		{"backtrack ignores control values", Selection{Backtrack: 1, LastEventID: "ev 1", HasLastEventID: true, HasSinceTime: true}, verified, "3"},
		{"last event id of the newest message", Selection{LastEventID: "ev 3", HasLastEventID: true}, verified, ""},
		{"unknown last event id", Selection{LastEventID: "ev 9", HasLastEventID: true}, verified, ""},
		{"event ids are byte-exact", Selection{LastEventID: "EV 1", HasLastEventID: true}, verified, ""},
		{"empty last event id matches an empty event id", Selection{LastEventID: "", HasLastEventID: true}, emptyIDs, "3"},
		{"since time without tag", Selection{SinceTime: 100, HasSinceTime: true}, timed, "3"},
		{"since time and tag of the first message", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 1, HasSinceTag: true}, timed, "2,3"},
		{"since time and tag of the second message", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 2, HasSinceTag: true}, timed, "3"},
		{"since tag below every tag", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 0, HasSinceTag: true}, timed, "1,2,3"},
		{"since an earlier time", Selection{SinceTime: 99, HasSinceTime: true}, timed, "1,2,3"},
		{"since the newest time and tag", Selection{SinceTime: 101, HasSinceTime: true, SinceTag: 1, HasSinceTag: true}, timed, ""},
		{"since a later time", Selection{SinceTime: 102, HasSinceTime: true}, timed, ""},
		{"since tag without since time is ignored", Selection{SinceTag: 0, HasSinceTag: true}, timed, ""},
		{"since time matches before the event id", Selection{SinceTime: 99, HasSinceTime: true, LastEventID: "b", HasLastEventID: true}, mixed, "1,2"},
		{"event id matches before the since time", Selection{SinceTime: 100, HasSinceTime: true, LastEventID: "a", HasLastEventID: true}, mixed, "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.sel.pick(tc.msgs)
			ids := make([]string, len(got))
			for i, m := range got {
				ids[i] = strconv.FormatInt(m.ID, 10)
			}
			if strings.Join(ids, ",") != tc.want {
				t.Fatalf("pick = [%s], want [%s]", strings.Join(ids, ","), tc.want)
			}
			if len(got) > 0 && len(tc.msgs) > 0 {
				// The result is a new slice: changing it leaves the store alone.
				before := tc.msgs[len(tc.msgs)-1]
				got[len(got)-1] = nil
				if tc.msgs[len(tc.msgs)-1] != before {
					t.Fatal("pick returned the channel's own slice")
				}
			}
		})
	}
}

// Tests of the gap signal's report (docs/PROTOCOL.md §11).

func TestSelectionGap(t *testing.T) {
	t.Parallel()
	msg := func(id, unix, tag int64, eventID string) *Message {
		return &Message{ID: id, Time: unix, Tag: tag, EventID: eventID, HasEventID: eventID != ""}
	}
	// Messages 1 and 2 were dropped, (100,1) and (100,2); 3 and 4 are kept.
	kept := []*Message{msg(3, 101, 1, "e3"), msg(4, 102, 1, "e4")}
	dropped := droppedMark{ok: true, time: 100, tag: 2}
	none := droppedMark{}
	tests := []struct {
		name    string
		sel     Selection
		msgs    []*Message
		dropped droppedMark
		want    bool
	}{
		{"no control values", Selection{}, kept, dropped, false},
		{"backtrack within what is kept", Selection{Backtrack: 2}, kept, dropped, false},
		{"backtrack beyond what is kept", Selection{Backtrack: 3}, kept, dropped, true},
		{"backtrack beyond a channel that never dropped", Selection{Backtrack: 5}, kept, none, false},
		{"last event id kept", Selection{LastEventID: "e3", HasLastEventID: true}, kept, dropped, false},
		{"last event id of the newest message", Selection{LastEventID: "e4", HasLastEventID: true}, kept, dropped, false},
		{"last event id dropped", Selection{LastEventID: "e2", HasLastEventID: true}, kept, dropped, true},
		{"last event id unknown to a channel that never dropped", Selection{LastEventID: "e9", HasLastEventID: true}, kept, none, true},
		{"last event id on an empty channel", Selection{LastEventID: "41", HasLastEventID: true}, nil, none, true},
		{"last event id unknown, since time after the drop", Selection{LastEventID: "e9", HasLastEventID: true, SinceTime: 100, HasSinceTime: true, SinceTag: 2, HasSinceTag: true}, kept, dropped, false},
		{"since time before the drop", Selection{SinceTime: 99, HasSinceTime: true}, kept, dropped, true},
		{"since time of the drop, no tag", Selection{SinceTime: 100, HasSinceTime: true}, kept, dropped, false},
		{"since time and tag before the newest drop", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 1, HasSinceTag: true}, kept, dropped, true},
		{"since time and tag of the newest drop", Selection{SinceTime: 100, HasSinceTime: true, SinceTag: 2, HasSinceTag: true}, kept, dropped, false},
		{"since time after the drop", Selection{SinceTime: 101, HasSinceTime: true}, kept, dropped, false},
		{"since the epoch on a channel that never dropped", Selection{SinceTime: 0, HasSinceTime: true}, kept, none, false},
		{"since tag alone", Selection{SinceTag: 0, HasSinceTag: true}, kept, dropped, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.sel.gap(tc.msgs, tc.dropped); got != tc.want {
				t.Fatalf("gap = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStoreReportsGaps(t *testing.T) {
	t.Parallel()
	s, clock := storeNew(t, Settings{MaxMessagesStoredPerChannel: 2, MessageTTL: 10 * time.Second})
	ch := storeChannel(t, s, "gaps")
	publish := func(eventID string) *Message {
		msg, err := s.Publish(ch, []byte(eventID), PublishOptions{Store: true, EventID: eventID, HasEventID: true})
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	stored := func(sel Selection) (string, bool) {
		msgs, _, _ := s.Stored(ch, &sel)
		ids := make([]string, len(msgs))
		for i, m := range msgs {
			ids[i] = m.EventID
		}
		return strings.Join(ids, ","), sel.Gap
	}
	first := publish("e1")
	publish("e2")
	if got, gap := stored(Selection{LastEventID: "e1", HasLastEventID: true}); got != "e2" || gap {
		t.Fatalf("before any drop: %q gap %v, want e2 without a gap", got, gap)
	}
	// A third message evicts the first.
	publish("e3")
	if got, gap := stored(Selection{LastEventID: "e1", HasLastEventID: true}); got != "" || !gap {
		t.Fatalf("evicted last event id: %q gap %v, want nothing and a gap", got, gap)
	}
	if got, gap := stored(Selection{SinceTime: first.Time - 1, HasSinceTime: true}); got != "e2,e3" || !gap {
		t.Fatalf("since before the evicted message: %q gap %v, want e2,e3 and a gap", got, gap)
	}
	if got, gap := stored(Selection{LastEventID: "e2", HasLastEventID: true}); got != "e3" || gap {
		t.Fatalf("kept last event id: %q gap %v, want e3 without a gap", got, gap)
	}

	// Subscribe reports it atomically with its backlog.
	sub, err := s.Register()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unregister(sub)
	sel := Selection{Backtrack: 3}
	backlog, err := s.Subscribe(sub, ch, &sel)
	if err != nil || len(backlog) != 2 || !sel.Gap {
		t.Fatalf("Subscribe .b3 = %d messages, gap %v, err %v; want 2 and a gap", len(backlog), sel.Gap, err)
	}

	// Expiry drops too: everything left expires.
	storeSweepAt(s, clock, 11*time.Second)
	if got, gap := stored(Selection{LastEventID: "e3", HasLastEventID: true}); got != "" || !gap {
		t.Fatalf("expired last event id: %q gap %v, want nothing and a gap", got, gap)
	}
	if got, gap := stored(Selection{SinceTime: first.Time, HasSinceTime: true, SinceTag: first.Tag + 2, HasSinceTag: true}); got != "" || gap {
		t.Fatalf("since the newest dropped message: %q gap %v, want nothing and no gap", got, gap)
	}
}

func TestSelectionAllOnGap(t *testing.T) {
	t.Parallel()
	kept := []*Message{{ID: 3, Time: 101, Tag: 1}, {ID: 4, Time: 102, Tag: 1}}
	dropped := droppedMark{ok: true, time: 100, tag: 2}
	for _, all := range []bool{false, true} {
		sel := Selection{LastEventID: "e2", HasLastEventID: true, AllOnGap: all}
		got := sel.resolve(kept, dropped)
		if want := map[bool]int{false: 0, true: 2}[all]; len(got) != want || !sel.Gap {
			t.Fatalf("AllOnGap %v: %d messages, gap %v; want %d and a gap", all, len(got), sel.Gap, want)
		}
	}
}
