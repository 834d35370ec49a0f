package pushstream

import "time"

// Settings are the store-wide limits (the global `push_stream` option).
// Zero values mean unlimited or disabled as documented per field.
type Settings struct {
	// MemoryCap caps the accounted bytes (PROTOCOL.md §1.7); 0 means the default 32 MiB.
	MemoryCap int64
	// MessageTTL is how long a stored message lives; 0 means 30 minutes.
	MessageTTL time.Duration
	// InactivityTime is how long an idle channel survives (0 allowed).
	InactivityTime time.Duration
	// MaxStoredPerChannel caps stored messages per channel; 0 is unlimited.
	MaxStoredPerChannel int
	// MaxSubscribersPerChannel caps subscriptions per channel; 0 is unlimited.
	MaxSubscribersPerChannel int
	// MaxChannelIDLength caps channel id length in bytes; 0 is unlimited.
	MaxChannelIDLength int
	// MaxChannels caps live normal channels; 0 is unlimited.
	MaxChannels int
	// MaxWildcardChannels caps live wildcard channels; 0 is unlimited.
	MaxWildcardChannels int
	// WildcardPrefix marks wildcard channel ids; empty disables them.
	WildcardPrefix string
	// DeletedText is the default channel-deleted message text.
	DeletedText string
	// PingText is the ping message text.
	PingText string
	// EventsChannelID names the events channel; empty disables it.
	EventsChannelID string
}

// Defaults for Settings (CADDYFILE.md).
const (
	DefaultMemoryCap      = 32 << 20
	MinMemoryCap          = 128 << 10
	DefaultMessageTTL     = 30 * time.Minute
	DefaultInactivityTime = 30 * time.Second
	DefaultDeletedText    = "Channel deleted"
	DefaultPingText       = " "
)

// isWildcard tells whether id names a wildcard channel.
func (s *Settings) isWildcard(id string) bool {
	return s.WildcardPrefix != "" && len(id) >= len(s.WildcardPrefix) && id[:len(s.WildcardPrefix)] == s.WildcardPrefix
}

func (s *Settings) memoryCap() int64 {
	if s.MemoryCap <= 0 {
		return DefaultMemoryCap
	}
	return s.MemoryCap
}

func (s *Settings) messageTTL() time.Duration {
	if s.MessageTTL <= 0 {
		return DefaultMessageTTL
	}
	return s.MessageTTL
}
