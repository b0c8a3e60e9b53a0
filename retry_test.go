package lockchat_test

import (
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

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
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := lockchattest.NewServer(lockchattest.Reply{Status: status, Error: lockchattest.ErrorBody{Message: "nope"}})
			defer srv.Close()
			c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithMaxRetries(2))
			_, err := c.Complete(context.Background(), "m", hello)
			var apiErr *lockchat.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
				t.Errorf("err = %v", err)
			}
			want := 1
			if retried {
				want = 3
			}
			if n := len(srv.Requests()); n != want {
				t.Errorf("%d requests, want %d", n, want)
			}
		})
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
		io.WriteString(w, sse("ok"))
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
		name, header, value string
		max, want           time.Duration
	}{
		{"seconds", "Retry-After", "1", time.Minute, time.Second},
		{"seconds over the cap", "Retry-After", "120", 50 * time.Millisecond, 50 * time.Millisecond},
		{"milliseconds", "Retry-After-Ms", "30", time.Minute, 30 * time.Millisecond},
		{"a date over the cap", "Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 70 * time.Millisecond, 70 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set(tc.header, tc.value)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, sse("ok"))
			}))
			defer ts.Close()
			var logs logBuffer
			c := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithRetryDelay(time.Millisecond, tc.max),
				lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			got, err := c.Complete(context.Background(), "m", hello)
			if err != nil || got != "ok" {
				t.Fatalf("Complete = %q, %v", got, err)
			}
			if want := fmt.Sprintf("delay=%v", tc.want); !strings.Contains(logs.String(), want) ||
				!strings.Contains(logs.String(), "attempt=1") || !strings.Contains(logs.String(), "429") {
				t.Errorf("log %q lacks %s, the attempt or the reason", logs.String(), want)
			}
		})
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
		io.WriteString(w, sse("ok"))
	}))
	defer ts.Close()
	got, err := lockchat.New(lockchat.WithBaseURL(ts.URL), fast).Complete(context.Background(), "m", hello)
	if err != nil || got != "ok" || calls.Load() != 2 {
		t.Fatalf("Complete = %q, %v after %d requests", got, err, calls.Load())
	}
}

func TestModelNotFoundRetried(t *testing.T) {
	for _, inStream := range []bool{false, true} {
		name := "404"
		if inStream {
			name = "in-stream"
		}
		t.Run(name, func(t *testing.T) {
			srv := lockchattest.NewServer(lockchattest.Reply{
				Tokens: []string{"fine"}, ModelNotFound: 2, ModelNotFoundInStream: inStream,
			})
			defer srv.Close()
			var logs bytes.Buffer
			c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast,
				lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			got, err := c.Complete(context.Background(), "gpt-4", hello)
			if err != nil || got != "fine" {
				t.Fatalf("Complete = %q, %v", got, err)
			}
			if n := len(srv.Requests()); n != 3 {
				t.Fatalf("%d requests, want 3", n)
			}
			if n := strings.Count(logs.String(), "retrying"); n != 2 {
				t.Fatalf("%d retries logged, want 2:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), "does not exist") {
				t.Fatalf("the log does not give the reason:\n%s", logs.String())
			}
		})
	}
}

func TestModelNotFoundBoundedByMaxRetries(t *testing.T) {
	for _, inStream := range []bool{false, true} {
		for _, retries := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("in stream %v, %d retries", inStream, retries), func(t *testing.T) {
				srv := lockchattest.NewServer(lockchattest.Reply{
					Tokens: []string{"never"}, ModelNotFound: 100, ModelNotFoundInStream: inStream,
				})
				defer srv.Close()
				c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithMaxRetries(retries))
				got, err := c.Complete(context.Background(), "gpt-4", hello)
				if got != "" || !errors.Is(err, lockchat.ErrModelNotFound) {
					t.Fatalf("Complete = %q, %v; want ErrModelNotFound", got, err)
				}
				var apiErr *lockchat.APIError
				if !errors.As(err, &apiErr) || apiErr.Code != "model_not_found" || !strings.Contains(apiErr.Message, "`gpt-4` does not exist") {
					t.Fatalf("the error carries no *APIError from the server: %#v", apiErr)
				}
				if wantStatus := map[bool]int{false: 404, true: 200}[inStream]; apiErr.StatusCode != wantStatus || apiErr.InStream != inStream {
					t.Fatalf("APIError status %d in-stream %v", apiErr.StatusCode, apiErr.InStream)
				}
				if n := len(srv.Requests()); n != retries+1 {
					t.Fatalf("%d requests, want %d", n, retries+1)
				}
			})
		}
	}
}

