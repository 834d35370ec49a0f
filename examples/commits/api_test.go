package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// publication is one request the fake publisher location received.
type publication struct {
	Path    string
	EventID string
	Body    []byte
}

// fakePublisher is a real HTTP endpoint standing in for Caddy's publisher
// location; it answers like the push stream module does.
type fakePublisher struct {
	*httptest.Server
	mu  sync.Mutex
	got []publication
}

func newFakePublisher(t *testing.T) *fakePublisher {
	t.Helper()
	fp := &fakePublisher{}
	fp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fp.mu.Lock()
		fp.got = append(fp.got, publication{Path: r.URL.Path, EventID: r.Header.Get("Event-Id"), Body: body})
		fp.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"channel": "global", "published_messages": 1, "stored_messages": 1, "subscribers": 0}`+"\r\n")
	}))
	t.Cleanup(fp.Close)
	return fp
}

func (fp *fakePublisher) publications() []publication {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return append([]publication(nil), fp.got...)
}

type testApp struct {
	*httptest.Server
	store *Store
	logs  *syncBuffer
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestApp(t *testing.T, publisherURL string, seed int) *testApp {
	t.Helper()
	store := openTestStore(t)
	if err := store.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	var pub *Publisher
	if publisherURL != "" {
		pub = &Publisher{URL: publisherURL}
	}
	handler, err := NewHandler(store, pub, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &testApp{Server: srv, store: store, logs: logs}
}

func getJSON(t *testing.T, url string, wantStatus int, into any) {
	t.Helper()
	getJSONWith(t, http.DefaultClient, url, wantStatus, into)
}

func getJSONWith(t *testing.T, client *http.Client, url string, wantStatus int, into any) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", url, ct)
	}
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
}

func postCommit(t *testing.T, base, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/commit/", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp, answer
}

func TestAPIList(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, "", 45)
	str := func(s string) *string { return &s }

	tests := []struct {
		name  string
		query string
		want  listMeta
		first int64
		count int
	}{
		{name: "defaults", query: "", want: listMeta{Limit: 20, Offset: 0, TotalCount: 45, Next: str("/api/v1/commit/?limit=20&offset=20")}, first: 45, count: 20},
		{name: "second page", query: "?offset=20&limit=20", want: listMeta{Limit: 20, Offset: 20, TotalCount: 45, Next: str("/api/v1/commit/?limit=20&offset=40"), Previous: str("/api/v1/commit/?limit=20&offset=0")}, first: 25, count: 20},
		{name: "last page", query: "?offset=40&limit=20", want: listMeta{Limit: 20, Offset: 40, TotalCount: 45, Previous: str("/api/v1/commit/?limit=20&offset=20")}, first: 5, count: 5},
		{name: "limit zero is the maximum", query: "?limit=0", want: listMeta{Limit: maxLimit, TotalCount: 45}, first: 45, count: 45},
		{name: "filter kept in next", query: "?project_id=1&limit=5", want: listMeta{Limit: 5, TotalCount: 15, Next: str("/api/v1/commit/?limit=5&offset=5&project_id=1")}, first: 43, count: 5},
		{name: "no match", query: "?user_id=99", want: listMeta{Limit: 20, TotalCount: 0}, count: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var page listPage
			getJSON(t, app.URL+"/api/v1/commit/"+tt.query, http.StatusOK, &page)
			if !equalMeta(page.Meta, tt.want) {
				t.Fatalf("meta %s, want %s", mustJSON(page.Meta), mustJSON(tt.want))
			}
			if len(page.Objects) != tt.count {
				t.Fatalf("%d objects, want %d", len(page.Objects), tt.count)
			}
			if tt.count > 0 && page.Objects[0].ID != tt.first {
				t.Fatalf("first id %d, want %d", page.Objects[0].ID, tt.first)
			}
		})
	}

	for _, bad := range []string{"?offset=-1", "?limit=x", "?user_id=0", "?project_id=abc"} {
		getJSON(t, app.URL+"/api/v1/commit/"+bad, http.StatusBadRequest, nil)
	}
}

func equalMeta(a, b listMeta) bool {
	return mustJSON(a) == mustJSON(b)
}

func mustJSON(v any) string {
	b, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestAPIDetailAndSchema(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, "", 3)

	var c Commit
	getJSON(t, app.URL+"/api/v1/commit/2/", http.StatusOK, &c)
	if c.ID != 2 || c.ResourceURI != "/api/v1/commit/2/" || c.Message == "" {
		t.Fatalf("detail: %+v", c)
	}
	getJSON(t, app.URL+"/api/v1/commit/4/", http.StatusNotFound, nil)
	getJSON(t, app.URL+"/api/v1/commit/nope/", http.StatusNotFound, nil)

	var schema struct {
		Fields    map[string]fieldSchema `json:"fields"`
		Filtering map[string][]string    `json:"filtering"`
		Methods   []string               `json:"allowed_list_http_methods"`
	}
	getJSON(t, app.URL+"/api/v1/commit/schema/", http.StatusOK, &schema)
	for _, f := range []string{"id", "sha", "message", "author", "user_id", "project_id", "created_at", "resource_uri"} {
		if _, ok := schema.Fields[f]; !ok {
			t.Errorf("schema lacks field %q", f)
		}
	}
	if strings.Join(schema.Methods, ",") != "get,post" || len(schema.Filtering) != 2 {
		t.Errorf("schema: %+v", schema)
	}

	req, _ := http.NewRequest(http.MethodDelete, app.URL+"/api/v1/commit/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE: status %d", resp.StatusCode)
	}
}

func TestAPICreatePublishes(t *testing.T) {
	t.Parallel()
	fp := newFakePublisher(t)
	app := newTestApp(t, fp.URL+"/events/pub/", 0)

	resp, body := postCommit(t, app.URL, `{"message":"Add <live> updates & more","user_id":4,"project_id":2,"author":"diego"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var c Commit
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Location") != "/api/v1/commit/1/" || c.ID != 1 || c.Author != "diego" {
		t.Fatalf("created %+v, Location %q", c, resp.Header.Get("Location"))
	}

	// The commit on its three channels, then its author's notification.
	pubs := fp.publications()
	if len(pubs) != 2 {
		t.Fatalf("%d publications, want 2", len(pubs))
	}
	if n := pubs[1]; n.Path != "/events/pub/private-4" || !bytes.Contains(n.Body, []byte(`"kind":"published","commit_id":1`)) || n.EventID == "" || !bytes.Contains(n.Body, []byte(`"id":"`+n.EventID+`"`)) {
		t.Fatalf("notification %s to %s", n.Body, n.Path)
	}
	p := pubs[0]
	if p.Path != "/events/pub/user-4/project-2/global" || p.EventID != "1" {
		t.Fatalf("published to %s with Event-Id %q", p.Path, p.EventID)
	}
	// The message is the commit exactly as the API shows it, on one line.
	if !bytes.Equal(p.Body, body) || bytes.ContainsRune(p.Body, '\n') {
		t.Fatalf("published %s, API answered %s", p.Body, body)
	}
	if strings.Contains(app.logs.String(), "level=ERROR") {
		t.Fatalf("logged an error: %s", app.logs)
	}
}

