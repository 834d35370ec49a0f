package scenarios_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/caddy-pushstream/caddy-pushstream/internal/redistest"
)

// TestClusterExample runs examples/cluster/Caddyfile twice, as its
// comment says, on ports and a Redis address from the environment: a
// message published on one node reaches a subscriber of the other.
func TestClusterExample(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	ports := []int{freePort(t), freePort(t)}
	for _, port := range ports {
		cmd := exec.Command(caddyBinary, "run", "--config", "../examples/cluster/Caddyfile", "--adapter", "caddyfile")
		dir := t.TempDir()
		cmd.Env = append(os.Environ(), "PUSH_PORT="+strconv.Itoa(port), "REDIS_ADDR="+redis.Addr,
			"ADMIN_PORT="+strconv.Itoa(freePort(t)), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir, "HOME="+dir, "GOMAXPROCS=1")
		log := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
			if t.Failed() {
				t.Logf("Caddy's log on port %d:\n%s", port, log)
			}
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		waitFor(t, "Caddy on "+addr, func() bool {
			conn, err := net.Dial("tcp", addr)
			if err == nil {
				conn.Close()
			}
			return err == nil
		})
	}
	id := channelID(t)
	sub := dialRawAt(t, fmt.Sprintf("127.0.0.1:%d", ports[1]), waitLimit)
	sub.send(http.MethodGet, "/sub/"+id, "")
	if head := sub.head(); head.Status != http.StatusOK {
		t.Fatalf("subscribe: %s", head.StatusLine)
	}
	stats := fmt.Sprintf("http://127.0.0.1:%d/channels-stats?id=%s", ports[1], id)
	waitFor(t, "the subscriber", func() bool {
		res, err := http.Get(stats)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	res, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/pub?id=%s", ports[0], id), "text/plain", strings.NewReader("Hello"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("publish: status %d", res.StatusCode)
	}
	if got := sub.mustChunk(); got != "Hello\n" {
		t.Fatalf("subscriber on the other node got %q", got)
	}
}
