package lockchat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// recorder keeps a call's events as lines, and the infos themselves.
type recorder struct {
	events []string
	done   []lockchat.DoneInfo
	resp   []lockchat.ResponseInfo
	first  []lockchat.FirstOutputInfo
	call   lockchat.CallInfo
}

func (r *recorder) trace() *lockchat.Trace {
	return &lockchat.Trace{
		Attempt: func(i lockchat.AttemptInfo) {
			r.events = append(r.events, fmt.Sprintf("attempt %d %s", i.Attempt, i.Model))
		},
		Response: func(i lockchat.ResponseInfo) {
			r.resp = append(r.resp, i)
			r.events = append(r.events, fmt.Sprintf("response %d %d %s", i.Attempt, i.StatusCode, i.RequestID))
		},
		FirstOutput: func(i lockchat.FirstOutputInfo) {
			r.first = append(r.first, i)
			r.events = append(r.events, fmt.Sprintf("first output %d", i.Attempt))
		},
		Retry: func(i lockchat.RetryInfo) {
			r.events = append(r.events, fmt.Sprintf("retry %d %v", i.Attempt, i.Err != nil))
		},
		Done: func(i lockchat.DoneInfo) {
			r.done = append(r.done, i)
			r.events = append(r.events, fmt.Sprintf("done %d attempts, %d output, stopped %v, err %v", i.Attempts, i.OutputChunks, i.Stopped, i.Err != nil))
		},
	}
}

// option records every call's events in r.
func (r *recorder) option() lockchat.Option {
	return lockchat.WithTrace(func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
		r.call = call
		return ctx, r.trace()
	})
}

func (r *recorder) check(t *testing.T, want ...string) {
	t.Helper()
	if strings.Join(r.events, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(r.events, "\n"), strings.Join(want, "\n"))
	}
}

func TestTraceEvents(t *testing.T) {
	ctx := context.Background()
	t.Run("a plain answer", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), r.option())
		if _, err := collect(c.Stream(ctx, "m1", hello)); err != nil {
			t.Fatal(err)
		}
		r.check(t, "attempt 1 m1", "response 1 200 req-1", "first output 1", "done 1 attempts, 2 output, stopped false, err false")
		if r.call.Model != "m1" {
			t.Errorf("CallInfo = %+v", r.call)
		}
		d := r.done[0]
		if d.Model != "m1" || d.ResponseID != "chatcmpl-lockchattest" || d.RequestID != "req-1" || d.FinishReason != "stop" || d.StatusCode != 200 {
			t.Errorf("DoneInfo = %+v", d)
		}
	})

	t.Run("a retry after a 503", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Status: 503}, lockchattest.Reply{Tokens: []string{"a"}})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, r.option())
		if _, err := collect(c.Stream(ctx, "m", hello)); err != nil {
			t.Fatal(err)
		}
		r.check(t, "attempt 1 m", "response 1 503 req-1", "retry 1 true",
			"attempt 2 m", "response 2 200 req-2", "first output 2", "done 2 attempts, 1 output, stopped false, err false")
	})

	t.Run("a failure before output after every retry", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Status: 500})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithMaxRetries(1), r.option())
		_, err := collect(c.Stream(ctx, "m", hello))
		if err == nil {
			t.Fatal("no error")
		}
		r.check(t, "attempt 1 m", "response 1 500 req-1", "retry 1 true",
			"attempt 2 m", "response 2 500 req-2", "done 2 attempts, 0 output, stopped false, err true")
		if !errors.Is(r.done[0].Err, err) && r.done[0].Err.Error() != err.Error() {
			t.Errorf("Done.Err = %v, the call's %v", r.done[0].Err, err)
		}
	})

	t.Run("a failure after output", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, CutAfter: 1})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, r.option())
		_, err := collect(c.Stream(ctx, "m", hello))
		var ie *lockchat.InterruptedError
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v", err)
		}
		r.check(t, "attempt 1 m", "response 1 200 req-1", "first output 1", "done 1 attempts, 1 output, stopped false, err true")
		if !errors.As(r.done[0].Err, &ie) {
			t.Errorf("Done.Err = %v, want the InterruptedError", r.done[0].Err)
		}
	})

	t.Run("a break in the loop body", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), r.option())
		for range c.Stream(ctx, "m", hello) {
			break
		}
		r.check(t, "attempt 1 m", "response 1 200 req-1", "first output 1", "done 1 attempts, 1 output, stopped true, err false")
	})

	t.Run("a cancelled context", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{": keep-alive\n\n"}, KeepOpen: true})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), r.option())
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := collect(c.Stream(cctx, "m", hello))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		r.check(t, "attempt 1 m", "response 1 200 req-1", "done 1 attempts, 0 output, stopped false, err true")
		if !errors.Is(r.done[0].Err, context.Canceled) {
			t.Errorf("Done.Err = %v", r.done[0].Err)
		}
	})

	t.Run("Chat with usage", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{
			Reasoning: []string{"hm"}, Tokens: []string{"a", "b"}, Delay: 5 * time.Millisecond,
			Usage: &lockchat.Usage{PromptTokens: 4, CompletionTokens: 3, TotalTokens: 7},
		})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithUsage(), r.option())
		if _, err := c.Chat(ctx, "m", hello); err != nil {
			t.Fatal(err)
		}
		d := r.done[0]
		if d.Usage == nil || d.Usage.TotalTokens != 7 || d.FinishReason != "stop" || d.OutputChunks != 3 {
			t.Errorf("DoneInfo = %+v", d)
		}
		if d.TimeToFirstOutput <= 0 || d.TimeToFirstOutput > d.Duration || r.first[0].Elapsed != d.TimeToFirstOutput {
			t.Errorf("time to first output %v, duration %v, FirstOutput %v", d.TimeToFirstOutput, d.Duration, r.first[0].Elapsed)
		}
		if r.resp[0].Elapsed <= 0 || r.resp[0].Elapsed > d.TimeToFirstOutput {
			t.Errorf("response at %v, first output at %v", r.resp[0].Elapsed, d.TimeToFirstOutput)
		}
	})

	t.Run("the header is a copy", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a"}})
		defer srv.Close()
		var r recorder
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), r.option())
		if _, err := c.Chat(ctx, "m", hello); err != nil {
			t.Fatal(err)
		}
		if got := r.resp[0].Header.Get("Content-Type"); got != "text/event-stream" {
			t.Errorf("Header Content-Type = %q", got)
		}
	})
}

