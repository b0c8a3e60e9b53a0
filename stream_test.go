package lockchat

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lockchat/lockchat/internal/cutread"
)

// bodyTransport answers every request with the same body, read in pieces cut at cuts:
// it isolates the decoder from the network. The status is 200 unless set; header adds
// response headers; requests counts the requests.
type bodyTransport struct {
	contentType string
	body        []byte
	cuts        []int
	status      int
	header      http.Header
	requests    atomic.Int32
}

func (t *bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if r.Body != nil {
		r.Body.Close()
	}
	h := t.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if t.contentType != "" {
		h.Set("Content-Type", t.contentType)
	}
	status := t.status
	if status == 0 {
		status = 200
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Request: r,
		Body: io.NopCloser(&cutread.Reader{B: t.body, Cuts: t.cuts})}, nil
}

// streamBody runs Stream over body, cut at cuts, and returns the tokens and the error.
func streamBody(contentType string, body []byte, cuts []int, opts ...Option) ([]string, error) {
	return streamFrom(&bodyTransport{contentType: contentType, body: body, cuts: cuts}, opts...)
}

// streamFrom runs Stream over what tr answers and returns the tokens and the error.
func streamFrom(tr http.RoundTripper, opts ...Option) ([]string, error) {
	c := New(append([]Option{WithBaseURL("http://lockchat.test/v1"), WithHTTPClient(&http.Client{Transport: tr}),
		WithMaxRetries(0), WithIdleTimeout(0)}, opts...)...)
	var toks []string
	for tok, err := range c.Stream(context.Background(), "m", nil) {
		if err != nil {
			return toks, err
		}
		toks = append(toks, tok)
	}
	return toks, nil
}

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
			chunk(`{"index":0,"finish_reason":"tool_calls"}`) + done, check: noText(ErrToolCalls)},
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
	{name: "flat error object then [DONE]", body: "data: {\"message\":\"The model: `gpt-4` does not exist\",\"type\":\"invalid_request_error\"}\n\n" + done,
		check: func(err error) bool {
			return errors.Is(err, ErrModelNotFound) && isAPIError(200, "The model: `gpt-4` does not exist", "invalid_request_error", "", true)(err)
		}},
	{name: "flat detail object", body: `data: {"detail":"Not authenticated"}` + "\n\n",
		check: isAPIError(200, "Not authenticated", "", "", true)},
	{name: "error: false is no error", body: `data: {"choices":[{"delta":{"content":"x"}}],"error":false}` + "\n\n" + done,
		tokens: []string{"x"}},
	{name: "error: empty string is no error", body: `data: {"choices":[{"delta":{"content":"x"}}],"error":""}` + "\n\n" + done,
		tokens: []string{"x"}},
	{name: "error: {} is no error", body: `data: {"choices":[{"delta":{"content":"x"}}],"error":{ }}` + "\n\n" + done,
		tokens: []string{"x"}},
	{name: "error: [] and 0 are no error", body: `data: {"choices":[{"delta":{"content":"x"}}],"error":[]}` + "\n\n" +
		`data: {"choices":[{"delta":{"content":"y"}}],"error":0}` + "\n\n" + done, tokens: []string{"x", "y"}},
	{name: "error: true is an error", body: `data: {"error":true}` + "\n\n", check: isAPIError(200, "true", "", "", true)},
	{name: "an empty object is a keep-alive", body: "data: {}\n\n" + chunk(delta(`"a"`)) + done, tokens: []string{"a"}},
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
	{name: "cut inside the json of a line", body: chunk(delta(`"a"`)) + `data: {"choices":[{"delta":{"content":"b`,
		tokens: []string{"a"}, check: interruptedAfter(1, is(io.ErrUnexpectedEOF))},
	{name: "cut after whole json, no line end", body: chunk(delta(`"a"`)) + `data: {"choices":[{"delta":{"content":"b"}}]}`,
		tokens: []string{"a", "b"}, check: interruptedAfter(2, is(io.ErrUnexpectedEOF))},
	{name: "cut after whole json, no blank line", body: chunk(delta(`"a"`)) + `data: {"choices":[{"delta":{"content":"b"}}]}` + "\n",
		tokens: []string{"a", "b"}, check: interruptedAfter(2, is(io.ErrUnexpectedEOF))},

	// The end of a body after every choice has finished, or with [DONE] in its last line,
	// is the end of a complete answer, whatever unfinished line or event it cuts.
	{name: "finish then [DONE], LF and no blank line", body: chunk(delta(`"a"`)) + finishChunk + "data: [DONE]\n", tokens: []string{"a"}},
	{name: "finish then [DONE], CRLF and no blank line", body: chunk(delta(`"a"`)) + finishChunk + "data: [DONE]\r\n", tokens: []string{"a"}},
	{name: "finish then [DONE], CR and no blank line", body: chunk(delta(`"a"`)) + finishChunk + "data: [DONE]\r", tokens: []string{"a"}},
	{name: "finish then [DONE], no line end", body: chunk(delta(`"a"`)) + finishChunk + "data: [DONE]", tokens: []string{"a"}},
	{name: "finish then a cut [DONE]", body: chunk(delta(`"a"`)) + finishChunk + "data: [DO", tokens: []string{"a"}},
	{name: "finish then a partial comment", body: chunk(delta(`"a"`)) + finishChunk + ": keep-al", tokens: []string{"a"}},
	{name: "finish then a partial event line", body: chunk(delta(`"a"`)) + finishChunk + "event: mess", tokens: []string{"a"}},
	{name: "finish then an event field and no data", body: chunk(delta(`"a"`)) + finishChunk + "event: message\n", tokens: []string{"a"}},
	{name: "finish then a cut usage chunk", body: chunk(delta(`"a"`)) + finishChunk +
		`data: {"id":"c1","choices":[],"usage":{"prompt_tokens":1,"compl`, tokens: []string{"a"}},
	{name: "finish in the last event, no blank line", body: chunk(delta(`"a"`)) +
		`data: {"id":"c1","choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}`, tokens: []string{"a", "b"}},
	{name: "tool call then [DONE] without blank line",
		body: chunk(`{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{}"}}]}}`) +
			chunk(`{"index":0,"delta":{},"finish_reason":"tool_calls"}`) + "data: [DONE]", check: noText(ErrToolCalls)},
	{name: "[DONE] in the last line before any finish", body: chunk(delta(`"a"`)) + "data: [DONE]\r\n", tokens: []string{"a"}},
	{name: "unfinished choice, then a partial comment", body: chunk(delta(`"a"`)) + ": keep",
		tokens: []string{"a"}, check: interruptedAfter(1, is(io.ErrUnexpectedEOF))},
	{name: "error event in the last event, no blank line", body: "event: error\ndata: upstream went away",
		check: isAPIError(200, "upstream went away", "", "", true)},
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

