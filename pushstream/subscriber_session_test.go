package pushstream

import (
	"context"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// recordingSink is a sink that keeps the texts written and whether the
// footer was.
type recordingSink struct {
	texts    []string
	finished bool
}

func (s *recordingSink) message(msg *engine.Message) error {
	s.texts = append(s.texts, string(msg.Text))
	return nil
}
func (s *recordingSink) ping() error     { return nil }
func (s *recordingSink) finish()         { s.finished = true }
func (s *recordingSink) hold(bool) error { return nil }

// TestRunTTLDeliversWhatWasQueuedFirst: on the request goroutine's path
// (TLS, HTTP/2 and 3, wrapped listeners), a message queued when the TTL
// fires goes out before the footer, as on a transport.Conn. The TTL's
// timer and the queue are both ready when run first selects, and select
// picks either, so the rounds would catch a TTL that skipped the queue.
func TestRunTTLDeliversWhatWasQueuedFirst(t *testing.T) {
	t.Parallel()
	store := engine.NewStore(engine.DefaultSettings(), nil)
	h := &SubscriberHandler{SubscriberConnectionTTL: caddy.Duration(time.Nanosecond), store: store, logger: zap.NewNop(), mode: "streaming"}
	ch, _, err := store.GetOrCreate("ttl")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 50 {
		sub, err := store.Register()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Subscribe(sub, ch, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Publish(ch, []byte("last words"), engine.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // the 1 ns TTL's timer has fired once run starts
		out := &recordingSink{}
		h.run(context.Background(), sub, out, nil)
		store.Unregister(sub)
		if len(out.texts) != 1 || out.texts[0] != "last words" || !out.finished {
			t.Fatalf("round %d: wrote %q, footer %v; want the queued message, then the footer", round, out.texts, out.finished)
		}
	}
}
