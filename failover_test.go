package lockchat_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

func TestFailoverConnectionRefused(t *testing.T) {
	b := lockchattest.NewServer(ok("from ", "B"))
	defer b.Close()
	var log attemptLog
	client := lockchat.New(fast, log.option(), lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: closedPort(t)},
		lockchat.Endpoint{BaseURL: b.URL},
	))
	comp, err := client.Chat(context.Background(), "m", hello)
	if err != nil || comp.Message().Content != "from B" || comp.Endpoint != 1 {
		t.Fatalf("Chat = %q from endpoint %d, %v; want B's answer", comp.Message().Content, comp.Endpoint, err)
	}
	if log.String() != "AB" {
		t.Fatalf("attempts %s, want AB", &log)
	}
}

func TestFailoverSilentServerFirstOutputTimeout(t *testing.T) {
	// A sends its headers and keep-alive comments, never output; B answers.
	a := lockchattest.NewServer(lockchattest.Reply{
		Raw:      []string{": keep-alive\n\n", ": keep-alive\n\n", ": keep-alive\n\n", ": keep-alive\n\n"},
		Delay:    50 * time.Millisecond,
		KeepOpen: true,
	})
	defer a.Close()
	b := lockchattest.NewServer(ok("B"))
	defer b.Close()
	client := lockchat.New(fast, lockchat.WithFirstOutputTimeout(100*time.Millisecond),
		lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: a.URL}, lockchat.Endpoint{BaseURL: b.URL}))
	var got []string
	var endpoints []int
	for ch, err := range client.StreamChunks(context.Background(), "m", hello) {
		if err != nil {
			t.Fatal(err)
		}
		endpoints = append(endpoints, ch.Endpoint)
		for _, c := range ch.Choices {
			got = append(got, c.Content)
		}
	}
	if strings.Join(got, "") != "B" {
		t.Fatalf("content %q, want B's", got)
	}
	for _, e := range endpoints {
		if e != 1 {
			t.Fatalf("a chunk from endpoint %d: %v", e, endpoints)
		}
	}
}

func TestFailoverServerThatNeverAnswers(t *testing.T) {
	b := lockchattest.NewServer(ok("B"))
	defer b.Close()
	client := lockchat.New(fast, lockchat.WithIdleTimeout(100*time.Millisecond),
		lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: silentServer(t)}, lockchat.Endpoint{BaseURL: b.URL}))
	text, err := client.Complete(context.Background(), "m", hello)
	if err != nil || text != "B" {
		t.Fatalf("Complete = %q, %v", text, err)
	}
}

func TestFailoverRounds(t *testing.T) {
	// A always fails with a 500; B fails once with a 503, then answers. A is asked once
	// per round, never retried before B is asked.
	var log attemptLog
	_, _, client := twoEndpoints(t, []lockchattest.Reply{status(500)}, []lockchattest.Reply{status(503), ok("B")}, fast, log.option())
	comp, err := client.Chat(context.Background(), "m", hello)
	if err != nil || comp.Message().Content != "B" || comp.Endpoint != 1 {
		t.Fatalf("Chat = %q from %d, %v", comp.Message().Content, comp.Endpoint, err)
	}
	if log.String() != "ABAB" {
		t.Fatalf("attempts %s, want ABAB", &log)
	}
}

