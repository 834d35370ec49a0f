package engine

import "time"

// HealthChecker is implemented by an Engine that can tell whether it
// accepts publishes right now; the health check of the Caddy layer asks
// an Engine for it with a type assertion. Store implements it. A store
// backed by a broker reports the broker's state through it as well.
type HealthChecker interface {
	// Health returns nil while publishes can be accepted, or why not.
	Health() error
}

// BrokerReporter is implemented by an Engine whose channels live in a
// broker shared between processes. The health check and the metrics ask
// an Engine for it with a type assertion, so the in-memory Store, which
// has no broker, does not implement it.
type BrokerReporter interface {
	// BrokerHealth returns nil while the broker accepts publishes, or
	// its last error.
	BrokerHealth() error
	// BrokerRoundTrips returns how many round trips to the broker have
	// completed since the engine started and their total duration.
	BrokerRoundTrips() (count uint64, total time.Duration)
}

// Health returns ErrStoreClosed once the process is exiting, and
// ErrNoMemory while the memory cap has no room left for a message of one
// byte; otherwise nil.
func (s *Store) Health() error {
	s.mu.RLock()
	closing := s.closing
	s.mu.RUnlock()
	if closing {
		return ErrStoreClosed
	}
	if s.memory.inUse()+messageCost+1 > s.Settings().SharedMemorySize {
		return ErrNoMemory
	}
	return nil
}

var _ HealthChecker = (*Store)(nil)
