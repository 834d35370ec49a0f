package wire

import (
	"errors"
	"reflect"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

func TestParseBatch(t *testing.T) {
	t.Parallel()
	id, typ, empty := "42", "note", ""
	for _, tc := range []struct {
		name string
		body string
		want []BatchMessage
		bad  bool
	}{
		{"one message", `[{"channels": ["a"], "text": "hi"}]`, []BatchMessage{{Channels: []string{"a"}, Text: "hi"}}, false},
		{
			"event headers", `[{"channels": ["a", "b"], "text": "x", "event_id": "42", "event_type": "note"}]`,
			[]BatchMessage{{Channels: []string{"a", "b"}, Text: "x", EventID: &id, EventType: &typ}},
			false,
		},
		{
			"empty event id is present", `[{"channels": ["a"], "text": "x", "event_id": ""}]`,
			[]BatchMessage{{Channels: []string{"a"}, Text: "x", EventID: &empty}},
			false,
		},
		{"unicode and escapes", `[{"channels": ["a"], "text": "\u00e9\n\"q\""}]`, []BatchMessage{{Channels: []string{"a"}, Text: "é\n\"q\""}}, false},
		{"trailing space", "[]\r\n ", []BatchMessage{}, false},
		{"empty body", ``, nil, true},
		{"not an array", `{"channels": ["a"], "text": "x"}`, nil, true},
		{"null", `null`, nil, true},
		{"unknown field", `[{"channel": "a", "text": "x"}]`, nil, true},
		{"text not a string", `[{"channels": ["a"], "text": 5}]`, nil, true},
		{"data after the array", `[] []`, nil, true},
		{"garbage after the array", `[] x`, nil, true},
		{"truncated", `[{"channels": ["a"], "text": "x"`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBatch([]byte(tc.body))
			if tc.bad {
				if !errors.Is(err, ErrBadBatch) {
					t.Fatalf("got %+v, %v; want ErrBadBatch", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestAppendBatchAnswer(t *testing.T) {
	t.Parallel()
	got := string(AppendBatchAnswer(nil, []BatchResult{
		{Status: 200, Infos: []engine.ChannelInfo{{ID: "a", Published: 2, Stored: 1, Subscribers: 3}, {ID: "b\"", Published: 1}}},
		{Status: 403, Explain: "Channel id not authorized for this method."},
		{Status: 200},
	}))
	want := `{"messages": [{"status": 200, "channels": [{"channel": "a", "published_messages": 2, "stored_messages": 1, "subscribers": 3}, ` +
		`{"channel": "b\"", "published_messages": 1, "stored_messages": 0, "subscribers": 0}]}, ` +
		`{"status": 403, "explain": "Channel id not authorized for this method."}, {"status": 200}]}` + "\r\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`[{"channels": ["a"], "text": "hi", "event_id": "1"}]`))
	f.Add([]byte(`[null, {}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := ParseBatch(body)
		if err == nil && msgs == nil {
			t.Fatal("no error and no messages")
		}
	})
}
