package lockchat

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// bodyTransport answers every request with the same 200 body, read in pieces cut at
// cuts: it isolates the decoder from the network.
type bodyTransport struct {
	contentType string
	body        []byte
	cuts        []int
}

func (t *bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	h := http.Header{}
	if t.contentType != "" {
		h.Set("Content-Type", t.contentType)
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: h, Request: r,
		Body: io.NopCloser(&splitReader{b: t.body, cuts: t.cuts})}, nil
}

// streamBody runs Stream over body, cut at cuts, and returns the tokens and the error.
func streamBody(contentType string, body []byte, cuts []int, opts ...Option) ([]string, error) {
	hc := &http.Client{Transport: &bodyTransport{contentType: contentType, body: body, cuts: cuts}}
	c := New(append([]Option{WithHTTPClient(hc), WithMaxRetries(0), WithIdleTimeout(0)}, opts...)...)
	var toks []string
	for tok, err := range c.Stream(context.Background(), "m", nil) {
		if err != nil {
			return toks, err
		}
		toks = append(toks, tok)
	}
	return toks, nil
}

// chunk builds one "data:" event holding an OpenAI chunk whose choices are given raw.
func chunk(choices string) string {
	return `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[` + choices + "]}\n\n"
}

func delta(content string) string {
	return `{"index":0,"delta":{"content":` + content + `},"finish_reason":null}`
}

const (
	roleChunk   = `data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	finishChunk = `data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
	done        = "data: [DONE]\n\n"
)

type streamCase struct {
	name   string
	ct     string
	body   string
	tokens []string
	// check inspects the error; nil means the stream must succeed.
	check func(error) bool
}

func isAPIError(status int, msg, typ, code string, inStream bool) func(error) bool {
	return func(err error) bool {
		var e *APIError
		return errors.As(err, &e) && e.StatusCode == status && e.Message == msg && e.Type == typ && e.Code == code && e.InStream == inStream
	}
}

