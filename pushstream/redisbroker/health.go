package redisbroker

import (
	"fmt"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// BrokerHealth returns nil while Redis takes publishes, and
// engine.ErrUnavailable while it cannot be reached (with how many log
// gaps this process has seen, if any).
func (e *Engine) BrokerHealth() error {
	if e.Connected() {
		return nil
	}
	if gaps := e.Gaps(); gaps > 0 {
		return fmt.Errorf("%w (%d log gaps so far)", engine.ErrUnavailable, gaps)
	}
	return engine.ErrUnavailable
}

// BrokerRoundTrips returns how many appends to the log have completed
// and their total duration: the round trip a publish or delete spends on
// Redis.
func (e *Engine) BrokerRoundTrips() (count uint64, total time.Duration) {
	return uint64(e.roundTrips.Load()), time.Duration(e.roundTripNanos.Load())
}

// noteRoundTrip counts one completed append that took d.
func (e *Engine) noteRoundTrip(d time.Duration) {
	e.roundTrips.Add(1)
	e.roundTripNanos.Add(int64(d))
}

var _ engine.BrokerReporter = (*Engine)(nil)
