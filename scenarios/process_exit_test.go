package scenarios_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lifecycleProcess is a Caddy process started for one test.
type lifecycleProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
}

// startLifecycleCaddy runs the built Caddy on a site block and waits until
// it answers.
func startLifecycleCaddy(t *testing.T, site string) *lifecycleProcess {
	t.Helper()
	bin := caddyBinary
	port := freePort(t)
	caddyfile := fmt.Sprintf("{\n\tadmin off\n\tpush_stream {\n\t\tmessage_ttl 60s\n\t}\n}\n:%d {\n%s\n}\n", port, site)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &lifecycleProcess{cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	waitFor(t, "caddy to listen", func() bool {
		conn, err := net.Dial("tcp", p.addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return p
}

// dial opens a raw connection to the process.
func (p *lifecycleProcess) dial(t *testing.T) *rawConn {
	t.Helper()
	return dialRawAt(t, p.addr, waitLimit)
}

// stop sends SIGTERM and waits for the process to exit.
func (p *lifecycleProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		if err != nil {
			t.Fatalf("caddy exited with %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("caddy did not exit: an open stream kept it alive")
	}
}

const lifecycleSite = `
	@sub path_regexp sub ^/sub/(.*)$
	push_stream_subscriber @sub {
		channels_path {re.sub.1}
		header_template HEADER
		footer_template FOOTER
		subscriber_connection_ttl 65s
	}
	@ws path_regexp ws ^/ws/(.*)$
	push_stream_websocket @ws {
		channels_path {re.ws.1}
		footer_template FOOTER
	}
	@pub path /pub
	push_stream_publisher @pub {
		channels_path {query.id}
		store_messages on
	}
`

// TestProcessExitEndsSubscribers: on process stop, a long-poll gets a 304
// with Etag W/0 and a streaming subscriber gets its footer, a websocket
// its footer frame and a close frame, and the process exits at once
// (docs/PROTOCOL.md §10).
// docs/SCENARIOS.md mix/send_signals_spec.rb #1
func TestProcessExitEndsSubscribers(t *testing.T) {
	t.Parallel()
	p := startLifecycleCaddy(t, lifecycleSite)

	poll := p.dial(t)
	poll.send(http.MethodGet, "/sub/exit_ch", "", "X-Nginx-PushStream-Mode: long-polling")
	stream := p.dial(t)
	stream.send(http.MethodGet, "/sub/exit_ch", "")
	if head := stream.head(); head.Status != http.StatusOK {
		t.Fatalf("stream status %d", head.Status)
	}
	if got := stream.mustChunk(); got != "HEADER" {
		t.Fatalf("first chunk %q", got)
	}
	ws := p.dial(t)
	ws.write("GET /ws/exit_ch HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Key: /mQoZf6pRiv8+6o72GncLQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if head := ws.head(); head.Status != http.StatusSwitchingProtocols {
		t.Fatalf("websocket status %d", head.Status)
	}
	// The long-poll is registered once the publisher reports three
	// subscriptions on the channel.
	waitFor(t, "three subscriptions", func() bool {
		c := p.dial(t)
		c.send(http.MethodGet, "/pub?id=exit_ch", "")
		res := c.head()
		body := c.readBody(res)
		return strings.Contains(body, `"subscribers": 3`)
	})

	started := time.Now()
	p.stop(t)
	t.Logf("process exited %v after SIGTERM", time.Since(started))

	head := poll.head()
	if head.Status != http.StatusNotModified || head.Header("Etag") != "W/0" || head.Header("Last-Modified") == "" {
		t.Fatalf("long-poll at exit: %q", head.StatusLine+"\r\n"+head.Head)
	}
	if got := stream.rest(); got != "FOOTER" {
		t.Fatalf("stream rest %q, want FOOTER", got)
	}
	frames := make([]byte, 64)
	n, _ := ws.r.Read(frames)
	for n < 9 {
		m, err := ws.r.Read(frames[n:])
		if err != nil {
			break
		}
		n += m
	}
	if want := "\x81\x06FOOTER\x88\x00"; string(frames[:n]) != want {
		t.Fatalf("websocket bytes %q, want %q", frames[:n], want)
	}
}
