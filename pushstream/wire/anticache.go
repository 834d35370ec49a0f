package wire

// The anti-cache header values of every push stream answer
// (docs/PROTOCOL.md §0.2).
const (
	AntiCacheExpires = "Thu, 01 Jan 1970 00:00:01 GMT"
	AntiCacheControl = "no-cache, no-store, must-revalidate"
)
