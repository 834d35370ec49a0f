//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// tableCommand prints several reports as one Markdown table, a row each
// (the cluster scenario: one node, two nodes on Redis, Nchan alike).
func tableCommand(args []string) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("table wants JSON reports")
	}
	runs, err := readResults(fs.Args())
	if err != nil {
		return err
	}
	printRuns(os.Stdout, runs)
	return nil
}

// printRuns writes one Markdown row per run: deliveries/s, the CPU per
// delivery of the servers, of the broker and of both, latency, losses.
func printRuns(w io.Writer, runs []*Result) {
	fmt.Fprintln(w, "| run | subscribers | deliveries/s | CPU/delivery servers | broker | total | latency p50 | p99 | lost | duplicated | dropped | client CPU busy |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range runs {
		servers, broker := "-", "-"
		if r.Server != nil && r.Delivered > 0 {
			servers = cell(r.Server.CPUPerDeliveryUS, true, "µs")
		}
		if r.Broker != nil && r.Delivered > 0 {
			broker = cell(r.Broker.CPUPerDeliveryUS, true, "µs")
		}
		total := "-"
		if v, ok := r.totalCPUPerDeliveryUS(); ok {
			total = cell(v, true, "µs")
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %s | %s | %d | %d | %d | %.0f%% |\n",
			r.Label, r.Connected, r.DeliveriesPerSec, servers, broker, total,
			cell(r.LatencyUS.P50/1000, true, "ms"), cell(r.LatencyUS.P99/1000, true, "ms"),
			r.Lost, r.Duplicates, r.Disconnected, r.ClientCPUPercent)
	}
}
