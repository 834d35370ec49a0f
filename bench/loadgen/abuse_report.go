//go:build linux

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
)

var stdout io.Writer = os.Stdout

// writeRaw writes raw to path, or to stdout for "-".
func writeRaw(path string, raw []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(raw)
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

// freePortCommand prints a TCP port of 127.0.0.1 that was free a moment
// ago, for a server to listen on.
func freePortCommand() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}

// statusList writes counts as "304: 15961, 500: 4039", sorted by key.
func statusList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + strconv.Itoa(m[k])
	}
	return strings.Join(parts, ", ")
}

// abuseTableCommand prints the table of several flood reports.
func abuseTableCommand(args []string) error {
	fs := flag.NewFlagSet("abuse-table", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var rows []*AbuseResult
	for _, path := range fs.Args() {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var r AbuseResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, &r)
	}
	if len(rows) == 0 {
		return fmt.Errorf("abuse-table wants JSON reports of `loadgen abuse`")
	}
	printAbuseRows(stdout, rows)
	printAbuseChecks(stdout, rows)
	return nil
}

// printAbuseRows writes a Markdown table, one row per flood.
func printAbuseRows(w io.Writer, rows []*AbuseResult) {
	fmt.Fprintln(w, "| flood | location | clients | sent (server read) | server CPU | CPU per MiB read | RSS before | RSS peak | RSS after | growth (peak) | bound | outcome |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		bound := "-"
		if r.BoundName != "" {
			bound = fmt.Sprintf("%s %s", r.BoundName, mibCell(r.BoundBytes))
			if growth := r.PeakRSS - r.Before.RSSBytes; r.BoundBytes > 0 {
				bound += fmt.Sprintf(" (growth %.2f×)", float64(growth)/float64(r.BoundBytes))
			}
		}
		perMiB := "-"
		switch {
		case r.CPUPerRequestUS > 0:
			perMiB = fmt.Sprintf("(%.0f µs per request)", r.CPUPerRequestUS)
		case r.ReadBytes >= 1<<20:
			perMiB = fmt.Sprintf("%.1f ms", r.CPUPerMiBMS)
		}
		outcome := r.Outcome
		if len(r.Errors) > 0 {
			outcome += "; client errors: " + statusList(r.Errors)
		}
		fmt.Fprintf(w, "| %s | `%s` | %d | %s: %s (%s) | %.2f s in %.1f s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Label, r.Location, r.Clients, r.Sent, mibCell(r.SentBytes), mibCell(r.ReadBytes),
			r.ServerCPUSeconds, r.Seconds, perMiB,
			mibCell(r.Before.RSSBytes), mibCell(r.PeakRSS), mibCell(r.After.RSSBytes),
			signedMiB(r.PeakRSS-r.Before.RSSBytes), bound, outcome)
	}
}

// printAbuseChecks writes what the table means for the bounds: the
// trickle's CPU ratio and each growth against its bound.
func printAbuseChecks(w io.Writer, rows []*AbuseResult) {
	fmt.Fprintln(w)
	byFlood := map[string]*AbuseResult{}
	for _, r := range rows {
		byFlood[r.Flood] = r
	}
	if s, wh := byFlood[floodSlowFrames], byFlood[floodWholeFrames]; s != nil && wh != nil && wh.CPUPerMiBMS > 0 {
		fmt.Fprintf(w, "* slow ÷ whole frames, server CPU per MiB read: %.1f ms ÷ %.1f ms = **%.2f×**\n",
			s.CPUPerMiBMS, wh.CPUPerMiBMS, s.CPUPerMiBMS/wh.CPUPerMiBMS)
	}
	for _, r := range rows {
		if r.BoundBytes <= 0 {
			continue
		}
		growth := r.PeakRSS - r.Before.RSSBytes
		verdict := "within it"
		if growth > r.BoundBytes {
			verdict = "over it"
		}
		fmt.Fprintf(w, "* %s: RSS growth %s at its peak = %.2f× %s %s (%s)\n",
			r.Label, signedMiB(growth), float64(growth)/float64(r.BoundBytes), r.BoundName, mibCell(r.BoundBytes), verdict)
	}
}

func mibCell(b int64) string { return fmt.Sprintf("%.1f MiB", mib(b)) }

func signedMiB(b int64) string { return fmt.Sprintf("%+.1f MiB", mib(b)) }