// noText checks for the *NoTextError of an answer without text, matching kind.
func noText(kind error) func(error) bool {
	return func(err error) bool {
		var e *NoTextError
		return errors.As(err, &e) && errors.Is(err, kind)
	}
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
			for i, cut := range cutread.Ways(len(body)) {
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

func TestStreamAnyMaxLineSize(t *testing.T) {
	sse := []byte(chunk(delta(`"a"`)) + done)
	completion := []byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"}]}`)
	for _, n := range []int{math.MinInt, -1, 0, 1, 64, 100, 1 << 20, math.MaxInt32, math.MaxInt - 2, math.MaxInt - 1, math.MaxInt} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			for ct, body := range map[string][]byte{"text/event-stream": sse, "application/json": completion} {
				toks, err := streamBody(ct, body, nil, WithMaxLineSize(n))
				if n < len(body) {
					// Below the size of the input, the limit holds: a clear error, no panic.
					if !errors.Is(err, ErrLineTooLong) {
						t.Errorf("%s: tokens %q, err %v; want ErrLineTooLong", ct, toks, err)
					}
					continue
				}
				if err != nil || !slices.Equal(toks, []string{"a"}) {
					t.Errorf("%s: tokens %q, err %v", ct, toks, err)
				}
			}
		})
	}
}

func TestMalformedDataExcerptIsBounded(t *testing.T) {
	body := []byte("data: " + strings.Repeat("<garbage>", 100000) + "\n\n")
	_, err := streamBody("text/event-stream", body, nil)
	if !errors.Is(err, ErrMalformedStream) || len(err.Error()) > 600 {
		t.Fatalf("err (%d bytes) = %.300v", len(err.Error()), err)
	}
}