func TestFailoverGivesUpAfterTheRounds(t *testing.T) {
	var log attemptLog
	a, b, client := twoEndpoints(t, []lockchattest.Reply{status(500)}, []lockchattest.Reply{status(502)}, fast, log.option(), lockchat.WithMaxRetries(1))
	_, err := client.Complete(context.Background(), "m", hello)
	var fe *lockchat.FailoverError
	if !errors.As(err, &fe) || len(fe.Attempts) != 4 || log.String() != "ABAB" {
		t.Fatalf("err = %v (attempts %s), want a FailoverError of 4 attempts", err, &log)
	}
	for i, want := range []int{0, 1, 0, 1} {
		if fe.Attempts[i].Endpoint != want {
			t.Fatalf("attempt %d from endpoint %d, want %d", i, fe.Attempts[i].Endpoint, want)
		}
	}
	var apiErr *lockchat.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("errors.As found %v, want the first attempt's 500", apiErr)
	}
	if !strings.Contains(err.Error(), "endpoint 0 ("+a.URL+")") || !strings.Contains(err.Error(), "endpoint 1 ("+b.URL+")") ||
		strings.Count(err.Error(), "lockchat:") != 1 {
		t.Fatalf("error text %q", err)
	}
}

func TestFailoverSkipsAnEndpointWithWrongCredentials(t *testing.T) {
	var log attemptLog
	a, _, client := twoEndpoints(t, []lockchattest.Reply{status(401)}, []lockchattest.Reply{status(503), ok("B")}, fast, log.option())
	text, err := client.Complete(context.Background(), "m", hello)
	if err != nil || text != "B" || log.String() != "ABB" || len(a.Requests()) != 1 {
		t.Fatalf("Complete = %q, %v; attempts %s, A asked %d times", text, err, &log, len(a.Requests()))
	}
}

func TestFailoverEndsOnABadRequest(t *testing.T) {
	_, b, client := twoEndpoints(t, []lockchattest.Reply{status(400)}, []lockchattest.Reply{ok("B")}, fast)
	_, err := client.Complete(context.Background(), "m", hello)
	var apiErr *lockchat.APIError
	var fe *lockchat.FailoverError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || errors.As(err, &fe) || len(b.Requests()) != 0 {
		t.Fatalf("err = %v; B asked %d times; want A's 400 as it is, B never asked", err, len(b.Requests()))
	}
}

func TestFailoverNeverAfterOutput(t *testing.T) {
	_, b, client := twoEndpoints(t, []lockchattest.Reply{lockchattest.Reply{Tokens: []string{"a", "b", "c"}, CutAfter: 2}}, []lockchattest.Reply{ok("B")}, fast)
	var got strings.Builder
	var err error
	for tok, e := range client.Stream(context.Background(), "m", hello) {
		if e != nil {
			err = e
			break
		}
		got.WriteString(tok)
	}
	var ie *lockchat.InterruptedError
	if !errors.As(err, &ie) || got.String() != "ab" || len(b.Requests()) != 0 {
		t.Fatalf("streamed %q, %v; B asked %d times; want A's two tokens and an InterruptedError", got.String(), err, len(b.Requests()))
	}
}

func TestFailoverRemembersRetryAfter(t *testing.T) {
	a := lockchattest.NewServer(lockchattest.Reply{Status: 429, Error: lockchattest.ErrorBody{Message: "slow down"},
		Header: http.Header{"Retry-After": {"30"}}}, ok("A"))
	defer a.Close()
	b := lockchattest.NewServer(ok("B"))
	defer b.Close()
	client := lockchat.New(fast, lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: a.URL}, lockchat.Endpoint{BaseURL: b.URL}))
	for i := range 3 {
		text, err := client.Complete(context.Background(), "m", hello)
		if err != nil || text != "B" {
			t.Fatalf("call %d: %q, %v; want B's answer", i, text, err)
		}
	}
	if n := len(a.Requests()); n != 1 {
		t.Fatalf("A, cooling down after its 429, was asked %d times, want 1", n)
	}
	// Another client knows nothing of A's 429: it starts at A.
	other := lockchat.New(fast, lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: a.URL}, lockchat.Endpoint{BaseURL: b.URL}))
	if text, err := other.Complete(context.Background(), "m", hello); err != nil || text != "A" {
		t.Fatalf("a new client: %q, %v; want A's answer", text, err)
	}
}

