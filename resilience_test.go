package lockchat_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

const secretKey = "sk-RECOGNISABLE-secret-0123456789"

// ownClient returns an HTTP client with a transport of its own, so that a test can close
// its idle connections and count what is left.
func ownClient() (*http.Client, *http.Transport) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: tr}, tr
}

// noLeak records the goroutines running now and, at cleanup, waits for their number to
// come back down once idle connections are closed.
func noLeak(t *testing.T, tr *http.Transport) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			tr.CloseIdleConnections()
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRetriedStatuses(t *testing.T) {
	for status, retried := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 422: false,
		408: true, 409: true, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		srv := lockchattest.NewServer(lockchattest.Reply{Status: status, Error: lockchattest.ErrorBody{Message: "nope"}})
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithMaxRetries(2))
		_, err := c.Complete(context.Background(), "m", hello)
		srv.Close()
		var apiErr *lockchat.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			t.Errorf("%d: err = %v", status, err)
		}
		want := 1
		if retried {
			want = 3
		}
		if n := len(srv.Requests()); n != want {
			t.Errorf("status %d: %d requests, want %d", status, n, want)
		}
	}
}

func TestRetryThenSuccessRebuildsBodyAndClosesResponses(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "try later")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"choices":[{"delta":{"content":"ok"}}]}`+"\n\ndata: [DONE]\n\n")
	}))
	defer ts.Close()
	rec := &recordingTransport{base: http.DefaultTransport}
	c := lockchat.New(lockchat.WithBaseURL(ts.URL), fast, lockchat.WithHTTPClient(&http.Client{Transport: rec}))
	got, err := c.Complete(context.Background(), "m", hello)
	if err != nil || got != "ok" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bodies) != 3 {
		t.Fatalf("%d attempts, want 3", len(rec.bodies))
	}
	for i, b := range rec.bodies {
		if b != rec.bodies[0] || !strings.Contains(b, `"stream":true`) {
			t.Errorf("attempt %d sent body %q, first sent %q", i, b, rec.bodies[0])
		}
	}
	if rec.opened != 3 || rec.closed != 3 {
		t.Fatalf("%d responses opened, %d closed", rec.opened, rec.closed)
	}
}

// recordingTransport records each request body and counts response bodies closed.
type recordingTransport struct {
	base   http.RoundTripper
	mu     sync.Mutex
	bodies []string
	opened int
	closed int
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	rt.mu.Lock()
	rt.bodies = append(rt.bodies, string(b))
	rt.mu.Unlock()
	resp, err := rt.base.RoundTrip(r)
	if err == nil {
		rt.mu.Lock()
		rt.opened++
		rt.mu.Unlock()
		resp.Body = &closeCounter{ReadCloser: resp.Body, rt: rt}
	}
	return resp, err
}

type closeCounter struct {
	io.ReadCloser
	rt   *recordingTransport
	once sync.Once
}

func (c *closeCounter) Close() error {
	c.once.Do(func() {
		c.rt.mu.Lock()
		c.rt.closed++
		c.rt.mu.Unlock()
	})
	return c.ReadCloser.Close()
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	for _, tc := range []struct {
		header, value string
		max, want     time.Duration
	}{
		{"Retry-After", "1", time.Minute, time.Second},
		{"Retry-After", "120", 50 * time.Millisecond, 50 * time.Millisecond},
		{"Retry-After-Ms", "30", time.Minute, 30 * time.Millisecond},
		{"Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 70 * time.Millisecond, 70 * time.Millisecond},
	} {
		var calls atomic.Int32
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set(tc.header, tc.value)
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"choices":[{"delta":{"content":"ok"}}]}`+"\n\ndata: [DONE]\n\n")
		}))
		var logs logBuffer
		c := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithRetryDelay(time.Millisecond, tc.max),
			lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		got, err := c.Complete(context.Background(), "m", hello)
		ts.Close()
		if err != nil || got != "ok" {
			t.Fatalf("%s: %q, %v", tc.value, got, err)
		}
		if want := fmt.Sprintf("delay=%v", tc.want); !strings.Contains(logs.String(), want) ||
			!strings.Contains(logs.String(), "attempt=1") || !strings.Contains(logs.String(), "429") {
			t.Errorf("%s %s: log %q lacks %s, the attempt or the reason", tc.header, tc.value, logs.String(), want)
		}
	}
}

func TestBackoffSleepEndsWithContext(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Status: 503})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithRetryDelay(time.Hour, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Complete(ctx, "m", hello)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %v, want DeadlineExceeded at once", err, time.Since(start))
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("%d requests", n)
	}
}

