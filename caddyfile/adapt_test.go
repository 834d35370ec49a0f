package caddyfile_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/caddy-pushstream/caddy-pushstream/caddyfile"
)

// adaptSeparator splits a golden file into its Caddyfile and its expected
// part, as in Caddy's own caddyfile_adapt tests.
const adaptSeparator = "----------"

// adaptReadGolden returns the Caddyfile (trimmed, with a final newline, as
// Caddy's tests feed it) and the expected part of a golden file.
func adaptReadGolden(t *testing.T, path string) (caddyfile, expected string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	input, want, ok := strings.Cut(strings.ReplaceAll(string(data), "\r\n", "\n"), adaptSeparator)
	if !ok {
		t.Fatalf("%s has no %q line", path, adaptSeparator)
	}
	return strings.TrimSpace(input) + "\n", strings.TrimSpace(want)
}

func adaptGoldenFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.caddyfiletest"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s (%v)", dir, err)
	}
	return files
}

// adaptCaddyfile adapts a Caddyfile named "Caddyfile" (the dispenser's
// errors then read "Caddyfile:N").
func adaptCaddyfile(caddyfile string) ([]byte, error) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	return out, err
}

// TestCaddyfileAdapt checks every testdata/*.caddyfiletest: the Caddyfile
// adapts to exactly the JSON after the separator (docs/CONFIGURATION.md).
func TestCaddyfileAdapt(t *testing.T) {
	for _, path := range adaptGoldenFiles(t, "testdata") {
		name := strings.TrimSuffix(filepath.Base(path), ".caddyfiletest")
		t.Run(name, func(t *testing.T) {
			caddyfile, want := adaptReadGolden(t, path)
			if !strings.HasPrefix(want, "{") {
				t.Fatalf("%s: expected part is not JSON", path)
			}
			if !caddytest.CompareAdapt(t, filepath.Base(path), caddyfile, "caddyfile", want) {
				t.Errorf("adapting %s does not give the expected JSON (diff printed above)", path)
			}
		})
	}
}

// adaptLineRef matches a dispenser position such as "at Caddyfile:12".
var adaptLineRef = regexp.MustCompile(`Caddyfile:[0-9]+`)

// TestCaddyfileAdaptErrors checks every testdata/errors/*.caddyfiletest:
// adapting fails, the error names the Caddyfile and a line, and it
// contains every line of the expected part. An expected "at Caddyfile:N"
// line pins the exact line number (docs/CONFIGURATION.md: errors name the file,
// line and directive).
func TestCaddyfileAdaptErrors(t *testing.T) {
	for _, path := range adaptGoldenFiles(t, filepath.Join("testdata", "errors")) {
		name := strings.TrimSuffix(filepath.Base(path), ".caddyfiletest")
		t.Run(name, func(t *testing.T) {
			caddyfile, want := adaptReadGolden(t, path)
			out, err := adaptCaddyfile(caddyfile)
			if err == nil {
				t.Fatalf("adapting succeeded, want an error; got:\n%s", out)
			}
			msg := err.Error()
			if !adaptLineRef.MatchString(msg) {
				t.Errorf("error does not name the Caddyfile and line (Caddyfile:N): %s", msg)
			}
			for _, line := range strings.Split(want, "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				if !adaptContainsWhole(msg, line) {
					t.Errorf("error does not contain %q:\n%s", line, msg)
				}
			}
		})
	}
}

// adaptContainsWhole reports whether msg contains sub not followed by a
// digit when sub ends in one, so that "Caddyfile:4" does not match
// "Caddyfile:42".
func adaptContainsWhole(msg, sub string) bool {
	endsInDigit := sub != "" && sub[len(sub)-1] >= '0' && sub[len(sub)-1] <= '9'
	for from := 0; ; {
		i := strings.Index(msg[from:], sub)
		if i < 0 {
			return false
		}
		end := from + i + len(sub)
		if !endsInDigit || end == len(msg) || msg[end] < '0' || msg[end] > '9' {
			return true
		}
		from += i + 1
	}
}