func TestFailoverTriesCoolingEndpointsAllTheSame(t *testing.T) {
	a := lockchattest.NewServer(lockchattest.Reply{Status: 503, Header: http.Header{"Retry-After": {"30"}}}, ok("A"))
	defer a.Close()
	client := lockchat.New(fast, lockchat.WithMaxRetries(0), lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: a.URL}))
	if _, err := client.Complete(context.Background(), "m", hello); err == nil {
		t.Fatal("the 503 did not fail the call")
	}
	if text, err := client.Complete(context.Background(), "m", hello); err != nil || text != "A" {
		t.Fatalf("every endpoint cooling down: %q, %v; want it asked all the same", text, err)
	}
}

func TestFailoverKeepsCredentialsWithTheirEndpoint(t *testing.T) {
	a := lockchattest.NewServer(status(500))
	defer a.Close()
	b := lockchattest.NewServer(status(503))
	defer b.Close()
	var logs bytes.Buffer
	client := lockchat.New(fast, lockchat.WithMaxRetries(0),
		lockchat.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		lockchat.WithHeader("X-Shared", "both"),
		lockchat.WithEndpoints(
			lockchat.Endpoint{BaseURL: a.URL, APIKey: "sk-key-of-A", Header: http.Header{"X-Api-Key": {"hdr-of-A"}}},
			lockchat.Endpoint{BaseURL: b.URL, APIKey: "sk-key-of-B"},
		))
	_, err := client.Complete(context.Background(), "m", hello)
	var fe *lockchat.FailoverError
	if !errors.As(err, &fe) || len(fe.Attempts) != 2 {
		t.Fatalf("err = %v, want a FailoverError of 2 attempts", err)
	}
	ra, rb := a.Requests()[0], b.Requests()[0]
	if ra.Header.Get("Authorization") != "Bearer sk-key-of-A" || ra.Header.Get("X-Api-Key") != "hdr-of-A" || ra.Header.Get("X-Shared") != "both" {
		t.Fatalf("A received %v", ra.Header)
	}
	if rb.Header.Get("Authorization") != "Bearer sk-key-of-B" || rb.Header.Get("X-Shared") != "both" {
		t.Fatalf("B received %v", rb.Header)
	}
	for k, vs := range rb.Header {
		for _, v := range vs {
			if strings.Contains(v, "of-A") {
				t.Fatalf("B received A's credential in %s", k)
			}
		}
	}
	for _, text := range []string{err.Error(), logs.String()} {
		for _, secret := range []string{"sk-key-of-A", "sk-key-of-B", "hdr-of-A"} {
			if strings.Contains(text, secret) {
				t.Fatalf("%q leaks %s", text, secret)
			}
		}
	}
	if !strings.Contains(logs.String(), "failing over") || !strings.Contains(logs.String(), `"to_url":"`+b.URL+`"`) {
		t.Fatalf("the failover was not logged naming both endpoints:\n%s", logs.String())
	}
}

func TestFailoverMasksPasswordsInAttempts(t *testing.T) {
	client := lockchat.New(fast, lockchat.WithMaxRetries(0), lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: strings.Replace(closedPort(t), "http://", "http://user:hunter2@", 1)}))
	_, err := client.Complete(context.Background(), "m", hello)
	var fe *lockchat.FailoverError
	if !errors.As(err, &fe) || strings.Contains(fe.Attempts[0].BaseURL, "hunter2") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

func TestFailoverEndpointModel(t *testing.T) {
	a := lockchattest.NewServer(status(500))
	defer a.Close()
	b := lockchattest.NewServer(ok("B"))
	defer b.Close()
	client := lockchat.New(fast, lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: a.URL}, lockchat.Endpoint{BaseURL: b.URL, Model: "llama3.2:1b"}))
	if _, err := client.Complete(context.Background(), "gpt-4o-mini", hello); err != nil {
		t.Fatal(err)
	}
	if ma, mb := a.Requests()[0].Model, b.Requests()[0].Model; ma != "gpt-4o-mini" || mb != "llama3.2:1b" {
		t.Fatalf("A was asked for %q, B for %q", ma, mb)
	}
}

