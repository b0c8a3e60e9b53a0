package lockchat

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"status with a page", &APIError{StatusCode: 502, ContentType: "text/html", Body: "<p>bad</p>", Method: "POST", URL: "http://h/v1/chat/completions"},
			`lockchat: HTTP 502 Bad Gateway from POST http://h/v1/chat/completions (content type "text/html"): body "<p>bad</p>"`},
		{"status with an error object", &APIError{StatusCode: 400, Message: "bad", Type: "t", Code: "c", Param: "p"},
			`lockchat: HTTP 400 Bad Request: bad (type "t", code "c", param "p")`},
		{"404 with the hint", &APIError{StatusCode: 404, Method: "POST", URL: "http://h/chat/completions", hint: `hint: the base URL may lack "/v1"`},
			`lockchat: HTTP 404 Not Found from POST http://h/chat/completions (content type "none"); hint: the base URL may lack "/v1"`},
		{"in stream", &APIError{StatusCode: 200, InStream: true, Message: "boom", Method: "POST", URL: "http://h/v1/chat/completions"},
			`lockchat: error event in stream from POST http://h/v1/chat/completions: boom`},
		{"interrupted by a connection failure", &InterruptedError{Delivered: 2, Err: newTransportError(io.ErrUnexpectedEOF)},
			`lockchat: stream interrupted after 2 chunks of output: connection failed: unexpected EOF`},
		{"interrupted by a foreign error", &InterruptedError{Delivered: 1, Err: errors.New("context canceled")},
			`lockchat: stream interrupted after 1 chunk of output: context canceled`},
		{"malformed data", &dataError{what: "lockchat: malformed stream: chunk: x", where: "event data", excerpt: `{"a`},
			`lockchat: malformed stream: chunk: x (event data "{\"a")`},
		{"retries ran out", &gaveUpError{attempts: 3, err: newTransportError(io.ErrUnexpectedEOF)},
			`lockchat: giving up after 3 attempts: connection failed: unexpected EOF`},
		{"an answer with tool calls only", &NoTextError{Message: Message{ToolCalls: []ToolCall{{Name: "f"}, {Name: "g"}}}},
			`lockchat: the answer holds no text but 2 tool call(s) (f, g); use Chat to get them`},
		{"a refusal", &NoTextError{Message: Message{Refusal: "No."}},
			`lockchat: the answer holds no text but a refusal: "No."`},
		{"redirect", &redirectError{method: "POST", from: "http://a/v1/chat/completions", to: "https://a/v1/chat/completions", status: 301, reason: "why"},
			`lockchat: POST http://a/v1/chat/completions was redirected (HTTP 301 Moved Permanently) to https://a/v1/chat/completions: why`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestErrorsMatchTheirSentinels(t *testing.T) {
	for _, tc := range []struct {
		err    error
		target error
	}{
		{newTransportError(io.EOF), ErrConnection},
		{&dataError{}, ErrMalformedStream},
		{&requestError{}, ErrInvalidRequest},
		{&redirectError{}, ErrRedirect},
		{&LineTooLongError{}, ErrLineTooLong},
		{&APIError{Code: "model_not_found"}, ErrModelNotFound},
		{&InterruptedError{Err: &APIError{Message: "The model `x` does not exist"}}, ErrModelNotFound},
	} {
		t.Run(fmt.Sprintf("%T", tc.err), func(t *testing.T) {
			if !errors.Is(tc.err, tc.target) {
				t.Fatalf("%v does not match %v", tc.err, tc.target)
			}
		})
	}
}
