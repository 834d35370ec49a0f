#!/usr/bin/env bash
# CI entry point of the dashboard's browser test, for .ci/run: installs
# what a fresh Debian machine with Go lacks (Chromium, Node.js), then runs
# run.sh. CI takes no screenshot: the tree stays as it was.
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
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

(cd "$e2e" && npm ci --no-audit --no-fund)
unset DASHBOARD_SCREENSHOT
"$e2e/run.sh"
