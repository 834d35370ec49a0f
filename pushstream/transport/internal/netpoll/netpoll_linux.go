//go:build linux

package netpoll

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"unsafe"
)

// Poller is one epoll instance and the goroutine that waits on it.
type Poller struct {
	epfd int

	mu       sync.Mutex
	handlers map[uint64]Handler
	nextKey  uint64
}

var (
	defaultOnce   sync.Once
	defaultPoller *Poller
	defaultErr    error
)

// Default returns the process-wide poller, starting it on first use. Its
// goroutine lives as long as the process, like the runtime's own poller.
func Default() (*Poller, error) {
	defaultOnce.Do(func() {
		defaultPoller, defaultErr = newPoller()
		if defaultErr == nil {
			go defaultPoller.loop()
		}
	})
	return defaultPoller, defaultErr
}

// newPoller creates a poller; its loop is started by Default.
func newPoller() (*Poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating epoll instance: %w", err)
	}
	return &Poller{epfd: epfd, handlers: make(map[uint64]Handler)}, nil
}

// Conn is a connection registered with a poller. Its Write and Read never
// block: they return syscall.EAGAIN instead, and the handler hears
// Writable or Readable when trying again makes sense. They are plain
// system calls on the descriptor, outside the runtime's poller and
// scheduler: the caller serialises them and does not close the connection
// while one runs.
type Conn struct {
	fd     int
	poller *Poller
	key    uint64
}

// Watch registers conn, which must be a socket (a *net.TCPConn, say), and
// sends its events to h until Unwatch.
func (p *Poller) Watch(conn net.Conn, h Handler) (*Conn, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, ErrUnsupported
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("getting raw connection: %w", err)
	}
	p.mu.Lock()
	p.nextKey++
	key := p.nextKey
	p.handlers[key] = h
	p.mu.Unlock()
	c := &Conn{fd: -1, poller: p, key: key}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | -syscall.EPOLLET}
	ev.Fd, ev.Pad = int32(uint32(key)), int32(uint32(key>>32))
	var ctlErr error
	err = raw.Control(func(fd uintptr) {
		c.fd = int(fd)
		ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev)
	})
	if err == nil {
		err = ctlErr
	}
	if err != nil {
		p.forget(key)
		return nil, fmt.Errorf("watching connection: %w", err)
	}
	return c, nil
}

// Unwatch stops the events of c. Call it before closing the connection.
func (c *Conn) Unwatch() {
	_ = syscall.EpollCtl(c.poller.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	c.poller.forget(c.key)
}

func (p *Poller) forget(key uint64) {
	p.mu.Lock()
	delete(p.handlers, key)
	p.mu.Unlock()
}

// Write writes what the socket takes now of bufs, in order, with one
// system call. It returns the number of bytes written; err is
// syscall.EAGAIN when the socket is full.
//
// A write to a non-blocking socket never sleeps, so it is a raw system
// call: the scheduler does not hand the thread's P over, which would cost
// a thread switch on every one of a fan-out's many short writes.
func (c *Conn) Write(bufs ...[]byte) (int, error) {
	var iov [4]syscall.Iovec
	n := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if n == len(iov) {
			break
		}
		iov[n].Base = &b[0]
		iov[n].SetLen(len(b))
		n++
	}
	if n == 0 {
		return 0, nil
	}
	for {
		written, _, errno := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(c.fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
		switch errno {
		case 0:
			return int(written), nil
		case syscall.EINTR:
			continue
		default:
			return 0, errno
		}
	}
}

// Read reads what is available into p, as a raw system call like Write.
// It returns 0 and no error at the peer's end of stream, and
// syscall.EAGAIN when nothing is there.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(c.fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch errno {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		default:
			return 0, errno
		}
	}
}

// loop waits for events and hands them to their handlers.
func (p *Poller) loop() {
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		for i := range n {
			ev := events[i]
			key := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			p.mu.Lock()
			h := p.handlers[key]
			p.mu.Unlock()
			if h != nil {
				h.OnEvents(translate(ev.Events))
			}
		}
	}
}

// translate maps epoll bits to the package's events.
func translate(e uint32) uint32 {
	var out uint32
	if e&(syscall.EPOLLIN|syscall.EPOLLRDHUP) != 0 {
		out |= Readable
	}
	if e&syscall.EPOLLOUT != 0 {
		out |= Writable
	}
	if e&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
		out |= Hangup | Readable
	}
	return out
}
