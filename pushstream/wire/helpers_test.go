package wire

import (
	"testing"
	"time"
)

// noPanic runs fn and turns a panic into a test failure that names
// the input, so one bad input does not abort the whole test binary.
func noPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	fn()
}

// verifiedTime is the publish time of the verified examples of docs/PROTOCOL.md
// §6.1: Sat, 28 Nov 2026 01:22:24 GMT.
var verifiedTime = time.Date(2026, time.November, 28, 1, 22, 24, 0, time.UTC).Unix()
