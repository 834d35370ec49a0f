//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// redisServer is a redis-server this command started.
type redisServer struct {
	// cmd is the running server.
	cmd *exec.Cmd
	// addr is its loopback address.
	addr string
	// dir holds its log; it is removed on stop.
	dir string
}

// startTimeout bounds how long a new server may take to listen.
const startTimeout = 5 * time.Second

// startRedis starts the redis-server at path on a free loopback port,
// without persistence, on the cores cpus (taskset's list) unless empty.
func startRedis(path, cpus string) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redisclients-")
	if err != nil {
		return nil, err
	}
	args := []string{path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	s := &redisServer{cmd: exec.Command(args[0], args[1:]...), addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	if err := s.waitListening(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return s, nil
}

// freePort returns a loopback TCP port nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until the server accepts connections.
func (s *redisServer) waitListening() error {
	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server does not listen on %s: %w", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the server and removes its directory.
func (s *redisServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	_ = os.RemoveAll(s.dir)
}

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// cpu returns the server's user+system time so far, from
// /proc/<pid>/stat (taskset execs the server, so the pid is its own).
func (s *redisServer) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command's closing parenthesis start at the
	// third: utime and stime are the 14th and 15th.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc stat: %q", b)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat: %q", b)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
