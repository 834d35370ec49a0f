package main

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // a git-style commit id, not a security hash
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrNotFound is returned by Store.Get for an id that has no commit.
	ErrNotFound = errors.New("commit not found")
	// ErrDuplicateSHA is returned by Store.Create for a sha already stored.
	ErrDuplicateSHA = errors.New("a commit with this sha already exists")
)

// Commit is one commit of the feed, as stored and as the API shows it.
type Commit struct {
	ID          int64     `json:"id"`
	SHA         string    `json:"sha"`
	Message     string    `json:"message"`
	Author      string    `json:"author"`
	UserID      int64     `json:"user_id"`
	ProjectID   int64     `json:"project_id"`
	CreatedAt   time.Time `json:"created_at"`
	ResourceURI string    `json:"resource_uri"`
}

// NewCommit holds the fields a client gives when it creates a commit. An
// empty SHA is generated; an empty Author defaults to "user<UserID>".
type NewCommit struct {
	SHA       string `json:"sha"`
	Message   string `json:"message"`
	Author    string `json:"author"`
	UserID    int64  `json:"user_id"`
	ProjectID int64  `json:"project_id"`
}

// Filter narrows a listing to one user's or one project's commits; zero
// fields do not filter.
type Filter struct {
	UserID    int64
	ProjectID int64
}

// Store keeps the commits in a SQLite database file.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS commits (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	sha        TEXT    NOT NULL UNIQUE,
	message    TEXT    NOT NULL,
	author     TEXT    NOT NULL,
	user_id    INTEGER NOT NULL,
	project_id INTEGER NOT NULL,
	created_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS commits_user_id ON commits (user_id, id);
