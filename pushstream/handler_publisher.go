package pushstream

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

func init() {
	caddy.RegisterModule(PublisherHandler{})
}

// Publisher modes.
const (
	ModeNormal = "normal"
	ModeAdmin  = "admin"
)

// DefaultMaxBodySize is nginx's client_max_body_size default.
const DefaultMaxBodySize = 1 << 20

// PublisherHandler is the `push_stream_publisher` handler: it publishes request
// bodies to channels, reports channel info and, in admin mode, deletes
// channels (docs/PROTOCOL.md §4).
type PublisherHandler struct {
	// Mode is normal (default) or admin; admin also allows DELETE.
	Mode string `json:"mode,omitempty"`
	// ChannelsPath names the channels, with placeholders. Required.
	ChannelsPath string `json:"channels_path,omitempty"`
	// StoreMessages keeps published messages in their channels.
	StoreMessages bool `json:"store_messages,omitempty"`
	// ChannelInfoOnPublish answers a publish with the channel info.
	// Default on.
	ChannelInfoOnPublish *bool `json:"channel_info_on_publish,omitempty"`
	// AllowedOrigins enables CORS headers with this origin value.
	AllowedOrigins string `json:"allowed_origins,omitempty"`
	// MaxBodySize caps request bodies, in bytes. Default 1 MiB.
	MaxBodySize int64 `json:"max_body_size,omitempty"`
	// BatchPublish reads a POST or PUT whose Content-Type is
	// application/vnd.pushstream.batch+json as several messages, each
	// with its own channels and event id and type, and answers per
	// message (docs/PROTOCOL.md §4.6). Off by default: such a body is
	// then one message like any other.
	BatchPublish bool `json:"batch_publish,omitempty"`

	store   engine.Engine
	logger  *zap.Logger
	admin   bool
	methods string
}

// CaddyModule returns the Caddy module information.
func (PublisherHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.push_stream_publisher",
		New: func() caddy.Module { return new(PublisherHandler) },
	}
}

// ParsePublisherMode normalises a publisher mode name.
func ParsePublisherMode(mode string) (string, error) {
	m := strings.ToLower(mode)
	switch m {
	case "":
		return ModeNormal, nil
	case ModeNormal, ModeAdmin:
		return m, nil
	}
	return "", fmt.Errorf("invalid push_stream_publisher mode value: %s, accepted values (normal, admin)", mode)
}

// Provision takes the store and applies defaults.
func (h *PublisherHandler) Provision(ctx caddy.Context) error {
	app, err := loadApp(ctx)
	if err != nil {
		return err
	}
	h.store = app.Engine()
	h.logger = ctx.Logger()
	mode, err := ParsePublisherMode(h.Mode)
	if err != nil {
		return err
	}
	h.admin = mode == ModeAdmin
	h.methods = publisherMethods
	if h.admin {
		h.methods = adminPublisherMethod
	}
	if h.MaxBodySize == 0 {
		h.MaxBodySize = DefaultMaxBodySize
	}
	return nil
}

// Validate checks the handler's settings.
func (h *PublisherHandler) Validate() error {
	if h.ChannelsPath == "" {
		return fmt.Errorf("channels_path must be set")
	}
	if h.MaxBodySize < 0 {
		return fmt.Errorf("max_body_size cannot be negative")
	}
	return nil
}

// ServeHTTP answers a publisher request (docs/PROTOCOL.md §4.2).
func (h *PublisherHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	hdr := w.Header()
	setAntiCache(hdr)
	setCORS(hdr, evaluate(r, h.AllowedOrigins), h.methods)
	if r.Method == http.MethodOptions {
		writeHeaderOnly(w, http.StatusOK, "")
		return nil
	}
	publish := r.Method == http.MethodPost || r.Method == http.MethodPut
	remove := r.Method == http.MethodDelete && h.admin
	if !publish && !remove && r.Method != http.MethodGet {
		writeMethodNotAllowed(w, h.methods)
		return nil
	}
	if publish && r.ContentLength > h.MaxBodySize {
		h.noteRefusal(http.StatusRequestEntityTooLarge, "")
		writeHeaderOnly(w, http.StatusRequestEntityTooLarge, "")
		return nil
	}
	if publish && h.BatchPublish && isBatch(r) {
		h.publishBatch(w, r)
		return nil
	}
	refs := channelRefs(r, h.ChannelsPath)
	if len(refs) == 0 {
		h.refuse(w, publish, &requestError{http.StatusBadRequest, explainNoChannel})
		return nil
	}
	channels, rerr := h.channels(refs, publish, r.Method != http.MethodGet)
	if rerr != nil {
		h.refuse(w, publish, rerr)
		return nil
	}
	switch {
	case publish:
		h.publish(w, r, channels)
	case remove:
		h.delete(w, r, channels)
	default:
		h.writeInfo(w, r, channels)
	}
	return nil
}

