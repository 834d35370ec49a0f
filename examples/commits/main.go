// Command commits is the example app of caddy-pushstream: the feed of a
// project's commits. It keeps commits in SQLite, serves them through a
// tastypie-shaped JSON API and a page with endless scroll, and announces
// every new commit through Caddy's push stream publisher location, whose
// subscribers (the page, over WebSocket, EventSource or long polling) then
// show it live. Run it behind Caddy with the Caddyfile beside this file.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

//go:embed web
var webFiles embed.FS

func main() {
	listen := flag.String("listen", "127.0.0.1:8000", "address to serve the app on (Caddy proxies to it)")
	dbPath := flag.String("db", "commits.db", "SQLite database file (created if missing)")
	publishURL := flag.String("publisher", "http://127.0.0.1:8082/events/pub/",
		"push stream publisher location; the channels path is appended (empty: do not publish)")
	seed := flag.Int("seed", 0, "when the database is empty, fill it with this many made-up commits")
	verbose := flag.Bool("v", false, "log debug messages")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(*listen, *dbPath, *publishURL, *seed, logger); err != nil {
		logger.Error("commits app stopped", "err", err)
		os.Exit(1)
	}
}

func run(listen, dbPath, publishURL string, seed int, logger *slog.Logger) error {
	store, err := OpenStore(dbPath)
	if err != nil {
		return err
	}
	defer store.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := store.Seed(ctx, seed); err != nil {
		return err
	}

	var pub *Publisher
	if publishURL != "" {
		pub = &Publisher{URL: publishURL}
	}
	handler, err := NewHandler(store, pub, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("commits app listening", "addr", ln.Addr().String(), "db", dbPath, "publisher", publishURL)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("commits app stopped")
	return nil
}

// NewHandler returns the app: the API under /api/v1/commit/, login under
// /login, /logout and /api/v1/me, the subscription check forward_auth
// asks (/auth/subscribe), and the page at / with its script and style
// under /static/.
func NewHandler(store *Store, pub *Publisher, logger *slog.Logger) (http.Handler, error) {
	web, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	sessions := NewSessions()
	sessions.Register(mux)
	// forward_auth asks here before every subscription (Caddyfile).
	mux.HandleFunc("GET /auth/subscribe", sessions.checkSubscription)
	(&API{Store: store, Publisher: pub, Sessions: sessions, Logger: logger}).Register(mux)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(web)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, web, "index.html")
	})
	return mux, nil
}
