package lockchattest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lockchat/lockchat/lockchattest"
)

// post sends a chat-completions request with plain net/http, so that these tests check
// the fake's wire format and not the library's reading of it.
func post(t *testing.T, srv *lockchattest.Server) (*http.Response, string, error) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"stream":true,"temperature":0.5}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestStreamWireFormat(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"При", "вет"}})
	defer srv.Close()
	resp, body, err := post(t, srv)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	events := strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n")
	if len(events) != 5 || events[4] != "data: [DONE]" {
		t.Fatalf("events %q", events)
	}
	var text string
	for i, ev := range events[:4] {
		var ch struct {
			Model   string `json:"model"`
			Choices []struct {
				Delta        map[string]string `json:"delta"`
				FinishReason *string           `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &ch); err != nil || ch.Model != "gpt-4" {
			t.Fatalf("event %d %q: %v", i, ev, err)
		}
		text += ch.Choices[0].Delta["content"]
		if (i == 3) != (ch.Choices[0].FinishReason != nil) {
			t.Fatalf("event %d: finish_reason %v", i, ch.Choices[0].FinishReason)
		}
	}
	if text != "Привет" {
		t.Fatalf("text %q", text)
	}
	r := srv.Requests()[0]
	if r.Path != "/v1/chat/completions" || r.Model != "gpt-4" || r.Messages[0].Content != "hi" ||
		r.Payload["temperature"] != json.Number("0.5") || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("recorded %+v", r)
	}
}

func TestModelNotFoundThenReply(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}, ModelNotFound: 1})
	defer srv.Close()
	resp, body, _ := post(t, srv)
	if resp.StatusCode != 404 || !strings.Contains(body, "The model: `gpt-4` does not exist") || !strings.Contains(body, `"code":"model_not_found"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, _, _ := post(t, srv); resp.StatusCode != 200 {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
}

func TestCutAfterEndsTheBodyEarly(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, CutAfter: 1})
	defer srv.Close()
	_, body, err := post(t, srv)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(body, `"content":"a"`) || strings.Contains(body, `"content":"b"`) {
		t.Fatalf("body %q, err %v; want the first token, then an unexpected EOF", body, err)
	}
}

// TestCutAfterEveryEvent checks that CutAfter equal to (or above) the number of events
// still cuts: after the last event, before the finish.
func TestCutAfterEveryEvent(t *testing.T) {
	for _, n := range []int{3, 10} {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, CutAfter: n})
		_, body, err := post(t, srv)
		srv.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(body, `"content":"c"`) || strings.Contains(body, "finish_reason\":\"stop") || strings.Contains(body, "[DONE]") {
			t.Fatalf("CutAfter %d: body %q, err %v; want every token, then an unexpected EOF", n, body, err)
		}
	}
}

// TestModelNotFoundInAnyReply checks that ModelNotFound works in a later reply and after
// SetReplies, and that such a reply then answers itself.
func TestModelNotFoundInAnyReply(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"first"}}, lockchattest.Reply{Tokens: []string{"ok"}, ModelNotFound: 2}, lockchattest.Reply{Tokens: []string{"last"}})
	defer srv.Close()
	var got []string
	status := func() {
		resp, body, _ := post(t, srv)
		switch {
		case resp.StatusCode == 404:
			got = append(got, "404")
		case strings.Contains(body, `"content":"first"`):
			got = append(got, "first")
		case strings.Contains(body, `"content":"ok"`):
			got = append(got, "ok")
		case strings.Contains(body, `"content":"last"`):
			got = append(got, "last")
		default:
			got = append(got, body)
		}
	}
	for range 5 {
		status()
	}
	srv.SetReply(lockchattest.Reply{Tokens: []string{"ok"}, ModelNotFound: 1})
	for range 2 {
		status()
	}
	if want := "first 404 404 ok last 404 ok"; strings.Join(got, " ") != want {
		t.Fatalf("answers %q, want %q", strings.Join(got, " "), want)
	}
}
