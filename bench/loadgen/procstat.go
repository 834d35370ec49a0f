//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// ServerSample is the server's cumulative CPU time and current resident
// memory, summed over the watched processes.
type ServerSample struct {
	// CPUSeconds is utime+stime of every watched process (all its threads).
	CPUSeconds float64 `json:"cpu_seconds"`
	// RSSBytes is the sum of VmRSS.
	RSSBytes int64 `json:"rss_bytes"`
	// Processes is how many processes were read.
	Processes int `json:"processes"`
}

// serverWatch reads /proc for a set of server processes.
type serverWatch struct {
	pids     []int
	children bool
}

// pidsNow returns the watched pids, with their descendants when children
// is set (nginx workers are children of the master).
func (w serverWatch) pidsNow() []int {
	if !w.children {
		return w.pids
	}
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, err := statFields(pid)
		if err != nil || len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parent[pid] = ppid
	}
	want := map[int]bool{}
	for _, p := range w.pids {
		want[p] = true
	}
	var out []int
	for pid := range parent {
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if want[p] {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// statFields returns the fields of /proc/<pid>/stat after the command
// name: fields[0] is the state (field 3), fields[11] utime (field 14).
func statFields(pid int) ([]string, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return nil, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return strings.Fields(string(raw[end+1:])), nil
}

// Sample reads the watched processes; processes that are gone are skipped.
func (w serverWatch) Sample() (ServerSample, error) {
	var s ServerSample
	if len(w.pids) == 0 {
		return s, nil
	}
	for _, pid := range w.pidsNow() {
		fields, err := statFields(pid)
		if err != nil || len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		rss, err := vmRSS(pid)
		if err != nil {
			continue
		}
		s.CPUSeconds += float64(utime+stime) / clockTicks
		s.RSSBytes += rss
		s.Processes++
	}
	if s.Processes == 0 {
		return s, fmt.Errorf("no server process readable among pids %v", w.pids)
	}
	return s, nil
}

// vmRSS returns VmRSS of pid in bytes.
func vmRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb << 10, err
	}
	return 0, nil // a zombie has no VmRSS
}
