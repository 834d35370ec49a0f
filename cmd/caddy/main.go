// Command caddy is Caddy with its standard modules and this plugin, built
// from the checkout: the scenario tests, the benchmarks and the examples
// run it. Production builds use xcaddy (README.md).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-pushstream/caddy-pushstream"
)

func main() {
	caddycmd.Main()
}