// TestAnswerWithoutTextIsSentOnce: a tool call yields no token, so a failure at its end
// would be retried, and billed, again. Its body, ending in [DONE] without a blank line,
// is complete: one request.
func TestAnswerWithoutTextIsSentOnce(t *testing.T) {
	body := chunk(`{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{}"}}]}}`) +
		chunk(`{"index":0,"delta":{},"finish_reason":"tool_calls"}`)
	for _, end := range []string{"data: [DONE]", "data: [DONE]\n", "data: [DONE]\r", ": ping", `data: {"choices":[],"usage":{"prompt_tok`} {
		t.Run(strconv.Quote(end), func(t *testing.T) {
			tr := &bodyTransport{contentType: "text/event-stream", body: []byte(body + end)}
			if toks, err := streamFrom(tr, WithMaxRetries(2), fast); !errors.Is(err, ErrToolCalls) || len(toks) != 0 {
				t.Fatalf("tokens %q, err %v", toks, err)
			}
			if n := tr.requests.Load(); n != 1 {
				t.Fatalf("%d requests, want 1", n)
			}
		})
	}
}

func TestUsageInTheLastEvent(t *testing.T) {
	usage := `data: {"id":"c1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`
	for name, tc := range map[string]struct {
		end       string
		wantUsage bool
	}{
		"whole, no blank line": {usage + "\n", true},
		"whole, no line end":   {usage, true},
		"cut":                  {usage[:len(usage)-10], false},
	} {
		t.Run(name, func(t *testing.T) {
			hc := &http.Client{Transport: &bodyTransport{contentType: "text/event-stream", body: []byte(chunk(delta(`"a"`)) + finishChunk + tc.end)}}
			c := New(WithBaseURL("http://lockchat.test/v1"), WithHTTPClient(hc), WithMaxRetries(0))
			var got *Usage
			for ch, err := range c.StreamChunks(context.Background(), "m", nil) {
				if err != nil {
					t.Fatal(err)
				}
				if ch.Usage != nil {
					got = ch.Usage
				}
			}
			if (got != nil) != tc.wantUsage || got != nil && *got != (Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}) {
				t.Fatalf("usage %+v, want it: %v", got, tc.wantUsage)
			}
		})
	}
}

