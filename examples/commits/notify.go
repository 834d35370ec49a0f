package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Notification is what a user's private channel, private-<user id>,
// carries: something happened to one of their commits.
type Notification struct {
	// ID is unique per notification, and also its Event-Id: a page drops
	// what a resume delivers twice, and resumes after the last one it got.
	ID string `json:"id"`
	// Kind is "published" (your commit was published) or "starred".
	Kind     string `json:"kind"`
	CommitID int64  `json:"commit_id"`
	Message  string `json:"message"`
	// By is who starred the commit; empty for "published".
	By string `json:"by,omitempty"`
}

// notificationSeq numbers notifications for their Event-Id.
var notificationSeq atomic.Int64

// privateChannel is the channel of user id's notifications. Only that user
// may subscribe to it: the Caddyfile's forward_auth asks the app
// (Sessions.checkSubscription).
func privateChannel(userID int64) string {
	return "private-" + strconv.FormatInt(userID, 10)
}

// notify publishes n to the private channel of user userID. Like announce,
// it has its own deadline and only logs a failure.
func (a *API) notify(userID int64, n Notification) {
	if a.Publisher == nil {
		return
	}
	n.ID = "n" + strconv.FormatInt(notificationSeq.Add(1), 10)
	body, err := marshal(n)
	if err != nil {
		a.Logger.Error("encoding notification", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Publisher.Publish(ctx, []string{privateChannel(userID)}, n.ID, body); err != nil {
		a.Logger.Error("publishing notification", "user", userID, "err", err)
	}
}

// star handles POST /api/v1/commit/<id>/star/: the logged-in user stars a
// commit and its author is notified.
func (a *API) star(w http.ResponseWriter, r *http.Request) {
	user, ok := a.Sessions.User(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "log in to star a commit")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "no commit with this id")
		return
	}
	c, err := a.Store.Get(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "no commit with this id")
		return
	case err != nil:
		a.Logger.Error("reading commit", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the commit")
		return
	}
	a.notify(c.UserID, Notification{Kind: "starred", CommitID: c.ID, Message: c.Message, By: user.Name})
	w.WriteHeader(http.StatusNoContent)
}
