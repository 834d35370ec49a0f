package scenarios_test

import (
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/quic-go/quic-go/http3"
)

// TestHTTP3Modes: Caddy serves HTTP/3 on its TLS port by default, and
// streaming, eventsource, long-polling and polling work over it, read by
// quic-go's HTTP/3 client (the QUIC implementation Caddy itself uses):
// the subscriber keeps its request goroutine, flushing each message
// through the HTTP/3 response writer.
func TestHTTP3Modes(t *testing.T) {
	t.Parallel()
	base, _ := loadWithTLSSite(t, config{}, http2Site)
	h3 := &http3.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{http3.NextProtoH3}}, //nolint:gosec // G402: the test CA is Caddy's internal one
	}
	t.Cleanup(func() { _ = h3.Close() })
	expectModesOver(t, base, &http.Client{Transport: h3}, 3)
}
