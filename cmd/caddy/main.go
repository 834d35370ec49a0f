// Command caddy is Caddy with this plugin and the modules of
// internal/caddymodules (Caddy's standard modules but three that nothing
// here uses), built from the checkout: the scenario tests, the benchmarks
// and the examples run it. Production builds use xcaddy, with every
// standard module (README.md).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddy-pushstream/caddy-pushstream"
	_ "github.com/caddy-pushstream/caddy-pushstream/internal/caddymodules"
)

func main() {
	caddycmd.Main()
}
