package pushstream

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// Header names, spelled exactly as docs/PROTOCOL.md §0.1 requires. They are set
// by direct map assignment so Go does not canonicalise them.
const (
	headerExplain        = "X-Nginx-PushStream-Explain"
	headerMode           = "X-Nginx-PushStream-Mode"
	headerTag            = "X-Nginx-PushStream-Tag"
	headerCommit         = "X-Nginx-PushStream-Commit"
	headerEtag           = "Etag"
	headerLastModified   = "Last-Modified"
	headerAllowOrigin    = "Access-Control-Allow-Origin"
	headerAllowMethods   = "Access-Control-Allow-Methods"
	headerAllowHeaders   = "Access-Control-Allow-Headers"
	headerNoSniff        = "X-Content-Type-Options"
	allowedHeadersValue  = "If-Modified-Since,If-None-Match,Etag,Event-Id,Event-Type,Last-Event-Id"
	subscriberMethods    = "GET"
	getHeadMethods       = "GET, HEAD"
	publisherMethods     = "GET, POST, PUT"
	adminPublisherMethod = "GET, POST, PUT, DELETE"
)

// Explain texts (docs/PROTOCOL.md §9.1).
const (
	explainNoChannel           = "No channel id provided."
	explainNotAuthorized       = "Channel id not authorized for this method."
	explainTooLarge            = "Channel id is too large."
	explainCannotCreate        = "Subscriber could not create channels."
	explainSubscribersExceeded = "Subscribers limit per channel has been exceeded."
	explainEventsNotAllowed    = "Subscription to events channel is not allowed."
	explainTooManyWildcard     = "Subscribed too much wildcard channels."
	explainTooManyChannels     = "Number of channels were exceeded."
	explainEventsChannel       = "Only internal routines can change events channel."
	explainEmptyPost           = "Empty post requests are not allowed."
	explainDeleted             = "Channel deleted."
	explainBadCallback         = "Invalid JSONP callback name."
	explainOriginNotAllowed    = "Origin not allowed."
	explainBrokerUnavailable   = "Broker unavailable."
)

// requestError is a header-only answer with an optional explain text.
type requestError struct {
	status  int
	explain string
}

func setAntiCache(h http.Header) {
	h["Expires"] = []string{wire.AntiCacheExpires}
	h["Cache-Control"] = []string{wire.AntiCacheControl}
}

func setCORS(h http.Header, origin, methods string) {
	if origin == "" {
		return
	}
	h[headerAllowOrigin] = []string{origin}
	h[headerAllowMethods] = []string{methods}
	h[headerAllowHeaders] = []string{allowedHeadersValue}
}

// writeHeaderOnly writes a header-only response (docs/PROTOCOL.md §0.3).
func writeHeaderOnly(w http.ResponseWriter, status int, explain string) {
	h := w.Header()
	if explain != "" {
		h[headerExplain] = []string{explain}
	}
	if status != http.StatusNotModified {
		h["Content-Length"] = []string{"0"}
	}
	w.WriteHeader(status)
}

// writeMethodNotAllowed answers a method the location does not take: a
// header-only 405 whose Allow header names those it does.
func writeMethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header()["Allow"] = []string{allow}
	writeHeaderOnly(w, http.StatusMethodNotAllowed, "")
}

// setContentType sets the Content-Type of an answer with a body, which
// browsers must not sniff into another type (docs/PROTOCOL.md §10.1).
func setContentType(h http.Header, contentType string) {
	h["Content-Type"] = []string{contentType}
	h[headerNoSniff] = []string{"nosniff"}
}

// writeBody writes a complete response with a Content-Length.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	setContentType(h, contentType)
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func replacer(r *http.Request) *caddy.Replacer {
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		return repl
	}
	return caddy.NewReplacer()
}

// evaluate replaces the placeholders of a setting and decodes the result
// with nginx's rules (docs/PROTOCOL.md §2.1).
func evaluate(r *http.Request, text string) string {
	if text == "" {
		return ""
	}
	return wire.DecodeValue(replacer(r).ReplaceAll(text, ""))
}

// channelRefs evaluates and parses a handler's channels path.
func channelRefs(r *http.Request, channelsPath string) []wire.ChannelRef {
	return wire.ParseChannelsPath(evaluate(r, channelsPath))
}

// checkID applies the id checks shared by subscribers and publishers.
func checkID(settings *engine.Settings, id string) *requestError {
	if id == "ALL" || strings.IndexByte(id, '*') >= 0 {
		return &requestError{http.StatusForbidden, explainNotAuthorized}
	}
	if settings.MaxChannelIDLength > 0 && len(id) > settings.MaxChannelIDLength {
		return &requestError{http.StatusBadRequest, explainTooLarge}
	}
	return nil
}

// creationError maps a channel creation failure to its answer.
func creationError(err error) *requestError {
	if errors.Is(err, engine.ErrTooManyChannels) {
		return &requestError{http.StatusForbidden, explainTooManyChannels}
	}
	return &requestError{http.StatusInternalServerError, ""}
}

// loadEngine finds the engine of the config's push_stream app, for the
// handlers that need nothing else of it.
func loadEngine(ctx caddy.Context) (engine.Engine, error) {
	app, err := loadApp(ctx)
	if err != nil {
		return nil, err
	}
	return app.Engine(), nil
}

// loadApp finds the push_stream app of the config.
func loadApp(ctx caddy.Context) (*App, error) {
	appIface, err := ctx.App("push_stream")
	if err != nil {
		return nil, err
	}
	return appIface.(*App), nil
}

// firstHeader returns the first value of a request header and whether the
// header is present.
func firstHeader(r *http.Request, name string) (string, bool) {
	v, ok := r.Header[http.CanonicalHeaderKey(name)]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}
