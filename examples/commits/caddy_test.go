package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests below run the app behind a real Caddy with the plugin, started
// on the Caddyfile beside this file, the way a user runs the example. Caddy
// is $CADDY_BIN when set (run.sh and ci.sh build it once), otherwise it is
// built from this checkout (the main package cmd/caddy).

var (
	caddyOnce sync.Once
	caddyBin  string
	caddyDir  string // removed after the tests when caddyBin was built here
	caddyErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if caddyDir != "" {
		_ = os.RemoveAll(caddyDir)
	}
	os.Exit(code)
}

func caddyBinary(t *testing.T) string {
	t.Helper()
	caddyOnce.Do(func() {
		if bin := os.Getenv("CADDY_BIN"); bin != "" {
			caddyBin = bin
			return
		}
		dir, err := os.MkdirTemp("", "commits-caddy-")
		if err != nil {
			caddyErr = err
			return
		}
		caddyDir = dir
		caddyBin = filepath.Join(dir, "caddy")
		cmd := exec.Command("go", "build", "-o", caddyBin, "./cmd/caddy")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			caddyErr = fmt.Errorf("building caddy: %w\n%s", err, out)
		}
	})
	if caddyErr != nil {
		t.Fatal(caddyErr)
	}
	return caddyBin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// stack is the app behind Caddy on loopback.
type stack struct {
	base     string // Caddy, the page's origin, e.g. http://127.0.0.1:41234
	internal string // Caddy's publisher and statistics site
	app      *testApp
}

func startStack(t *testing.T, seed int) *stack {
	t.Helper()
	bin := caddyBinary(t)
	caddyPort, internalPort, tlsPort := freePort(t), freePort(t), freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(caddyPort)
	internal := "http://127.0.0.1:" + strconv.Itoa(internalPort)
	app := newTestApp(t, internal+"/events/pub/", seed)

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "run", "--config", "Caddyfile", "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(),
		"COMMITS_PORT="+strconv.Itoa(caddyPort),
		"COMMITS_INTERNAL_PORT="+strconv.Itoa(internalPort),
		"COMMITS_TLS_PORT="+strconv.Itoa(tlsPort),
		"XDG_DATA_HOME="+t.TempDir(), // Caddy's internal CA and certificates
		"XDG_CONFIG_HOME="+t.TempDir(),
		"COMMITS_APP="+strings.TrimPrefix(app.URL, "http://"),
		"COMMITS_ADMIN=off",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("caddy log:\n%s\napp log:\n%s", logs, app.logs)
		}
	})

	// Ready when the app answers through Caddy.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + "/api/v1/commit/schema/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-done:
			t.Fatalf("caddy exited:\n%s", logs)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy did not come up:\n%s", logs)
		}
	}
	return &stack{base: base, internal: internal, app: app}
}

// eventStream reads an EventSource stream: id and data of each event.
type eventStream struct {
	resp   *http.Response
	events chan [2]string
}

func openEventStream(t *testing.T, url string, header http.Header) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	es := &eventStream{resp: resp, events: make(chan [2]string, 16)}
	go func() {
		defer close(es.events)
		var id, data string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			case line == "" && data != "":
				es.events <- [2]string{id, data}
				id, data = "", ""
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	return es
}

// next returns the next event; the stream's own end or the test's deadline
// fails the test (no sleeps: a read either gets the event or the test times
// out).
func (es *eventStream) next(t *testing.T) (string, Commit) {
	t.Helper()
	ev, ok := <-es.events
	if !ok {
		t.Fatal("event stream ended")
	}
	var c Commit
	if err := json.Unmarshal([]byte(ev[1]), &c); err != nil {
		t.Fatalf("event data %q: %v", ev[1], err)
	}
	return ev[0], c
}

