package pushstream

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/internal/jsontext"
)

func init() {
	caddy.RegisterModule(HealthHandler{})
}

// HealthHandler is the `push_stream_health` handler: a load balancer's
// check of a node. It answers 200 while the node accepts publishes (the
// store has room for a message and is not exiting; a broker, where one
// is configured, accepts publishes too), and 503 otherwise, with a small
// JSON body saying why. It names no channel.
type HealthHandler struct {
	store engine.Engine
}

// CaddyModule returns the Caddy module information.
func (HealthHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.push_stream_health",
		New: func() caddy.Module { return new(HealthHandler) },
	}
}

// Provision takes the store.
func (h *HealthHandler) Provision(ctx caddy.Context) (err error) {
	h.store, err = loadEngine(ctx)
	return err
}

// Health states of the health answer.
const (
	healthOK          = "ok"
	healthUnavailable = "unavailable"
)

// ServeHTTP answers a health check: GET or HEAD.
func (h *HealthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	hdr := w.Header()
	setAntiCache(hdr)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeMethodNotAllowed(w, getHeadMethods)
		return nil
	}
	status, body := healthAnswer(h.store)
	writeBody(w, status, "application/json", body)
	return nil
}

// healthAnswer returns the status and JSON body of a health check of e:
// {"status": "ok"} or {"status": "unavailable", "reason": "..."}, with a
// "broker" member ("ok" or its error) where e has a broker.
func healthAnswer(e engine.Engine) (int, []byte) {
	reason, broker := nodeHealth(e)
	status, state := http.StatusOK, healthOK
	if reason != "" {
		status, state = http.StatusServiceUnavailable, healthUnavailable
	}
	body := append([]byte(`{"status": "`), state...)
	body = append(body, '"')
	if reason != "" {
		body = append(body, `, "reason": "`...)
		body = append(jsontext.AppendString(body, reason), '"')
	}
	if broker != "" {
		body = append(body, `, "broker": "`...)
		body = append(jsontext.AppendString(body, broker), '"')
	}
	body = append(body, "}\n"...)
	return status, body
}

// nodeHealth returns why e does not accept publishes, or "", and the
// state of its broker: "" without one, "ok" or the broker's error.
func nodeHealth(e engine.Engine) (reason, broker string) {
	if c, ok := e.(engine.HealthChecker); ok {
		if err := c.Health(); err != nil {
			reason = err.Error()
		}
	}
	if b, ok := e.(engine.BrokerReporter); ok {
		broker = healthOK
		if err := b.BrokerHealth(); err != nil {
			broker = err.Error()
			if reason == "" {
				reason = "broker: " + broker
			}
		}
	}
	return reason, broker
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*HealthHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*HealthHandler)(nil)
)
