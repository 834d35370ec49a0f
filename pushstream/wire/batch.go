package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// BatchContentType is the content type of a batch publish
// (docs/PROTOCOL.md §4.6): a publisher with batch publishing on reads a
// body of this type as several messages instead of one.
const BatchContentType = "application/vnd.pushstream.batch+json"

// BatchMessage is one message of a batch: its text for the channels it
// lists, with the Event-Id and Event-Type a single publish would carry
// in headers (nil when absent).
type BatchMessage struct {
	// Channels are the channel ids, in publish order.
	Channels []string `json:"channels"`
	// Text is the message text.
	Text string `json:"text"`
	// EventID is the Event-Id, possibly empty, or nil when absent.
	EventID *string `json:"event_id"`
	// EventType is the Event-Type, or nil when absent.
	EventType *string `json:"event_type"`
}

// ErrBadBatch wraps every reason a batch body is refused as a whole.
var ErrBadBatch = errors.New("invalid batch")

// ParseBatch reads a batch body: a JSON array of message objects with no
// fields beyond BatchMessage's (a misspelt field would otherwise publish
// to nobody or without its event id), and nothing after the array. A
// body it refuses publishes nothing.
func ParseBatch(body []byte) ([]BatchMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var msgs []BatchMessage
	if err := dec.Decode(&msgs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	if msgs == nil {
		return nil, fmt.Errorf("%w: not an array of messages", ErrBadBatch)
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return nil, fmt.Errorf("%w: data after the array", ErrBadBatch)
	}
	return msgs, nil
}

// BatchResult is what happened to one message of a batch: the status and
// explain text the same message would have got as a single publish, and
// on success the info of its channels as after publishing (nil when the
// publisher answers without channel info).
type BatchResult struct {
	// Status is the HTTP status of the same single publish.
	Status int
	// Explain is its X-Nginx-PushStream-Explain text, or "".
	Explain string
	// Infos are the channels' infos after a successful publish.
	Infos []engine.ChannelInfo
}

// AppendBatchAnswer appends the JSON answer to a batch: one result per
// message, in the batch's order.
func AppendBatchAnswer(dst []byte, results []BatchResult) []byte {
	dst = append(dst, "{\"messages\": ["...)
	for i, r := range results {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, "{\"status\": "...)
		dst = strconv.AppendInt(dst, int64(r.Status), 10)
		if r.Explain != "" {
			dst = append(dst, ", \"explain\": \""...)
			dst = AppendJSONString(dst, r.Explain)
			dst = append(dst, '"')
		}
		if r.Infos != nil {
			dst = append(dst, ", \"channels\": ["...)
			for j, info := range r.Infos {
				if j > 0 {
					dst = append(dst, ", "...)
				}
				dst = appendJSONItem(dst, info)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}\r\n"...)
}
