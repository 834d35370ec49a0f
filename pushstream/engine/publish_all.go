package engine

// PublishAll publishes one message to each channel of chs, in order, or to
// none: the memory of every copy is accounted before the first is
// published, so it fails only with ErrNoMemory, having published nothing.
// A batch publish (docs/PROTOCOL.md §4.6) uses it so that no message of a
// batch is half applied.
func (s *Store) PublishAll(chs []*Channel, text []byte, opts PublishOptions) ([]*Message, error) {
	if !s.reserve(publishCost(text, opts) * int64(len(chs))) {
		return nil, ErrNoMemory
	}
	opts.reserved = true
	msgs := make([]*Message, len(chs))
	for i, ch := range chs {
		// Accounted already, a publish cannot fail.
		msgs[i], _ = s.Publish(ch, text, opts)
	}
	return msgs, nil
}
