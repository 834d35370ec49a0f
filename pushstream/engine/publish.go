package engine

import "time"

// PublishOptions describe one publish.
type PublishOptions struct {
	// EventID and EventType are the optional Event-Id and Event-Type values.
	EventID, EventType       string
	HasEventID, HasEventType bool
	// Store keeps the message in the channel.
	Store bool

	// reserved tells Publish that PublishAll already accounted the
	// message.
	reserved bool
}

// Publish adds a message to ch and hands it to its subscribers without
// waiting for any of them. It fails only with ErrNoMemory.
func (s *Store) Publish(ch *Channel, text []byte, opts PublishOptions) (*Message, error) {
	return s.publish(ch, text, opts, nil)
}

// publishCost is what a published message is accounted: every byte it
// keeps counts, text, event id and type (renderings count as they are
// made, Message.Rendered). PublishAll reserves it for each copy.
func publishCost(text []byte, opts PublishOptions) int64 {
	return messageCost + int64(len(text)+len(opts.EventID)+len(opts.EventType))
}

// publish is Publish with the message's id, time and tag either assigned
// here (stamp nil) or given by a broker.
func (s *Store) publish(ch *Channel, text []byte, opts PublishOptions, stamp *Stamp) (*Message, error) {
	cost := publishCost(text, opts)
	settings := s.Settings()
	stripe := localStripe()
	if !opts.reserved && !s.memory.reserveFrom(stripe, cost, settings.SharedMemorySize) {
		return nil, ErrNoMemory
	}
	now := s.now()
	msg := &Message{
		Channel:      ch.ID,
		Time:         now.Unix(),
		EventID:      opts.EventID,
		HasEventID:   opts.HasEventID,
		EventType:    opts.EventType,
		HasEventType: opts.HasEventType,
		Text:         text,
		acct:         &account{cost: cost},
		store:        s,
	}
	if stamp != nil {
		msg.Time = stamp.Time
	}
	msg.expires = msg.Time + int64(settings.MessageTTL/time.Second)
	events := ch.IsEvents()
	var evicted []*Message

	ch.mu.Lock()
	if stamp != nil {
		ch.lastID, msg.Tag = stamp.ID, stamp.Tag
	} else {
		ch.lastID++
		msg.Tag = s.nextTag(msg.Time)
	}
	msg.ID = ch.lastID
	ch.lastTime, ch.lastTag = msg.Time, msg.Tag
	ch.inactiveUntil = now.Add(settings.ChannelInactivityTime)
	keep := opts.Store || events
	if stamp != nil && msg.expires <= now.Unix() {
		// It expired before it reached this store (a broker's replay):
		// it counts as published but is not kept.
		keep = false
	}
	if keep {
		ch.messages = append(ch.messages, msg)
		if over := len(ch.messages) - settings.MaxMessagesStoredPerChannel; settings.MaxMessagesStoredPerChannel > 0 && over > 0 {
			evicted = ch.dropOldest(over)
		}
	}
	ch.keepForRejoin(msg, now)
	var woken wakeChain
	var delivered int64
	for _, sb := range ch.subs {
		queued, wake := sb.sub.enqueue(Delivery{Msg: msg})
		if queued {
			delivered++
		}
		if wake {
			s.wakes.add(&woken, sb.sub)
		}
	}
	ch.mu.Unlock()
	if woken.first != nil {
		s.wakes.wake(&woken)
	}

	if !events {
		s.published.add(stripe, 1)
		s.counters.delivered(stripe, delivered)
		if keep {
			s.stored.add(stripe, 1-int64(len(evicted)))
		}
	}
	if !keep {
		evicted = append(evicted, msg)
	}
	s.messageTrash.add(stripe, evicted, now.Add(settings.TrashDelay))
	return msg, nil
}
