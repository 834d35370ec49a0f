//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// group is one configuration's samples: samples[k] are the runs of
// clientKinds[k].
type group struct {
	// name names the configuration.
	name string
	// samples holds each client's runs.
	samples [][]sample
}

// column is one figure of a table.
type column struct {
	// title heads the column.
	title string
	// of returns the figure of one run.
	of func(sample) float64
}

// publishColumns are the figures of the publish runs.
var publishColumns = []column{
	{"publishes/s", perSecond},
	{"client CPU µs/publish", func(s sample) float64 { return micros(s.cpu) / float64(s.count) }},
	{"p50 µs", func(s sample) float64 { return micros(s.latency.quantile(0.50)) }},
	{"p99 µs", func(s sample) float64 { return micros(s.latency.quantile(0.99)) }},
	{"allocs/publish", allocsPer},
	{"Redis CPU µs/publish", func(s sample) float64 { return micros(s.server) / float64(s.count) }},
}

// followColumns are the figures of the follow runs.
var followColumns = []column{
	{"entries/s", perSecond},
	{"client CPU ns/entry", func(s sample) float64 { return float64(s.cpu) / float64(s.count) }},
	{"allocs/entry", allocsPer},
	{"Redis CPU ns/entry", func(s sample) float64 { return float64(s.server) / float64(s.count) }},
}

// perSecond returns what a run did per second.
func perSecond(s sample) float64 { return float64(s.count) / s.elapsed.Seconds() }

// allocsPer returns a run's allocations per thing done.
func allocsPer(s sample) float64 { return float64(s.mallocs) / float64(s.count) }

// micros returns d in microseconds.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// describe returns one run's figures for the progress log.
func describe(s sample, columns []column) string {
	parts := make([]string, len(columns))
	for i, c := range columns {
		parts[i] = c.title + " " + format(c.of(s))
	}
	return strings.Join(parts, ", ")
}

// printTable writes a Markdown table of the groups: per configuration,
// each client's medians and the ratio of the second client to the first.
func printTable(w io.Writer, groups []group, columns []column) {
	titles := []string{"run", "client"}
	for _, c := range columns {
		titles = append(titles, c.title)
	}
	printRow(w, titles)
	printRow(w, slices.Repeat([]string{"---"}, len(titles)))
	for _, g := range groups {
		medians := make([][]float64, len(g.samples))
		for k, runs := range g.samples {
			medians[k] = columnMedians(runs, columns)
			printRow(w, append([]string{g.name, clientKinds[k].name}, formatAll(medians[k])...))
		}
		ratio := clientKinds[1].name + "/" + clientKinds[0].name
		printRow(w, append([]string{g.name, ratio}, ratios(medians[1], medians[0])...))
	}
}

// columnMedians returns the median of each column over runs.
func columnMedians(runs []sample, columns []column) []float64 {
	out := make([]float64, len(columns))
	for i, c := range columns {
		values := make([]float64, len(runs))
		for j, s := range runs {
			values[j] = c.of(s)
		}
		out[i] = median(values)
	}
	return out
}

// median returns the median of values, which it sorts.
func median(values []float64) float64 {
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}

// ratios returns a[i]/b[i] formatted, "-" where b[i] is zero.
func ratios(a, b []float64) []string {
	out := make([]string, len(a))
	for i := range a {
		out[i] = "-"
		if b[i] != 0 {
			out[i] = strconv.FormatFloat(a[i]/b[i], 'f', 2, 64)
		}
	}
	return out
}

// formatAll formats each of values.
func formatAll(values []float64) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = format(v)
	}
	return out
}

// format writes v with three significant digits or more, without an
// exponent.
func format(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// printRow writes one table row.
func printRow(w io.Writer, cells []string) {
	fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
}