// waitSubscribed waits until the channel has a subscriber: the response
// headers of a stream are sent before its subscription is made.
func waitSubscribed(t *testing.T, internal, channel string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var stats struct {
			Subscribers int `json:"subscribers"`
		}
		resp, err := http.Get(internal + "/events/stats/" + channel)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			_ = json.NewDecoder(resp.Body).Decode(&stats)
		}
		resp.Body.Close()
		if stats.Subscribers > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel %s has no subscriber", channel)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createThroughCaddy(t *testing.T, base string, userID, projectID int64, msg string) Commit {
	t.Helper()
	body := fmt.Sprintf(`{"message":%q,"user_id":%d,"project_id":%d}`, msg, userID, projectID)
	resp, answer := postCommit(t, base, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST through caddy: %d %s", resp.StatusCode, answer)
	}
	var c Commit
	if err := json.Unmarshal(answer, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBehindCaddy(t *testing.T) {
	s := startStack(t, 25)

	t.Run("api through reverse_proxy", func(t *testing.T) {
		var page listPage
		getJSON(t, s.base+"/api/v1/commit/?offset=20&limit=20", http.StatusOK, &page)
		if page.Meta.TotalCount != 25 || len(page.Objects) != 5 || page.Objects[0].ID != 5 {
			t.Fatalf("page %s", mustJSON(page.Meta))
		}
	})

	t.Run("a new commit reaches subscribers of its three channels", func(t *testing.T) {
		global := openEventStream(t, s.base+"/events/ev/global", nil)
		user := openEventStream(t, s.base+"/events/ev/user-3", nil)
		project := openEventStream(t, s.base+"/events/ev/project-2", nil)
		other := openEventStream(t, s.base+"/events/ev/user-4", nil)
		for _, ch := range []string{"global", "user-3", "project-2", "user-4"} {
			waitSubscribed(t, s.internal, ch)
		}

		c := createThroughCaddy(t, s.base, 3, 2, "Announce commits on three channels")
		for name, es := range map[string]*eventStream{"global": global, "user-3": user, "project-2": project} {
			id, got := es.next(t)
			if id != strconv.FormatInt(c.ID, 10) || got.ID != c.ID || got.Message != c.Message || got.SHA != c.SHA {
				t.Fatalf("%s got id %q %+v, want %+v", name, id, got, c)
			}
		}
		// user-4 gets the next commit of user 4, not the one of user 3.
		c4 := createThroughCaddy(t, s.base, 4, 1, "For user four")
		if id, _ := other.next(t); id != strconv.FormatInt(c4.ID, 10) {
			t.Fatalf("user-4 got event %s, want %d", id, c4.ID)
		}

		var stats struct {
			Channel        string `json:"channel"`
			StoredMessages int    `json:"stored_messages"`
		}
		getJSON(t, s.internal+"/events/stats/project-2", http.StatusOK, &stats)
		if stats.Channel != "project-2" || stats.StoredMessages < 1 {
			t.Fatalf("stats %+v", stats)
		}
	})

	t.Run("subscribers resume after the last commit they got", func(t *testing.T) {
		first := createThroughCaddy(t, s.base, 1, 1, "Seen before the connection dropped")
		missed := []Commit{
			createThroughCaddy(t, s.base, 2, 1, "Missed one"),
			createThroughCaddy(t, s.base, 5, 3, "Missed two"),
		}
		firstID := strconv.FormatInt(first.ID, 10)
		for name, es := range map[string]*eventStream{
			// the browser's own reconnection
			"Last-Event-ID header": openEventStream(t, s.base+"/events/ev/global", http.Header{"Last-Event-Id": {firstID}}),
			// a page that reconnects by itself
			"last_event_id query": openEventStream(t, s.base+"/events/ev/global?last_event_id="+firstID, nil),
			// the header wins over a stale query argument
			"header over query": openEventStream(t, s.base+"/events/ev/global?last_event_id=1", http.Header{"Last-Event-Id": {firstID}}),
		} {
			for _, want := range missed {
				if id, got := es.next(t); got.ID != want.ID || id != strconv.FormatInt(want.ID, 10) {
					t.Fatalf("%s: got %s %+v, want %d", name, id, got, want.ID)
				}
			}
		}

		// Long polling: everything after the position, in one answer.
		since := first.CreatedAt.Add(-2 * time.Second).UTC().Format(http.TimeFormat)
		req, _ := http.NewRequest(http.MethodGet, s.base+"/events/lp/global", nil)
		req.Header.Set("If-Modified-Since", since)
		req.Header.Set("If-None-Match", "W/0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Last-Modified") == "" || !strings.HasPrefix(resp.Header.Get("Etag"), "W/") {
			t.Fatalf("long polling: %d %v", resp.StatusCode, resp.Header)
		}
		var ids []int64
		for line := range strings.SplitSeq(strings.TrimSpace(string(body)), "\n") {
			var c Commit
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("long polling line %q: %v", line, err)
			}
			ids = append(ids, c.ID)
		}
		want := []int64{first.ID, missed[0].ID, missed[1].ID}
		if len(ids) < 3 || fmt.Sprint(ids[len(ids)-3:]) != fmt.Sprint(want) {
			t.Fatalf("long polling returned %v, want it to end with %v", ids, want)
		}
	})

	t.Run("publisher and statistics are not on the page's origin", func(t *testing.T) {
		for _, path := range []string{"/events/stats/ALL", "/events/stats/", "/events/pub/global"} {
			resp, err := http.Get(s.base + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "channel") {
				t.Fatalf("GET %s on the page's origin: %d %s", path, resp.StatusCode, body)
			}
		}
		resp, err := http.Post(s.base+"/events/pub/global", "text/plain", strings.NewReader("not a commit"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("published through the page's origin")
		}
		getJSON(t, s.internal+"/events/stats/global", http.StatusOK, nil)
	})
}
