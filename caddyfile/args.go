package caddyfile

import (
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// stringArg reads exactly one argument.
func stringArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

// stringPtrArg reads one argument for a setting whose empty value differs
// from its absence.
func stringPtrArg(d *caddyfile.Dispenser) (*string, error) {
	v, err := stringArg(d)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// boolArg reads on|off|true|false; a bare flag means on.
func boolArg(d *caddyfile.Dispenser) (bool, error) {
	name := d.Val()
	if !d.NextArg() {
		return true, nil
	}
	v := d.Val()
	if d.NextArg() {
		return false, d.ArgErr()
	}
	switch strings.ToLower(v) {
	case "on", "true":
		return true, nil
	case "off", "false":
		return false, nil
	}
	return false, d.Errf("%s: invalid boolean %q, use on or off", name, v)
}

// nonNegativeIntArg reads a whole number, zero included.
func nonNegativeIntArg(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	v, err := stringArg(d)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, d.Errf("%s: invalid number %q", name, v)
	}
	return n, nil
}

// positiveIntArg reads a whole number that may not be zero.
func positiveIntArg(d *caddyfile.Dispenser) (int, error) {
	name := d.Val()
	n, err := nonNegativeIntArg(d)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, d.Errf("%s cannot be zero", name)
	}
	return n, nil
}

// durationArg reads a Caddy duration; zero is an error unless allowZero.
func durationArg(d *caddyfile.Dispenser, allowZero bool) (caddy.Duration, error) {
	name := d.Val()
	v, err := stringArg(d)
	if err != nil {
		return 0, err
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil || dur < 0 {
		return 0, d.Errf("%s: invalid duration %q", name, v)
	}
	if dur == 0 && !allowZero {
		return 0, d.Errf("%s cannot be zero", name)
	}
	return caddy.Duration(dur), nil
}

// sizeArg reads a size in bytes.
func sizeArg(d *caddyfile.Dispenser) (int64, error) {
	name := d.Val()
	v, err := stringArg(d)
	if err != nil {
		return 0, err
	}
	n, err := ParseSize(v)
	if err != nil {
		return 0, d.Errf("%s: %v", name, err)
	}
	return n, nil
}
