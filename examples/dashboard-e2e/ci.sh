#!/usr/bin/env bash
# CI entry point of the dashboard's browser test, for .ci/run: installs
# what a fresh Debian machine with Go lacks (Chromium, Firefox ESR,
# Node.js), then runs run.sh in both browsers. CI takes no screenshot: the
# tree stays as it was.
set -euo pipefail

e2e="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/local/go/bin"

apt_updated=""
apt_install() {
	if [ -z "$apt_updated" ]; then
		apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Debian's Chromium; playwright-core drives it and never downloads a browser.
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || apt_install chromium
# Debian's Firefox ESR, driven over WebDriver BiDi (bidi.mjs).
[ -x "${FIREFOX:-/usr/bin/firefox-esr}" ] || apt_install firefox-esr
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

(cd "$e2e" && npm ci --no-audit --no-fund)
unset DASHBOARD_SCREENSHOT
DASHBOARD_BROWSERS=chromium,firefox "$e2e/run.sh"
