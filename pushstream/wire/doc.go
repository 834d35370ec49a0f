// Package wire holds the bytes of the push stream protocol
// (docs/PROTOCOL.md): channel paths and their percent-decoding, message
// templates and the formatters of each subscriber mode, padding, HTTP
// dates, the statistics formats, and websocket frames in both directions.
// It turns engine messages into bytes and client bytes into messages, and
// does no I/O.
package wire
