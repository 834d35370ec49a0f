// Command caddy is Caddy with the standard modules and this plugin; the
// process-exit tests build and run it as a real separate process.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-pushstream/caddy-pushstream"
)

func main() {
	caddycmd.Main()
}
