package scenarios_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Tests of the batch publish (docs/PROTOCOL.md §4.6), which the nginx
// module does not have.

// batchContentType is the content type of a batch body.
const batchContentType = "application/vnd.pushstream.batch+json"

// batchConfig turns batch publishing on, with subscribers that get each
// message as its event id, type and text.
func batchConfig() config {
	return config{
		Pub: map[string]string{"batch_publish": "on", "max_body_size": "1m"},
		Sub: mergeSettings(plainSub, map[string]string{"message_template": backquoted(`[~event-id~|~event-type~|~text~]`)}),
	}
}

// batchAnswer is the decoded answer to a batch.
type batchAnswer struct {
	Messages []struct {
		Status   int    `json:"status"`
		Explain  string `json:"explain"`
		Channels []struct {
			Channel   string `json:"channel"`
			Published int    `json:"published_messages"`
		} `json:"channels"`
	} `json:"messages"`
}

// publishBatch posts a batch body and decodes the answer, which must be a
// 200 with JSON.
func publishBatch(t *testing.T, body string) batchAnswer {
	t.Helper()
	res := do(t, http.MethodPost, "/pub?id=unused", body, "Content-Type", batchContentType)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("batch: status %d, Content-Type %q, body %q", res.StatusCode, res.Header.Get("Content-Type"), res.body)
	}
	var answer batchAnswer
	if err := json.Unmarshal([]byte(res.body), &answer); err != nil {
		t.Fatalf("batch answer %q: %v", res.body, err)
	}
	return answer
}

// quoted returns s as a JSON string.
func quoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBatchPublish: one request carries several messages, each with its
// channels and event headers; each is answered as the same single
// publish would be, failures included, and the others go through in order.
func TestBatchPublish(t *testing.T) {
	t.Parallel()
	load(t, batchConfig())
	a, b := channelID(t), channelID(t)
	subA := subscribeCounted(t, "/sub/"+a, a, 1)
	subB := subscribeCounted(t, "/sub/"+b, b, 1)
	answer := publishBatch(t, `[
		{"channels": [`+quoted(a)+`, `+quoted(b)+`], "text": "one", "event_id": "e1", "event_type": "t1"},
		{"channels": ["ALL"], "text": "refused"},
		{"channels": [`+quoted(a)+`], "text": ""},
		{"channels": [`+quoted(a+"/"+b)+`], "text": "two channels in one id"},
		{"channels": [], "text": "nowhere"},
		{"channels": [`+quoted(b)+`], "text": "two", "event_id": ""}
	]`)
	want := []struct {
		status  int
		explain string
	}{
		{200, ""},
		{403, "Channel id not authorized for this method."},
		{400, "Empty post requests are not allowed."},
		{400, "Channel id must name one channel."},
		{400, "No channel id provided."},
		{200, ""},
	}
	if len(answer.Messages) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(answer.Messages), len(want), answer)
	}
	for i, w := range want {
		if got := answer.Messages[i]; got.Status != w.status || got.Explain != w.explain {
			t.Errorf("message %d: status %d explain %q, want %d %q", i, got.Status, got.Explain, w.status, w.explain)
		}
	}
	if chs := answer.Messages[0].Channels; len(chs) != 2 || chs[0].Channel != a || chs[1].Channel != b || chs[1].Published != 1 {
		t.Errorf("first message's channel info %+v", chs)
	}
	if chs := answer.Messages[5].Channels; len(chs) != 1 || chs[0].Published != 2 {
		t.Errorf("last message's channel info %+v", chs)
	}
	if got := subA.mustChunk(); got != "[e1|t1|one]" {
		t.Errorf("subscriber of %s got %q", a, got)
	}
	if got := subB.mustChunk() + subB.mustChunk(); got != "[e1|t1|one][||two]" {
		t.Errorf("subscriber of %s got %q", b, got)
	}
}

// TestBatchPublishOptIn: the original protocol stays as it was. Without
// batch_publish, or without the batch content type, a batch body is one
// message; a body that is not a batch publishes nothing.
func TestBatchPublishOptIn(t *testing.T) {
	t.Parallel()
	c := batchConfig()
	load(t, c)
	ch := channelID(t)
	sub := subscribeCounted(t, "/sub/"+ch, ch, 1)
	body := `[{"channels": [` + quoted(ch) + `], "text": "batched"}]`
	publish(t, ch, body, "Content-Type", "application/json")
	if got := sub.mustChunk(); got != "[||"+body+"]" {
		t.Fatalf("without the batch content type: got %q", got)
	}
	res := do(t, http.MethodPost, "/pub?id="+ch, `[{"channels": "not a list"}]`, "Content-Type", batchContentType)
	expectHeaderOnly(t, res, http.StatusBadRequest, "Invalid batch.")

	c.Pub = map[string]string{"max_body_size": "1m"}
	load(t, c)
	publish(t, ch, body, "Content-Type", batchContentType)
	if got := sub.mustChunk(); got != "[||"+body+"]" {
		t.Fatalf("without batch_publish: got %q", got)
	}
}

// TestBatchPublishAllOrNothing: a message for two channels that the
// memory cap has room for once only reaches neither, with a 500 for it
// alone; the next message of the batch still goes through.
func TestBatchPublishAllOrNothing(t *testing.T) {
	t.Parallel()
	c := batchConfig()
	c.Global = map[string]string{"shared_memory_size": "128k"}
	load(t, c)
	a, b := channelID(t), channelID(t)
	big := strings.Repeat("x", 70<<10)
	answer := publishBatch(t, `[
		{"channels": [`+quoted(a)+`, `+quoted(b)+`], "text": "`+big+`"},
		{"channels": [`+quoted(a)+`], "text": "small"}
	]`)
	if len(answer.Messages) != 2 || answer.Messages[0].Status != 500 || answer.Messages[1].Status != 200 {
		t.Fatalf("answer %+v", answer)
	}
	if chs := answer.Messages[1].Channels; len(chs) != 1 || chs[0].Published != 1 {
		t.Fatalf("%s published more than the small message: %+v", a, chs)
	}
	if res := do(t, http.MethodGet, "/pub?id="+b, ""); !strings.Contains(res.body, `"published_messages": 0`) {
		t.Fatalf("%s got a copy of the refused message: %s", b, res.body)
	}
}

// TestBatchPublishContentTypeParameters: the batch content type is
// recognised by its media type, whatever parameters follow it.
func TestBatchPublishContentTypeParameters(t *testing.T) {
	t.Parallel()
	load(t, batchConfig())
	ch := channelID(t)
	sub := subscribeCounted(t, "/sub/"+ch, ch, 1)
	res := do(t, http.MethodPost, "/pub?id=unused", `[{"channels": [`+quoted(ch)+`], "text": "one"}]`,
		"Content-Type", batchContentType+"; charset=utf-8")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("batch with parameters: status %d, Content-Type %q, body %q", res.StatusCode, res.Header.Get("Content-Type"), res.body)
	}
	if got := sub.mustChunk(); got != "[||one]" {
		t.Fatalf("subscriber got %q", got)
	}
}