// TestEndOfStreamOverHTTP sends a body that ends in "data: [DONE]" without a blank line
// through real servers, over HTTP/1.1 and HTTP/2: the same bytes, the same answer.
func TestEndOfStreamOverHTTP(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, chunk(delta(`"a"`))+finishChunk+"data: [DONE]")
	})
	h1 := httptest.NewServer(handler)
	defer h1.Close()
	h2 := httptest.NewUnstartedServer(handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	for name, ts := range map[string]*httptest.Server{"HTTP/1.1": h1, "HTTP/2.0": h2} {
		t.Run(name, func(t *testing.T) {
			tr := ts.Client().Transport
			proto := ""
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := tr.RoundTrip(r)
				if err == nil {
					proto = resp.Proto
				}
				return resp, err
			})}
			got, err := New(WithBaseURL(ts.URL+"/v1"), WithHTTPClient(hc), WithMaxRetries(0)).Complete(context.Background(), "m", nil)
			if err != nil || got != "a" || proto != name {
				t.Fatalf("Complete = %q, %v over %s", got, err, proto)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestBuffersAreGivenBack: a stream that carried a huge chunk holds small buffers again
// once it has been read, as one that waits for the server does.
func TestBuffersAreGivenBack(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	for name, body := range map[string]string{
		"one line":   chunk(delta(`"`+huge+`"`)) + chunk(delta(`"a"`)) + chunk(delta(`"b"`)),
		"many lines": "data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"" + huge + "\"}}]}\n\n" + chunk(delta(`"a"`)) + chunk(delta(`"b"`)),
	} {
		t.Run(name, func(t *testing.T) {
			var s chunkStream
			s.reset(&cutread.Reader{B: []byte(body), Cuts: []int{len(body) - len(chunk(delta(`"b"`)))}}, DefaultMaxLineSize)
			for i := range 3 {
				if err := s.next(); err != nil {
					t.Fatal(err)
				}
				if i == 0 && len(s.dec.choices[0].text[fContent]) != len(huge) {
					t.Fatal("the huge chunk was not read whole")
				}
			}
			buf, data := s.events.Held()
			held := buf + data + cap(s.dec.scratch) + cap(s.dec.tmpl.buf)
			if held > bulkBufSize+4<<10 {
				t.Fatalf("after the huge chunk the stream holds %d bytes of buffers (read buffer %d, event %d, scratch %d, template %d)",
					held, buf, data, cap(s.dec.scratch), cap(s.dec.tmpl.buf))
			}
		})
	}
}

// waitingReader gives its first piece, then, when read again once all of it was given
// (the moment a stream waits for the server), calls check before giving the rest.
type waitingReader struct {
	pieces [][]byte
	check  func()
	first  int // bytes of the first piece not given yet
}

func (r *waitingReader) Read(p []byte) (int, error) {
	if len(r.pieces) == 0 {
		return 0, io.EOF
	}
	if r.first == 0 && r.check != nil {
		r.check()
		r.check = nil
	}
	n := copy(p, r.pieces[0])
	if r.check != nil {
		r.first -= n
	}
	if r.pieces[0] = r.pieces[0][n:]; len(r.pieces[0]) == 0 {
		r.pieces = r.pieces[1:]
	}
	return n, nil
}

// TestWaitingAfterAHugeChunkHoldsNothingOfIt: while a stream waits for the server after
// a huge chunk, nothing points into that chunk's buffer any more.
func TestWaitingAfterAHugeChunkHoldsNothingOfIt(t *testing.T) {
	// The huge chunk, then small ones from the same buffer, then a comment, as a server
	// that keeps the connection alive sends before it waits.
	first := []byte(roleChunk + chunk(delta(`"`+strings.Repeat("x", 1<<20)+`"`)) +
		chunk(delta(`"a"`)) + chunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"arguments":"{}"}}]}}`) + ": hold\n\n")
	var s chunkStream
	r := &waitingReader{pieces: [][]byte{first, []byte(chunk(delta(`"b"`)) + done)}, first: len(first)}
	checked := false
	r.check = func() {
		checked = true
		for k, v := range s.dec.top {
			if cap(v) > bulkBufSize {
				t.Errorf("top-level value %d still points into the huge chunk", k)
			}
		}
		if buf, _ := s.events.Held(); cap(s.raw) > bulkBufSize || buf > bulkBufSize {
			t.Errorf("Raw (%d) or the read buffer (%d) still holds the huge chunk", cap(s.raw), buf)
		}
		for _, rc := range s.dec.raws[:cap(s.dec.raws)] {
			if cap(rc.slots[cDelta]) > bulkBufSize {
				t.Error("a raw choice still points into the huge chunk")
			}
		}
		for _, h := range s.dec.holes[:cap(s.dec.holes)] {
			if cap(h) > bulkBufSize {
				t.Error("a template hole still points into the huge chunk")
			}
		}
		for _, c := range s.dec.calls[:cap(s.dec.calls)] {
			if cap(c.rawArgs) > bulkBufSize {
				t.Error("a tool call still points into the huge chunk")
			}
		}
	}
	s.reset(r, DefaultMaxLineSize)
	var got []string
	x := exchange{ctx: context.Background(), cfg: &defaultCfg, cancel: func(error) {},
		resp: &http.Response{Body: http.NoBody}, h: func(s *chunkStream) bool {
			if c := s.dec.choices[0].text[fContent]; c != "" {
				got = append(got, c[:1])
			}
			return true
		}}
	err := x.readStream(&s)
	if err != nil || !checked || strings.Join(got, "") != "xab" {
		t.Fatalf("err %v, checked %v, chunks %q", err, checked, got)
	}
}

var defaultCfg = defaultConfig()

// TestPooledDecoderKeepsNoGrownSlices: a chunk of many tool calls grows the decoder's
// slices; what goes back to the pool is trimmed.
func TestPooledDecoderKeepsNoGrownSlices(t *testing.T) {
	calls := "[" + strings.Repeat(`{"index":0},`, 999) + `{"index":0}]`
	var choices []string
	for i := range 100 {
		choices = append(choices, `{"index":`+strconv.Itoa(i)+`,"delta":{"tool_calls":[{}]}}`)
	}
	body := "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":" + calls + "}}]}\n\n" +
		"data: {\"choices\":[" + strings.Join(choices, ",") + "]}\n\n"
	s := new(chunkStream)
	s.reset(strings.NewReader(body), 1<<20)
	for range 2 {
		if err := s.next(); err != nil {
			t.Fatal(err)
		}
	}
	if cap(s.dec.calls) < 1000 || cap(s.dec.choices) < 100 {
		t.Fatalf("the chunks did not grow the slices: %d calls, %d choices", cap(s.dec.calls), cap(s.dec.choices))
	}
	s.reset(nil, 1<<20)
	if c := max(cap(s.dec.calls), cap(s.dec.choices), cap(s.dec.raws), cap(s.dec.rawCalls), cap(s.choices), cap(s.pending)); c > keepCap {
		t.Fatalf("the reset stream keeps a slice of capacity %d", c)
	}
}
