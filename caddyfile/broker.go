package caddyfile

import (
	"encoding/json"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream"
)

// parseBroker parses the `broker` line of the global option:
//
//	broker memory
//	broker redis [<address>] {
//		address            <host:port>
//		username           <user>
//		password           <password>
//		db                 <n>
//		tls                [on|off]
//		tls_server_name    <name>
//		tls_ca_file        <pem file>
//		tls_insecure_skip_verify [on|off]
//		key_prefix         <prefix>
//		dial_timeout       <duration>
//		read_timeout       <duration>
//		write_timeout      <duration>
//		heartbeat_interval <duration>
//	}
func parseBroker(d *caddyfile.Dispenser) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.Errf("broker: missing broker name, use memory or redis")
	}
	switch name := d.Val(); name {
	case "memory":
		if d.NextArg() {
			return nil, d.ArgErr()
		}
		if d.NextBlock(d.Nesting()) {
			return nil, d.Errf("broker memory takes no settings")
		}
		return caddyconfig.JSONModuleObject(pushstream.MemoryBroker{}, "broker", "memory", nil), nil
	case "redis":
		b, err := parseRedisBroker(d)
		if err != nil {
			return nil, err
		}
		return caddyconfig.JSONModuleObject(b, "broker", "redis", nil), nil
	default:
		return nil, d.Errf("broker: unknown broker %q, use memory or redis", name)
	}
}

// parseRedisBroker parses `redis [<address>] { ... }` after `broker`.
func parseRedisBroker(d *caddyfile.Dispenser) (*pushstream.RedisBroker, error) {
	b := new(pushstream.RedisBroker)
	if d.NextArg() {
		b.Address = d.Val()
	}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch name := d.Val(); name {
		case "address":
			b.Address, err = stringArg(d)
		case "username":
			b.Username, err = stringArg(d)
		case "password":
			b.Password, err = stringArg(d)
		case "db":
			b.DB, err = nonNegativeIntArg(d)
		case "tls":
			var on bool
			if on, err = boolArg(d); err == nil {
				if on {
					redisTLS(b) // keeps tls_* lines given before it
				} else {
					b.TLS = nil
				}
			}
		case "tls_server_name":
			redisTLS(b).ServerName, err = stringArg(d)
		case "tls_ca_file":
			redisTLS(b).CAFile, err = stringArg(d)
		case "tls_insecure_skip_verify":
			redisTLS(b).InsecureSkipVerify, err = boolArg(d)
		case "key_prefix":
			b.KeyPrefix, err = stringArg(d)
		case "dial_timeout":
			b.DialTimeout, err = durationArg(d, false)
		case "read_timeout":
			b.ReadTimeout, err = durationArg(d, false)
		case "write_timeout":
			b.WriteTimeout, err = durationArg(d, false)
		case "heartbeat_interval":
			b.HeartbeatInterval, err = durationArg(d, false)
		default:
			return nil, d.Errf("unknown push_stream broker redis option %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// redisTLS returns the broker's TLS settings, turning TLS on.
func redisTLS(b *pushstream.RedisBroker) *pushstream.RedisTLS {
	if b.TLS == nil {
		b.TLS = new(pushstream.RedisTLS)
	}
	return b.TLS
}
