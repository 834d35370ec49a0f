package engine

import "testing"

// TestMemoryAccountLeasesStayExact: stripes lease bytes far from the cap,
// yet the accounted figure leaves spares out and a reservation near the
// cap is decided as without leases: the cap is reached byte for byte and
// never passed.
func TestMemoryAccountLeasesStayExact(t *testing.T) {
	t.Parallel()
	const limit = 4 * leaseMargin
	var m memoryAccount
	var want int64
	for i := 0; ; i++ {
		n := int64(100 + i%7)
		if !m.reserveFrom(i%stripes, n, limit) {
			if want+n <= limit {
				t.Fatalf("refused %d bytes at %d of %d", n, want, limit)
			}
			break
		}
		want += n
		if got := m.inUse(); got != want {
			t.Fatalf("in use %d, want %d", got, want)
		}
	}
	if m.used.Load() > limit {
		t.Fatalf("used %d over the cap %d", m.used.Load(), limit)
	}
	rest := limit - want
	if rest > 0 && !m.reserve(rest, limit) {
		t.Fatalf("the last %d bytes refused", rest)
	}
	if m.reserve(1, limit) {
		t.Fatal("a byte past the cap accounted")
	}
	m.release(limit)
	if got := m.inUse(); got != 0 {
		t.Fatalf("in use %d after releasing everything", got)
	}
}
