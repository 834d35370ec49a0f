//go:build linux

package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTargets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"http://127.0.0.1:18080", []string{"127.0.0.1:18080"}},
		{"http://localhost", []string{"localhost:80"}},
		{"http://127.0.0.1:1,http://127.0.0.1:2", []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{"http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3", []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}},
	} {
		got, err := parseTargets(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseTargets(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:1", "https://127.0.0.1:1", "http://127.0.0.1:1,", "http://127.0.0.1:1,,http://127.0.0.1:2"} {
		if got, err := parseTargets(bad); err == nil {
			t.Errorf("parseTargets(%q) = %q, want an error", bad, got)
		}
	}
}

// One target: every subscriber and every publish goes to it, whatever
// --publish-to says.
func TestSingleTarget(t *testing.T) {
	t.Parallel()
	for _, to := range []string{publishFirst, publishAlternate} {
		cfg, err := parseFlags([]string{"--target", "http://127.0.0.1:18080", "--channels", "3", "--publish-to", to})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if h := cfg.subscriberHost(i); h != "127.0.0.1:18080" {
				t.Errorf("%s: subscriber %d on %s", to, i, h)
			}
			if k := cfg.publishTarget(uint64(i)); k != 0 {
				t.Errorf("%s: message %d to target %d", to, i, k)
			}
		}
	}
}

// Two targets: subscribers alternate; publishes go to the first, or with
// alternate each channel's go to both in turn.
func TestClusterTargets(t *testing.T) {
	t.Parallel()
	args := []string{"--target", "http://127.0.0.1:1,http://127.0.0.1:2", "--channels", "3"}
	first, err := parseFlags(args)
	if err != nil {
		t.Fatal(err)
	}
	alternate, err := parseFlags(append(args, "--publish-to", "alternate"))
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	var toFirst, toAlternate []int
	for i := range 9 {
		subs = append(subs, first.subscriberHost(i))
		toFirst = append(toFirst, first.publishTarget(uint64(i)))
		toAlternate = append(toAlternate, alternate.publishTarget(uint64(i)))
	}
	a, b := "127.0.0.1:1", "127.0.0.1:2"
	if want := []string{a, b, a, b, a, b, a, b, a}; !slices.Equal(subs, want) {
		t.Errorf("subscribers on %q, want %q", subs, want)
	}
	if want := []int{0, 0, 0, 0, 0, 0, 0, 0, 0}; !slices.Equal(toFirst, want) {
		t.Errorf("first: messages to %v, want %v", toFirst, want)
	}
	// Messages 0-2 are the first of channels 0-2, 3-5 the second, ...
	if want := []int{0, 0, 0, 1, 1, 1, 0, 0, 0}; !slices.Equal(toAlternate, want) {
		t.Errorf("alternate: messages to %v, want %v", toAlternate, want)
	}
}

func TestParseFlagsRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "127.0.0.1:1"}, "--target"},
		{[]string{"--target", "http://127.0.0.1:1,127.0.0.1:2"}, "--target"},
		{[]string{"--publish-to", "random"}, "--publish-to"},
		{[]string{"--publish-to", "alternate", "--batch-publish", "10"}, "--batch-publish"},
	} {
		_, err := parseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseFlags(%q): %v, want an error about %s", c.args, err, c.want)
		}
	}
}

func TestBrokerPids(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"--pid", "10", "--pid", "11,12", "--broker-pid", "20"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.pids, []int{10, 11, 12}) || !slices.Equal(cfg.brokerPids, []int{20}) {
		t.Errorf("pids %v, broker pids %v", cfg.pids, cfg.brokerPids)
	}
}

// A message a subscriber gets twice counts once, and once as duplicated;
// the same message to another subscriber of its channel is a delivery.
func TestTallyDuplicates(t *testing.T) {
	t.Parallel()
	tl := &tally{channels: 2, messages: 10}
	a, b := &subState{index: 0, channel: 1}, &subState{index: 2, channel: 1}
	msg := appendMessage(nil, 3, 1000, 100)
	tl.deliver(a, msg, 2000)
	tl.deliver(a, msg, 3000)
	tl.deliver(b, msg, 2000)
	tl.deliver(a, appendMessage(nil, 4, 1000, 100), 2000) // channel 0's
	if d, dup, f := tl.delivered.Load(), tl.duplicates.Load(), tl.foreign.Load(); d != 2 || dup != 1 || f != 1 {
		t.Errorf("delivered %d, duplicated %d, foreign %d; want 2, 1, 1", d, dup, f)
	}
}

// The broker's CPU is reported apart and in the total; merge keeps it.
func TestBrokerCPU(t *testing.T) {
	t.Parallel()
	leader := &Result{
		Part: 0, Parts: 2, Connected: 10, Delivered: 1000,
		Publish:        &PublishOutcome{Succeeded: 100, StartNS: 0, EndNS: 1e9},
		LastDeliveryNS: 2e9,
		Server:         &ServerReport{PublishStart: ServerSample{CPUSeconds: 1}, End: ServerSample{CPUSeconds: 1.5}},
		Broker:         &ServerReport{PublishStart: ServerSample{CPUSeconds: 2}, End: ServerSample{CPUSeconds: 2.25}},
	}
	other := &Result{Part: 1, Parts: 2, Connected: 10, Delivered: 1000, LastDeliveryNS: 2e9}
	r, err := merge([]*Result{other, leader})
	if err != nil {
		t.Fatal(err)
	}
	total, ok := r.totalCPUPerDeliveryUS()
	if r.Server.CPUPerDeliveryUS != 250 || r.Broker.CPUPerDeliveryUS != 125 || !ok || total != 375 {
		t.Errorf("CPU per delivery: servers %v, broker %v, total %v (%v); want 250, 125, 375",
			r.Server.CPUPerDeliveryUS, r.Broker.CPUPerDeliveryUS, total, ok)
	}
	if r.Broker.CPUPercentPublish != 12.5 {
		t.Errorf("broker busy %v%%, want 12.5%%", r.Broker.CPUPercentPublish)
	}
}
