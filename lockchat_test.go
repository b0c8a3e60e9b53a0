package lockchat_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

func TestRequestPayloadAndHeaders(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/"} {
		c := lockchat.New(lockchat.WithBaseURL(base))
		if _, err := c.Complete(context.Background(), lockchat.ModelGPT35Turbo, hello); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" {
			t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.Path)
		}
		want := `{"messages":[{"role":"user","content":"Привет! Как дела?"}],"model":"gpt-3.5-turbo","stream":true,"temperature":0.7}`
		if string(r.Body) != want {
			t.Errorf("body\n got %s\nwant %s", r.Body, want)
		}
		for k, v := range map[string]string{
			"Content-Type": "application/json",
			"Accept":       "text/event-stream",
			"User-Agent":   "ChatX/39 CFNetwork/1408.0.4 Darwin/22.5.0",
		} {
			if got := r.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if got := r.Header.Get("Authorization"); got != "" {
			t.Errorf("Authorization sent without a key: %q", got)
		}
	}
}

func TestOptionsOverridePerCall(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	c := lockchat.New(
		lockchat.WithBaseURL(srv.URL),
		lockchat.WithAPIKey("sk-client"),
		lockchat.WithUserAgent("test-agent/1"),
		lockchat.WithHeader("X-Trace", "a"),
		lockchat.WithParam("max_tokens", 50),
	)
	ctx := context.Background()
	if _, err := c.Complete(ctx, "m", hello); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(ctx, "m", hello,
		lockchat.WithTemperature(0),
		lockchat.WithAPIKey("sk-call"),
		lockchat.WithHeader("X-Trace", "b"),
		lockchat.WithParam("top_p", 0.5),
	); err != nil {
		t.Fatal(err)
	}
	// The client's defaults must be untouched by the per-call options.
	if _, err := c.Complete(ctx, "m", hello); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	type want struct {
		auth, trace, body string
	}
	wants := []want{
		{"Bearer sk-client", "a", `{"max_tokens":50,"messages":[{"role":"user","content":"Привет! Как дела?"}],"model":"m","stream":true,"temperature":0.7}`},
		{"Bearer sk-call", "a,b", `{"max_tokens":50,"messages":[{"role":"user","content":"Привет! Как дела?"}],"model":"m","stream":true,"temperature":0,"top_p":0.5}`},
		{"Bearer sk-client", "a", `{"max_tokens":50,"messages":[{"role":"user","content":"Привет! Как дела?"}],"model":"m","stream":true,"temperature":0.7}`},
	}
	for i, w := range wants {
		r := reqs[i]
		if got := r.Header.Get("Authorization"); got != w.auth {
			t.Errorf("request %d: Authorization %q, want %q", i, got, w.auth)
		}
		if got := strings.Join(r.Header.Values("X-Trace"), ","); got != w.trace {
			t.Errorf("request %d: X-Trace %q, want %q", i, got, w.trace)
		}
		if got := r.Header.Get("User-Agent"); got != "test-agent/1" {
			t.Errorf("request %d: User-Agent %q", i, got)
		}
		if string(r.Body) != w.body {
			t.Errorf("request %d: body\n got %s\nwant %s", i, r.Body, w.body)
		}
	}
}

func TestReservedParamIsAnError(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	_, err := c.Complete(context.Background(), "m", hello, lockchat.WithParam("stream", false))
	if err == nil || !strings.Contains(err.Error(), `"stream"`) {
		t.Fatalf("err = %v, want an error naming the reserved field", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent for an invalid call", n)
	}
}

func TestTokensInOrder(t *testing.T) {
	want := []string{"Привет", "! ", "Как", " дела", "? ", "😀", "👩‍💻", " data: ", `"content"`, "\n"}
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: want})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	got, err := collect(c.Stream(context.Background(), "gpt-4", hello))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("tokens\n got %q\nwant %q", got, want)
	}
	text, err := c.Complete(context.Background(), "gpt-4", hello)
	if err != nil || text != strings.Join(want, "") {
		t.Fatalf("Complete = %q, %v", text, err)
	}
}

