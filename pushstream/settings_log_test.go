package pushstream

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// TestSettingNames checks that every engine setting is named in the
// reload log as the app's JSON (and the Caddyfile option) names it.
func TestSettingNames(t *testing.T) {
	t.Parallel()
	tags := map[string]bool{}
	app := reflect.TypeFor[App]()
	for i := range app.NumField() {
		if tag, ok := app.Field(i).Tag.Lookup("json"); ok {
			tags[strings.Split(tag, ",")[0]] = true
		}
	}
	settings := reflect.TypeFor[engine.Settings]()
	for i := range settings.NumField() {
		name := settingName(settings.Field(i).Name)
		if !tags[name] {
			t.Errorf("engine.Settings.%s is logged as %q, which is no field of the app", settings.Field(i).Name, name)
		}
	}
}

// TestSettingsChanges reports exactly the settings that changed.
func TestSettingsChanges(t *testing.T) {
	t.Parallel()
	old := engine.DefaultSettings()
	if got := settingsChanges(old, old); len(got) != 0 {
		t.Fatalf("no change gave %d fields", len(got))
	}
	changed := old
	changed.MessageTTL = 5 * time.Minute
	changed.MaxChannelIDLength = 64
	got := settingsChanges(old, changed)
	var keys []string
	for _, f := range got {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "message_ttl,max_channel_id_length" {
		t.Fatalf("changed fields: %v", keys)
	}
}
