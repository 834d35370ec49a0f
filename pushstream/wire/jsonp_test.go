package wire

import "testing"

func TestValidJSONPCallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"cb", true},
		{"callback_function", true},
		{"PushStream.prototype._callback", true},
		{"$jsonp1", true},
		{"_", true},
		{"a.b.c", true},
		{"", false},
		{"1cb", false},
		{"a..b", false},
		{".a", false},
		{"a.", false},
		{"a.1b", false},
		{"alert(document.domain)//", false},
		{"cb;alert(1)", false},
		{"cb\n", false},
		{"caf\xc3\xa9", false},
		{"a b", false},
	} {
		if got := ValidJSONPCallback(tc.name); got != tc.want {
			t.Errorf("ValidJSONPCallback(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzValidJSONPCallback(f *testing.F) {
	f.Add("PushStream.callback")
	f.Add("alert(1)//")
	f.Fuzz(func(t *testing.T, name string) {
		if !ValidJSONPCallback(name) {
			return
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c == '.' || c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				t.Fatalf("accepted %q with byte %q", name, c)
			}
		}
	})
}