// channels resolves the ids of the path (docs/PROTOCOL.md §4.2 step 5). With
// create, missing channels are created; otherwise missing ones are nil.
func (h *PublisherHandler) channels(refs []wire.ChannelRef, create, changes bool) ([]*engine.Channel, *requestError) {
	settings := h.store.Settings()
	channels := make([]*engine.Channel, len(refs))
	for i, ref := range refs {
		if rerr := checkID(settings, ref.ID); rerr != nil {
			return nil, rerr
		}
		var ch *engine.Channel
		if create {
			var err error
			if ch, _, err = h.store.GetOrCreate(ref.ID); err != nil {
				return nil, creationError(err)
			}
		} else {
			ch = h.store.Lookup(ref.ID)
		}
		if changes && ch != nil && ch.IsEvents() {
			return nil, &requestError{http.StatusForbidden, explainEventsChannel}
		}
		channels[i] = ch
	}
	return channels, nil
}

// readBody reads the whole body within max_body_size.
func (h *PublisherHandler) readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, h.MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if int64(len(body)) > h.MaxBodySize {
		return nil, errBodyTooLarge
	}
	return body, nil
}

var errBodyTooLarge = errors.New("request body too large")

// writeBodyError answers a body that could not be read.
func writeBodyError(w http.ResponseWriter, err error) {
	writeHeaderOnly(w, bodyErrorStatus(err), "")
}

// noteRefusal counts a publish refused with status and explain in the
// metrics by the reason they give, and reports one refused for memory
// (a 500) to the operator log. A broker's 503 is the broker warning's.
func (h *PublisherHandler) noteRefusal(status int, explain string) {
	switch {
	case status == http.StatusInternalServerError:
		noteMemoryRefusal(h.logger, h.store)
	case status == http.StatusServiceUnavailable:
	case status == http.StatusRequestEntityTooLarge || explain == explainTooLarge || explain == explainTooManyChannels:
		rejectPublish(rejectedLimits)
	default:
		rejectPublish(rejectedBadRequest)
	}
}

