package engine

import "time"

// StartJanitor starts the goroutine that sweeps the store every
// Settings.SweepInterval until Destroy. A changed interval takes effect
// after the next sweep.
func (s *Store) StartJanitor() {
	go func() {
		defer close(s.janitorDone)
		interval := s.Settings().SweepInterval
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				s.Sweep()
				if next := s.Settings().SweepInterval; next != interval {
					interval = next
					ticker.Reset(interval)
				}
			case <-s.stopJanitor:
				return
			}
		}
	}()
}

// Destroy ends every subscriber and stops the janitor. It is safe to call
// more than once and without StartJanitor.
func (s *Store) Destroy(timeout time.Duration) {
	s.destroyOnce.Do(func() {
		s.Shutdown(timeout)
		close(s.stopJanitor)
	})
}

// Sweep runs one sweep (docs/PROTOCOL.md §1.6): deleted channels move to the
// trash once unsubscribed, expired messages leave their channels, inactive
// channels are collected, and trash past its deadline is freed.
func (s *Store) Sweep() {
	now := s.now()
	nowSec := now.Unix()
	trashDeadline := now.Add(s.Settings().TrashDelay)
	var destroyed []string
	var trashed []*Message

	s.mu.Lock()
	remaining := s.deleting[:0]
	for _, ch := range s.deleting {
		ch.mu.Lock()
		msgs := ch.messages
		ch.messages = nil
		empty := len(ch.subs) == 0
		ch.mu.Unlock()
		trashed = append(trashed, msgs...)
		if !ch.IsEvents() {
			s.stored.Add(-int64(len(msgs)))
		}
		if empty {
			s.channelTrash = append(s.channelTrash, trashEntry{cost: channelCost + int64(len(ch.ID)), deadline: trashDeadline})
			if !ch.replica {
				destroyed = append(destroyed, ch.ID)
			}
		} else {
			remaining = append(remaining, ch)
		}
	}
	clear(s.deleting[len(remaining):])
	s.deleting = remaining

	for id, ch := range s.index.channels {
		ch.mu.Lock()
		n := 0
		for n < len(ch.messages) && ch.messages[n].expires <= nowSec {
			n++
		}
		if n > 0 {
			trashed = append(trashed, ch.dropOldest(n)...)
			if !ch.IsEvents() {
				s.stored.Add(-int64(n))
			}
		}
		collect := !ch.IsEvents() && len(ch.messages) == 0 && len(ch.subs) == 0 && ch.inactiveUntil.Before(now)
		if collect {
			ch.deleted = true
		}
		ch.mu.Unlock()
		if collect {
			s.unlink(ch)
			s.uncountLocked(ch)
			s.channelTrash = append(s.channelTrash, trashEntry{cost: channelCost + int64(len(ch.ID)), deadline: trashDeadline})
			if !ch.replica {
				destroyed = append(destroyed, id)
			}
		}
	}
	s.channelTrash = s.freeExpired(s.channelTrash, now)
	s.mu.Unlock()

	s.messageTrash.add(0, trashed, trashDeadline)
	s.messageTrash.freeExpired(s, now)

	for _, id := range destroyed {
		s.emit(EventChannelDestroyed, id)
	}
}

// freeExpired releases the entries whose deadline passed and returns the
// rest. The entries are in deadline order.
func (s *Store) freeExpired(trash []trashEntry, now time.Time) []trashEntry {
	n := 0
	for n < len(trash) && !trash[n].deadline.After(now) {
		cost := trash[n].cost
		if a := trash[n].acct; a != nil {
			cost = a.free()
		}
		s.release(cost)
		n++
	}
	if n == 0 {
		return trash
	}
	rest := append(trash[:0], trash[n:]...)
	clear(trash[len(rest):])
	return rest
}
