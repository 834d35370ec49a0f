package wire

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Tests of Padding (docs/PROTOCOL.md §5.7).

func TestParsePadding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec, wantErr string
	}{
		{"verified rules", "[T|t]est 1,1024,508:[T|t]est 2,4097,0", ""},
		{"one rule", "[T|t]est 1,0,545", ""},
		{"regexp with commas", "a,b,10,20", ""},
		{"sizes are letters", "user_agent,as,df", "padding pattern not match the value user_agent,as,df"},
		{"semicolons", "user_agent;10;0", "padding pattern not match the value user_agent;10;0"},
		{"second rule with semicolons", "user_agent,10,0:other_user_agent;20;0:another_user_agent,30,0",
			"error applying padding pattern to other_user_agent;20;0:another_user_agent,30,0"},
		{"third rule broken", "a,1,2:b,3,4:c;5;6", "error applying padding pattern to c;5;6"},
		{"missing message size", "ua,10", "padding pattern not match the value ua,10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePadding(tc.spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParsePadding(%q): %v", tc.spec, err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("ParsePadding(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
			}
		})
	}
}

// crlfPadding is what §5.7 says a padding of n bytes is: the last n
// bytes of "\r\n" pairs.
func crlfPadding(n int) string {
	s := strings.Repeat("\r\n", (n+1)/2)
	return s[len(s)-n:]
}

// TestParsePaddingSizes checks the verified numbers of docs/PROTOCOL.md §5.7.
func TestParsePaddingSizes(t *testing.T) {
	t.Parallel()
	headers, err := ParsePadding("[T|t]est 1,1024,508:[T|t]est 2,4097,0")
	if err != nil {
		t.Fatal(err)
	}
	messages, err := ParsePadding("[T|t]est 1,0,545")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		padding     *Padding
		userAgent   string
		header      bool
		written     int
		eventSource bool
		want        int
	}{
		{"verified Test 1 header", headers, "Test 1", true, 10, false, 1100},
		{"verified Test 2 header gets Lmax", headers, "Test 2", true, 10, false, 4097},
		{"verified Test 3 gets nothing", headers, "Test 3", true, 10, false, 0},
		{"verified unanchored lower case match", headers, "xx test 1 yy", true, 10, false, 1100},
		{"Test 1 message", headers, "Test 1", false, 8, false, 600},
		{"Test 2 message minimum zero", headers, "Test 2", false, 8, false, 0},
		{"empty user agent", headers, "", true, 10, false, 0},
		{"header at the minimum", headers, "Test 1", true, 1024, false, 0},
		{"header one under the minimum", headers, "Test 1", true, 1023, false, 100},
		{"verified message 1 byte", messages, "Test 1", false, 1, false, 545},
		{"verified message 105 bytes", messages, "Test 1", false, 105, false, 500},
		{"verified message 221 bytes", messages, "Test 1", false, 221, false, 400},
		{"verified message 331 bytes", messages, "Test 1", false, 331, false, 300},
		{"verified message 435 bytes", messages, "Test 1", false, 435, false, 200},
		{"verified message 502 bytes", messages, "Test 1", false, 502, false, 100},
		{"verified message 550 bytes", messages, "Test 1", false, 550, false, 0},
		{"header minimum zero", messages, "Test 1", true, 0, false, 0},
		{"eventsource header", headers, "Test 1", true, 3, true, 1100},
		{"eventsource message", messages, "test 1", false, 105, true, 500},
		{"nil padding", nil, "Test 1", true, 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sizes := tc.padding.For(tc.userAgent)
			var got []byte
			if tc.header {
				got = sizes.HeaderPadding(tc.written, tc.eventSource)
			} else {
				got = sizes.MessagePadding(tc.written, tc.eventSource)
			}
			if len(got) != tc.want {
				t.Fatalf("padding length %d, want %d", len(got), tc.want)
			}
			want := crlfPadding(tc.want)
			if tc.eventSource && tc.want > 0 {
				want = strings.Repeat(":", tc.want-1) + "\n"
			}
			if string(got) != want {
				t.Fatalf("padding bytes %q..., want %q...", got[:min(8, len(got))], want[:min(8, len(want))])
			}
		})
	}
	// Verified: the 4097 bytes after the header start "\n\r\n\r".
	if got := headers.For("Test 2").HeaderPadding(10, false); !bytes.HasPrefix(got, []byte("\n\r\n\r")) {
		t.Fatalf("odd padding starts %q, want \"\\n\\r\\n\\r\"", got[:4])
	}
	// A regexp with commas: the last two fields are the sizes.
	commas, err := ParsePadding("a,b,10,200")
	if err != nil {
		t.Fatal(err)
	}
	if got := commas.For("xa,bx").MessagePadding(0, false); len(got) != 200 {
		t.Fatalf("rule with a comma in its regexp: padding %d, want 200", len(got))
	}
	if got := commas.For("ab").MessagePadding(0, false); len(got) != 0 {
		t.Fatalf("user agent without the comma matched: %d", len(got))
	}
}

// FuzzParsePadding: parsing never panics, and an accepted value pads any
// user agent and any length without panicking, never beyond Lmax, with
// the bytes §5.7 prescribes.
func FuzzParsePadding(f *testing.F) {
	for _, seed := range []string{"[T|t]est 1,1024,508:[T|t]est 2,4097,0", "user_agent,as,df", "user_agent;10;0", "a,1,2:", ":", "", ",,", "a,b,10,20", "(,1,2"} {
		f.Add(seed, "Test 1", 10)
	}
	longNumber := regexp.MustCompile(`[0-9]{6,}`)
	f.Fuzz(func(t *testing.T, spec, userAgent string, written int) {
		// Sizes are allocated up front (the Lmax buffer), so huge numbers
		// only measure the machine's memory.
		if longNumber.MatchString(spec) {
			t.Skip()
		}
		var p *Padding
		var err error
		noPanic(t, fmt.Sprintf("ParsePadding(%q)", spec), func() { p, err = ParsePadding(spec) })
		if err != nil {
			return
		}
		noPanic(t, fmt.Sprintf("padding of %q for %q after %d bytes", spec, userAgent, written), func() {
			sizes := p.For(userAgent)
			for _, eventSource := range []bool{false, true} {
				for _, pad := range [][]byte{sizes.HeaderPadding(written, eventSource), sizes.MessagePadding(written, eventSource)} {
					if len(pad) > p.max {
						t.Fatalf("padding %d bytes over Lmax %d", len(pad), p.max)
					}
					if len(pad) > 0 && eventSource && (pad[len(pad)-1] != '\n' || strings.Trim(string(pad[:len(pad)-1]), ":") != "") {
						t.Fatalf("eventsource padding %q", pad)
					}
					if !eventSource && string(pad) != crlfPadding(len(pad)) {
						t.Fatalf("padding %q", pad)
					}
				}
			}
		})
	})
}