CREATE INDEX IF NOT EXISTS commits_project_id ON commits (project_id, id);
`

// OpenStore opens (creating if needed) the SQLite database at path.
func OpenStore(path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	// One connection: SQLite writes are serialized anyway, and the demo's
	// reads are short.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("creating schema in %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// Create stores a new commit and returns it with its id and creation time.
func (s *Store) Create(ctx context.Context, nc NewCommit) (Commit, error) {
	return s.create(ctx, nc, time.Now().UTC())
}

func (s *Store) create(ctx context.Context, nc NewCommit, at time.Time) (Commit, error) {
	if nc.Author == "" {
		nc.Author = "user" + strconv.FormatInt(nc.UserID, 10)
	}
	if nc.SHA == "" {
		sha, err := generateSHA(nc, at)
		if err != nil {
			return Commit{}, err
		}
		nc.SHA = sha
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO commits (sha, message, author, user_id, project_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		nc.SHA, nc.Message, nc.Author, nc.UserID, nc.ProjectID, at.Format(time.RFC3339Nano))
	if sqlErr := (*sqlite.Error)(nil); errors.As(err, &sqlErr) && sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return Commit{}, ErrDuplicateSHA
	}
	if err != nil {
		return Commit{}, fmt.Errorf("inserting commit: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Commit{}, fmt.Errorf("reading new commit id: %w", err)
	}
	return newCommit(id, nc.SHA, nc.Message, nc.Author, nc.UserID, nc.ProjectID, at), nil
}

// Get returns the commit with the given id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Commit, error) {
	row := s.db.QueryRowContext(ctx,
		`SELECT id, sha, message, author, user_id, project_id, created_at FROM commits WHERE id = ?`, id)
	c, err := scanCommit(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Commit{}, ErrNotFound
	}
	return c, err
}

// List returns the commits matching f, newest first, skipping offset and
// returning at most limit, together with the number of matching commits.
func (s *Store) List(ctx context.Context, f Filter, offset, limit int) ([]Commit, int, error) {
	where, args := "WHERE 1 = 1", []any{}
	if f.UserID != 0 {
		where += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	if f.ProjectID != 0 {
		where += " AND project_id = ?"
		args = append(args, f.ProjectID)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM commits "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting commits: %w", err)
	}
	rows, err := s.db.QueryContext(ctx,
		"SELECT id, sha, message, author, user_id, project_id, created_at FROM commits "+where+
			" ORDER BY id DESC LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing commits: %w", err)
	}
	defer rows.Close()
	commits := []Commit{}
	for rows.Next() {
		c, err := scanCommit(rows)
		if err != nil {
			return nil, 0, err
		}
		commits = append(commits, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing commits: %w", err)
	}
	return commits, total, nil
}

// Seed fills an empty database with n made-up commits spread over the last
// days, oldest first. It does nothing when the database already has commits:
// they are history, so nothing is published for them.
func (s *Store) Seed(ctx context.Context, n int) error {
	_, total, err := s.List(ctx, Filter{}, 0, 1)
	if err != nil || total > 0 {
		return err
	}
	now := time.Now().UTC()
	for i := range n {
		nc := NewCommit{
			Message:   seedMessages[i%len(seedMessages)],
			Author:    seedAuthors[i%len(seedAuthors)],
			UserID:    int64(i%len(seedAuthors)) + 1,
			ProjectID: int64(i%3) + 1,
		}
		at := now.Add(-time.Duration(n-i) * 47 * time.Minute)
		if _, err := s.create(ctx, nc, at); err != nil {
			return fmt.Errorf("seeding commit %d: %w", i+1, err)
		}
	}
	return nil
}

type rowScanner interface {
	Scan(dest ...any) error
}

func scanCommit(row rowScanner) (Commit, error) {
	var (
		id, userID, projectID   int64
		sha, msg, author, stamp string
	)
	if err := row.Scan(&id, &sha, &msg, &author, &userID, &projectID, &stamp); err != nil {
		return Commit{}, fmt.Errorf("reading commit: %w", err)
	}
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return Commit{}, fmt.Errorf("reading created_at of commit %d: %w", id, err)
	}
	return newCommit(id, sha, msg, author, userID, projectID, at), nil
}

func newCommit(id int64, sha, msg, author string, userID, projectID int64, at time.Time) Commit {
	return Commit{
		ID:          id,
		SHA:         sha,
		Message:     msg,
		Author:      author,
		UserID:      userID,
		ProjectID:   projectID,
		CreatedAt:   at,
		ResourceURI: commitURI(id),
	}
}

func commitURI(id int64) string {
	return apiPrefix + strconv.FormatInt(id, 10) + "/"
}

// generateSHA makes a git-looking id from the commit's content, its time and
// a random nonce, so two identical commits still get distinct ids.
func generateSHA(nc NewCommit, at time.Time) (string, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("generating sha: %w", err)
	}
	h := sha1.New() //nolint:gosec // see import
	fmt.Fprintf(h, "%d\x00%d\x00%s\x00%s\x00%s\x00", nc.ProjectID, nc.UserID, nc.Author, nc.Message, at.Format(time.RFC3339Nano))
	h.Write(nonce)
	return hex.EncodeToString(h.Sum(nil)), nil
}

var seedAuthors = []string{"ana", "bruno", "carla", "diego", "elisa"}

var seedMessages = []string{
	"Add channel statistics endpoint",
	"Fix off-by-one in message backtrack",
	"Document the publisher location",
	"Store messages per channel with a TTL",
	"Reconnect the EventSource after a network error",
	"Long-polling: honour If-None-Match",
	"Bump dependencies",
	"Refactor the subscriber queue",
	"WebSocket: answer ping frames",
	"Tests for the memory cap",
	"Endless scroll on the commits page",
	"Escape commit messages in the feed",
	"Publish to user, project and global channels",
	"Show the transport in the page header",
	"Seed the demo database",
	"Handle empty publish bodies",
	"Template tokens are case-insensitive",
	"Drop slow subscribers instead of blocking",
	"Caddyfile: allowed_origins for CORS",
	"Release notes for 0.6.0",
}
