package pushstream

import (
	"regexp"
	"strings"
	"testing"
)

// TestDashboardCSP allows the page's own script and style by their hash,
// and the page has nothing else a hash cannot allow: one inline script,
// one style element, no style or event-handler attributes.
func TestDashboardCSP(t *testing.T) {
	t.Parallel()
	for _, directive := range []string{"script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'"} {
		if !strings.Contains(dashboardCSP, directive) {
			t.Errorf("dashboard CSP %q lacks %q", dashboardCSP, directive)
		}
	}
	page := string(dashboardPage)
	for _, tag := range []string{"<script", "<style"} {
		if n := strings.Count(page, tag); n != 1 {
			t.Errorf("the dashboard has %d %s elements, want 1: a second one is not in the CSP", n, tag)
		}
	}
	if attr := regexp.MustCompile(`\s(style|on[a-z]+)=`).FindString(page); attr != "" {
		t.Errorf("the dashboard has a%s attribute, which its CSP forbids", attr)
	}
}