func TestRetryableInStreamErrorBeforeFirstToken(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if calls.Add(1) == 1 {
			io.WriteString(w, `data: {"choices":[{"delta":{"role":"assistant"}}]}`+"\n\n")
			io.WriteString(w, `data: {"error":{"message":"The server had an error","type":"server_error"}}`+"\n\n")
			return
		}
		io.WriteString(w, `data: {"choices":[{"delta":{"content":"ok"}}]}`+"\n\ndata: [DONE]\n\n")
	}))
	defer ts.Close()
	got, err := lockchat.New(lockchat.WithBaseURL(ts.URL), fast).Complete(context.Background(), "m", hello)
	if err != nil || got != "ok" || calls.Load() != 2 {
		t.Fatalf("Complete = %q, %v after %d requests", got, err, calls.Load())
	}
}

func TestIdleTimeout(t *testing.T) {
	stall := make(chan struct{})
	defer close(stall)
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		tokens  string
	}{
		{"before the headers", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}, ""},
		{"after the headers", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}, ""},
		{"between events", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"choices":[{"delta":{"content":"a"}}]}`+"\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}, "a"},
	} {
		var calls atomic.Int32
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			io.Copy(io.Discard, r.Body) // lets the server notice the client leave
			tc.handler(w, r)
		}))
		hc, tr := ownClient()
		c := lockchat.New(lockchat.WithBaseURL(ts.URL), fast, lockchat.WithHTTPClient(hc),
			lockchat.WithIdleTimeout(250*time.Millisecond), lockchat.WithMaxRetries(1))
		got, err := c.Complete(context.Background(), "m", hello)
		tr.CloseIdleConnections()
		ts.Close()
		if got != tc.tokens || !errors.Is(err, lockchat.ErrIdleTimeout) {
			t.Errorf("%s: Complete = %q, %v; want ErrIdleTimeout", tc.name, got, err)
		}
		wantCalls := int32(2) // retried: nothing was delivered
		if tc.tokens != "" {
			wantCalls = 1
		}
		if calls.Load() != wantCalls {
			t.Errorf("%s: %d requests, want %d", tc.name, calls.Load(), wantCalls)
		}
	}
}

func TestTrickleIsNotIdle(t *testing.T) {
	body := `data: {"choices":[{"delta":{"content":"slow"}}]}` + "\n\n" + `data: {"choices":[{"delta":{"content":" but alive"}}]}` + "\n\ndata: [DONE]\n\n"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range len(body) {
			w.Write([]byte{body[i]})
			w.(http.Flusher).Flush()
			time.Sleep(2 * time.Millisecond)
		}
	}))
	defer ts.Close()
	// The whole reply takes far longer than the idle timeout, but no silence does.
	c := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithIdleTimeout(time.Second))
	got, err := c.Complete(context.Background(), "m", hello)
	if err != nil || got != "slow but alive" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
}

func TestNoLeakOnEveryOutcome(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, Delay: 5 * time.Millisecond})
	defer srv.Close()
	errSrv := lockchattest.NewServer(lockchattest.Reply{Status: 500})
	defer errSrv.Close()
	outcomes := map[string]func(c *lockchat.Client){
		"success": func(c *lockchat.Client) {
			if _, err := c.Complete(context.Background(), "m", hello); err != nil {
				t.Error(err)
			}
		},
		"error": func(c *lockchat.Client) {
			if _, err := c.Complete(context.Background(), "m", hello, lockchat.WithBaseURL(errSrv.URL)); err == nil {
				t.Error("no error from a 500")
			}
		},
		"break": func(c *lockchat.Client) {
			for range c.Stream(context.Background(), "m", hello) {
				break
			}
		},
		"cancel": func(c *lockchat.Client) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for _, err := range c.Stream(ctx, "m", hello) {
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Error(err)
				}
				cancel()
			}
		},
		"panic": func(c *lockchat.Client) {
			defer func() {
				if recover() == nil {
					t.Error("the panic did not come through")
				}
			}()
			for range c.Stream(context.Background(), "m", hello) {
				panic("boom")
			}
		},
	}
	for name, run := range outcomes {
		t.Run(name, func(t *testing.T) {
			hc, tr := ownClient()
			noLeak(t, tr)
			run(lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithHTTPClient(hc)))
		})
	}
	// Break, cancel and panic each abandoned a reply; the server saw every one.
	waitFor(t, "three abandoned requests", func() bool { return srv.Aborted() == 3 })
}

func TestConnectionReuse(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}})
	defer srv.Close()
	hc, tr := ownClient()
	defer tr.CloseIdleConnections()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithHTTPClient(hc))
	for range 100 {
		if got, err := c.Complete(context.Background(), "m", hello); err != nil || got != "ab" {
			t.Fatalf("Complete = %q, %v", got, err)
		}
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("100 sequential streams opened %d connections, want 1", n)
	}
}

// tokenServer streams tokens named after the request's user message, so that each
// concurrent stream can check it got its own.
func tokenServer(tokens int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		i := bytes.Index(b, []byte(`"content":"`))
		j := bytes.IndexByte(b[i+11:], '"')
		name := string(b[i+11 : i+11+j])
		w.Header().Set("Content-Type", "text/event-stream")
		bw := bufio.NewWriter(w)
		for k := range tokens {
			fmt.Fprintf(bw, `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"%s:%d "},"finish_reason":null}]}`+"\n\n", name, k)
			if k%64 == 63 {
				bw.Flush()
				w.(http.Flusher).Flush()
			}
		}
		io.WriteString(bw, "data: [DONE]\n\n")
		bw.Flush()
	}))
}