// bodyErrorStatus is the status writeBodyError answers err with.
func bodyErrorStatus(err error) int {
	if errors.Is(err, errBodyTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// refuse answers a request refused before its channels were touched;
// a refused publish is counted (noteRefusal).
func (h *PublisherHandler) refuse(w http.ResponseWriter, publish bool, rerr *requestError) {
	if publish {
		h.noteRefusal(rerr.status, rerr.explain)
	}
	if rerr.status == http.StatusInternalServerError {
		// A channel the memory cap had no room for: answered as a message
		// it had no room for.
		writeMemoryFull(w)
		return
	}
	writeHeaderOnly(w, rerr.status, rerr.explain)
}

// publish publishes the body to every channel (docs/PROTOCOL.md §4.3).
func (h *PublisherHandler) publish(w http.ResponseWriter, r *http.Request, channels []*engine.Channel) {
	body, err := h.readBody(r)
	if err != nil {
		h.noteRefusal(bodyErrorStatus(err), "")
		writeBodyError(w, err)
		return
	}
	if len(body) == 0 {
		h.noteRefusal(http.StatusBadRequest, explainEmptyPost)
		writeHeaderOnly(w, http.StatusBadRequest, explainEmptyPost)
		return
	}
	opts := engine.PublishOptions{Store: h.StoreMessages}
	opts.EventID, opts.HasEventID = firstHeader(r, "Event-Id")
	opts.EventType, opts.HasEventType = firstHeader(r, "Event-Type")
	if !opts.Store {
		// What is not stored reaches only those subscribed now.
		awaitArrivals(r, h.store)
	}
	start := time.Now()
	for _, ch := range channels {
		if _, err := h.store.Publish(ch, body, opts); err != nil {
			if errors.Is(err, engine.ErrNoMemory) {
				noteMemoryRefusal(h.logger, h.store)
			}
			h.writeStoreError(w, err, "published")
			return
		}
	}
	observePublish(start)
	if h.ChannelInfoOnPublish != nil && !*h.ChannelInfoOnPublish {
		writeHeaderOnly(w, http.StatusOK, "")
		return
	}
	h.writeInfo(w, r, channels)
}

// maxArrivalWait bounds how long a publish waits for subscriber requests
// already on their way to their subscriptions.
const maxArrivalWait = 50 * time.Millisecond

// awaitArrivals lets subscriber requests that arrived before this publish
// reach their subscriptions first, as nginx, which reads requests in
// arrival order, registers them first (docs/PROTOCOL.md §6.3 "Asking
// again at once"): requests the runtime has read run before it, and it
// waits, maxArrivalWait at most, for those already in a subscriber
// handler, which subscribe without waiting on any client.
func awaitArrivals(r *http.Request, store engine.Engine) {
	runtime.Gosched()
	waits := store.Arrivals()
	if len(waits) == 0 {
		return
	}
	t := time.NewTimer(maxArrivalWait)
	defer t.Stop()
	for _, arriving := range waits {
		select {
		case <-arriving:
		case <-t.C:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// writeStoreError answers a publish or delete the store refused: the
// memory cap (writeMemoryFull) or a failing broker (writeUnavailable,
// its cause in the operator log); done says what did not happen.
func (h *PublisherHandler) writeStoreError(w http.ResponseWriter, err error, done string) {
	if errors.Is(err, engine.ErrUnavailable) {
		brokerRefusals.Note(h.logger, zap.Error(err))
		writeUnavailable(w, done)
		return
	}
	writeMemoryFull(w)
}

// writeUnavailable answers a publish or delete the broker could not
// append (Redis unreachable, or refusing the command): a 503 whose body
// says so, which a publisher retries later
// (not in nginx, which has no broker; docs/PROTOCOL.md §10.1). Channels
// named before the failing one in a multi-channel path were published.
func writeUnavailable(w http.ResponseWriter, done string) {
	hdr := w.Header()
	hdr[headerExplain] = []string{explainBrokerUnavailable}
	hdr["Retry-After"] = []string{"1"}
	writeBody(w, http.StatusServiceUnavailable, "text/plain; charset=utf-8",
		[]byte("push stream broker unavailable: Redis cannot be reached or refused the command, nothing was "+done+"\n"))
}

// writeMemoryFull answers a publish or delete the memory cap refused: a
// header-only 500 after which the connection closes, as nginx closes
// keep-alive connections after such an error (docs/PROTOCOL.md §1.7); a
// client reading until the end of a body sees the end at once.
func writeMemoryFull(w http.ResponseWriter) {
	w.Header()["Connection"] = []string{"close"}
	writeHeaderOnly(w, http.StatusInternalServerError, "")
}

// delete deletes every existing channel of the path (docs/PROTOCOL.md §4.5).
func (h *PublisherHandler) delete(w http.ResponseWriter, r *http.Request, channels []*engine.Channel) {
	body, err := h.readBody(r)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	if len(body) == 0 {
		body = []byte(h.store.Settings().ChannelDeletedMessageText)
	}
	deleted := false
	for _, ch := range channels {
		if ch == nil {
			continue
		}
		ok, err := h.store.Delete(ch, body)
		if err != nil {
			h.writeStoreError(w, err, "deleted")
			return
		}
		deleted = deleted || ok
	}
	if !deleted {
		writeHeaderOnly(w, http.StatusNotFound, "")
		return
	}
	writeHeaderOnly(w, http.StatusOK, explainDeleted)
}

// writeInfo answers with the info of the existing channels (docs/PROTOCOL.md
// §4.4): none is a 404, one the single form, more the group form.
func (h *PublisherHandler) writeInfo(w http.ResponseWriter, r *http.Request, channels []*engine.Channel) {
	infos := make([]engine.ChannelInfo, 0, len(channels))
	for _, ch := range channels {
		if ch != nil {
			infos = append(infos, h.store.Info(ch))
		}
	}
	writeInfos(w, r, h.store, infos, false)
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*PublisherHandler)(nil)
	_ caddy.Validator             = (*PublisherHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*PublisherHandler)(nil)
)
