#!/usr/bin/env bash
# CI entry point of the commits example, for .ci/run: installs what a fresh
# Debian machine with Go lacks (Chromium, Node.js), then runs the example's
# Go tests (API, SQLite, publish-on-create behind a real Caddy) and the
# browser tests (run.sh).
set -euo pipefail

e2e="$(cd "$(dirname "$0")" && pwd)"
example="$(dirname "$e2e")"
root="$(cd "$example/../.." && pwd)"
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

work="$(mktemp -d "${TMPDIR:-/tmp}/commits-ci.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# One Caddy build for both test suites.
(cd "$root" && go build -o "$work/caddy" ./cmd/caddy)
export CADDY_BIN="$work/caddy"

(cd "$example" && go test -count=1 ./...)

# The screenshot goes to the scratch folder: CI leaves the tree as it was.
COMMITS_SCREENSHOT="$work/screenshot.png" "$e2e/run.sh"
