package lockchat_test

// The helpers of this package's tests: conversations, bodies, servers, transports.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

var hello = []lockchat.Message{{Role: "user", Content: "Привет! Как дела?"}}

// fast makes retries quick enough for tests.
var fast = lockchat.WithRetryDelay(time.Millisecond, 5*time.Millisecond)

// collect runs a stream to its end and returns its tokens and its error.
func collect(seq func(func(string, error) bool)) ([]string, error) {
	var toks []string
	for tok, err := range seq {
		if err != nil {
			return toks, err
		}
		toks = append(toks, tok)
	}
	return toks, nil
}

// waitFor polls cond until it holds or the test's patience runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// sse returns an event stream of one OpenAI chunk per token, its content alone, then
// "data: [DONE]": the shortest whole answer a server sends.
func sse(tokens ...string) string { return sseChunks(tokens...) + "data: [DONE]\n\n" }

// sseChunks is sse without [DONE]: an answer cut short, or one the test goes on writing.
func sseChunks(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		content, _ := json.Marshal(tok)
		b.WriteString(`data: {"choices":[{"delta":{"content":` + string(content) + "}}]}\n\n")
	}
	return b.String()
}

// sseServer serves events as one event stream, then [DONE].
func sseServer(t *testing.T, events ...string) string {
	t.Helper()
	return newRawServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			fmt.Fprintf(w, "data: %s\n\n", e)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
}

func newRawServer(t *testing.T, write func(w http.ResponseWriter)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		write(w)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closedPort returns a base URL on loopback where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1"
}

// silentServer returns a base URL on loopback whose server accepts connections and
// never answers; they are closed when the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/v1"
}

// attemptLog records the endpoint of each attempt of a call, through WithTrace.
type attemptLog struct {
	mu        sync.Mutex
	endpoints []int
}

func (l *attemptLog) option() lockchat.Option {
	return lockchat.WithTrace(func(ctx context.Context, _ lockchat.CallInfo) (context.Context, *lockchat.Trace) {
		return ctx, &lockchat.Trace{Attempt: func(a lockchat.AttemptInfo) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.endpoints = append(l.endpoints, a.Endpoint)
		}}
	})
}

func (l *attemptLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.endpoints {
		b.WriteByte('A' + byte(e))
	}
	return b.String()
}

func ok(tokens ...string) lockchattest.Reply { return lockchattest.Reply{Tokens: tokens} }

func status(code int) lockchattest.Reply {
	return lockchattest.Reply{Status: code, Error: lockchattest.ErrorBody{Message: http.StatusText(code)}}
}

// twoEndpoints starts servers A and B with the replies given and returns them with a
// client that fails over from A to B, made with opts; the servers close when the test
// ends.
func twoEndpoints(t *testing.T, a, b []lockchattest.Reply, opts ...lockchat.Option) (*lockchattest.Server, *lockchattest.Server, *lockchat.Client) {
	t.Helper()
	sa, sb := lockchattest.NewServer(a...), lockchattest.NewServer(b...)
	t.Cleanup(sa.Close)
	t.Cleanup(sb.Close)
	opts = append(opts, lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: sa.URL}, lockchat.Endpoint{BaseURL: sb.URL}))
	return sa, sb, lockchat.New(opts...)
}
