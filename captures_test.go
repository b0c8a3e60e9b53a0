package lockchat_test

// The captures of interop/ollama/captures are what a real Ollama v0.17.4 sent for each
// scenario of the Ollama suite. This test replays them without Ollama: each body is
// served as captured (status, Content-Type, bytes), whole and in small flushed pieces,
// and Chat's completion is compared with a plain encoding/json fold of the same events.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
)

const capturesDir = "interop/ollama/captures"

// capture is one captured response.
type capture struct {
	status      int
	contentType string
	body        []byte
}

func readCapture(t *testing.T, name string) capture {
	t.Helper()
	head, err := os.ReadFile(filepath.Join(capturesDir, name+".headers"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(capturesDir, name+".sse"))
	if err != nil {
		t.Fatal(err)
	}
	var c capture
	for i, line := range strings.Split(strings.TrimSpace(string(head)), "\n") {
		line = strings.TrimSpace(line)
		if i == 0 { // HTTP/1.1 200 OK
			f := strings.Fields(line)
			if len(f) < 2 {
				t.Fatalf("%s.headers: bad status line %q", name, line)
			}
			if c.status, err = strconv.Atoi(f[1]); err != nil {
				t.Fatalf("%s.headers: %v", name, err)
			}
		} else if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Type") {
			c.contentType = strings.TrimSpace(v)
		}
	}
	c.body = body
	return c
}

// serveCapture serves c, in pieces of piece bytes each flushed (the whole body at once
// when piece is 0).
func serveCapture(c capture, piece int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", c.contentType)
		w.WriteHeader(c.status)
		if piece == 0 {
			_, _ = w.Write(c.body)
			return
		}
		for b := c.body; len(b) > 0; {
			n := min(piece, len(b))
			if _, err := w.Write(b[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			b = b[n:]
		}
	}))
}

// referenceFold folds a captured event stream with encoding/json alone: the first
// choice's content, reasoning, tool calls (by index), last finish reason and usage, and
// whether [DONE] came.
type referenceFold struct {
	content, reasoning string
	calls              map[int]*lockchat.ToolCall
	finish             string
	usage              *lockchat.Usage
	done               bool
}

// wireChunk is a chunk as the OpenAI wire format has it, decoded by encoding/json alone:
// the reference the captures and the Ollama suite check lockchat against.
type wireChunk struct {
	Choices []struct {
		Delta struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"` // nil when absent
			Reasoning string  `json:"reasoning"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *lockchat.Usage `json:"usage"`
}

func foldCapture(t *testing.T, body []byte) referenceFold {
	t.Helper()
	f := referenceFold{calls: map[int]*lockchat.ToolCall{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			f.done = true
			continue
		}
		var ch wireChunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			t.Fatalf("capture event %q: %v", data, err)
		}
		if ch.Usage != nil {
			f.usage = ch.Usage
		}
		for _, c := range ch.Choices {
			if c.Delta.Content != nil {
				f.content += *c.Delta.Content
			}
			f.reasoning += c.Delta.Reasoning
			if c.FinishReason != nil {
				f.finish = *c.FinishReason
			}
			for _, tc := range c.Delta.ToolCalls {
				call := f.calls[tc.Index]
				if call == nil {
					call = &lockchat.ToolCall{ID: tc.ID, Type: tc.Type, Name: tc.Function.Name}
					f.calls[tc.Index] = call
				}
				call.Arguments += tc.Function.Arguments
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOllamaCaptures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		finish string           // the completion's finish reason; "" for a failure
		calls  []string         // the tool calls' names
		check  func(error) bool // the failure expected, nil for success
	}{
		{name: "text", finish: "stop"},
		{name: "text-usage", finish: "stop"},
		{name: "tool-call", finish: "tool_calls", calls: []string{"get_weather"}},
		{name: "two-tool-calls", finish: "tool_calls", calls: []string{"get_weather", "get_time"}},
		{name: "tool-result", finish: "stop"},
		{name: "reasoning", finish: "stop"},
		{name: "reasoning-off", finish: "stop"},
		{name: "length", finish: "length"},
		{name: "no-finish", check: func(err error) bool {
			// The body ends without a finish reason or [DONE]: cut short, 33 chunks in.
			var ie *lockchat.InterruptedError
			return errors.As(err, &ie) && ie.Delivered == 33 && errors.Is(err, io.ErrUnexpectedEOF)
		}},
		{name: "unknown-model", check: func(err error) bool {
			var ae *lockchat.APIError
			return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound &&
				ae.Message == "model 'no-such-model' not found" && ae.Type == "api_error"
		}},
	} {
		c := readCapture(t, tc.name)
		want := foldCapture(t, c.body)
		for _, piece := range []int{0, 1, 7, 100} {
			t.Run(tc.name+"/piece="+strconv.Itoa(piece), func(t *testing.T) {
				srv := serveCapture(c, piece)
				defer srv.Close()
				client := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxRetries(0))
				comp, err := client.Chat(context.Background(), "m", hello)
				if tc.check != nil {
					if err == nil || !tc.check(err) {
						t.Fatalf("err = %v, not the failure expected", err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if c.status != http.StatusOK {
					return
				}
				m := comp.Message()
				if m.Content != want.content || m.Reasoning != want.reasoning {
					t.Errorf("content %q, reasoning %q; the events hold %q, %q", m.Content, m.Reasoning, want.content, want.reasoning)
				}
				if want.content == "" && want.reasoning == "" && len(want.calls) == 0 {
					t.Fatal("the capture holds no output: the fold is wrong")
				}
				if len(m.ToolCalls) != len(tc.calls) || len(want.calls) != len(tc.calls) {
					t.Fatalf("%d tool calls, the events hold %d, want %d", len(m.ToolCalls), len(want.calls), len(tc.calls))
				}
				for i, got := range m.ToolCalls {
					w := want.calls[i]
					if got.Name != tc.calls[i] || got.Name != w.Name || got.ID != w.ID || got.Arguments != w.Arguments || got.Type != w.Type {
						t.Errorf("call %d = %+v, the events hold %+v", i, got, *w)
					}
				}
				if tc.check == nil {
					if got := comp.Choices[0].FinishReason; got != tc.finish || got != want.finish {
						t.Errorf("finish %q, the events hold %q, want %q", got, want.finish, tc.finish)
					}
					if !want.done {
						t.Error("a successful capture without [DONE]")
					}
				}
				if (comp.Usage == nil) != (want.usage == nil) || comp.Usage != nil && *comp.Usage != *want.usage {
					t.Errorf("usage %+v, the events hold %+v", comp.Usage, want.usage)
				}
			})
		}
	}
}
