// Package redistest runs Debian's redis-server for tests: a server of
// the test's own on a loopback port, with its data in the test's
// temporary directory, stopped with the test.
package redistest

import (
	"bufio"
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startLimit bounds the wait for redis-server to answer.
const startLimit = 20 * time.Second

// Server is one redis-server process, restartable on its port with its
// data.
type Server struct {
	// Addr is the server's host:port.
	Addr string

	t     testing.TB
	dir   string
	port  int
	fsync string
	log   *bytes.Buffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs redis-server on a free loopback port, persisting every
// write to an append-only file in a temporary directory so a restart
// keeps the data, and stops it when the test ends. A machine without redis-server fails
// the test: the Redis broker's tests need it.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "always")
}

// StartFast is Start with Redis's usual production setting: the
// append-only file is synced once a second, not at every write, so a
// crash loses up to a second of acknowledged writes. For benchmarks:
// syncing every write costs milliseconds per publish on most disks.
func StartFast(t testing.TB) *Server {
	t.Helper()
	return start(t, "everysec")
}

func start(t testing.TB, fsync string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: the Redis broker tests need Debian's redis-server (apt-get install redis-server)")
	}
	port := freePort(t)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), t: t, dir: t.TempDir(), port: port, fsync: fsync, log: &bytes.Buffer{}}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// Restart starts the server again after Kill, on the same port and data.
func (s *Server) Restart() {
	s.t.Helper()
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", s.fsync,
		"--dir", s.dir, "--logfile", "")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(startLimit)
	for !s.ping() {
		select {
		case <-exited:
			s.t.Fatalf("redis-server exited at start:\n%s", s.log)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server did not answer within %v", startLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping tells whether the server answers PING.
func (s *Server) ping() bool {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Kill ends the server at once, as a crash would; what it acknowledged is
// on disk. It does nothing if the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// freePort returns a loopback port nothing listens on (the system's
// ephemeral range, apart from the scenarios' own ports).
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
