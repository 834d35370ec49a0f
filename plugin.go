// Package caddypushstream registers the push stream modules and their
// Caddyfile directives, so that `xcaddy build --with
// github.com/caddy-pushstream/caddy-pushstream` builds Caddy with all of them.
package caddypushstream

import (
	_ "github.com/caddy-pushstream/caddy-pushstream/caddyfile"
	_ "github.com/caddy-pushstream/caddy-pushstream/pushstream"
)