func TestConcurrentStreams(t *testing.T) {
	streams, tokens := 1000, 200
	if testing.Short() {
		streams = 100
	}
	ts := tokenServer(tokens)
	defer ts.Close()
	hc, tr := ownClient()
	tr.MaxIdleConnsPerHost = streams
	defer tr.CloseIdleConnections()
	c := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithHTTPClient(hc))
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("s%d", s)
			var want strings.Builder
			for k := range tokens {
				fmt.Fprintf(&want, "%s:%d ", name, k)
			}
			got, err := c.Complete(context.Background(), "m", []lockchat.Message{{Role: "user", Content: name}})
			if err != nil || got != want.String() {
				errs <- fmt.Errorf("stream %s: %d bytes, %v", name, len(got), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHostileServers(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		opts    []lockchat.Option
		timeout time.Duration
		check   func(error) bool
	}{
		{"closes during the headers", func(w http.ResponseWriter, r *http.Request) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/ev")
			buf.Flush()
			conn.Close()
		}, nil, 0, func(err error) bool { return errors.Is(err, lockchat.ErrConnection) }},
		{"resets mid-event", func(w http.ResponseWriter, r *http.Request) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
			buf.WriteString(`data: {"choices":[{"delta":{"content":"a"}}]}` + "\n\ndata: {\"choi")
			buf.Flush()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, nil, 0, func(err error) bool {
			var ie *lockchat.InterruptedError
			return errors.As(err, &ie) && ie.Delivered == 1 && (errors.Is(err, lockchat.ErrConnection) || errors.Is(err, io.ErrUnexpectedEOF))
		}},
		{"stalls after the headers", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, []lockchat.Option{lockchat.WithIdleTimeout(50 * time.Millisecond)}, 0,
			func(err error) bool { return errors.Is(err, lockchat.ErrIdleTimeout) }},
		{"endless line", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: ")
			chunk := bytes.Repeat([]byte("x"), 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, []lockchat.Option{lockchat.WithMaxLineSize(1 << 20)}, 0,
			func(err error) bool {
				return errors.Is(err, lockchat.ErrLineTooLong) && strings.Contains(err.Error(), "1048576")
			}},
		{"endless comments", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for r.Context().Err() == nil {
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}, nil, 200 * time.Millisecond, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{"200 with an HTML page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>Login</title>"+strings.Repeat("<div></div>", 10000))
		}, nil, 0, func(err error) bool {
			var e *lockchat.APIError
			return errors.As(err, &e) && e.StatusCode == 200 && len(err.Error()) < 600 && strings.Contains(err.Error(), "text/html")
		}},
		{"502 with an empty body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}, nil, 0, func(err error) bool {
			var e *lockchat.APIError
			return errors.As(err, &e) && e.StatusCode == 502 && strings.Contains(err.Error(), "502 Bad Gateway")
		}},
		{"429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
		}, []lockchat.Option{lockchat.WithRetryDelay(time.Millisecond, 10*time.Millisecond)}, 0, func(err error) bool {
			var e *lockchat.APIError
			return errors.As(err, &e) && e.StatusCode == 429 && e.Code == "rate_limit_exceeded" && strings.Contains(err.Error(), "giving up after 3 attempts")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // lets the server notice the client leave
				tc.handler(w, r)
			}))
			defer ts.Close()
			hc, tr := ownClient()
			noLeak(t, tr)
			var logs logBuffer
			opts := append([]lockchat.Option{lockchat.WithBaseURL(ts.URL), fast, lockchat.WithHTTPClient(hc),
				lockchat.WithAPIKey(secretKey), lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, tc.opts...)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err := lockchat.New(opts...).Complete(ctx, "m", hello)
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error()+logs.String(), "RECOGNISABLE") {
				t.Fatalf("the API key leaked:\n%v\n%s", err, logs.String())
			}
		})
	}
}