func TestFailoverEmptyAnswer(t *testing.T) {
	empty := lockchattest.Reply{} // a role chunk, a finish reason, [DONE]: no output
	t.Run("another endpoint remains", func(t *testing.T) {
		a := lockchattest.NewServer(empty)
		defer a.Close()
		b := lockchattest.NewServer(ok("B"))
		defer b.Close()
		client := lockchat.New(fast, lockchat.WithEndpoints(
			lockchat.Endpoint{BaseURL: a.URL}, lockchat.Endpoint{BaseURL: b.URL}))
		comp, err := client.Chat(context.Background(), "m", hello)
		if err != nil || comp.Message().Content != "B" || comp.Endpoint != 1 {
			t.Fatalf("Chat = %q from %d, %v", comp.Message().Content, comp.Endpoint, err)
		}
	})
	t.Run("the last endpoint's is the answer", func(t *testing.T) {
		a := lockchattest.NewServer(status(500))
		defer a.Close()
		b := lockchattest.NewServer(empty)
		defer b.Close()
		client := lockchat.New(fast, lockchat.WithEndpoints(
			lockchat.Endpoint{BaseURL: a.URL}, lockchat.Endpoint{BaseURL: b.URL}))
		comp, err := client.Chat(context.Background(), "m", hello)
		if err != nil || comp.Message().Content != "" || comp.Endpoint != 1 || len(b.Requests()) != 1 {
			t.Fatalf("Chat = %q from %d, %v", comp.Message().Content, comp.Endpoint, err)
		}
	})
}

func TestFailoverInvalidEndpoint(t *testing.T) {
	client := lockchat.New(lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: "http://127.0.0.1:1/v1"}, lockchat.Endpoint{BaseURL: "ftp://x"}))
	_, err := client.Complete(context.Background(), "m", hello)
	if !errors.Is(err, lockchat.ErrInvalidRequest) || !strings.Contains(err.Error(), "endpoint 1") {
		t.Fatalf("err = %v, want ErrInvalidRequest naming endpoint 1", err)
	}
}

func TestFailoverConcurrent(t *testing.T) {
	// A fails every other request before output; B is healthy. Every answer is whole
	// and from one endpoint.
	var replies []lockchattest.Reply
	for i := range 200 {
		if i%2 == 0 {
			replies = append(replies, status(503))
		} else {
			replies = append(replies, ok("a", "b", "c"))
		}
	}
	_, _, client := twoEndpoints(t, replies, []lockchattest.Reply{ok("x", "y", "z")}, fast)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			comp, err := client.Chat(context.Background(), "m", hello)
			want := map[int]string{0: "abc", 1: "xyz"}[comp.Endpoint]
			if err != nil || comp.Message().Content != want {
				errs <- errors.New("endpoint " + string(rune('0'+comp.Endpoint)) + " answered " + comp.Message().Content)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFailoverModels(t *testing.T) {
	b := lockchattest.NewServer()
	defer b.Close()
	b.SetModels("llama3.2", "qwen3")
	client := lockchat.New(fast, lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: closedPort(t)}, lockchat.Endpoint{BaseURL: b.URL}))
	models, err := client.Models(context.Background())
	if err != nil || len(models) != 2 || models[0].ID != "llama3.2" {
		t.Fatalf("Models = %v, %v; want B's list", models, err)
	}
}