func TestAPIErrorRequestID(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Status: http.StatusTooManyRequests, Error: lockchattest.ErrorBody{Message: "slow down"}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxRetries(0))
	_, err := c.Complete(context.Background(), "m", hello)
	var ae *lockchat.APIError
	if !errors.As(err, &ae) || ae.RequestID != "req-1" || !strings.Contains(err.Error(), `request id "req-1"`) {
		t.Fatalf("err = %v, want an APIError with request id req-1", err)
	}
}

// The request id header names servers use, in order of precedence.
func TestAPIErrorRequestIDHeaders(t *testing.T) {
	for _, tc := range []struct{ header, value string }{
		{"x-request-id", "a"}, {"request-id", "b"}, {"apim-request-id", "c"}, {"x-amzn-requestid", "d"}, {"cf-ray", "e"},
	} {
		srv := newRawServer(t, func(w http.ResponseWriter) {
			w.Header().Set(tc.header, tc.value)
			if tc.header != "cf-ray" {
				w.Header().Set("cf-ray", "ray") // a lesser name does not win
			}
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "bad gateway")
		})
		c := lockchat.New(lockchat.WithBaseURL(srv), lockchat.WithMaxRetries(0))
		_, err := c.Complete(context.Background(), "m", hello)
		var ae *lockchat.APIError
		if !errors.As(err, &ae) || ae.RequestID != tc.value {
			t.Errorf("%s: err = %v, RequestID %q", tc.header, err, ae.RequestID)
		}
	}
}

func TestTwoTraces(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a"}})
	defer srv.Close()
	type key struct{}
	var a, b recorder
	var sawA bool
	c := lockchat.New(lockchat.WithBaseURL(srv.URL),
		lockchat.WithTrace(func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
			return context.WithValue(ctx, key{}, "a"), a.trace()
		}),
		lockchat.WithTrace(func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
			sawA = ctx.Value(key{}) == "a" // the first one's context is passed on
			return ctx, b.trace()
		}),
		lockchat.WithTrace(func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
			return nil, nil // neither a context nor a trace: ignored
		}))
	if _, err := c.Complete(context.Background(), "m", hello); err != nil {
		t.Fatal(err)
	}
	want := []string{"attempt 1 m", "response 1 200 req-1", "first output 1", "done 1 attempts, 1 output, stopped false, err false"}
	a.check(t, want...)
	b.check(t, want...)
	if !sawA {
		t.Error("the second trace did not get the first one's context")
	}
}

func TestTraceConcurrentCalls(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}})
	defer srv.Close()
	var mu sync.Mutex
	var all []*recorder
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithTrace(func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
		r := &recorder{call: call}
		mu.Lock()
		all = append(all, r)
		mu.Unlock()
		return ctx, r.trace()
	}))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Chat(context.Background(), fmt.Sprint("m", i), hello); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(all) != 20 {
		t.Fatalf("%d traces started, want 20", len(all))
	}
	for _, r := range all {
		if len(r.events) != 4 || r.events[0] != "attempt 1 "+r.call.Model || len(r.done) != 1 || r.done[0].Model != r.call.Model {
			t.Errorf("call %s: events %q", r.call.Model, r.events)
		}
	}
}

// newRawServer starts a loopback server whose every answer write gives, and returns its
// base URL; it is closed when the test ends.
// A trace that logs each call's time to first token and the server's request id.
func ExampleWithTrace() {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hello"}})
	defer srv.Close()

	logCall := func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
		return ctx, &lockchat.Trace{
			Retry: func(r lockchat.RetryInfo) { fmt.Println("retrying after:", r.Err) },
			Done: func(d lockchat.DoneInfo) {
				fmt.Printf("model %s, request id %s, first token after more than 0s: %v, attempts %d, err %v\n",
					call.Model, d.RequestID, d.TimeToFirstOutput > 0, d.Attempts, d.Err)
			},
		}
	}
	client := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithTrace(logCall))
	text, err := client.Complete(context.Background(), "gpt-4o", []lockchat.Message{{Role: "user", Content: "Hi"}})
	fmt.Println(text, err)
	// Output:
	// model gpt-4o, request id req-1, first token after more than 0s: true, attempts 1, err <nil>
	// Hello <nil>
}