func TestDoneEndsCallOnOpenConnection(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}, KeepOpen: true})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithIdleTimeout(0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	got, err := c.Complete(ctx, "m", hello)
	if err != nil || got != "ab" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Complete took %v: it waited for the server to close", d)
	}
}

func TestCancellation(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, Delay: time.Hour})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Complete(ctx, "m", hello)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	waitFor(t, "the server to see the request abandoned", func() bool { return srv.Aborted() == 1 })
}

func TestDeadlineAfterTokens(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		sseChunks("a"),
	}, KeepOpen: true})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	got, err := c.Complete(ctx, "m", hello)
	var interrupted *lockchat.InterruptedError
	if got != "a" || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &interrupted) {
		t.Fatalf("Complete = %q, %v; want \"a\" and an interrupted DeadlineExceeded", got, err)
	}
}

func TestBreakClosesConnection(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c", "d"}, Delay: 20 * time.Millisecond})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	var got []string
	for tok, err := range c.Stream(context.Background(), "m", hello) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok)
		break
	}
	if !slices.Equal(got, []string{"a"}) {
		t.Fatalf("got %q", got)
	}
	waitFor(t, "the server to see the connection closed", func() bool { return srv.Aborted() == 1 })
}

func TestStreamChunksExposesRoleFinishAndUsage(t *testing.T) {
	usage := &lockchat.Usage{PromptTokens: 9, CompletionTokens: 2, TotalTokens: 11}
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hi", "!"}, FinishReason: "length", Usage: usage})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	var chunks []lockchat.Chunk
	for ch, err := range c.StreamChunks(context.Background(), "gpt-4", hello) {
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, ch)
	}
	if len(chunks) != 5 {
		t.Fatalf("%d chunks, want 5: %+v", len(chunks), chunks)
	}
	if ch := chunks[0]; ch.Choices[0].Role != "assistant" || ch.Model != "gpt-4" || ch.ID != "chatcmpl-lockchattest" {
		t.Errorf("first chunk %+v", ch)
	}
	if got := chunks[1].Choices[0].Content + chunks[2].Choices[0].Content; got != "Hi!" {
		t.Errorf("content %q", got)
	}
	if fr := chunks[3].Choices[0].FinishReason; fr != "length" {
		t.Errorf("finish reason %q", fr)
	}
	if u := chunks[4].Usage; len(chunks[4].Choices) != 0 || u == nil || *u != *usage {
		t.Errorf("usage chunk %+v", chunks[4])
	}
}

func TestCompleteReturnsPartialTextOnCut(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"one ", "two ", "three"}, CutAfter: 2})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast)
	got, err := c.Complete(context.Background(), "m", hello)
	if got != "one two " || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Complete = %q, %v; want the two tokens and io.ErrUnexpectedEOF", got, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("%d requests after a cut that followed tokens", n)
	}
}

func TestTokenDeliveredBeforeNextEvent(t *testing.T) {
	// The server writes one event and waits until the caller has the token: a client
	// that reads ahead before yielding would deadlock here.
	yielded := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sseChunks("first"))
		w.(http.Flusher).Flush()
		select {
		case <-yielded:
		case <-time.After(10 * time.Second):
			io.WriteString(w, sseChunks("TOO LATE"))
		}
		io.WriteString(w, sse("second"))
	}))
	defer ts.Close()
	c := lockchat.New(lockchat.WithBaseURL(ts.URL))
	var got []string
	for tok, err := range c.Stream(context.Background(), "m", hello) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, tok); len(got) == 1 {
			close(yielded)
		}
	}
	if !slices.Equal(got, []string{"first", "second"}) {
		t.Fatalf("got %q", got)
	}
}
