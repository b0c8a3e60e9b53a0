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
