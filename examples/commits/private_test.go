package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wsHandshakeStatus sends a WebSocket handshake for path with cookie and
// returns the status of the answer: 101 when the subscriber took it.
func wsHandshakeStatus(t *testing.T, base, path, cookie string) int {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if cookie != "" {
		req += "Cookie: " + cookie + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// sessionCookieOf logs username in through Caddy and returns the
// "session=<token>" cookie pair.
func sessionCookieOf(t *testing.T, base, username string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/login", url.Values{"username": {username}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("login %s: status %d, no session cookie", username, resp.StatusCode)
	return ""
}

// TestPrivateChannelsBehindCaddy runs forward_auth for real: the private
// channel private-2 is bruno's alone on every transport, public channels
// need no login.
func TestPrivateChannelsBehindCaddy(t *testing.T) {
	s := startStack(t, 5)
	bruno, carla := sessionCookieOf(t, s.base, "bruno"), sessionCookieOf(t, s.base, "carla")

	status := func(path, cookie string) int {
		t.Helper()
		if strings.HasPrefix(path, "/events/ws/") {
			return wsHandshakeStatus(t, s.base, path, cookie)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if strings.HasPrefix(path, "/events/lp/") {
			// Answered at once (polling), without waiting for a message,
			// by the long-polling location and its forward_auth.
			req.Header.Set("X-Nginx-PushStream-Mode", "polling")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, prefix := range []string{"/events/ws/", "/events/ev/", "/events/lp/", "/events/sub/"} {
		for _, tc := range []struct {
			who, cookie, channels string
			allowed               bool
		}{
			{"logged out", "", "global", true},
			{"logged out", "", "private-2", false},
			{"carla", carla, "private-2", false},
			{"carla", carla, "global/private-2", false},
			{"carla", carla, "private-3", true},
			{"bruno", bruno, "project-1/private-2", true},
		} {
			got := status(prefix+tc.channels, tc.cookie)
			ok := got == http.StatusOK || got == http.StatusSwitchingProtocols || got == http.StatusNotModified
			if ok != tc.allowed || !ok && got != http.StatusForbidden {
				t.Errorf("%s %s%s: status %d, allowed %v", tc.who, prefix, tc.channels, got, tc.allowed)
			}
		}
	}

	// bruno's stream gets his notifications.
	es := openEventStream(t, s.base+"/events/ev/private-2", http.Header{"Cookie": {bruno}})
	waitSubscribed(t, s.internal, "private-2")
	c := createThroughCaddy(t, s.base, 2, 1, "Bruno's commit")
	ev, ok := <-es.events
	var n Notification
	if !ok || json.Unmarshal([]byte(ev[1]), &n) != nil || n.Kind != "published" || n.CommitID != c.ID {
		t.Fatalf("bruno's notification: %q", ev)
	}
}
