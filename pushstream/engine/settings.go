package engine

import "time"

// Settings are the store-wide settings, named as the global `push_stream`
// option names them (docs/CONFIGURATION.md). The store takes them as they
// are: DefaultSettings holds every default, and a zero limit means
// unlimited.
type Settings struct {
	// SharedMemorySize caps the accounted bytes (docs/PROTOCOL.md §1.7).
	SharedMemorySize int64
	// MessageTTL is how long a stored message lives.
	MessageTTL time.Duration
	// ChannelInactivityTime is how long a channel without stored messages
	// or subscribers survives; zero collects it at the next sweep.
	ChannelInactivityTime time.Duration
	// MaxMessagesStoredPerChannel caps stored messages per channel; the
	// oldest go first. Zero is unlimited.
	MaxMessagesStoredPerChannel int
	// MaxSubscribersPerChannel caps subscriptions per channel; zero is
	// unlimited.
	MaxSubscribersPerChannel int
	// MaxChannelIDLength caps channel ids, in bytes; zero is unlimited.
	MaxChannelIDLength int
	// MaxNumberOfChannels caps live normal channels; zero is unlimited.
	MaxNumberOfChannels int
	// MaxNumberOfWildcardChannels caps live wildcard channels; zero is
	// unlimited.
	MaxNumberOfWildcardChannels int
	// WildcardChannelPrefix marks wildcard channel ids; empty means none.
	WildcardChannelPrefix string
	// ChannelDeletedMessageText is the text of the channel-deleted message
	// when a delete carries no body.
	ChannelDeletedMessageText string
	// PingMessageText is the text of ping messages.
	PingMessageText string
	// EventsChannelID names the events channel; empty disables it.
	EventsChannelID string
	// SweepInterval is the period of the janitor's sweep
	// (docs/PROTOCOL.md §1.6).
	SweepInterval time.Duration
	// TrashDelay is how long a trashed message or channel stays accounted
	// before it is freed (docs/PROTOCOL.md §1.6).
	TrashDelay time.Duration
}

// Defaults and bounds of the settings (docs/CONFIGURATION.md).
const (
	DefaultSharedMemorySize          = 32 << 20
	MinSharedMemorySize              = 128 << 10
	DefaultMessageTTL                = 30 * time.Minute
	DefaultChannelInactivityTime     = 30 * time.Second
	DefaultChannelDeletedMessageText = "Channel deleted"
	DefaultPingMessageText           = " "
	DefaultSweepInterval             = 4 * time.Second
	DefaultTrashDelay                = 10 * time.Second
)

// DefaultSettings returns the settings of a store configured with nothing:
// the one place defaults are written.
func DefaultSettings() Settings {
	return Settings{
		SharedMemorySize:          DefaultSharedMemorySize,
		MessageTTL:                DefaultMessageTTL,
		ChannelInactivityTime:     DefaultChannelInactivityTime,
		ChannelDeletedMessageText: DefaultChannelDeletedMessageText,
		PingMessageText:           DefaultPingMessageText,
		SweepInterval:             DefaultSweepInterval,
		TrashDelay:                DefaultTrashDelay,
	}
}

// IsWildcard tells whether id names a wildcard channel.
func (s *Settings) IsWildcard(id string) bool {
	return s.WildcardChannelPrefix != "" && len(id) >= len(s.WildcardChannelPrefix) && id[:len(s.WildcardChannelPrefix)] == s.WildcardChannelPrefix
}
