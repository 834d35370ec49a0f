package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	apiPrefix    = "/api/v1/commit/"
	defaultLimit = 20
	maxLimit     = 100
	maxBodySize  = 64 << 10
	maxMessage   = 10_000
)

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// API serves the commits resource in the shape of a django-tastypie
// resource: list, detail, schema and create. Creating a commit stores it,
// then announces it on the push stream channels of its user, its project and
// the global feed.
type API struct {
	Store     *Store
	Publisher *Publisher // nil: commits are not announced
	Sessions  *Sessions  // who is logged in, for stars
	Logger    *slog.Logger
}

// Register adds the API routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+apiPrefix+"{$}", a.list)
	mux.HandleFunc("POST "+apiPrefix+"{$}", a.create)
	mux.HandleFunc("GET "+apiPrefix+"schema/{$}", a.schema)
	mux.HandleFunc("GET "+apiPrefix+"{id}/{$}", a.detail)
	mux.HandleFunc("POST "+apiPrefix+"{id}/star/{$}", a.star)
}

type listMeta struct {
	Limit      int     `json:"limit"`
	Next       *string `json:"next"`
	Offset     int     `json:"offset"`
	Previous   *string `json:"previous"`
	TotalCount int     `json:"total_count"`
}

type listPage struct {
	Meta    listMeta `json:"meta"`
	Objects []Commit `json:"objects"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, err := nonNegative(q, "offset", 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := nonNegative(q, "limit", defaultLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if limit == 0 || limit > maxLimit {
		limit = maxLimit // tastypie: limit=0 asks for the maximum
	}
	var f Filter
	if f.UserID, err = positiveFilter(q, "user_id"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.ProjectID, err = positiveFilter(q, "project_id"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	commits, total, err := a.Store.List(r.Context(), f, offset, limit)
	if err != nil {
		a.Logger.Error("listing commits", "err", err)
		writeError(w, http.StatusInternalServerError, "could not list commits")
		return
	}
	meta := listMeta{Limit: limit, Offset: offset, TotalCount: total}
	if offset+limit < total {
		meta.Next = pageURI(q, offset+limit, limit)
	}
	if offset > 0 {
		meta.Previous = pageURI(q, max(offset-limit, 0), limit)
	}
	writeJSON(w, http.StatusOK, listPage{Meta: meta, Objects: commits})
}

// pageURI keeps the request's filters and sets offset and limit.
func pageURI(q url.Values, offset, limit int) *string {
	page := url.Values{}
	for k, v := range q {
		page[k] = v
	}
	page.Set("offset", strconv.Itoa(offset))
	page.Set("limit", strconv.Itoa(limit))
	uri := apiPrefix + "?" + page.Encode()
	return &uri
}

func (a *API) detail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "no commit with this id")
		return
	}
	c, err := a.Store.Get(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "no commit with this id")
	case err != nil:
		a.Logger.Error("reading commit", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "could not read the commit")
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	var nc NewCommit
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodySize))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&nc); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	if msg := validate(nc); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	c, err := a.Store.Create(r.Context(), nc)
	if err != nil {
		if errors.Is(err, ErrDuplicateSHA) {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		a.Logger.Error("creating commit", "err", err)
		writeError(w, http.StatusInternalServerError, "could not store the commit")
		return
	}
	// The commit is stored: from here on nothing may lose it. A failed
	// announcement is logged; subscribers then miss the live update but
	// still see the commit in the list on their next load.
	a.announce(c)
	a.notify(c.UserID, Notification{Kind: "published", CommitID: c.ID, Message: c.Message})
	w.Header().Set("Location", c.ResourceURI)
	writeJSON(w, http.StatusCreated, c)
}

// announce publishes c to the channels of its user, its project and the
// global feed, with the commit id as the event id so that subscribers can
// resume after it. It uses its own deadline, not the request's: a client
// that hangs up after posting must not cancel the announcement.
func (a *API) announce(c Commit) {
	if a.Publisher == nil {
		return
	}
	body, err := marshal(c)
	if err != nil {
		a.Logger.Error("encoding commit for publishing", "id", c.ID, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Publisher.Publish(ctx, commitChannels(c), strconv.FormatInt(c.ID, 10), body); err != nil {
		a.Logger.Error("publishing commit; it is stored but subscribers were not told", "id", c.ID, "err", err)
		return
	}
	a.Logger.Debug("published commit", "id", c.ID)
}

// commitChannels are the channels a commit is announced on.
func commitChannels(c Commit) []string {
	return []string{
		"user-" + strconv.FormatInt(c.UserID, 10),
		"project-" + strconv.FormatInt(c.ProjectID, 10),
		"global",
	}
}

func validate(nc NewCommit) string {
	switch {
	case strings.TrimSpace(nc.Message) == "":
		return "message is required"
	case utf8.RuneCountInString(nc.Message) > maxMessage:
		return fmt.Sprintf("message is longer than %d characters", maxMessage)
	case nc.UserID <= 0:
		return "user_id must be a positive integer"
	case nc.ProjectID <= 0:
		return "project_id must be a positive integer"
	case nc.SHA != "" && !shaPattern.MatchString(nc.SHA):
		return "sha must be 40 lowercase hexadecimal digits"
	case len(nc.Author) > 200:
		return "author is longer than 200 bytes"
	}
	return ""
}

func nonNegative(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s %q: provide an integer >= 0", name, s)
	}
	return n, nil
}

func positiveFilter(q url.Values, name string) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid %s %q: provide a positive integer", name, s)
	}
	return n, nil
}

func (a *API) schema(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, commitSchema)
}

type fieldSchema struct {
	Blank    bool   `json:"blank"`
	Default  any    `json:"default"`
	HelpText string `json:"help_text"`
	Nullable bool   `json:"nullable"`
	ReadOnly bool   `json:"readonly"`
	Type     string `json:"type"`
	Unique   bool   `json:"unique"`
}

// commitSchema describes the resource the way tastypie's schema view does.
var commitSchema = map[string]any{
	"allowed_detail_http_methods": []string{"get"},
	"allowed_list_http_methods":   []string{"get", "post"},
	"default_format":              "application/json",
	"default_limit":               defaultLimit,
	"max_limit":                   maxLimit,
	"filtering":                   map[string][]string{"user_id": {"exact"}, "project_id": {"exact"}},
	"ordering":                    []string{"-id"},
	"fields": map[string]fieldSchema{
		"id":           {HelpText: "Integer data. Assigned by the server; newest commits have the largest ids.", ReadOnly: true, Type: "integer", Unique: true},
		"sha":          {Blank: true, HelpText: "40 hexadecimal digits. Generated when omitted.", Type: "string", Unique: true},
		"message":      {HelpText: "Unicode string data. Required.", Type: "string"},
		"author":       {Blank: true, HelpText: "Unicode string data. Defaults to user<user_id>.", Type: "string"},
		"user_id":      {HelpText: "Integer data. Required; the commit is announced on channel user-<user_id>.", Type: "integer"},
		"project_id":   {HelpText: "Integer data. Required; the commit is announced on channel project-<project_id>.", Type: "integer"},
		"created_at":   {HelpText: "A date & time as a string, RFC 3339. Assigned by the server.", ReadOnly: true, Type: "datetime"},
		"resource_uri": {HelpText: "Unicode string data.", ReadOnly: true, Type: "string"},
	},
}

// marshal encodes v as compact JSON on one line, leaving <, > and & as
// they are (the long-polling location relies on the line: one message per
// line).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
