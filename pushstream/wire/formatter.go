package wire

import (
	"strings"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// TextFormatter formats a message with a template (streaming, polling,
// long-polling).
type TextFormatter struct {
	Template *MessageTemplate
}

// Format implements Formatter.
func (f *TextFormatter) Format(msg *engine.Message) []byte {
	return f.Template.Append(nil, msg, msg.Text)
}

// EventSourceFormatter formats a message as an eventsource event with an
// adjusted template (docs/PROTOCOL.md §5.4): optional `id:` and `event:` lines,
// then every non-empty text line through the template, then a blank line.
type EventSourceFormatter struct {
	Template *MessageTemplate
}

// NewEventSourceFormatter adjusts a message template for eventsource.
func NewEventSourceFormatter(template string) *EventSourceFormatter {
	if template == "" {
		template = "~text~"
	}
	if len(template) < 6 || template[:6] != "data: " {
		template = "data: " + template + "\n"
	}
	t := CompileTemplate(template)
	t.lineSafe = true
	return &EventSourceFormatter{Template: t}
}

// Format implements Formatter.
func (f *EventSourceFormatter) Format(msg *engine.Message) []byte {
	out := f.formatPrefix(nil, msg)
	return f.AppendBody(out, msg)
}

// formatPrefix appends the `id:` and `event:` lines.
func (f *EventSourceFormatter) formatPrefix(dst []byte, msg *engine.Message) []byte {
	if msg.HasEventID {
		dst = append(dst, "id: "...)
		dst = AppendEventSourceValue(dst, msg.EventID)
		dst = append(dst, '\n')
	}
	if msg.HasEventType {
		dst = append(dst, "event: "...)
		dst = AppendEventSourceValue(dst, msg.EventType)
		dst = append(dst, '\n')
	}
	return dst
}

// AppendBody appends the data lines and the closing blank line, without
// the `id:`/`event:` lines (what padding counts, docs/PROTOCOL.md §5.7).
func (f *EventSourceFormatter) AppendBody(dst []byte, msg *engine.Message) []byte {
	for _, line := range splitLines(msg.Text) {
		dst = f.Template.Append(dst, msg, line)
	}
	return append(dst, '\n')
}

// PrefixLen returns the length of the `id:`/`event:` lines of msg.
func (f *EventSourceFormatter) PrefixLen(msg *engine.Message) int {
	n := 0
	if msg.HasEventID {
		n += 5 + eventSourceValueLen(msg.EventID)
	}
	if msg.HasEventType {
		n += 8 + eventSourceValueLen(msg.EventType)
	}
	return n
}

// eventSourceValueLen is the length AppendEventSourceValue gives s.
func eventSourceValueLen(s string) int {
	return len(s) + strings.Count(s, "\r") + strings.Count(s, "\n")
}
