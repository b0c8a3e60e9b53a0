package lockchat_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// sentBody makes one call with opts and returns the body the server received.
func sentBody(t *testing.T, opts ...lockchat.Option) string {
	t.Helper()
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	if _, err := c.Complete(context.Background(), "m", nil, opts...); err != nil {
		t.Fatal(err)
	}
	return string(srv.Requests()[0].Body)
}

func TestWithoutParam(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []lockchat.Option
		want string
	}{
		{"the default temperature", []lockchat.Option{lockchat.WithoutParam("temperature")},
			`{"messages":[],"model":"m","stream":true}`},
		{"a temperature an option set", []lockchat.Option{lockchat.WithTemperature(1), lockchat.WithoutParam("temperature")},
			`{"messages":[],"model":"m","stream":true}`},
		{"a WithParam field", []lockchat.Option{lockchat.WithParam("top_p", 0.5), lockchat.WithParam("seed", 7), lockchat.WithoutParam("top_p")},
			`{"messages":[],"model":"m","seed":7,"stream":true,"temperature":0.7}`},
		{"WithParam given after it", []lockchat.Option{lockchat.WithoutParam("top_p"), lockchat.WithParam("top_p", 0.5)},
			`{"messages":[],"model":"m","stream":true,"temperature":0.7}`},
		{"a field never set", []lockchat.Option{lockchat.WithoutParam("max_tokens")},
			`{"messages":[],"model":"m","stream":true,"temperature":0.7}`},
		{"the usage request", []lockchat.Option{lockchat.WithUsage(), lockchat.WithoutParam("stream_options")},
			`{"messages":[],"model":"m","stream":true,"temperature":0.7}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sentBody(t, tc.opts...); got != tc.want {
				t.Errorf("body\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestWithoutParamOfARequiredField(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	for _, key := range []string{"model", "messages", "stream"} {
		_, err := c.Complete(context.Background(), "m", hello, lockchat.WithoutParam(key))
		if !errors.Is(err, lockchat.ErrInvalidRequest) {
			t.Errorf("WithoutParam(%q): err = %v, want ErrInvalidRequest", key, err)
		}
	}
	// A reserved field given to WithParam is an invalid request too.
	if _, err := c.Complete(context.Background(), "m", hello, lockchat.WithParam("model", "x")); !errors.Is(err, lockchat.ErrInvalidRequest) {
		t.Errorf("WithParam(model): err = %v, want ErrInvalidRequest", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid calls", n)
	}
}

func TestStreamOptionsCombine(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []lockchat.Option
		want string
	}{
		{"usage", []lockchat.Option{lockchat.WithUsage()},
			`{"include_usage":true}`},
		{"no obfuscation", []lockchat.Option{lockchat.WithoutObfuscation()},
			`{"include_obfuscation":false}`},
		{"both", []lockchat.Option{lockchat.WithoutObfuscation(), lockchat.WithUsage()},
			`{"include_obfuscation":false,"include_usage":true}`},
		{"WithParam then WithUsage", []lockchat.Option{lockchat.WithParam("stream_options", map[string]any{"continuous_usage_stats": true}), lockchat.WithUsage()},
			`{"continuous_usage_stats":true,"include_usage":true}`},
		{"WithUsage then WithParam", []lockchat.Option{lockchat.WithUsage(), lockchat.WithParam("stream_options", map[string]any{"continuous_usage_stats": true})},
			`{"continuous_usage_stats":true,"include_usage":true}`},
		{"WithParam alone", []lockchat.Option{lockchat.WithParam("stream_options", map[string]any{"include_usage": false})},
			`{"include_usage":false}`},
		{"all three", []lockchat.Option{lockchat.WithParam("stream_options", struct {
			X int `json:"x"`
		}{1}), lockchat.WithUsage(), lockchat.WithoutObfuscation()},
			`{"include_obfuscation":false,"include_usage":true,"x":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := `{"messages":[],"model":"m","stream":true,"stream_options":` + tc.want + `,"temperature":0.7}`
			if got := sentBody(t, tc.opts...); got != want {
				t.Errorf("body\n got %s\nwant %s", got, want)
			}
		})
	}

	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithUsage())
	_, err := c.Complete(context.Background(), "m", hello, lockchat.WithParam("stream_options", "yes"))
	if !errors.Is(err, lockchat.ErrInvalidRequest) {
		t.Errorf("a stream_options that is no object: err = %v, want ErrInvalidRequest", err)
	}
}

func TestWithoutStreaming(t *testing.T) {
	reply := lockchattest.Reply{
		Reasoning: []string{"Think", "ing."},
		Tokens:    []string{"Hel", "lo"},
		ToolCalls: []lockchat.ToolCall{{ID: "call_1", Name: "lookup", Arguments: `{"q":"x"}`}},
		Usage:     &lockchat.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5},
	}
	srv := lockchattest.NewServer(reply)
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithoutStreaming(), lockchat.WithUsage())
	ctx := context.Background()

	comp, err := c.Chat(ctx, "m", hello)
	if err != nil {
		t.Fatal(err)
	}
	m := comp.Message()
	if m.Content != "Hello" || m.Reasoning != "Thinking." || len(m.ToolCalls) != 1 ||
		m.ToolCalls[0].Name != "lookup" || m.ToolCalls[0].Arguments != `{"q":"x"}` || m.ToolCalls[0].ID != "call_1" {
		t.Errorf("Chat message = %+v", m)
	}
	if comp.Choices[0].FinishReason != "tool_calls" || comp.Usage == nil || comp.Usage.TotalTokens != 5 {
		t.Errorf("finish %q, usage %+v", comp.Choices[0].FinishReason, comp.Usage)
	}

	req := srv.Requests()[0]
	if got := req.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	if got := string(req.Body); got != `{"messages":[{"role":"user","content":"Привет! Как дела?"}],"model":"m","stream":false,"temperature":0.7}` {
		t.Errorf("body = %s (stream_options must not go with stream false)", got)
	}

	toks, err := collect(c.Stream(ctx, "m", hello))
	if err != nil || len(toks) != 1 || toks[0] != "Hello" {
		t.Errorf("Stream: %q, %v; want the whole text as one token", toks, err)
	}

	chunks := 0
	for ch, err := range c.StreamChunks(ctx, "m", hello) {
		if err != nil {
			t.Fatal(err)
		}
		chunks++
		if len(ch.Choices) != 1 || ch.Choices[0].Content != "Hello" || ch.Choices[0].FinishReason != "tool_calls" || ch.Usage == nil {
			t.Errorf("StreamChunks chunk = %+v", ch)
		}
	}
	if chunks != 1 {
		t.Errorf("StreamChunks gave %d chunks, want the answer as one", chunks)
	}

	text, err := c.Complete(ctx, "m", hello)
	if err != nil || text != "Hello" {
		t.Errorf("Complete = %q, %v", text, err)
	}

	// The answer of a model that refuses, without streaming, is Complete's NoTextError.
	srv.SetReply(lockchattest.Reply{Refusal: []string{"No."}})
	if _, err := c.Complete(ctx, "m", hello); !errors.Is(err, lockchat.ErrRefusal) {
		t.Errorf("Complete of a refusal: err = %v, want ErrRefusal", err)
	}
}
