package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
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