func TestFailoverWaitsTheShortestRetryAfter(t *testing.T) {
	// Between rounds the client waits the shortest Retry-After an endpoint sent, not
	// the backoff (a second here) nor the other endpoint's longer one.
	busy := func(ms string) lockchattest.Reply {
		return lockchattest.Reply{Status: 503, Header: http.Header{"Retry-After-Ms": {ms}}}
	}
	var delays []time.Duration
	trace := lockchat.WithTrace(func(ctx context.Context, _ lockchat.CallInfo) (context.Context, *lockchat.Trace) {
		return ctx, &lockchat.Trace{Retry: func(r lockchat.RetryInfo) { delays = append(delays, r.Delay) }}
	})
	_, _, client := twoEndpoints(t, []lockchattest.Reply{busy("30"), ok("A")}, []lockchattest.Reply{busy("5000")},
		lockchat.WithRetryDelay(time.Second, 10*time.Second), trace)
	text, err := client.Complete(context.Background(), "m", hello)
	if err != nil || text != "A" {
		t.Fatalf("Complete = %q, %v", text, err)
	}
	// The failover from A to B is at once; the wait before the second round is A's.
	if len(delays) != 2 || delays[0] != 0 || delays[1] != 30*time.Millisecond {
		t.Fatalf("delays %v, want [0 30ms]", delays)
	}
}

func TestFailoverEndpointCredentialsWin(t *testing.T) {
	// A client-wide Authorization or Api-Key header does not override an endpoint's own
	// key or header, and never goes where the endpoint sets its own.
	a, b := lockchattest.NewServer(status(503)), lockchattest.NewServer(ok("B"))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	client := lockchat.New(fast, lockchat.WithHeader("Authorization", "Bearer client-wide"), lockchat.WithHeader("Api-Key", "client-wide"),
		lockchat.WithEndpoints(
			lockchat.Endpoint{BaseURL: a.URL, APIKey: "key-of-A"},
			lockchat.Endpoint{BaseURL: b.URL, Header: http.Header{"Api-Key": {"key-of-B"}}},
		))
	if _, err := client.Complete(context.Background(), "m", hello); err != nil {
		t.Fatal(err)
	}
	ha, hb := a.Requests()[0].Header, b.Requests()[0].Header
	if got := ha.Values("Authorization"); len(got) != 1 || got[0] != "Bearer key-of-A" {
		t.Errorf("A got Authorization %q, want its own key alone", got)
	}
	if got := hb.Values("Api-Key"); len(got) != 1 || got[0] != "key-of-B" {
		t.Errorf("B got Api-Key %q, want its own alone", got)
	}
	if hb.Get("Authorization") != "Bearer client-wide" {
		t.Errorf("B, with no key of its own, got Authorization %q, want the client's", hb.Get("Authorization"))
	}
}

func TestFailoverEndpointOfABareAnswer(t *testing.T) {
	_, _, client := twoEndpoints(t, []lockchattest.Reply{status(503)}, []lockchattest.Reply{{Raw: []string{"data: [DONE]\n\n"}}}, fast)
	comp, err := client.Chat(context.Background(), "m", hello)
	if err != nil || comp.Endpoint != 1 {
		t.Fatalf("Chat: endpoint %d, %v; want B's (empty) answer", comp.Endpoint, err)
	}
}

func TestFailoverRepairsStayWithTheirEndpoint(t *testing.T) {
	// A rejects streaming for the model; the client remembers that for A, not for B.
	notStreamed := lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{
		Message: "Your organization must be verified to stream this model.", Type: "invalid_request_error", Param: "stream", Code: "unsupported_value"}}
	a, b := lockchattest.NewServer(notStreamed, ok("A")), lockchattest.NewServer(ok("B"))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	client := lockchat.New(fast)
	if text, err := client.Complete(context.Background(), "m", hello, lockchat.WithBaseURL(a.URL)); err != nil || text != "A" {
		t.Fatalf("A: %q, %v", text, err)
	}
	if text, err := client.Complete(context.Background(), "m", hello, lockchat.WithBaseURL(b.URL)); err != nil || text != "B" {
		t.Fatalf("B: %q, %v", text, err)
	}
	if stream := b.Requests()[0].Payload["stream"]; stream != true {
		t.Fatalf("B was asked with stream %v: A's repair followed the model to B", stream)
	}
}
