package pushstream

import (
	"reflect"
	"strings"
	"time"
	"unicode"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// settingsChanges returns one log field per store-wide setting that
// differs between old and new, named as the global option names it and
// valued {"from": old, "to": new}: what a reload changed. Every field of
// engine.Settings is compared, so a setting added later is reported too.
func settingsChanges(old, new engine.Settings) []zap.Field {
	var fields []zap.Field
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(new)
	t := ov.Type()
	for i := range t.NumField() {
		a, b := ov.Field(i).Interface(), nv.Field(i).Interface()
		if reflect.DeepEqual(a, b) {
			continue
		}
		fields = append(fields, zap.Any(settingName(t.Field(i).Name), map[string]any{"from": loggable(a), "to": loggable(b)}))
	}
	return fields
}

// loggable spells durations as Caddy's configuration does (5m0s), not
// in nanoseconds.
func loggable(v any) any {
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}

// settingName turns a Go field name into the option's snake_case name:
// MessageTTL is message_ttl, MaxChannelIDLength max_channel_id_length.
func settingName(field string) string {
	var b strings.Builder
	runes := []rune(field)
	for i, r := range runes {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(runes[i-1])
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if prevLower || nextLower && unicode.IsUpper(runes[i-1]) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
