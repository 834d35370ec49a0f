package scenarios_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	_ "github.com/caddy-pushstream/caddy-pushstream/caddyfile"
	_ "github.com/caddy-pushstream/caddy-pushstream/internal/caddymodules"
)

// parallelScenarios is how many tests run at once unless -test.parallel
// says otherwise: they spend most of their time waiting for the server,
// each with a Caddy process of its own.
const parallelScenarios = 8

// caddyBinary is the Caddy built from cmd/caddy for this test run.
var caddyBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(parallelScenarios))
	}
	dir, err := os.MkdirTemp("", "pushstream-scenarios")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	caddyBinary = filepath.Join(dir, "caddy")
	args := []string{"build", "-o", caddyBinary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, "../cmd/caddy")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building caddy: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// server is the Caddy process of one test (and of its subtests, unless a
// subtest loads its own configuration).
type server struct {
	httpPort, adminPort, tlsPort int
	baseURL                      string
	client                       *http.Client
	cmd                          *exec.Cmd
	exited                       chan struct{}
	log                          *syncBuffer
}

// servers maps a test's name to its server.
var servers sync.Map

// serverOf returns the server of t or of the nearest parent test that
// has one.
func serverOf(t testing.TB) *server {
	t.Helper()
	srv := lookupServer(t.Name())
	if srv == nil {
		t.Fatal("no Caddy loaded for this test: call load first")
	}
	return srv
}

// timing is what a test shortens of the store's clockwork; empty keeps
// the default.
type timing struct {
	sweepInterval, trashDelay string
}

// loadCaddyfile makes t's Caddy run caddyfile, starting the process on
// the first call. __HTTP_PORT__, __ADMIN_PORT__ and __TLS_PORT__ in the
// text stand for the server's ports.
func loadCaddyfile(t testing.TB, caddyfile string) {
	t.Helper()
	loadCaddyfileTimed(t, caddyfile, timing{})
}

// loadCaddyfileTimed is loadCaddyfile with the store's clockwork
// shortened as tm says.
func loadCaddyfileTimed(t testing.TB, caddyfile string, tm timing) {
	t.Helper()
	if srv := lookupServer(t.Name()); srv != nil {
		srv.reload(t, srv.adapt(t, caddyfile, tm))
		return
	}
	// A port picked free may be taken by another process before Caddy
	// binds it: then Caddy exits, and the server starts again on others.
	for attempt := 1; ; attempt++ {
		srv := newServer(t)
		if srv.start(t, srv.adapt(t, caddyfile, tm)) {
			return
		}
		servers.CompareAndDelete(t.Name(), srv)
		if attempt == 5 {
			t.Fatalf("Caddy found its ports taken %d times:\n%s", attempt, srv.log)
		}
	}
}

// lookupServer returns the server of the test named name or of its
// nearest parent that has one, or nil.
func lookupServer(name string) *server {
	for {
		if s, ok := servers.Load(name); ok {
			return s.(*server)
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return nil
		}
		name = name[:i]
	}
}

// newServer picks free ports for a new server of t and registers it.
func newServer(t testing.TB) *server {
	t.Helper()
	srv := newNode(t)
	servers.Store(t.Name(), srv)
	return srv
}

// newNode picks free ports for a server that is not the test's own
// (one of a cluster's nodes).
func newNode(t testing.TB) *server {
	t.Helper()
	srv := &server{
		httpPort:  freePort(t),
		adminPort: freePort(t),
		tlsPort:   freePort(t),
		client:    &http.Client{Timeout: waitLimit, Transport: &http.Transport{}},
		exited:    make(chan struct{}),
		log:       &syncBuffer{},
	}
	srv.baseURL = fmt.Sprintf("http://127.0.0.1:%d", srv.httpPort)
	return srv
}

// portsHandedOut are the ports freePort returned: a port stays free
// between the probe and Caddy's listen only if no other test of this
// process is given it meanwhile.
var portsHandedOut sync.Map