// adaptOrderCaddyfile puts every push stream directive after
// reverse_proxy, with matchers that do not reorder routes, and no `order`
// option.
const adaptOrderCaddyfile = `:8080 {
	reverse_proxy localhost:8000

	@stats path_regexp stats ^/stats/(.*)$
	push_stream_channels_statistics @stats {
		channels_path {re.stats.1}
	}

	@pub path_regexp pub ^/pub/(.*)$
	push_stream_publisher @pub {
		channels_path {re.pub.1}
	}

	@ws path_regexp ws ^/ws/(.*)$
	push_stream_websocket @ws {
		channels_path {re.ws.1}
	}

	@sub path_regexp sub ^/sub/(.*)$
	push_stream_subscriber @sub {
		channels_path {re.sub.1}
	}

	@dashboard path /dashboard
	push_stream_dashboard @dashboard

	@health path /healthz
	push_stream_health @health
}
`

// adaptRouteOrder adapts adaptOrderCaddyfile and returns, per top-level
// route, its handler name and channels_path (if any).
func adaptRouteOrder(t *testing.T) []string {
	t.Helper()
	out, err := adaptCaddyfile(adaptOrderCaddyfile)
	if err != nil {
		t.Fatalf("adapting: %v", err)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Handler      string `json:"handler"`
							ChannelsPath string `json:"channels_path"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("decoding adapted JSON: %v", err)
	}
	var order []string
	for _, route := range cfg.Apps.HTTP.Servers["srv0"].Routes {
		for _, h := range route.Handle {
			order = append(order, strings.TrimSpace(h.Handler+" "+h.ChannelsPath))
		}
	}
	return order
}

// TestCaddyfileDirectivesBeforeReverseProxy: the directives carry a
// directive order before reverse_proxy, so a site needs neither an `order`
// option nor a `route` block (docs/CONFIGURATION.md, Handler directives).
func TestCaddyfileDirectivesBeforeReverseProxy(t *testing.T) {
	order := adaptRouteOrder(t)
	if len(order) != 7 {
		t.Fatalf("want 7 routes, got %q", order)
	}
	if order[6] != "reverse_proxy" {
		t.Fatalf("reverse_proxy is not last: %q", order)
	}
	for _, want := range []string{
		"push_stream_subscriber {http.regexp.sub.1}",
		"push_stream_subscriber {http.regexp.ws.1}",
		"push_stream_publisher {http.regexp.pub.1}",
		"push_stream_channels_statistics {http.regexp.stats.1}",
		"push_stream_dashboard",
		"push_stream_health",
	} {
		found := false
		for _, got := range order[:6] {
			found = found || got == want
		}
		if !found {
			t.Errorf("route %q missing before reverse_proxy: %q", want, order)
		}
	}
}

// adaptOrderChildEnv makes TestCaddyfileDirectiveOrderStable print the
// route order of this process and stop.
const adaptOrderChildEnv = "PUSHSTREAM_ADAPT_ORDER_CHILD"

// TestCaddyfileDirectiveOrderStable adapts the same Caddyfile in several
// fresh processes: the relative order of the push stream directives must
// not change between runs, or `caddy adapt` gives different JSON (and
// different routing when matchers overlap) from one run to the next. The
// golden files expect the docs/CONFIGURATION.md listing order: subscriber,
// websocket, publisher, statistics, dashboard, health.
func TestCaddyfileDirectiveOrderStable(t *testing.T) {
	if os.Getenv(adaptOrderChildEnv) != "" {
		os.Stdout.WriteString("ORDER: " + strings.Join(adaptRouteOrder(t), ", ") + "\n")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	// Go randomizes map order per process: if the directives came out of a
	// map, five processes would agree only by a tiny chance.
	seen := map[string]int{}
	for range 5 {
		cmd := exec.Command(exe, "-test.run=^TestCaddyfileDirectiveOrderStable$", "-test.count=1")
		cmd.Env = append(os.Environ(), adaptOrderChildEnv+"=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if order, ok := strings.CutPrefix(line, "ORDER: "); ok {
				seen[order]++
			}
		}
	}
	if len(seen) != 1 {
		t.Errorf("the route order of the push stream directives changes between processes: %v", seen)
	}
}