func TestServerEchoingTheKeyIsRedacted(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","code":"invalid_api_key"}}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer ts.Close()
	_, err := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithAPIKey(secretKey)).Complete(context.Background(), "m", hello)
	var e *lockchat.APIError
	if !errors.As(err, &e) || e.StatusCode != 401 || strings.Contains(err.Error(), "RECOGNISABLE") || !strings.Contains(e.Message, "[redacted]") {
		t.Fatalf("err = %v", err)
	}
}

func TestRedirectToAnotherHostDropsAuthorization(t *testing.T) {
	var gotAuth, gotTrace atomic.Value
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotTrace.Store(r.Header.Get("X-Trace"))
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"choices":[{"delta":{"content":"moved"}}]}`+"\n\ndata: [DONE]\n\n")
	}))
	defer target.Close()
	// 127.0.0.1 and localhost are different hosts to the HTTP client.
	other := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer origin.Close()
	c := lockchat.New(lockchat.WithBaseURL(origin.URL), lockchat.WithAPIKey(secretKey), lockchat.WithHeader("X-Trace", "t1"))
	got, err := c.Complete(context.Background(), "m", hello)
	if err != nil || got != "moved" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	if a := gotAuth.Load(); a != "" {
		t.Fatalf("Authorization followed the redirect to another host: %q", a)
	}
	if tr := gotTrace.Load(); tr != "t1" {
		t.Fatalf("X-Trace = %q", tr)
	}
}

func TestTLSVerifiedByDefault(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request reached a server whose certificate is not trusted")
	}))
	defer ts.Close()
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	_, err := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithMaxRetries(0)).Complete(context.Background(), "m", hello)
	if !errors.Is(err, lockchat.ErrConnection) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a certificate error", err)
	}
	// With the server's own trusted client, the same call goes through TLS.
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"choices":[{"delta":{"content":"secure"}}]}`+"\n\ndata: [DONE]\n\n")
	})
	got, err := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithHTTPClient(ts.Client())).Complete(context.Background(), "m", hello)
	if err != nil || got != "secure" {
		t.Fatalf("Complete over TLS = %q, %v", got, err)
	}
}

func TestMalformedDataExcerptIsBounded(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{"data: " + strings.Repeat("<garbage>", 100000) + "\n\n"}})
	defer srv.Close()
	_, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Complete(context.Background(), "m", hello)
	if !errors.Is(err, lockchat.ErrMalformedStream) || len(err.Error()) > 600 {
		t.Fatalf("err (%d bytes) = %.300v", len(err.Error()), err)
	}
}

func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	replies := map[string]lockchattest.Reply{
		"model not found":       {ModelNotFound: 10},
		"model not found event": {ModelNotFound: 10, ModelNotFoundInStream: true},
		"400":                   {Status: 400, Error: lockchattest.ErrorBody{Message: "bad"}},
		"cut":                   {Tokens: []string{"a", "b"}, CutAfter: 1},
		"malformed":             {Raw: []string{"data: {" + secretKey + "\n\n"}},
		"error event":           {Raw: []string{"event: error\ndata: key " + secretKey + " rejected\n\n"}},
		"html":                  {Raw: []string{"<html>" + secretKey + "</html>"}, ContentType: "text/html"},
	}
	for name, reply := range replies {
		srv := lockchattest.NewServer(reply)
		var logs logBuffer
		c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithAPIKey(secretKey),
			lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		_, err := c.Complete(context.Background(), "m", hello)
		srv.Close()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error()+logs.String(), "RECOGNISABLE") {
			t.Errorf("%s: the API key leaked:\n%v\n%s", name, err, logs.String())
		}
	}
}

func TestSlowCallerIsNotIdle(t *testing.T) {
	// The server sends a token every 10 ms; the caller takes three idle periods over each.
	// The silence is the caller's, not the server's: no idle timeout.
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, Delay: 10 * time.Millisecond})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithIdleTimeout(50*time.Millisecond))
	var got []string
	for tok, err := range c.Stream(context.Background(), "m", hello) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok)
		time.Sleep(150 * time.Millisecond)
	}
	if strings.Join(got, "") != "abc" {
		t.Fatalf("got %q", got)
	}
}
