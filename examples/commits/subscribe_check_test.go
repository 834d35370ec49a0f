package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// login logs a new client in as username on app and returns it; the
// client keeps the session cookie.
func login(t *testing.T, base, username string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.PostForm(base+"/login", url.Values{"username": {username}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: status %d", username, resp.StatusCode)
	}
	return client
}

func TestLogin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, "", 0)
	resp, err := http.PostForm(app.URL+"/login", url.Values{"username": {"mallory"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("unknown user: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}

	bruno := login(t, app.URL, " Bruno ")
	var me User
	getJSONWith(t, bruno, app.URL+"/api/v1/me", http.StatusOK, &me)
	if me != (User{2, "bruno"}) {
		t.Fatalf("me = %+v", me)
	}
	resp, err = bruno.Post(app.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	getJSONWith(t, bruno, app.URL+"/api/v1/me", http.StatusUnauthorized, nil)
}

func TestCheckSubscription(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, "", 0)
	clients := map[string]*http.Client{"": http.DefaultClient, "bruno": login(t, app.URL, "bruno"), "carla": login(t, app.URL, "carla")}
	tests := []struct {
		name, user, uri string
		want            int
	}{
		{"public channel, logged out", "", "/events/ws/global", http.StatusNoContent},
		{"public channels with backtrack", "", "/events/sub/project-2.b5/user-3", http.StatusNoContent},
		{"own private channel", "bruno", "/events/ev/private-2?last_event_id=n4", http.StatusNoContent},
		{"own private channel among public ones", "bruno", "/events/lp/global/private-2.b3", http.StatusNoContent},
		{"private channel, logged out", "", "/events/ws/private-2", http.StatusForbidden},
		{"someone else's private channel", "carla", "/events/ev/private-2", http.StatusForbidden},
		{"someone else's channel behind a public one", "carla", "/events/sub/global/private-2", http.StatusForbidden},
		{"escaped slash", "carla", "/events/lp/global%2Fprivate-2", http.StatusForbidden},
		{"escaped twice", "carla", "/events/lp/global%252Fprivate-2", http.StatusForbidden},
		{"escaped letters", "carla", "/events/ws/%2570rivate-2", http.StatusForbidden},
		{"unknown channel name", "", "/events/ws/secrets", http.StatusForbidden},
		{"empty channel", "", "/events/ws/global//user-1", http.StatusForbidden},
		{"not a subscriber location", "bruno", "/events/pub/private-2", http.StatusForbidden},
		{"no forwarded uri", "bruno", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/auth/subscribe", nil)
			req.Header.Set("X-Forwarded-Method", http.MethodGet)
			if tt.uri != "" {
				req.Header.Set("X-Forwarded-Uri", tt.uri)
			}
			resp, err := clients[tt.user].Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestStarNotifiesTheAuthor(t *testing.T) {
	t.Parallel()
	fp := newFakePublisher(t)
	app := newTestApp(t, fp.URL+"/events/pub/", 3) // seeded commit 1 is user 1's
	var c Commit
	getJSONWith(t, http.DefaultClient, app.URL+"/api/v1/commit/1/", http.StatusOK, &c)
	resp, err := http.Post(app.URL+"/api/v1/commit/1/star/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(fp.publications()) != 0 {
		t.Fatalf("star logged out: status %d, %d publications", resp.StatusCode, len(fp.publications()))
	}
	resp, err = login(t, app.URL, "elisa").Post(app.URL+"/api/v1/commit/1/star/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pubs := fp.publications()
	if resp.StatusCode != http.StatusNoContent || len(pubs) != 1 {
		t.Fatalf("star: status %d, %d publications", resp.StatusCode, len(pubs))
	}
	want := privateChannel(c.UserID)
	if pubs[0].Path != "/events/pub/"+want || !strings.Contains(string(pubs[0].Body), `"kind":"starred"`) || !strings.Contains(string(pubs[0].Body), `"by":"elisa"`) {
		t.Fatalf("published %s to %s, want a star by elisa on %s", pubs[0].Body, pubs[0].Path, want)
	}
}