// freePort returns a port nobody listens on now and that no other server
// of this test process was given. It is drawn below Linux's ephemeral
// range (32768-60999), where the suite's own client connections take
// their local ports: a listener cannot always share a port with them.
func freePort(t testing.TB) int {
	t.Helper()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if _, given := portsHandedOut.LoadOrStore(port, true); given {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port found")
	return 0
}

// adapt fills in the ports and turns the Caddyfile into Caddy's JSON,
// with the store's timing shortened as asked.
func (s *server) adapt(t testing.TB, caddyfile string, tm timing) []byte {
	t.Helper()
	caddyfile = s.expandPorts(caddyfile)
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v\n%s", err, caddyfile)
	}
	if tm == (timing{}) {
		return cfg
	}
	var doc map[string]any
	if err := json.Unmarshal(cfg, &doc); err != nil {
		t.Fatal(err)
	}
	apps, _ := doc["apps"].(map[string]any)
	app, _ := apps["push_stream"].(map[string]any)
	if app == nil {
		app = map[string]any{}
		apps["push_stream"] = app
	}
	if tm.sweepInterval != "" {
		app["sweep_interval"] = tm.sweepInterval
	}
	if tm.trashDelay != "" {
		app["trash_delay"] = tm.trashDelay
	}
	cfg, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// expandPorts fills the server's ports in for the placeholders of text.
func (s *server) expandPorts(text string) string {
	return strings.NewReplacer(
		"__HTTP_PORT__", strconv.Itoa(s.httpPort),
		"__ADMIN_PORT__", strconv.Itoa(s.adminPort),
		"__TLS_PORT__", strconv.Itoa(s.tlsPort),
	).Replace(text)
}

// start runs the Caddy process on cfg and waits until it serves; it
// reports false if Caddy found one of its ports taken. The
// process ends with the test; its log is shown if the test fails, and a
// data race it reports fails the test.
func (s *server) start(t testing.TB, cfg []byte) (started bool) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "caddy.json")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(caddyBinary, "run", "--config", path)
	// One P per Caddy: eight run at once on two cores, and the race
	// detector still sees every goroutine's accesses; more Ps only add
	// scheduling and collector work (the suite takes 12 % less CPU).
	s.cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir, "HOME="+dir, "GOMAXPROCS=1")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Caddy ends with the test process, even one that crashed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	name := t.Name()
	t.Cleanup(func() {
		s.kill(name)
		if strings.Contains(s.log.String(), "WARNING: DATA RACE") {
			t.Errorf("the Caddy under test reported a data race:\n%s", s.log)
		} else if t.Failed() {
			t.Logf("Caddy's log:\n%s", s.log)
		}
	})
	exited := false
	waitFor(t, "Caddy to serve", func() bool {
		select {
		case <-s.exited:
			exited = true
			return true
		default:
		}
		return strings.Contains(s.log.String(), `"serving initial configuration"`)
	})
	if exited {
		if !strings.Contains(s.log.String(), "address already in use") {
			t.Fatalf("Caddy exited at start:\n%s", s.log)
		}
		return false
	}
	return true
}

// reload loads cfg into the running Caddy through its admin API.
func (s *server) reload(t testing.TB, cfg []byte) {
	t.Helper()
	res, err := s.client.Post(fmt.Sprintf("http://localhost:%d/load", s.adminPort), "application/json", bytes.NewReader(cfg))
	if err != nil {
		t.Fatalf("loading config: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("loading config: status %d: %s", res.StatusCode, body)
	}
	// Keep-alive connections to the previous config's server may be
	// closing; a POST on one of them would fail instead of being retried.
	s.client.CloseIdleConnections()
}

// resetStore ends t's Caddy, if it has one: the next load starts a new
// process on an empty store. Upstream starts a fresh nginx for every
// example; scenarios that assert store-wide values (channels,
// channels_in_delete, uptime) need this.
func resetStore(t testing.TB) {
	t.Helper()
	for name := t.Name(); ; {
		if s, ok := servers.Load(name); ok {
			s.(*server).kill(name)
			return
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return
		}
		name = name[:i]
	}
}

// kill ends the Caddy process at once and unregisters it as the server
// of the test named name.
func (s *server) kill(name string) {
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.client.CloseIdleConnections()
	servers.CompareAndDelete(name, s)
}

// stop asks Caddy to exit as on SIGTERM and waits, at most waitLimit.
func (s *server) stop(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(waitLimit):
		t.Fatal("caddy did not exit: an open stream kept it alive")
	}
}

// syncBuffer is a log buffer the process writes while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the log.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns the log so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