func TestNoRetryAfterToken(t *testing.T) {
	notFound := `data: {"error":{"message":"The model: ` + "`gpt-4`" + ` does not exist","code":"model_not_found"}}` + "\n\n"
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		`data: {"choices":[{"index":0,"delta":{"content":"partial"}}]}` + "\n\n",
		notFound,
	}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithMaxRetries(5))
	got, err := c.Complete(context.Background(), "gpt-4", hello)
	if got != "partial" {
		t.Fatalf("Complete text = %q, want the text received before the error", got)
	}
	var interrupted *lockchat.InterruptedError
	if !errors.As(err, &interrupted) || interrupted.Delivered != 1 || !errors.Is(err, lockchat.ErrModelNotFound) {
		t.Fatalf("err = %v, want an InterruptedError after 1 token wrapping ErrModelNotFound", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("%d requests: a request was retried after a token", n)
	}
}

func TestRetryDelayBackoff(t *testing.T) {
	first, max := 100*time.Millisecond, time.Second
	for attempt, base := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		t.Run(fmt.Sprintf("attempt %d", attempt), func(t *testing.T) {
			base *= time.Millisecond
			seen := map[time.Duration]bool{}
			for range 200 {
				d := lockchat.RetryDelay(first, max, attempt, errors.New("x"))
				if d < base/2 || d > base {
					t.Fatalf("delay %v outside [%v, %v]", d, base/2, base)
				}
				seen[d] = true
			}
			if len(seen) < 10 {
				t.Fatalf("only %d distinct delays: no jitter", len(seen))
			}
		})
	}
	if d := lockchat.RetryDelay(first, max, 10000, errors.New("x")); d > time.Second {
		t.Fatalf("a huge attempt number overflowed the cap: %v", d)
	}
	apiErr := lockchat.WithRetryAfterHint(&lockchat.APIError{StatusCode: 429}, time.Hour)
	if d := lockchat.RetryDelay(first, max, 0, apiErr); d != time.Second {
		t.Fatalf("Retry-After not capped: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"a date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"a past date", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"milliseconds first", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"7"}}, 250 * time.Millisecond},
		{"words", http.Header{"Retry-After": {"soon"}}, 0},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0},
		{"none", http.Header{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lockchat.ParseRetryAfter(tc.h, now); got != tc.want {
				t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
			}
		})
	}
}

// TestFailuresThatRepeatAreNotRetried: a failure that would fail the same way again is
// returned at once; a refused connection, which may not, is retried.
func TestFailuresThatRepeatAreNotRetried(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer redirecting.Close()
	noSuchHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "nowhere.example", IsNotFound: true}
	}}}
	for _, tc := range []struct {
		name    string
		opts    []lockchat.Option
		check   func(error) bool
		retries int
	}{
		{"no scheme", []lockchat.Option{lockchat.WithBaseURL("127.0.0.1:8080/v1")}, is(lockchat.ErrInvalidRequest), 0},
		{"invalid header value", []lockchat.Option{lockchat.WithBaseURL(redirecting.URL), lockchat.WithHeader("X-Trace", "a\r\nb")},
			is(lockchat.ErrInvalidRequest), 0},
		{"host does not exist", []lockchat.Option{lockchat.WithBaseURL("http://nowhere.example/v1"), lockchat.WithHTTPClient(noSuchHost)},
			is(lockchat.ErrConnection), 0},
		{"certificate does not verify", []lockchat.Option{lockchat.WithBaseURL(tlsSrv.URL)}, is(lockchat.ErrConnection), 0},
		{"redirect to a GET", []lockchat.Option{lockchat.WithBaseURL(redirecting.URL)}, is(lockchat.ErrRedirect), 0},
		{"refused connection", []lockchat.Option{lockchat.WithBaseURL(closedURL(t))}, is(lockchat.ErrConnection), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			opts := append([]lockchat.Option{fast, lockchat.WithMaxRetries(2), lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, tc.opts...)
			_, err := lockchat.New(opts...).Complete(context.Background(), "m", hello)
			if !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if n := strings.Count(logs.String(), "retrying"); n != tc.retries {
				t.Fatalf("%d retries, want %d: %v", n, tc.retries, err)
			}
		})
	}
}

// closedURL returns a base URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
