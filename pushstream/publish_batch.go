package pushstream

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
	"github.com/caddy-pushstream/caddy-pushstream/pushstream/wire"
)

// Explain texts of the batch publish (docs/PROTOCOL.md §4.6).
const (
	explainBadBatch     = "Invalid batch."
	explainBadChannelID = "Channel id must name one channel."
)

// isBatch tells whether a request's body is a batch of messages.
func isBatch(r *http.Request) bool {
	ct, ok := firstHeader(r, "Content-Type")
	if !ok {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	return err == nil && mediaType == wire.BatchContentType
}

// publishBatch publishes each message of a batch body (docs/PROTOCOL.md
// §4.6) and answers with what happened to each: a body that is not a
// batch publishes nothing; otherwise each message is checked, its
// channels found or created, and it is published to all of them or, on
// failure, to none, whatever happens to the others.
func (h *PublisherHandler) publishBatch(w http.ResponseWriter, r *http.Request) {
	body, err := h.readBody(r)
	if err != nil {
		h.noteRefusal(bodyErrorStatus(err), "")
		writeBodyError(w, err)
		return
	}
	msgs, err := wire.ParseBatch(body)
	if err != nil {
		h.noteRefusal(http.StatusBadRequest, explainBadBatch)
		writeHeaderOnly(w, http.StatusBadRequest, explainBadBatch)
		return
	}
	if !h.StoreMessages {
		// What is not stored reaches only those subscribed now.
		awaitArrivals(r, h.store)
	}
	withInfo := h.ChannelInfoOnPublish == nil || *h.ChannelInfoOnPublish
	results := make([]wire.BatchResult, len(msgs))
	start := time.Now()
	for i := range msgs {
		results[i] = h.publishOne(&msgs[i], withInfo)
		if status := results[i].Status; status != http.StatusOK {
			h.noteRefusal(status, results[i].Explain)
		}
	}
	observePublish(start)
	// About what one channel's info takes, per message.
	answer := make([]byte, 0, 32+len(results)*112)
	writeBody(w, http.StatusOK, "application/json", wire.AppendBatchAnswer(answer, results))
}

// publishOne publishes one message of a batch with the checks and
// answers of a single publish (§4.2, §4.3).
func (h *PublisherHandler) publishOne(msg *wire.BatchMessage, withInfo bool) wire.BatchResult {
	if len(msg.Channels) == 0 {
		return wire.BatchResult{Status: http.StatusBadRequest, Explain: explainNoChannel}
	}
	// Every id is checked before any channel is created.
	settings := h.store.Settings()
	refs := make([]wire.ChannelRef, len(msg.Channels))
	for i, id := range msg.Channels {
		if !oneChannel(id) {
			return wire.BatchResult{Status: http.StatusBadRequest, Explain: explainBadChannelID}
		}
		if rerr := checkID(settings, id); rerr != nil {
			return wire.BatchResult{Status: rerr.status, Explain: rerr.explain}
		}
		refs[i].ID = id
	}
	channels, rerr := h.channels(refs, true, true)
	if rerr != nil {
		return wire.BatchResult{Status: rerr.status, Explain: rerr.explain}
	}
	if msg.Text == "" {
		return wire.BatchResult{Status: http.StatusBadRequest, Explain: explainEmptyPost}
	}
	opts := engine.PublishOptions{Store: h.StoreMessages}
	if msg.EventID != nil {
		opts.EventID, opts.HasEventID = *msg.EventID, true
	}
	if msg.EventType != nil {
		opts.EventType, opts.HasEventType = *msg.EventType, true
	}
	if _, err := h.store.PublishAll(channels, []byte(msg.Text), opts); err != nil {
		if errors.Is(err, engine.ErrUnavailable) {
			brokerRefusals.Note(h.logger, zap.Error(err))
			return wire.BatchResult{Status: http.StatusServiceUnavailable, Explain: explainBrokerUnavailable}
		}
		return wire.BatchResult{Status: http.StatusInternalServerError}
	}
	result := wire.BatchResult{Status: http.StatusOK}
	if withInfo {
		result.Infos = make([]engine.ChannelInfo, len(channels))
		for i, ch := range channels {
			result.Infos[i] = h.store.Info(ch)
		}
	}
	return result
}

// oneChannel tells whether id is one channel as a channels path gives it
// (docs/PROTOCOL.md §2.2): not empty, no `/`, no `.b<digits>` at its end.
// Another id could not be subscribed to.
func oneChannel(id string) bool {
	if id == "" || strings.IndexByte(id, '/') >= 0 {
		return false
	}
	i := strings.LastIndex(id, ".b")
	if i < 0 || i+2 == len(id) {
		return true
	}
	for _, c := range []byte(id[i+2:]) {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}
