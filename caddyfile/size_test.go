package caddyfile

import (
	"strconv"
	"strings"
	"testing"
)

// TestParseSize covers the size spellings of docs/CONFIGURATION.md: nginx's k, m, g
// (1024-based, either case) and Caddy's KB/MB/GB (decimal) and
// KiB/MiB/GiB (binary), and rejects everything else.
func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"plain bytes", "4096", 4096},
		{"zero", "0", 0},
		{"nginx lower k", "512k", 512 << 10},
		{"nginx upper K", "32K", 32 << 10},
		{"nginx lower m", "10m", 10 << 20},
		{"nginx upper M", "32M", 32 << 20},
		{"nginx lower g", "1g", 1 << 30},
		{"nginx upper G", "2G", 2 << 30},
		{"caddy KiB", "128KiB", 128 << 10},
		{"caddy MiB", "32MiB", 32 << 20},
		{"caddy GiB", "1GiB", 1 << 30},
		{"caddy KB is decimal", "32KB", 32000},
		{"caddy MB is decimal", "32MB", 32000000},
		{"caddy GB is decimal", "1GB", 1000000000},
		{"baseline shared memory", "10m", 10485760},
		{"baseline body size", "32k", 32768},
		{"memory minimum", "128k", 131072},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSize(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestParseSizeErrors: anything that is not digits plus a known unit is an
// error that quotes the value; values that overflow int64 are errors,
// never wrapped numbers.
func TestParseSizeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"unit only", "k"},
		{"negative", "-1"},
		{"explicit plus", "+5"},
		{"fraction", "1.5m"},
		{"unknown unit", "10q"},
		{"junk after unit", "32kb2"},
		{"leading space", " 10m"},
		{"space before unit", "10 m"},
		{"trailing space", "10m "},
		{"half a binary unit", "32Mi"},
		{"terabytes", "1t"},
		{"int64 overflow", "99999999999999999999"},
		{"overflow with unit", "9223372036854775807k"},
		{"overflow with g", "17179869184g"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSize(tc.in)
			if err == nil {
				t.Fatalf("ParseSize(%q) = %d, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tc.in)) {
				t.Errorf("error %q does not quote the value %q", err, tc.in)
			}
		})
	}
}

// FuzzParseSize: ParseSize never panics, never returns a negative size,
// and an accepted value is its leading digits times a known unit.
func FuzzParseSize(f *testing.F) {
	for _, seed := range []string{"", "0", "32k", "10m", "32M", "512k", "32MiB", "32MB", "1.5m", "-1", "9223372036854775807", "9223372036854775807k", "1GiB", "k"} {
		f.Add(seed)
	}
	units := map[string]int64{
		"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30,
		"kb": 1000, "mb": 1000000, "gb": 1000000000,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseSize(in)
		if err != nil {
			return
		}
		if got < 0 {
			t.Fatalf("ParseSize(%q) = %d < 0", in, got)
		}
		i := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == 0 {
			t.Fatalf("ParseSize(%q) accepted a value without digits", in)
		}
		n, perr := strconv.ParseInt(in[:i], 10, 64)
		if perr != nil {
			t.Fatalf("ParseSize(%q) accepted an overflowing number", in)
		}
		unit, known := units[strings.ToLower(in[i:])]
		if !known && strings.ToLower(in[i:]) != "b" {
			t.Fatalf("ParseSize(%q) accepted unit %q", in, in[i:])
		}
		if known && got != n*unit {
			t.Fatalf("ParseSize(%q) = %d, want %d", in, got, n*unit)
		}
	})
}
