package main

import (
	"fmt"
	"io"
	"strings"
)

// printTable writes the results as a Markdown table, then each server's
// notes and upstream's count checks.
func printTable(w io.Writer, results []result) {
	fmt.Fprintln(w, "| variant | upstream's window | ours: fills | ours: s to empty | original: fills | original: s to empty | ours/original | 500 closed (ours, original) |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %.0f ± %.0f s | %s | %s | %s | %s | %s | %s, %s |\n",
			r.v.name, r.v.expect.Seconds(), r.v.tolerance.Seconds(),
			fills(r.ours.o, r.ours.err), waits(r.v, r.ours.o, r.ours.err),
			fills(r.original.o, r.original.err), waits(r.v, r.original.o, r.original.err),
			ratios(r.ours.o, r.original.o), closed(r.ours.o), closed(r.original.o))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Times marked * are outside upstream's window. Notes and upstream's count checks:")
	fmt.Fprintln(w)
	for _, r := range results {
		for _, sd := range []side{r.ours, r.original} {
			var parts []string
			if sd.err != nil {
				parts = append(parts, "FAILED: "+sd.err.Error())
			}
			if sd.o != nil {
				parts = append(parts, sd.o.notes...)
				parts = append(parts, sd.o.checks...)
			}
			fmt.Fprintf(w, "- %s, %s (%.0f s): %s\n", r.v.name, sd.name, sd.took.Seconds(), strings.Join(parts, "; "))
		}
	}
}

func fills(o *outcome, err error) string {
	if o == nil || len(o.fills) == 0 {
		if err != nil {
			return "failed"
		}
		return "-"
	}
	parts := make([]string, len(o.fills))
	for i, f := range o.fills {
		parts[i] = f.String()
	}
	return strings.Join(parts, " / ")
}

func waits(v variant, o *outcome, err error) string {
	var parts []string
	if o != nil {
		for _, d := range o.waits {
			mark := ""
			if d < v.expect-v.tolerance || d > v.expect+v.tolerance {
				mark = "*"
			}
			parts = append(parts, fmt.Sprintf("%.1f%s", d.Seconds(), mark))
		}
	}
	if err != nil {
		parts = append(parts, "failed")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " / ")
}

// ratios is ours/original per wait.
func ratios(ours, original *outcome) string {
	if ours == nil || original == nil {
		return "-"
	}
	var parts []string
	for i := 0; i < len(ours.waits) && i < len(original.waits); i++ {
		parts = append(parts, fmt.Sprintf("%.2f", ours.waits[i].Seconds()/original.waits[i].Seconds()))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " / ")
}

// closed tells whether every fill ended with a 500 that closed the
// connection ("yes"), or what ended them.
func closed(o *outcome) string {
	if o == nil || len(o.fills) == 0 {
		return "-"
	}
	var odd []string
	for i, f := range o.fills {
		if f.status != 500 || !f.closed {
			odd = append(odd, fmt.Sprintf("fill %d: %d closed %v", i+1, f.status, f.closed))
		}
	}
	if len(odd) == 0 {
		return "yes"
	}
	return strings.Join(odd, ", ")
}
