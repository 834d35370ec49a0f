package engine

import "errors"

// Errors returned by the store. Handlers map them to the statuses and
// explain texts of docs/PROTOCOL.md §9.1.
var (
	// ErrTooManyChannels means a channel limit refused a creation.
	ErrTooManyChannels = errors.New("number of channels were exceeded")
	// ErrNoMemory means the memory cap refused an allocation.
	ErrNoMemory = errors.New("shared memory cap reached")
	// ErrStoreClosed means the process is exiting.
	ErrStoreClosed = errors.New("store is shutting down")
	// ErrUnavailable means the broker that shares the channels with other
	// processes cannot be reached: nothing was published or deleted.
	ErrUnavailable = errors.New("broker unavailable")
)