func interruptedAfter(n int, inner func(error) bool) func(error) bool {
	return func(err error) bool {
		var ie *InterruptedError
		return errors.As(err, &ie) && ie.Delivered == n && inner(ie.Err)
	}
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

var streamCases = []streamCase{
	{name: "plain", body: roleChunk + chunk(delta(`"Hello"`)) + chunk(delta(`" world"`)) + finishChunk + done,
		tokens: []string{"Hello", " world"}},
	{name: "azure prompt filter and usage-only chunks",
		body: `data: {"choices":[],"prompt_filter_results":[{"prompt_index":0}]}` + "\n\n" +
			chunk(delta(`"a"`)) + finishChunk +
			`data: {"id":"c1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}` + "\n\n" + done,
		tokens: []string{"a"}},
	{name: "finish without delta, content null with tool calls",
		body: chunk(`{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":""}}]}}`) +
			chunk(`{"index":0,"finish_reason":"tool_calls"}`) + done},
	{name: "n=2 interleaved yields choice 0",
		body: chunk(`{"index":1,"delta":{"content":"B1"}}`) + chunk(`{"index":0,"delta":{"content":"A1"}}`) +
			chunk(`{"index":0,"delta":{"content":"A2"}},{"index":1,"delta":{"content":"B2"}}`) + done,
		tokens: []string{"A1", "A2"}},
	{name: "error: null is no error", body: `data: {"choices":[{"delta":{"content":"x"}}],"error":null}` + "\n\n" + done,
		tokens: []string{"x"}},
	{name: "error object", body: chunk(delta(`"a"`)) + `data: {"error":{"message":"boom","type":"server_error","code":"server_error"}}` + "\n\n",
		tokens: []string{"a"}, check: interruptedAfter(1, isAPIError(200, "boom", "server_error", "server_error", true))},
	{name: "error with numeric code", body: `data: {"error":{"message":"rate","code":429}}` + "\n\n",
		check: isAPIError(200, "rate", "", "429", true)},
	{name: "event: error", body: "event: error\ndata: {\"message\":\"overloaded\",\"type\":\"overloaded_error\"}\n\n",
		check: isAPIError(200, "overloaded", "overloaded_error", "", true)},
	{name: "event: error with plain text", body: "event: error\ndata: upstream went away\n\n",
		check: isAPIError(200, "upstream went away", "", "", true)},
	{name: "vllm object error", body: `data: {"object":"error","message":"bad things","type":"BadRequestError","param":null,"code":400}` + "\n\n",
		check: isAPIError(200, "bad things", "BadRequestError", "400", true)},
	{name: "openrouter mid-stream error", body: chunk(delta(`"partial"`)) +
		`data: {"id":"c1","object":"chat.completion.chunk","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}` + "\n\n",
		tokens: []string{"partial"}, check: interruptedAfter(1, isAPIError(200, "Provider disconnected", "", "502", true))},
	{name: "error as a string", body: `data: {"error":"quota exceeded"}` + "\n\n",
		check: isAPIError(200, "quota exceeded", "", "", true)},
	{name: "surrogate pair split between chunks",
		body:   chunk(delta(`"a\uD83D"`)) + chunk(delta(`"\uDE00b"`)) + chunk(delta(`"\uD83D"`)) + chunk(delta(`"\uDE03"`)) + finishChunk + done,
		tokens: []string{"a", "😀b", "😃"}},
	{name: "lone surrogates become U+FFFD",
		body:   chunk(delta(`"\uD83Dx"`)) + chunk(delta(`"\uDE00"`)) + chunk(delta(`"y\uD83D"`)) + finishChunk + done,
		tokens: []string{"\uFFFDx", "\uFFFD", "y", "\uFFFD"}},
	{name: "surrogate held back at [DONE] is flushed, nothing after [DONE] read",
		body:   chunk(delta(`"a\uD83D"`)) + done + "data: {not json\n\n",
		tokens: []string{"a", "\uFFFD"}},
	{name: "escapes", body: chunk(delta(`"line\nnext \"q\" \\ \/ \t \u00e9 \u0416"`)) + done,
		tokens: []string{"line\nnext \"q\" \\ / \t é Ж"}},
	{name: "raw utf-8", body: chunk(delta(`"Привет, мир 😀👩‍💻"`)) + done, tokens: []string{"Привет, мир 😀👩‍💻"}},
	{name: "multi-line data joined", body: "data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"joined\"}}]}\n\n" + done,
		tokens: []string{"joined"}},
	{name: "comments, keep-alives and unknown fields",
		body:   ": OPENROUTER PROCESSING\n\ndata:\n\n" + "id: 1\nretry: 10\nfoo: bar\n" + chunk(delta(`"x"`)) + ": c\n\n" + done,
		tokens: []string{"x"}},
	{name: "text that looks like protocol", body: chunk(delta(`"data: [DONE]\n\n"`)) + chunk(delta(`"\"content\": 1"`)) + done,
		tokens: []string{"data: [DONE]\n\n", `"content": 1`}},
	{name: "done ends reading", body: chunk(delta(`"a"`)) + done + "data: {not json\n\n" + chunk(delta(`"never"`)),
		tokens: []string{"a"}},
	{name: "end after finish_reason without done", body: chunk(delta(`"a"`)) + finishChunk, tokens: []string{"a"}},
	{name: "end without done or finish", body: chunk(delta(`"a"`)) + chunk(delta(`"b"`)),
		tokens: []string{"a", "b"}, check: interruptedAfter(2, is(io.ErrUnexpectedEOF))},
	{name: "no tokens and no end", body: roleChunk, check: is(io.ErrUnexpectedEOF)},
	{name: "cut mid-line", body: chunk(delta(`"a"`)) + `data: {"choices":[{"delta":{"content":"b"}}]}`,
		tokens: []string{"a"}, check: interruptedAfter(1, is(io.ErrUnexpectedEOF))},
	{name: "cut mid-event", body: chunk(delta(`"a"`)) + `data: {"choices":[{"delta":{"content":"b"}}]}` + "\n",
		tokens: []string{"a"}, check: interruptedAfter(1, is(io.ErrUnexpectedEOF))},
	{name: "malformed json", body: chunk(delta(`"a"`)) + "data: {\"choices\": [\n\n",
		tokens: []string{"a"}, check: interruptedAfter(1, is(ErrMalformedStream))},
	{name: "content of the wrong type", body: chunk(delta(`5`)), check: is(ErrMalformedStream)},
	{name: "plain-text model not found", body: "data: The model: `gpt-4` does not exist\n\n", check: is(ErrModelNotFound)},
	{name: "missing content type is sse", ct: "-", body: chunk(delta(`"a"`)) + done, tokens: []string{"a"}},
	{name: "sse with charset", ct: "text/event-stream; charset=utf-8", body: chunk(delta(`"a"`)) + done, tokens: []string{"a"}},
	{name: "json completion", ct: "application/json",
		body:   `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Целиком 😀"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
		tokens: []string{"Целиком 😀"}},
	{name: "json error body", ct: "application/json; charset=utf-8", body: `{"error":{"message":"nope","type":"invalid_request_error","code":"bad"}}`,
		check: isAPIError(200, "nope", "invalid_request_error", "bad", false)},
	{name: "html page with 200", ct: "text/html", body: "<html><body>Please enable cookies</body></html>",
		check: func(err error) bool {
			var e *APIError
			s := err.Error()
			return errors.As(err, &e) && e.StatusCode == 200 && e.ContentType == "text/html" &&
				strings.Contains(s, "200") && strings.Contains(s, "text/html") && strings.Contains(s, "Please enable cookies")
		}},
}

func TestStreamFidelity(t *testing.T) {
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			switch ct {
			case "":
				ct = "text/event-stream"
			case "-":
				ct = ""
			}
			body := []byte(tc.body)
			var wantErr string
			for i, cut := range splits(len(body)) {
				toks, err := streamBody(ct, body, cut)
				if !slices.Equal(toks, tc.tokens) {
					t.Fatalf("cut at %v: tokens %q, want %q (err %v)", cut, toks, tc.tokens, err)
				}
				if tc.check == nil && err != nil || tc.check != nil && (err == nil || !tc.check(err)) {
					t.Fatalf("cut at %v: unexpected error %v", cut, err)
				}
				// Whatever the cut, the error is the same one.
				if i == 0 && err != nil {
					wantErr = err.Error()
				} else if err != nil && err.Error() != wantErr {
					t.Fatalf("cut at %v: error %q, whole body gave %q", cut, err, wantErr)
				}
			}
		})
	}
}

func TestStreamFidelityRandomSplitsOfLongStream(t *testing.T) {
	var b strings.Builder
	var want []string
	words := []string{"Привет", " мир", " 😀", " tok", "\\n", " \\u0416", " «ёлка»", " 👩‍💻"}
	unescaped := map[string]string{"\\n": "\n", " \\u0416": " Ж"}
	rng := rand.New(rand.NewPCG(1, 2))
	b.WriteString(roleChunk)
	for range 2000 {
		w := words[rng.IntN(len(words))]
		b.WriteString(chunk(delta(`"` + w + `"`)))
		if u, ok := unescaped[w]; ok {
			w = u
		}
		want = append(want, w)
	}
	b.WriteString(finishChunk + done)
	body := []byte(b.String())
	for range 50 {
		var cuts []int
		for off := 0; off < len(body); off += 1 + rng.IntN(300) {
			cuts = append(cuts, off)
		}
		toks, err := streamBody("text/event-stream", body, cuts)
		if err != nil || !slices.Equal(toks, want) {
			t.Fatalf("%d tokens, %v", len(toks), err)
		}
	}
}

func TestStreamLineTooLong(t *testing.T) {
	body := []byte(chunk(delta(`"` + strings.Repeat("x", 5000) + `"`)))
	_, err := streamBody("text/event-stream", body, nil, WithMaxLineSize(1000))
	var tooLong *LineTooLongError
	if !errors.As(err, &tooLong) || tooLong.Limit != 1000 || !strings.Contains(err.Error(), "1000") {
		t.Fatalf("err = %v, want a *LineTooLongError naming 1000", err)
	}
	if _, err := streamBody("application/json", body[6:], nil, WithMaxLineSize(1000)); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("a JSON body over the limit: err = %v", err)
	}
}

func TestMalformedDataExcerptIsBounded(t *testing.T) {
	body := []byte("data: " + strings.Repeat("<garbage>", 100000) + "\n\n")
	_, err := streamBody("text/event-stream", body, nil)
	if !errors.Is(err, ErrMalformedStream) || len(err.Error()) > 600 {
		t.Fatalf("err (%d bytes) = %.300v", len(err.Error()), err)
	}
}
