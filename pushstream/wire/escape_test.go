package wire

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

// plainIDs need no escaping in any format: every id shape of the original
// module's test suite. They come out byte for byte.
var plainIDs = []string{"ch_test_1", "my_channel", "bd_test_channel", "ch1", "a-b.c", "room.b18.beautiful", "123", "broad_x", "user@host"}

// hostileIDs are what an anonymous subscriber may name a channel.
var hostileIDs = []string{
	`a","published_messages": 999, "x":"`,
	"line\r\nchannel: fake",
	"</name><name>x",
	"a&b<c>'\"",
	"\x00\x01\x7f",
	"bad\xff\xfeutf8",
	"tab\there",
	"back\\slash",
	"",
	"-leading",
	"café ✓",
}

func TestEscapeLeavesPlainIDsAlone(t *testing.T) {
	t.Parallel()
	for _, id := range plainIDs {
		for name, f := range map[string]func([]byte, string) []byte{
			"json": AppendJSONString, "xml": AppendXMLText, "yaml": AppendYAMLScalar, "plain": AppendPlainText, "eventsource": AppendEventSourceValue,
		} {
			if got := string(f(nil, id)); got != id {
				t.Errorf("%s(%q) = %q, want it unchanged", name, id, got)
			}
		}
	}
}

func TestEscapedIDsParse(t *testing.T) {
	t.Parallel()
	for _, id := range hostileIDs {
		checkEscapes(t, id)
	}
}

func FuzzEscapes(f *testing.F) {
	for _, id := range append(plainIDs, hostileIDs...) {
		f.Add(id)
	}
	f.Fuzz(checkEscapes)
}

// checkEscapes checks that id, escaped for each format, parses back in
// that format as id (as its valid UTF-8 reading) and keeps its line.
func checkEscapes(t *testing.T, id string) {
	var want strings.Builder
	for _, r := range id { // each invalid byte reads as U+FFFD
		want.WriteRune(r)
	}

	var fromJSON string
	if err := json.Unmarshal([]byte(`"`+string(AppendJSONString(nil, id))+`"`), &fromJSON); err != nil || fromJSON != want.String() {
		t.Errorf("JSON of %q: %q, %v", id, fromJSON, err)
	}

	var fromXML struct {
		Name string `xml:"name"`
	}
	doc := "<channel><name>" + string(AppendXMLText(nil, id)) + "</name></channel>"
	if err := xml.Unmarshal([]byte(doc), &fromXML); err != nil {
		t.Errorf("XML of %q is not well-formed: %v", id, err)
	}

	y := string(AppendYAMLScalar(nil, id))
	if strings.HasPrefix(y, `"`) {
		var fromYAML string
		if err := json.Unmarshal([]byte(y), &fromYAML); err != nil || fromYAML != want.String() {
			t.Errorf("YAML of %q: %q, %v", id, fromYAML, err)
		}
	} else if y != id || !yamlPlain(y) {
		t.Errorf("YAML of %q is the plain %q", id, y)
	}

	for name, out := range map[string]string{
		"plain":       string(AppendPlainText(nil, id)),
		"eventsource": string(AppendEventSourceValue(nil, id)),
		"yaml":        y,
	} {
		if strings.ContainsAny(out, "\r\n") {
			t.Errorf("%s of %q has a line break: %q", name, id, out)
		}
	}
	if !utf8.ValidString(string(AppendJSONString(nil, id))) {
		t.Errorf("JSON of %q is not UTF-8", id)
	}
}