func TestAPICreateKeepsCommitWhenPublishingFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{name: "publisher down", url: func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close() // nothing listens there any more
			return srv.URL + "/events/pub/"
		}},
		{name: "publisher refuses", url: func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Nginx-PushStream-Explain", "Number of channels were exceeded.")
				w.WriteHeader(http.StatusForbidden)
			}))
			t.Cleanup(srv.Close)
			return srv.URL + "/events/pub/"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := newTestApp(t, tt.url(t), 0)
			resp, body := postCommit(t, app.URL, `{"message":"still stored","user_id":1,"project_id":1}`)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var c Commit
			getJSON(t, app.URL+"/api/v1/commit/1/", http.StatusOK, &c)
			if c.Message != "still stored" {
				t.Fatalf("stored %+v", c)
			}
			if logs := app.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "publishing commit") || !strings.Contains(logs, "id=1") {
				t.Fatalf("the failure was not logged: %s", logs)
			}
		})
	}
}

func TestAPICreateValidates(t *testing.T) {
	t.Parallel()
	fp := newFakePublisher(t)
	app := newTestApp(t, fp.URL+"/events/pub/", 0)
	sha := strings.Repeat("ab", 20)

	tests := []struct {
		name, body string
		status     int
	}{
		{"not JSON", `message=hi`, http.StatusBadRequest},
		{"unknown field", `{"message":"hi","user_id":1,"project_id":1,"id":5}`, http.StatusBadRequest},
		{"no message", `{"message":"  ","user_id":1,"project_id":1}`, http.StatusBadRequest},
		{"no user", `{"message":"hi","project_id":1}`, http.StatusBadRequest},
		{"negative project", `{"message":"hi","user_id":1,"project_id":-2}`, http.StatusBadRequest},
		{"bad sha", `{"message":"hi","user_id":1,"project_id":1,"sha":"xyz"}`, http.StatusBadRequest},
		{"given sha", `{"message":"hi","user_id":1,"project_id":1,"sha":"` + sha + `"}`, http.StatusCreated},
		{"same sha again", `{"message":"hi","user_id":1,"project_id":1,"sha":"` + sha + `"}`, http.StatusConflict},
	}
	for _, tt := range tests { // in order: the last case depends on the one before
		resp, body := postCommit(t, app.URL, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.status, body)
		}
	}
	if n := len(fp.publications()); n != 2 {
		t.Fatalf("%d publications, want 2 (only the created commit and its notification)", n)
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, "", 0)
	for path, want := range map[string]string{
		"/":                "<script src=\"/static/feed.js\">",
		"/static/feed.js":  "window.feed",
		"/static/feed.css": ".commit",
	} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: status %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
}
