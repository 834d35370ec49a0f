package pushstream

import (
	"strings"
	"testing"
)

// TestDashboardCSP allows the page's own script and style by their hash.
func TestDashboardCSP(t *testing.T) {
	t.Parallel()
	for _, directive := range []string{"script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'"} {
		if !strings.Contains(dashboardCSP, directive) {
			t.Errorf("dashboard CSP %q lacks %q", dashboardCSP, directive)
		}
	}
}
