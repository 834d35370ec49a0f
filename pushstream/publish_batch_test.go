package pushstream

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// BenchmarkPublishBatch is the publisher's share of a batch publish of 1,
// 10 and 100 messages of 100 bytes, each to its own channel of 1000, with
// no Caddy around it: parse, check, publish, answer. An op is one
// message.
func BenchmarkPublishBatch(b *testing.B) {
	for _, size := range []int{1, 10, 100} {
		b.Run("messages="+strconv.Itoa(size), func(b *testing.B) {
			settings := engine.DefaultSettings()
			settings.SharedMemorySize, settings.MaxMessagesStoredPerChannel, settings.ChannelInactivityTime = 1<<40, 10, time.Hour
			h := &PublisherHandler{StoreMessages: true, BatchPublish: true, MaxBodySize: DefaultMaxBodySize, store: engine.NewStore(settings, nil)}
			bodies := make([][]byte, 16)
			for i := range bodies {
				var body []byte
				body = append(body, '[')
				for m := range size {
					if m > 0 {
						body = append(body, ',')
					}
					body = append(body, `{"channels": ["ch`...)
					body = strconv.AppendInt(body, int64((i*size+m)%1000), 10)
					body = append(body, `"], "text": "`...)
					body = append(body, bytes.Repeat([]byte("x"), 100)...)
					body = append(body, `"}`...)
				}
				bodies[i] = append(body, ']')
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += size {
				r := httptest.NewRequest(http.MethodPost, "/pub", bytes.NewReader(bodies[i/size%len(bodies)]))
				r.Header.Set("Content-Type", wire.BatchContentType)
				w := httptest.NewRecorder()
				if err := h.ServeHTTP(w, r, nil); err != nil || w.Code != http.StatusOK {
					b.Fatalf("status %d, %v", w.Code, err)
				}
			}
		})
	}
}

func TestOneChannel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"ch", true},
		{"", false},
		{"a/b", false},
		{"/", false},
		{"ch.b5", false},
		{"ch.b", true},
		{"ch.bx", true},
		{"ch.b5x", true},
		{"ch.b5.b", true},
		{"a.b1.b2", false},
		{"ALL", true},
	} {
		if got := oneChannel(tc.id); got != tc.want {
			t.Errorf("oneChannel(%q) = %v, want %v", tc.id, got, tc.want)
		}
		// The channels path of a single publish agrees.
		refs := wire.ParseChannelsPath(tc.id)
		if agree := len(refs) == 1 && refs[0].ID == tc.id && refs[0].Backtrack == 0; agree != tc.want {
			t.Errorf("%q: ParseChannelsPath gives %+v", tc.id, refs)
		}
	}
}

// TestBatchRefusalsCounted: the messages of a batch refused one by one,
// and a body that is no batch, count in publishes_rejected_total as a
// single publish's refusals do. Not parallel: the counter is the
// process's.
func TestBatchRefusalsCounted(t *testing.T) {
	h := &PublisherHandler{StoreMessages: true, BatchPublish: true, MaxBodySize: DefaultMaxBodySize, store: engine.NewStore(engine.DefaultSettings(), nil)}
	rejected := func() float64 { return testutil.ToFloat64(publishesRejected.WithLabelValues(rejectedBadRequest)) }
	before := rejected()
	for _, body := range []string{
		`[{"channels": ["ok"], "text": "published"}, {"channels": ["ok"], "text": ""}, {"channels": [], "text": "x"}]`,
		`not a batch`,
	} {
		r := httptest.NewRequest(http.MethodPost, "/pub", strings.NewReader(body))
		r.Header.Set("Content-Type", wire.BatchContentType)
		if err := h.ServeHTTP(httptest.NewRecorder(), r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := rejected() - before; got != 3 {
		t.Fatalf("bad_request refusals counted: %v, want 3 (two messages of a batch, one body)", got)
	}
}
