package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	store, err := OpenStore(filepath.Join(t.TempDir(), "commits.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func TestStoreCreateGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openTestStore(t)

	c, err := store.Create(ctx, NewCommit{Message: "first", UserID: 7, ProjectID: 3})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != 1 || c.Author != "user7" || len(c.SHA) != 40 || c.ResourceURI != "/api/v1/commit/1/" || c.CreatedAt.IsZero() {
		t.Fatalf("created %+v", c)
	}
	got, err := store.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("created_at %v read back as %v", c.CreatedAt, got.CreatedAt)
	}
	got.CreatedAt = c.CreatedAt
	if got != c {
		t.Fatalf("read back %+v, want %+v", got, c)
	}
	if _, err := store.Get(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing commit: err %v, want ErrNotFound", err)
	}
	if _, err := store.Create(ctx, NewCommit{SHA: c.SHA, Message: "again", UserID: 1, ProjectID: 1}); !errors.Is(err, ErrDuplicateSHA) {
		t.Fatalf("duplicate sha: err %v, want ErrDuplicateSHA", err)
	}
}

func TestStoreList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openTestStore(t)
	if err := store.Seed(ctx, 30); err != nil {
		t.Fatal(err)
	}
	// Seeding an existing database does nothing.
	if err := store.Seed(ctx, 30); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name          string
		filter        Filter
		offset, limit int
		wantTotal     int
		wantFirst     int64
		wantLen       int
	}{
		{name: "first page", limit: 10, wantTotal: 30, wantFirst: 30, wantLen: 10},
		{name: "middle page", offset: 10, limit: 10, wantTotal: 30, wantFirst: 20, wantLen: 10},
		{name: "last partial page", offset: 25, limit: 10, wantTotal: 30, wantFirst: 5, wantLen: 5},
		{name: "past the end", offset: 40, limit: 10, wantTotal: 30, wantLen: 0},
		{name: "one user", filter: Filter{UserID: 2}, limit: 100, wantTotal: 6, wantFirst: 27, wantLen: 6},
		{name: "one project", filter: Filter{ProjectID: 3}, limit: 100, wantTotal: 10, wantFirst: 30, wantLen: 10},
		{name: "user and project", filter: Filter{UserID: 1, ProjectID: 1}, limit: 100, wantTotal: 2, wantFirst: 16, wantLen: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			commits, total, err := store.List(ctx, tt.filter, tt.offset, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.wantTotal || len(commits) != tt.wantLen {
				t.Fatalf("total %d, %d commits; want %d, %d", total, len(commits), tt.wantTotal, tt.wantLen)
			}
			for i, c := range commits {
				if i == 0 && c.ID != tt.wantFirst {
					t.Fatalf("first id %d, want %d", c.ID, tt.wantFirst)
				}
				if i > 0 && c.ID >= commits[i-1].ID {
					t.Fatalf("not newest first: %d after %d", c.ID, commits[i-1].ID)
				}
				if tt.filter.UserID != 0 && c.UserID != tt.filter.UserID || tt.filter.ProjectID != 0 && c.ProjectID != tt.filter.ProjectID {
					t.Fatalf("commit %+v does not match %+v", c, tt.filter)
				}
			}
		})
	}
}

func TestStorePersists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "commits.db")
	store, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	message := "survives a restart, with 'quotes' and \"double quotes\"; DROP TABLE commits; --"
	c, err := store.Create(ctx, NewCommit{Message: message, UserID: 1, ProjectID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	store, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got, err := store.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Message != message || !strings.EqualFold(got.SHA, c.SHA) {
		t.Fatalf("after reopening: %+v", got)
	}
}
