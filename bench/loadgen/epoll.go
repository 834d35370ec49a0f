//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// epollLoop reads every subscriber connection from one goroutine with a
// level-triggered epoll set: one read per ready connection, where Go's
// netpoller needs a second read (EAGAIN) and a goroutine switch per
// message. On a machine whose syscalls are slow (a VM) this is what keeps
// the client from being the bottleneck.
type epollLoop struct {
	epfd int
	pool *subscriberPool

	mu   sync.Mutex
	subs map[int]*rawSub

	stopping atomic.Bool
	done     chan struct{}
}

// rawSub is one connection owned by the loop.
type rawSub struct {
	fd     int
	parser *streamParser
}

func newEpollLoop(pool *subscriberPool) (*epollLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	l := &epollLoop{epfd: epfd, pool: pool, subs: map[int]*rawSub{}, done: make(chan struct{})}
	go l.run()
	return l, nil
}

// add takes over conn: its descriptor is duplicated out of Go's poller,
// the bytes already buffered are parsed, and the loop reads the rest.
func (l *epollLoop) add(conn net.Conn, buffered []byte, parser *streamParser) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		conn.Close()
		return errors.New("connection without a descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		conn.Close()
		return err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		dupErr = err
	}
	// Closing takes the original out of Go's epoll set; the duplicate
	// keeps the socket open (and non-blocking: the flag is shared).
	conn.Close()
	if dupErr != nil {
		return fmt.Errorf("dup: %w", dupErr)
	}
	syscall.CloseOnExec(fd)
	rs := &rawSub{fd: fd, parser: parser}
	if err := parser.feed(buffered, time.Now().UnixNano()); err != nil {
		syscall.Close(fd)
		return err
	}
	l.mu.Lock()
	l.subs[fd] = rs
	l.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.mu.Lock()
		delete(l.subs, fd)
		l.mu.Unlock()
		syscall.Close(fd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

func (l *epollLoop) run() {
	defer close(l.done)
	events := make([]syscall.EpollEvent, 1024)
	buf := make([]byte, 256<<10)
	ready := make([]*rawSub, 0, len(events))
	for !l.stopping.Load() {
		n, err := syscall.EpollWait(l.epfd, events, 50)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			l.pool.noteError(fmt.Errorf("epoll_wait: %w", err))
			return
		}
		ready = ready[:0]
		l.mu.Lock()
		for _, ev := range events[:n] {
			if rs := l.subs[int(ev.Fd)]; rs != nil {
				ready = append(ready, rs)
			}
		}
		l.mu.Unlock()
		for _, rs := range ready {
			l.read(rs, buf)
		}
		if d := l.pool.cfg.batchDelay; d > 0 && n > 0 {
			time.Sleep(d)
		}
	}
}

// read reads what one ready connection has; the loop comes back to it
// while more is there (level-triggered).
func (l *epollLoop) read(rs *rawSub, buf []byte) {
	m, err := syscall.Read(rs.fd, buf)
	for err == syscall.EINTR {
		m, err = syscall.Read(rs.fd, buf)
	}
	switch {
	case err == syscall.EAGAIN:
		return
	case err != nil:
		l.drop(rs, err)
		return
	case m == 0:
		l.drop(rs, io.EOF)
		return
	}
	perr := rs.parser.feed(buf[:m], time.Now().UnixNano())
	if out := rs.parser.out; len(out) > 0 {
		syscall.Write(rs.fd, out)
		rs.parser.out = out[:0]
	}
	if perr != nil {
		l.drop(rs, perr)
	}
}

// drop ends a connection the server closed or broke.
func (l *epollLoop) drop(rs *rawSub, err error) {
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, rs.fd, nil)
	syscall.Close(rs.fd)
	l.mu.Lock()
	delete(l.subs, rs.fd)
	l.mu.Unlock()
	if !l.pool.stopping.Load() {
		l.pool.disconnected.Add(1)
		l.pool.noteError(fmt.Errorf("after connect: %w", err))
	}
}

// stop ends the loop and closes every connection it still has.
func (l *epollLoop) stop() {
	l.stopping.Store(true)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	for fd := range l.subs {
		syscall.Close(fd)
	}
	l.subs = nil
	syscall.Close(l.epfd)
}
