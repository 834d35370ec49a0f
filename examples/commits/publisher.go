package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Publisher posts messages to a push stream publisher location, the way any
// app behind Caddy (or nginx) does: a plain HTTP POST whose path names the
// channels. It never talks to subscribers.
type Publisher struct {
	// URL is the publisher location with the channels path left off, e.g.
	// http://127.0.0.1:8081/events/pub/ for a location whose channels_path
	// is {re.pub.1} of ^/events/pub/(.*)$.
	URL string
	// Client sends the requests; nil means a client with a 10 second timeout.
	Client *http.Client
}

// Publish sends body to every channel in one request (the channels path
// lists them separated by "/"), with eventID as its Event-Id: EventSource
// subscribers resume after it with Last-Event-ID and WebSocket subscribers
// with the last_event_id query argument.
func (p *Publisher) Publish(ctx context.Context, channels []string, eventID string, body []byte) error {
	escaped := make([]string, len(channels))
	for i, ch := range channels {
		escaped[i] = url.PathEscape(ch)
	}
	target := strings.TrimRight(p.URL, "/") + "/" + strings.Join(escaped, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building publish request for %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Event-Id", eventID)
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("publishing to %s: %w", target, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		explain := resp.Header.Get("X-Nginx-PushStream-Explain")
		return fmt.Errorf("publishing to %s: status %d %s %s", target, resp.StatusCode, explain, bytes.TrimSpace(answer))
	}
	return nil
}
