package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
)

// sessionCookie is the name of the cookie that carries a session token.
const sessionCookie = "session"

// User is someone who may log in. The example knows five, the authors of
// its seeded commits; the page's commit form uses the same ids.
type User struct {
	ID   int64  `json:"user_id"`
	Name string `json:"username"`
}

// users are the example's accounts, by name.
var users = map[string]User{
	"ana":   {1, "ana"},
	"bruno": {2, "bruno"},
	"carla": {3, "carla"},
	"diego": {4, "diego"},
	"elisa": {5, "elisa"},
}

// userByID returns the user with the id, if the example has one.
func userByID(id int64) (User, bool) {
	for _, u := range users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// Sessions maps session tokens to users, in memory: a restart of the app
// logs everybody out, which is all an example needs.
type Sessions struct {
	mu     sync.Mutex
	tokens map[string]User
}

// NewSessions returns an empty session table.
func NewSessions() *Sessions {
	return &Sessions{tokens: make(map[string]User)}
}

// Start opens a session for u and returns its token: 32 random bytes.
func (s *Sessions) Start(u User) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	token := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[token] = u
	s.mu.Unlock()
	return token
}

// End closes the session of token.
func (s *Sessions) End(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
}

// User returns the user whose session cookie r carries.
func (s *Sessions) User(r *http.Request) (User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return User{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.tokens[c.Value]
	return u, ok
}

// Register adds the login routes: POST /login (a form with username),
// POST /logout and GET /api/v1/me.
func (s *Sessions) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /api/v1/me", s.me)
}

func (s *Sessions) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	u, ok := users[strings.ToLower(strings.TrimSpace(r.FormValue("username")))]
	if !ok {
		writeError(w, http.StatusForbidden, "unknown user: try ana, bruno, carla, diego or elisa")
		return
	}
	// HttpOnly: the page's script never sees the token; SameSite=Lax: other
	// sites' pages cannot subscribe, post or star in the user's name.
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.Start(u), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
	})
	writeJSON(w, http.StatusOK, u)
}

func (s *Sessions) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.End(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sessions) me(w http.ResponseWriter, r *http.Request) {
	u, ok := s.User(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "not logged in")
		return
	}
	writeJSON(w, http.StatusOK, u)
}
