//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// coordinator lines up the phases of the parts of a run split over several
// processes (--part i/n). Part 0 leads: it samples the server, publishes
// and tells the others through files in a shared directory. With one part
// every step is immediate.
type coordinator struct {
	part, parts int
	dir         string
	deadline    time.Time
}

func (c *coordinator) leader() bool { return c.part == 0 }

func (c *coordinator) path(name string) string { return filepath.Join(c.dir, name) }

// put writes a file atomically.
func (c *coordinator) put(name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := c.path(name + ".tmp" + strconv.Itoa(c.part))
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.path(name))
}

// await waits for a file and decodes it into v (if not nil).
func (c *coordinator) await(name string, v any) error {
	for {
		raw, err := os.ReadFile(c.path(name))
		if err == nil {
			if v == nil {
				return nil
			}
			return json.Unmarshal(raw, v)
		}
		if time.Now().After(c.deadline) {
			return fmt.Errorf("waiting for %s in %s: timed out", name, c.dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// start: the leader says when the others may connect (after it sampled the
// server's idle state); the others wait for it.
func (c *coordinator) start() error {
	if c.parts == 1 {
		return nil
	}
	if c.leader() {
		return c.put("start", true)
	}
	return c.await("start", nil)
}

// connected reports this part's connected subscribers; the leader gets the
// total once every part has reported.
func (c *coordinator) connected(n int64) (int64, error) {
	if c.parts == 1 {
		return n, nil
	}
	if err := c.put("connected."+strconv.Itoa(c.part), n); err != nil {
		return 0, err
	}
	if !c.leader() {
		return n, nil
	}
	total := int64(0)
	for i := range c.parts {
		var k int64
		if err := c.await("connected."+strconv.Itoa(i), &k); err != nil {
			return 0, err
		}
		total += k
	}
	return total, nil
}

// published hands the leader's publish outcome to the others.
func (c *coordinator) published(o *PublishOutcome) error {
	if c.parts == 1 {
		return nil
	}
	if c.leader() {
		return c.put("published", o)
	}
	return c.await("published", o)
}

// drained reports that this part has all it will get; the leader waits for
// every part.
func (c *coordinator) drained() error {
	if c.parts == 1 {
		return nil
	}
	if err := c.put("drained."+strconv.Itoa(c.part), true); err != nil {
		return err
	}
	if !c.leader() {
		return nil
	}
	for i := range c.parts {
		if err := c.await("drained."+strconv.Itoa(i), nil); err != nil {
			return err
		}
	}
	return nil
}

// finish: the leader says when it has sampled the server for the last
// time, so that no part closes its connections before.
func (c *coordinator) finish() error {
	if c.parts == 1 {
		return nil
	}
	if c.leader() {
		return c.put("finish", true)
	}
	return c.await("finish", nil)
}
