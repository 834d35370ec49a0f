package caddyfile

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits maps unit spellings to multipliers: nginx's k, m and g are
// 1024-based; Caddy's KB, MB, GB are decimal and KiB, MiB, GiB binary.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"k":   1 << 10,
	"m":   1 << 20,
	"g":   1 << 30,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
}

// ParseSize parses a size such as `32k`, `10m`, `32MiB` or `32MB`.
func ParseSize(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	unit, ok := sizeUnits[strings.ToLower(s[i:])]
	if err != nil || !ok || n > (1<<62)/unit {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * unit, nil
}
