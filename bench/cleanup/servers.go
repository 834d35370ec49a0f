package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// settings is one scenario's configuration, the same for both servers:
// global are the store-wide settings by their name without the
// push_stream_ prefix (nginx's http block, our push_stream global
// option), storeOff and admin the publisher's.
type settings struct {
	global   map[string]string
	storeOff bool
	admin    bool
}

// baseline is misc/spec/mix/cleanup_memory_spec.rb's configuration on top of
// misc/spec/nginx_configuration.rb (docs/SCENARIOS.md): a 129k memory cap,
// message_ttl 10s, no limit of stored messages per channel.
func baseline() map[string]string {
	return map[string]string{
		"shared_memory_size":      "129k",
		"message_ttl":             "10s",
		"max_channel_id_length":   "200",
		"wildcard_channel_prefix": "broad_",
	}
}

// header is the baseline's forever-iframe header template, escaped as both
// configuration languages read it inside double quotes.
const header = `<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n<meta http-equiv=\"Cache-Control\" content=\"no-store\">\r\n<meta http-equiv=\"Cache-Control\" content=\"no-cache\">\r\n<meta http-equiv=\"Expires\" content=\"Thu, 1 Jan 1970 00:00:00 GMT\">\r\n<script type=\"text/javascript\">\r\nwindow.onError = null;\r\ndocument.domain = 'localhost';\r\nparent.PushStream.register(this);\r\n</script>\r\n</head>\r\n<body onload=\"try { parent.PushStream.reset(this) } catch (e) {}\">`

// sortedKeys returns the keys of m in order, so that the files are stable.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// onOff spells a boolean as both servers read it.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// caddyfile renders s for our Caddy listening on port
// (docs/CONFIGURATION.md; the scenario harness's baseline).
func caddyfile(s settings, port int) string {
	var g strings.Builder
	for _, k := range sortedKeys(s.global) {
		fmt.Fprintf(&g, "\t\t%s %s\n", k, s.global[k])
	}
	mode := ""
	if s.admin {
		mode = " admin"
	}
	return fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
	grace_period 1s
	push_stream {
%s	}
}

:%d {
	bind 127.0.0.1

	@stats path /channels-stats
	push_stream_channels_statistics @stats {
		channels_path {query.id}
	}

	@pub path /pub
	push_stream_publisher @pub%s {
		channels_path {query.id}
		store_messages %s
		channel_info_on_publish on
		max_body_size 32k
	}

	@sub path_regexp sub ^/sub/(.*)$
	push_stream_subscriber @sub {
		channels_path {re.sub.1}
		content_type text/html
		ping_message_interval 10s
		header_template "%s"
		message_template "<script>p(~id~,'~channel~','~text~');</script>"
		footer_template "</body></html>"
		wildcard_channel_max_qtd 3
		authorized_channels_only off
		timeout_with_body off
	}
}
`, g.String(), port, mode, onOff(!s.storeOff), header)
}

// nginxConf renders s for the original module, as
// misc/spec/nginx_configuration.rb does with the cleanup spec's changes (2
// workers, keepalive_requests 200), in the foreground so that the master
// is our child.
func nginxConf(s settings, dir string, port int) string {
	var g strings.Builder
	for _, k := range sortedKeys(s.global) {
		fmt.Fprintf(&g, "  push_stream_%s %s;\n", k, s.global[k])
	}
	mode := ""
	if s.admin {
		mode = " admin"
	}
	return fmt.Sprintf(`pid               %[1]s/nginx.pid;
error_log         %[1]s/error.log info;
master_process    on;
daemon            off;
worker_processes  2;

events {
  worker_connections  256;
  use                 epoll;
}

http {
  default_type    application/octet-stream;
  access_log      off;

  tcp_nopush                      on;
  tcp_nodelay                     on;
  keepalive_timeout               100;
  keepalive_requests              200;
  send_timeout                    10;
  client_body_timeout             10;
  client_header_timeout           10;
  sendfile                        on;
  client_header_buffer_size       1k;
  large_client_header_buffers     2 4k;
  client_max_body_size            1k;
  client_body_buffer_size         1k;
  ignore_invalid_headers          on;
  client_body_in_single_buffer    on;
  client_body_temp_path           %[1]s/client_body_temp;

  push_stream_ping_message_interval 10s;
  push_stream_message_template "<script>p(~id~,'~channel~','~text~');</script>";
  push_stream_timeout_with_body off;
  push_stream_header_template "%[2]s";
  push_stream_footer_template "</body></html>";
  push_stream_wildcard_channel_max_qtd 3;
  push_stream_authorized_channels_only off;
%[3]s
  server {
    listen        127.0.0.1:%[4]d;
    server_name   localhost;

    location /channels-stats {
      push_stream_channels_statistics;
      push_stream_channels_path $arg_id;
    }

    location /pub {
      push_stream_publisher%[5]s;
      push_stream_channels_path $arg_id;
      push_stream_store_messages %[6]s;
      push_stream_channel_info_on_publish on;
      client_max_body_size 32k;
      client_body_buffer_size 32k;
    }

    location ~ /sub/(.*)? {
      push_stream_subscriber;
      push_stream_channels_path $1;
      default_type text/html;
    }
  }
}
`, dir, header, g.String(), port, mode, onOff(!s.storeOff))
}

// server is one started server process.
type server struct {
	name string
	addr string // host:port
	cmd  *exec.Cmd
	log  *os.File
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer writes the configuration of impl ("ours" or "original") for
// s into dir and starts the server on a free port; it returns once the
// port accepts connections.
func startServer(impl string, bin string, s settings, dir string) (*server, error) {
	// logs/ is where nginx opens its default error log before it reads
	// the configuration.
	for _, sub := range []string{"client_body_temp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch impl {
	case "ours":
		conf := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(conf, []byte(caddyfile(s, port)), 0o644); err != nil {
			return nil, err
		}
		cmd = exec.Command(bin, "run", "--config", conf, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	case "original":
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(nginxConf(s, dir, port)), 0o644); err != nil {
			return nil, err
		}
		cmd = exec.Command(bin, "-p", dir+"/", "-c", conf)
	default:
		return nil, fmt.Errorf("unknown implementation %q", impl)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	srv := &server{name: impl, addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd, log: logf}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", srv.addr, time.Second)
		if err == nil {
			c.Close()
			// nginx's workers start after the master listens: let them.
			time.Sleep(500 * time.Millisecond)
			return srv, nil
		}
		if time.Now().After(deadline) {
			srv.stop()
			return nil, fmt.Errorf("%s did not listen on %s within 30 s (log %s)", impl, srv.addr, logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server it started (SIGTERM, then SIGKILL after 10 s) and
// waits for it.
func (s *server) stop() {
	defer s.log.Close()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-ctx.Done():
		_ = s.cmd.Process.Kill()
		<-done
		fmt.Fprintf(os.Stderr, "%s: killed, still running 10 s after SIGTERM\n", s.name)
	}
}
