package scenarios_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// scenariosPath is the scenario list of the documentation.
const scenariosPath = "../docs/SCENARIOS.md"

// ledgerPath is the conformance ledger: every docs/SCENARIOS.md example and the
// test that covers it, or why it does not apply.
const ledgerPath = "testdata/SCENARIOS-STATUS.md"

// scenario is one example of docs/SCENARIOS.md.
type scenario struct {
	file  string // e.g. publisher/properties_spec.rb
	num   int
	tag   string // A, C or N
	title string
}

var (
	scenarioHeading = regexp.MustCompile(`^## misc/spec/(\S+\.rb)`)
	scenarioItem    = regexp.MustCompile(`^(\d+)\. \[([ACN])\] (.*)`)
	testFunc        = regexp.MustCompile(`^func (Test\w+)\(`)
	scenarioRef     = regexp.MustCompile(`SCENARIOS\.md (\S+\.rb)(.*)`)
	refNumbers      = regexp.MustCompile(`#?(\d+)(?:\s*(?:–|-|to)\s*#?(\d+))?`)
)

// readScenarios reads the examples of the scenario list at scenariosPath.
func readScenarios(t *testing.T) []scenario {
	t.Helper()
	text, err := os.ReadFile(scenariosPath)
	if err != nil {
		t.Fatalf("the shared spec must sit beside the checkout: %v", err)
	}
	var list []scenario
	file := ""
	for _, line := range strings.Split(string(text), "\n") {
		if m := scenarioHeading.FindStringSubmatch(line); m != nil {
			file = m[1]
			continue
		}
		if m := scenarioItem.FindStringSubmatch(line); m != nil && file != "" {
			n, _ := strconv.Atoi(m[1])
			title := m[3]
			if len(title) > 90 {
				title = title[:90] + "…"
			}
			list = append(list, scenario{file: file, num: n, tag: m[2], title: title})
		}
	}
	return list
}

// scenarioTests maps "file#n" to the test functions whose doc comments
// cite that example (`docs/SCENARIOS.md <file> #n`, lists and ranges allowed).
func scenarioTests(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	// Configuration errors are tested where the Caddyfile is parsed.
	adaptFiles, err := filepath.Glob("../caddyfile/*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, adaptFiles...)
	covered := map[string][]string{}
	for _, name := range files {
		prefix := ""
		if dir := filepath.Dir(name); dir != "." {
			prefix = filepath.Base(dir) + "/"
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var pending []string
		for _, line := range strings.Split(string(src), "\n") {
			if m := scenarioRef.FindStringSubmatch(line); m != nil && strings.HasPrefix(strings.TrimSpace(line), "//") {
				for _, key := range refKeys(m[1], m[2]) {
					pending = append(pending, key)
				}
				continue
			}
			if m := testFunc.FindStringSubmatch(line); m != nil {
				for _, key := range pending {
					covered[key] = append(covered[key], prefix+m[1])
				}
				pending = nil
			}
		}
	}
	return covered
}

// refKeys reads the example numbers after a spec file name: "#3",
// "#1 and #2", "#12, #13", "#19–22". Text after a `;` or `(` is prose.
func refKeys(file, rest string) []string {
	if i := strings.IndexAny(rest, ";(:"); i >= 0 {
		rest = rest[:i]
	}
	var keys []string
	for _, m := range refNumbers.FindAllStringSubmatch(rest, -1) {
		from, _ := strconv.Atoi(m[1])
		to := from
		if m[2] != "" {
			to, _ = strconv.Atoi(m[2])
		}
		for n := from; n <= to && n-from < 100; n++ {
			keys = append(keys, fmt.Sprintf("%s#%d", file, n))
		}
	}
	return keys
}

// notApplicable says why each [N] example has no test.
var notApplicable = map[string]string{
	"subscriber/properties_spec.rb#41": "pending upstream; two nginx http blocks with separate zones: Caddy has one store per process",
	"mix/measure_memory_spec.rb#1":     "nginx slab accounting; the per-object costs of docs/PROTOCOL.md §1.7 are unit-tested (TestStore*)",
	"mix/measure_memory_spec.rb#2":     "nginx slab accounting; see measure_memory #1",
	"mix/measure_memory_spec.rb#3":     "nginx slab accounting; see measure_memory #1",
	"mix/measure_memory_spec.rb#4":     "nginx worker RSS; our memory per subscriber is measured in bench/",
	"mix/send_signals_spec.rb#4":       "nginx log line about resizing shared memory; a new cap simply applies after a reload",
	"mix/setup_parameters_spec.rb#14":  "nginx configuration without an http block; a Caddy config without push_stream simply loads",
	"mix/setup_parameters_spec.rb#20":  "shared_memory_size is optional in Caddy (32 MiB default)",
}

// TestScenarioLedger keeps testdata/SCENARIOS-STATUS.md true: every
// docs/SCENARIOS.md example is either covered by a test that cites it or
// listed as not applicable, and every [A]/[C] example has a test. Run
// with PUSHSTREAM_UPDATE_LEDGER=1 to rewrite the ledger.
func TestScenarioLedger(t *testing.T) {
	t.Parallel()
	scenarios := readScenarios(t)
	if len(scenarios) != 271 {
		t.Fatalf("read %d examples from docs/SCENARIOS.md, want 271", len(scenarios))
	}
	covered := scenarioTests(t)
	var b bytes.Buffer
	b.WriteString("# docs/SCENARIOS.md conformance ledger\n\n")
	b.WriteString("Every example of docs/SCENARIOS.md and the Go test that covers it (in\n")
	b.WriteString("scenarios/ unless named otherwise), or why it does not apply. Generated and checked by\n")
	b.WriteString("TestScenarioLedger (ledger_test.go); regenerate with PUSHSTREAM_UPDATE_LEDGER=1.\n")
	file := ""
	missing := 0
	counts := map[string]int{}
	for _, s := range scenarios {
		if s.file != file {
			file = s.file
			fmt.Fprintf(&b, "\n## %s\n\n| # | tag | example | covered by |\n| --- | --- | --- | --- |\n", file)
		}
		key := fmt.Sprintf("%s#%d", s.file, s.num)
		tests := covered[key]
		sort.Strings(tests)
		tests = slices.Compact(tests)
		status := strings.Join(tests, ", ")
		switch {
		case s.tag == "N":
			reason, ok := notApplicable[key]
			if !ok {
				t.Errorf("%s is [N] but has no reason in notApplicable", key)
			}
			status = "not applicable: " + reason
		case len(tests) == 0:
			t.Errorf("%s [%s] has no test: %s", key, s.tag, s.title)
			missing++
			status = "**missing**"
		}
		counts[s.tag]++
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", s.num, s.tag, strings.ReplaceAll(s.title, "|", `\|`), status)
	}
	fmt.Fprintf(&b, "\nTotals: %d [A], %d [C], %d [N]; %d applicable examples without a test.\n", counts["A"], counts["C"], counts["N"], missing)

	if os.Getenv("PUSHSTREAM_UPDATE_LEDGER") != "" {
		if err := os.WriteFile(ledgerPath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	current, err := os.ReadFile(ledgerPath)
	if err != nil || !bytes.Equal(current, b.Bytes()) {
		t.Errorf("%s is out of date: run PUSHSTREAM_UPDATE_LEDGER=1 go test -run TestScenarioLedger ./pushstream/", ledgerPath)
	}
}
