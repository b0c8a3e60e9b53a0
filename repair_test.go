package lockchat_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// The 400s OpenAI answers for lockchat's own parameters.
var (
	temperatureRejected = lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{
		Message: "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.",
		Type:    "invalid_request_error", Param: "temperature", Code: "unsupported_value"}}
	maxTokensRejected = lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{
		Message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
		Type:    "invalid_request_error", Param: "max_tokens", Code: "unsupported_parameter"}}
	streamRejected = lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{
		Message: "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.",
		Type:    "invalid_request_error", Param: "stream", Code: "unsupported_value"}}
)

func TestRequestRepairs(t *testing.T) {
	ok := lockchattest.Reply{Tokens: []string{"ok"}}
	for _, tc := range []struct {
		name     string
		rejected lockchattest.Reply
		opts     []lockchat.Option
		kind     string
		param    string
		check    func(lockchattest.Request) bool // the repaired request
	}{
		{"temperature dropped", temperatureRejected, nil, lockchat.RepairParamDropped, "temperature",
			func(r lockchattest.Request) bool { _, has := r.Payload["temperature"]; return !has }},
		{"max_tokens renamed", maxTokensRejected, []lockchat.Option{lockchat.WithMaxTokens(5)}, lockchat.RepairParamRenamed, "max_tokens",
			func(r lockchattest.Request) bool {
				_, old := r.Payload["max_tokens"]
				return !old && r.Payload["max_completion_tokens"] != nil && r.Payload["max_completion_tokens"].(interface{ String() string }).String() == "5"
			}},
		{"streaming turned off", streamRejected, nil, lockchat.RepairStreamOff, "stream",
			func(r lockchattest.Request) bool {
				return r.Payload["stream"] == false && r.Header.Get("Accept") == "application/json"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(tc.rejected, ok)
			defer srv.Close()
			var log bytes.Buffer
			c := lockchat.New(append([]lockchat.Option{lockchat.WithBaseURL(srv.URL), lockchat.WithMaxRetries(0),
				lockchat.WithLogger(slog.New(slog.NewTextHandler(&log, nil)))}, tc.opts...)...)
			comp, err := c.Chat(context.Background(), "o3", hello)
			if err != nil || comp.Message().Content != "ok" {
				t.Fatalf("Chat = %q, %v; want the repaired request answered (with no retry left)", comp.Message().Content, err)
			}
			if len(comp.Repairs) != 1 || comp.Repairs[0] != (lockchat.Repair{Choice: -1, Kind: tc.kind, Param: tc.param, Count: 1}) {
				t.Errorf("Repairs = %+v", comp.Repairs)
			}
			reqs := srv.Requests()
			if len(reqs) != 2 || !tc.check(reqs[1]) {
				t.Fatalf("%d requests; repaired payload %s", len(reqs), reqs[len(reqs)-1].Body)
			}
			if !strings.Contains(log.String(), "request repaired") || !strings.Contains(log.String(), "param="+tc.param) {
				t.Errorf("log %q", log.String())
			}
			// Remembered for the model: the next call goes right the first time.
			if _, err := c.Complete(context.Background(), "o3", hello); err != nil {
				t.Fatal(err)
			}
			if reqs := srv.Requests(); len(reqs) != 3 || !tc.check(reqs[2]) {
				t.Errorf("the next call was not repaired up front: %s", reqs[len(reqs)-1].Body)
			}
			// Another model is not.
			srv.SetReply(ok)
			if _, err := c.Complete(context.Background(), "gpt-4o", hello, tc.opts...); err != nil {
				t.Fatal(err)
			}
			if reqs := srv.Requests(); tc.check(reqs[3]) {
				t.Errorf("another model's request was repaired: %s", reqs[3].Body)
			}
		})
	}
}

func TestRequestRepairRefused(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rejected lockchattest.Reply
		opts     []lockchat.Option
	}{
		{"temperature set with WithParam", temperatureRejected, []lockchat.Option{lockchat.WithParam("temperature", 0.7)}},
		{"temperature set with WithTemperature", temperatureRejected, []lockchat.Option{lockchat.WithTemperature(0.2)}},
		{"max_tokens set with WithParam", maxTokensRejected, []lockchat.Option{lockchat.WithParam("max_tokens", 5)}},
		{"another 400", lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{Message: "messages must not be empty", Param: "messages", Code: "invalid_value"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(tc.rejected, lockchattest.Reply{Tokens: []string{"ok"}})
			defer srv.Close()
			c := lockchat.New(append([]lockchat.Option{lockchat.WithBaseURL(srv.URL)}, tc.opts...)...)
			_, err := c.Chat(context.Background(), "o3", hello)
			var ae *lockchat.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 400 || len(srv.Requests()) != 1 {
				t.Fatalf("err = %v after %d requests; want the 400 as it is", err, len(srv.Requests()))
			}
		})
	}
}

func TestWithMaxTokensZeroSendsNone(t *testing.T) {
	if got := sentBody(t, lockchat.WithMaxTokens(0)); strings.Contains(got, "max_tokens") {
		t.Errorf("body %s", got)
	}
}
