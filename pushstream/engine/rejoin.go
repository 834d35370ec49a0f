package engine

import (
	"slices"
	"time"
)

// RejoinWindow is how long after a long-poll answer what its channels
// publish is kept for the client to collect with its next long-poll on
// the same connection.
const RejoinWindow = time.Second

// maxRejoinMessages bounds what a channel keeps for its rejoining
// long-poll clients; the oldest goes first.
const maxRejoinMessages = 32

// rejoiner is a long-poll client answered by a channel and expected to
// ask again on the same connection (docs/PROTOCOL.md §6.3 "Asking again
// at once"). nginx reads requests in arrival order, so its next long-poll,
// sent before a publish, is registered before that publish; here the two
// requests race on two goroutines, and a publish that wins would find
// nobody to deliver to. The channel keeps what it publishes while the
// client is away, and the client's next subscription on the connection
// gets it first.
type rejoiner struct {
	conn     string
	after    int64
	deadline time.Time
}

// ExpectRejoin notes that the long-poll client on the connection named
// conn got its answer from ch, whose messages up to now it has seen, and
// is expected to subscribe again within RejoinWindow.
func (s *Store) ExpectRejoin(ch *Channel, conn string) {
	if conn == "" {
		return
	}
	now := s.now()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.pruneRejoiners(now)
	r := rejoiner{conn: conn, after: ch.lastID, deadline: now.Add(RejoinWindow)}
	for i := range ch.rejoiners {
		if ch.rejoiners[i].conn == conn {
			ch.rejoiners[i] = r
			return
		}
	}
	ch.rejoiners = append(ch.rejoiners, r)
}

// keepForRejoin keeps msg for the long-poll clients expected back on ch;
// ch.mu must be held.
func (ch *Channel) keepForRejoin(msg *Message, now time.Time) {
	if len(ch.rejoiners) == 0 {
		return
	}
	if ch.pruneRejoiners(now); len(ch.rejoiners) == 0 {
		return
	}
	if len(ch.rejoinKept) == maxRejoinMessages {
		ch.rejoinKept = slices.Delete(ch.rejoinKept, 0, 1)
	}
	ch.rejoinKept = append(ch.rejoinKept, msg)
}

// rejoinBacklog returns what ch kept for the client on the connection
// named conn and forgets that client; ch.mu must be held.
func (ch *Channel) rejoinBacklog(conn string, now time.Time) []*Message {
	if conn == "" || len(ch.rejoiners) == 0 {
		return nil
	}
	ch.pruneRejoiners(now)
	i := slices.IndexFunc(ch.rejoiners, func(r rejoiner) bool { return r.conn == conn })
	if i < 0 {
		return nil
	}
	after := ch.rejoiners[i].after
	ch.rejoiners = slices.Delete(ch.rejoiners, i, i+1)
	var backlog []*Message
	for _, m := range ch.rejoinKept {
		if m.ID > after {
			backlog = append(backlog, m)
		}
	}
	ch.pruneRejoiners(now)
	return backlog
}

// pruneRejoiners forgets the clients that did not come back in time, and
// what was kept once nobody is expected; ch.mu must be held.
func (ch *Channel) pruneRejoiners(now time.Time) {
	ch.rejoiners = slices.DeleteFunc(ch.rejoiners, func(r rejoiner) bool { return !now.Before(r.deadline) })
	if len(ch.rejoiners) == 0 {
		ch.rejoiners = nil
		clear(ch.rejoinKept)
		ch.rejoinKept = nil
	}
}

// Arrival is a subscriber request on its way to its subscriptions: from
// the moment its handler started until it subscribed or gave up.
type Arrival struct {
	store *Store
	group *arrivalGroup
	done  bool
}

// arrivalGroup is the arrivals that started between two publishers'
// looks: a publisher waits for the groups that started before it, never
// for requests that arrive while it waits.
type arrivalGroup struct {
	pending int
	done    chan struct{}
}

// Arrive notes that a subscriber request is on its way; the caller calls
// Done once it has subscribed or given up.
func (s *Store) Arrive() *Arrival {
	s.arrivals.Add(1)
	s.arrivalMu.Lock()
	defer s.arrivalMu.Unlock()
	if s.arriving == nil {
		s.arriving = &arrivalGroup{done: make(chan struct{})}
	}
	s.arriving.pending++
	return &Arrival{store: s, group: s.arriving}
}

// Done ends the arrival; later calls do nothing. Only the goroutine that
// arrived calls it.
func (a *Arrival) Done() {
	if a == nil || a.done {
		return
	}
	a.done = true
	s, g := a.store, a.group
	s.arrivals.Add(-1)
	s.arrivalMu.Lock()
	defer s.arrivalMu.Unlock()
	if g.pending--; g.pending > 0 {
		return
	}
	close(g.done)
	if s.arriving == g {
		s.arriving = nil
		return
	}
	s.sealed = slices.DeleteFunc(s.sealed, func(sealed *arrivalGroup) bool { return sealed == g })
}

// Arrivals returns channels, each closed once a group of the subscriber
// requests now on their way has subscribed; requests that start later
// are not waited for.
func (s *Store) Arrivals() []<-chan struct{} {
	if s.arrivals.Load() == 0 {
		return nil
	}
	s.arrivalMu.Lock()
	defer s.arrivalMu.Unlock()
	if s.arriving != nil {
		s.sealed = append(s.sealed, s.arriving)
		s.arriving = nil
	}
	waits := make([]<-chan struct{}, len(s.sealed))
	for i, g := range s.sealed {
		waits[i] = g.done
	}
	return waits
}
