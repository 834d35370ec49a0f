package scenarios_test

import (
	"testing"
	"time"
)

// TestReloadKeepsSubscribersAndMessages: a streaming subscriber connected
// before a config reload keeps receiving what is published after it, the
// reload completes while it is connected, stored messages and counters
// survive, and the new configuration serves new subscribers
// (docs/PROTOCOL.md §10).
// docs/SCENARIOS.md mix/send_signals_spec.rb #2 and #3, mix/events_channel_spec.rb #15
func TestReloadKeepsSubscribersAndMessages(t *testing.T) {
	t.Parallel()
	cfg := config{Sub: map[string]string{
		"header_template":  `"HEADER"`,
		"footer_template":  `"FOOTER"`,
		"message_template": `"~text~"`,
	}}
	load(t, cfg)
	id := channelID(t)
	publish(t, id, "before")
	old, _ := subscribe(t, "/sub/"+id)
	if got := old.mustChunk(); got != "HEADER" {
		t.Fatalf("first chunk %q", got)
	}
	waitSubscribers(t, id, 1)

	started := time.Now()
	cfg.Sub["header_template"] = `"NEW"`
	load(t, cfg)
	t.Logf("reload took %v with a subscriber connected", time.Since(started))

	expectChannelCounts(t, id, 1, 1, 1)
	publish(t, id, "after")
	if got := old.mustChunk(); got != "after" {
		t.Fatalf("old subscriber got %q after the reload", got)
	}
	fresh, _ := subscribe(t, "/sub/"+id+".b2")
	if got := fresh.mustChunk(); got != "NEW" {
		t.Fatalf("new subscriber header %q", got)
	}
	if got := fresh.mustChunk() + fresh.mustChunk(); got != "beforeafter" {
		t.Fatalf("new subscriber backlog %q", got)
	}
	waitSubscribers(t, id, 2)
	if num(t, stats(t, ""), "subscribers") < 2 {
		t.Fatal("summary lost the old subscriber")
	}
}
