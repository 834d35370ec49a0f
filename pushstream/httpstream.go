package pushstream

import (
	"errors"
	"net/http"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/transport"
)

// httpStream writes pieces of a response body through net/http, each
// flushed at once so that every piece is its own chunk, even through
// `encode`. It is the transport.BodyWriter of subscribers served by their
// request goroutine.
type httpStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// held defers flushing until Hold(false).
	held bool
}

func newHTTPStream(w http.ResponseWriter) *httpStream {
	rc := http.NewResponseController(w)
	// Server-wide read deadlines must not end a long-lived subscriber;
	// a writer without deadline support simply ignores this.
	_ = rc.SetReadDeadline(time.Time{})
	return &httpStream{w: w, rc: rc}
}

// Write sends p and flushes it, within transport.WriteTimeout.
func (s *httpStream) Write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	return s.withDeadline(func() error {
		if _, err := s.w.Write(p); err != nil || s.held {
			return err
		}
		return s.flushNow()
	})
}

// Hold defers flushes while on; turning it off flushes.
func (s *httpStream) Hold(on bool) error {
	s.held = on
	if on {
		return nil
	}
	return s.Flush()
}

// End does nothing: net/http ends the chunked body when the handler
// returns.
func (s *httpStream) End() error { return nil }

// Flush sends what was written so far, within transport.WriteTimeout.
func (s *httpStream) Flush() error { return s.withDeadline(s.flushNow) }

func (s *httpStream) flushNow() error {
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// withDeadline runs a write with a deadline and clears it afterwards, so
// an idle subscriber is never cut by a stale deadline.
func (s *httpStream) withDeadline(write func() error) error {
	deadlineSet := s.rc.SetWriteDeadline(time.Now().Add(transport.WriteTimeout)) == nil
	err := write()
	if deadlineSet {
		_ = s.rc.SetWriteDeadline(time.Time{})
	}
	return err
}
