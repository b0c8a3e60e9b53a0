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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

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
		io.WriteString(w, sse("secure"))
	})
	got, err := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithHTTPClient(ts.Client())).Complete(context.Background(), "m", hello)
	if err != nil || got != "secure" {
		t.Fatalf("Complete over TLS = %q, %v", got, err)
	}
}

// sseTarget is a server that records the headers, method and body of each request and
// answers "moved".
type sseTarget struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func newSSETarget(tls bool) *sseTarget {
	st := &sseTarget{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		st.mu.Lock()
		st.reqs, st.body = append(st.reqs, r), append(st.body, string(b))
		st.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sse("moved"))
	})
	if tls {
		st.Server = httptest.NewTLSServer(h)
	} else {
		st.Server = httptest.NewServer(h)
	}
	return st
}

func (st *sseTarget) last() (*http.Request, string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.reqs) == 0 {
		return nil, ""
	}
	return st.reqs[len(st.reqs)-1], st.body[len(st.body)-1]
}

// redirector answers every request with a redirect of the given status to target.
func redirector(status int, target string, tls bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, target+r.URL.Path, status)
	})
	if tls {
		return httptest.NewTLSServer(h)
	}
	return httptest.NewServer(h)
}

var credentialOptions = []lockchat.Option{
	lockchat.WithAPIKey(secretKey),
	lockchat.WithHeader("api-key", "azure-"+secretKey),
	lockchat.WithHeader("X-Api-Key", "anthropic-"+secretKey),
	lockchat.WithHeader("X-Goog-Api-Key", "google-"+secretKey),
	lockchat.WithHeader("X-Trace", "t1"),
}

func TestRedirectsKeepCredentialsWhereTheyBelong(t *testing.T) {
	target := newSSETarget(false)
	defer target.Close()
	tlsOrigin := redirector(http.StatusTemporaryRedirect, target.URL, true) // https://127.0.0.1 to http://127.0.0.1
	defer tlsOrigin.Close()
	for _, tc := range []struct {
		name      string
		origin    *httptest.Server
		hc        *http.Client
		keepCreds bool
	}{
		// 127.0.0.1 and localhost are different hosts to the HTTP client.
		{"307 to another host", redirector(http.StatusTemporaryRedirect, strings.Replace(target.URL, "127.0.0.1", "localhost", 1), false), nil, false},
		{"308 to another host", redirector(http.StatusPermanentRedirect, strings.Replace(target.URL, "127.0.0.1", "localhost", 1), false), nil, false},
		{"from https down to http on the same host", tlsOrigin, tlsOrigin.Client(), false},
		{"307 on the same host", redirector(http.StatusTemporaryRedirect, target.URL, false), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.origin != tlsOrigin {
				defer tc.origin.Close()
			}
			opts := append([]lockchat.Option{lockchat.WithBaseURL(tc.origin.URL + "/v1"), lockchat.WithHTTPClient(tc.hc)}, credentialOptions...)
			got, err := lockchat.New(opts...).Complete(context.Background(), "m", hello)
			if err != nil || got != "moved" {
				t.Fatalf("Complete = %q, %v", got, err)
			}
			r, body := target.last()
			if r.Method != http.MethodPost || !strings.Contains(body, `"stream":true`) {
				t.Fatalf("the redirect arrived as %s with body %q", r.Method, body)
			}
			for _, h := range []string{"Authorization", "Api-Key", "X-Api-Key", "X-Goog-Api-Key"} {
				if sent := r.Header.Get(h) != ""; sent != tc.keepCreds {
					t.Errorf("%s sent: %v, want %v", h, sent, tc.keepCreds)
				}
			}
			if r.Header.Get("X-Trace") != "t1" {
				t.Errorf("X-Trace = %q, want it kept", r.Header.Get("X-Trace"))
			}
		})
	}
}

func TestRedirectThatWouldDropTheBodyFails(t *testing.T) {
	target := newSSETarget(false)
	defer target.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var requests atomic.Int32
			origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				http.Redirect(w, r, target.URL+"/v1/chat/completions", status)
			}))
			defer origin.Close()
			_, err := lockchat.New(lockchat.WithBaseURL(origin.URL+"/v1"), fast).Complete(context.Background(), "m", hello)
			if !errors.Is(err, lockchat.ErrRedirect) {
				t.Fatalf("err = %v, want ErrRedirect", err)
			}
			for _, want := range []string{origin.URL + "/v1/chat/completions", target.URL + "/v1/chat/completions", strconv.Itoa(status), "base URL"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if r, _ := target.last(); r != nil {
				t.Errorf("the target got a %s", r.Method)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests: the redirect was retried", n)
			}
		})
	}
}

func TestRedirectPolicyOfTheCallersClient(t *testing.T) {
	target := newSSETarget(false)
	defer target.Close()
	origin := redirector(http.StatusTemporaryRedirect, target.URL, false)
	defer origin.Close()
	refuse := errors.New("no redirects, please")
	for _, tc := range []struct {
		name   string
		policy func(*http.Request, []*http.Request) error
		check  func(error) bool
	}{
		{"none", nil, func(err error) bool { return err == nil }},
		{"allows", func(*http.Request, []*http.Request) error { return nil }, func(err error) bool { return err == nil }},
		{"refuses", func(*http.Request, []*http.Request) error { return refuse }, func(err error) bool {
			return errors.Is(err, lockchat.ErrRedirect) && errors.Is(err, refuse) && strings.Contains(err.Error(), refuse.Error())
		}},
		{"uses the last response", func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, func(err error) bool {
			var e *lockchat.APIError
			return errors.As(err, &e) && e.StatusCode == http.StatusTemporaryRedirect
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			hc := &http.Client{}
			if tc.policy != nil {
				hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
					calls.Add(1)
					return tc.policy(req, via)
				}
			}
			policy := fmt.Sprintf("%p", hc.CheckRedirect)
			_, err := lockchat.New(lockchat.WithBaseURL(origin.URL+"/v1"), lockchat.WithHTTPClient(hc), lockchat.WithMaxRetries(0)).
				Complete(context.Background(), "m", hello)
			if !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if tc.policy != nil && calls.Load() != 1 {
				t.Errorf("the caller's CheckRedirect ran %d times", calls.Load())
			}
			if got := fmt.Sprintf("%p", hc.CheckRedirect); got != policy {
				t.Errorf("the caller's client was changed: CheckRedirect %s, was %s", got, policy)
			}
		})
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, tc := range []struct{ name, base, want string }{
		{"empty", "", "it is empty"},
		{"no scheme", "127.0.0.1:8080/v1", "no scheme"},
		{"host and port only", "localhost:8080", "no scheme"},
		{"unsupported scheme", "ftp://example.com/v1", `scheme "ftp"`},
		{"no host", "http:///v1", "no host"},
		{"bad port", "http://user:hunter2@127.0.0.1:bad/v1", `"http://user:xxxxx@127.0.0.1:bad/v1": invalid port after host`},
		{"port out of range", "https://user:hunter2@127.0.0.1:70000/v1", "out of range"},
		{"bad host", "http://user:hunter2@bad host/v1", `"http://user:xxxxx@bad host/v1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			c := lockchat.New(lockchat.WithBaseURL(tc.base), lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			_, err := c.Complete(context.Background(), "m", hello)
			if !errors.Is(err, lockchat.ErrInvalidRequest) || !strings.Contains(err.Error(), "base URL") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want ErrInvalidRequest naming the base URL and %s", err, tc.want)
			}
			if strings.Contains(err.Error()+logs.String(), "hunter2") || logs.String() != "" {
				t.Fatalf("err = %v, logs %q", err, logs.String())
			}
		})
	}
	t.Run("the zero Client", func(t *testing.T) {
		_, err := new(lockchat.Client).Complete(context.Background(), "m", hello)
		if !errors.Is(err, lockchat.ErrInvalidRequest) || !strings.Contains(err.Error(), "New") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHeaderARequestCannotCarry(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"never"}})
	defer srv.Close()
	for _, tc := range []struct {
		name string
		opt  lockchat.Option
		want string
	}{
		{"a line break in a value", lockchat.WithHeader("X-Trace", "a\r\nInjected: yes"), `"X-Trace"`},
		{"a NUL in a value", lockchat.WithHeader("X-Trace", "a\x00b"), `"X-Trace"`},
		{"a space in a name", lockchat.WithHeader("X Trace", "a"), `"X Trace"`},
		{"a line break in the API key", lockchat.WithAPIKey("sk-hunter2\n"), "API key"},
		{"a line break in the User-Agent", lockchat.WithUserAgent("agent\n"), `"User-Agent"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lockchat.New(lockchat.WithBaseURL(srv.URL), tc.opt, fast).Complete(context.Background(), "m", hello)
			if !errors.Is(err, lockchat.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("err = %v; want ErrInvalidRequest naming %s, and no value", err, tc.want)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestStatusErrorNamesTheRequest(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("/v2/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"Unknown model","code":"unknown_model"}}`)
	})
	ts := httptest.NewServer(mux) // anything else: Go's plain-text 404
	defer ts.Close()
	const hint = `the base URL may lack "/v1"`
	for _, tc := range []struct {
		name, base string
		status     int
		hint       bool
	}{
		{"404 page without /v1", ts.URL, 404, true},
		{"404 page under /v1", ts.URL + "/v1/v1", 404, false},
		{"404 error object", ts.URL + "/v2", 404, false},
		{"500", ts.URL + "/v1", 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lockchat.New(lockchat.WithBaseURL(tc.base), lockchat.WithMaxRetries(0)).Complete(context.Background(), "m", hello)
			var e *lockchat.APIError
			url := tc.base + "/chat/completions"
			if !errors.As(err, &e) || e.StatusCode != tc.status || e.Method != "POST" || e.URL != url {
				t.Fatalf("err = %v (%+v)", err, e)
			}
			if !strings.Contains(err.Error(), "POST "+url) || strings.Contains(err.Error(), hint) != tc.hint {
				t.Fatalf("error %q: want it to name POST %s, and the hint: %v", err, url, tc.hint)
			}
		})
	}
}

// TestErrorsCarryOnePrefix: an error's text says "lockchat:" once, however many layers
// it has.
func TestErrorsCarryOnePrefix(t *testing.T) {
	cut := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}, CutAfter: 1})
	defer cut.Close()
	inStream := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		sseChunks("a"), `data: {"error":{"message":"boom"}}` + "\n\n"}})
	defer inStream.Close()
	malformed := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		sseChunks("a"), "data: {oops\n\n"}})
	defer malformed.Close()
	status := lockchattest.NewServer(lockchattest.Reply{Status: 503})
	defer status.Close()
	for name, base := range map[string]string{
		"a body cut after a token": cut.URL, "an error event after a token": inStream.URL,
		"malformed data after a token": malformed.URL, "a status": status.URL,
		"a refused connection": closedURL(t), "a bad base URL": "example.com/v1",
	} {
		for _, retries := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s, %d retries", name, retries), func(t *testing.T) {
				_, err := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithMaxRetries(retries), lockchat.WithRetryDelay(0, 0)).Complete(context.Background(), "m", hello)
				if err == nil || strings.Count(err.Error(), "lockchat:") != 1 {
					t.Fatalf("err = %v", err)
				}
			})
		}
	}
}

func TestAPIErrorFromEnvelope(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{
		Message: "Invalid value for 'temperature'", Type: "invalid_request_error", Param: "temperature", Code: "invalid_value",
	}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast)
	_, err := c.Complete(context.Background(), "m", hello)
	var apiErr *lockchat.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	want := lockchat.APIError{StatusCode: 400, Message: "Invalid value for 'temperature'", Type: "invalid_request_error", Param: "temperature", Code: "invalid_value"}
	if apiErr.StatusCode != want.StatusCode || apiErr.Message != want.Message || apiErr.Type != want.Type || apiErr.Param != want.Param || apiErr.Code != want.Code {
		t.Fatalf("APIError = %+v, want %+v", *apiErr, want)
	}
	if errors.Is(err, lockchat.ErrModelNotFound) {
		t.Fatal("a 400 matched ErrModelNotFound")
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("a 400 was retried: %d requests", n)
	}
	if s := err.Error(); !strings.Contains(s, "400") || !strings.Contains(s, "Invalid value") {
		t.Fatalf("error text %q lacks the status or the message", s)
	}
}

func TestAPIErrorFromHTMLPage(t *testing.T) {
	page := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("<p>nginx</p>", 1000) + "</body></html>"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, page)
	}))
	defer ts.Close()
	c := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithMaxRetries(0))
	_, err := c.Complete(context.Background(), "m", hello)
	var apiErr *lockchat.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Fatalf("err = %v, want *APIError with status 502", err)
	}
	if !strings.HasPrefix(apiErr.Body, "<html><head><title>502 Bad Gateway") || len(apiErr.Body) > 300 {
		t.Fatalf("Body excerpt = %q (%d bytes), want a bounded start of the page", apiErr.Body, len(apiErr.Body))
	}
	if apiErr.ContentType != "text/html" || !strings.Contains(err.Error(), "502") || len(err.Error()) > 500 {
		t.Fatalf("error %q: want the status, the content type and a bounded excerpt", err)
	}
}

// answeringTransport answers every request itself with a short stream, recording it, so
// that a test can see what would have gone to a remote host without any network.
type answeringTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *answeringTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, req)
	rt.mu.Unlock()
	body := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
	return &http.Response{
		StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req,
	}, nil
}

func (rt *answeringTransport) sent() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.reqs)
}

func TestNoCredentialInClearByDefault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []lockchat.Option
		refuse string // what the error says is refused; "" when the call goes
	}{
		{"a key to the default host", []lockchat.Option{lockchat.WithAPIKey("sk-secret")}, "the API key"},
		{"a key to an http host", []lockchat.Option{lockchat.WithBaseURL("http://api.example.com/v1"), lockchat.WithAPIKey("sk-secret")}, "the API key"},
		{"a credential header", []lockchat.Option{lockchat.WithBaseURL("http://api.example.com/v1"), lockchat.WithHeader("X-Api-Key", "sk-secret")}, "X-Api-Key header"},
		{"a password in the URL", []lockchat.Option{lockchat.WithBaseURL("http://user:sk-secret@api.example.com/v1")}, "user and password"},
		{"a key in the query", []lockchat.Option{lockchat.WithBaseURL("http://api.example.com/v1?key=sk-secret")}, "query"},
		{"opted in", []lockchat.Option{lockchat.WithAPIKey("sk-secret"), lockchat.WithInsecureHTTP()}, ""},
		{"over https", []lockchat.Option{lockchat.WithBaseURL("https://api.example.com/v1"), lockchat.WithAPIKey("sk-secret")}, ""},
		{"to loopback", []lockchat.Option{lockchat.WithBaseURL("http://127.0.0.1:9/v1"), lockchat.WithAPIKey("sk-secret")}, ""},
		{"to localhost", []lockchat.Option{lockchat.WithBaseURL("http://localhost:9/v1"), lockchat.WithAPIKey("sk-secret")}, ""},
		{"to ::1", []lockchat.Option{lockchat.WithBaseURL("http://[::1]:9/v1"), lockchat.WithAPIKey("sk-secret")}, ""},
		{"no credential", []lockchat.Option{lockchat.WithHeader("X-Trace", "1")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &answeringTransport{}
			opts := append([]lockchat.Option{lockchat.WithHTTPClient(&http.Client{Transport: rt})}, tc.opts...)
			text, err := lockchat.New(opts...).Complete(context.Background(), "m", hello)
			if tc.refuse == "" {
				if err != nil || text != "ok" || rt.sent() != 1 {
					t.Fatalf("Complete = %q, %v, %d requests; want the call to go", text, err, rt.sent())
				}
				return
			}
			if !errors.Is(err, lockchat.ErrInvalidRequest) || rt.sent() != 0 {
				t.Fatalf("err = %v, %d requests; want ErrInvalidRequest and nothing sent", err, rt.sent())
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.refuse) || !strings.Contains(msg, "WithInsecureHTTP()") || !strings.Contains(msg, "https://") || strings.Contains(msg, "sk-secret") {
				t.Errorf("error %q should name %q and both ways out, and quote no secret", msg, tc.refuse)
			}
		})
	}
	// A per-call option can opt in, and an opted-in client's call can still be refused
	// when it goes elsewhere: the check is the call's.
	rt := &answeringTransport{}
	c := lockchat.New(lockchat.WithHTTPClient(&http.Client{Transport: rt}), lockchat.WithAPIKey("sk-secret"))
	if _, err := c.Complete(context.Background(), "m", hello, lockchat.WithInsecureHTTP()); err != nil || rt.sent() != 1 {
		t.Fatalf("per-call opt-in: %v, %d requests", err, rt.sent())
	}
}

func TestCredentialQueryValuesMasked(t *testing.T) {
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		w.WriteHeader(http.StatusBadRequest)
		// A server that quotes the request back, key included.
		fmt.Fprintf(w, `{"error":{"message":"bad request to %s"}}`, r.URL.String())
	}))
	defer srv.Close()
	base := srv.URL + "/openai/deployments/gpt?api-version=2024-10-21&api-key=sk-secret%2Fx&Token=t0ken"
	_, err := lockchat.New(lockchat.WithBaseURL(base)).Complete(context.Background(), "m", hello)
	var ae *lockchat.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v", err)
	}
	if want := srv.URL + "/openai/deployments/gpt/chat/completions?api-version=2024-10-21&api-key=xxxxx&Token=xxxxx"; ae.URL != want {
		t.Errorf("APIError.URL = %q, want %q", ae.URL, want)
	}
	for _, secret := range []string{"sk-secret", "t0ken"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q quotes %q", err, secret)
		}
	}
	if gotQuery != "api-version=2024-10-21&api-key=sk-secret%2Fx&Token=t0ken" {
		t.Errorf("the server got query %q, want the base URL's", gotQuery)
	}
	for raw, want := range map[string]string{
		"https://h/v1?key=abc":                   "https://h/v1?key=xxxxx",
		"https://u:pw@h/v1?access_token=abc&x=1": "https://u:xxxxx@h/v1?access_token=xxxxx&x=1",
		"https://h/v1?sig=abc&sv=2024&keys=":     "https://h/v1?sig=xxxxx&sv=2024&keys=",
		"https://h/v1?monkey=banana":             "https://h/v1?monkey=xxxxx", // "key" inside a name counts: masking more is safe
		"http://h:bad/v1?api_key=abc#frag":       "http://h:bad/v1?api_key=xxxxx#frag",
		"https://h/v1":                           "https://h/v1",
	} {
		if got := lockchat.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestBaseURLWithQuery(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	for _, base := range []string{
		srv.URL + "/openai/deployments/gpt-4o?api-version=2024-10-21",
		srv.URL + "/openai/deployments/gpt-4o/?api-version=2024-10-21",
	} {
		if _, err := lockchat.New(lockchat.WithBaseURL(base)).Complete(context.Background(), "m", hello); err != nil {
			t.Fatal(err)
		}
	}
	want := "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("requests went to %q, want %q twice", got, want)
	}
}

// TestErrorObjectAfterABOM checks that a UTF-8 BOM before a non-2xx error object is
// dropped, as before an event stream, so that the error object is read.
func TestErrorObjectAfterABOM(t *testing.T) {
	base := newRawServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "\xEF\xBB\xBF"+`{"error":{"message":"bad temperature","param":"temperature"}}`)
	})
	_, err := lockchat.New(lockchat.WithBaseURL(base)).Complete(context.Background(), "m", hello)
	var ae *lockchat.APIError
	if !errors.As(err, &ae) || ae.Message != "bad temperature" || ae.Param != "temperature" {
		t.Fatalf("err = %v, want the error object's message", err)
	}
}

// TestCallersClientCopiedOnce checks that a call uses the copy of the caller's client
// made when WithHTTPClient was applied, with or without per-call options: a program that
// changes its client afterwards changes no call (and races with none).
func TestCallersClientCopiedOnce(t *testing.T) {
	first, later := &answeringTransport{}, &answeringTransport{}
	hc := &http.Client{Transport: first}
	c := lockchat.New(lockchat.WithBaseURL("https://api.example.com/v1"), lockchat.WithHTTPClient(hc))
	hc.Transport = later
	ctx := context.Background()
	if _, err := c.Complete(ctx, "m", hello); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(ctx, "m", hello, lockchat.WithTemperature(1)); err != nil {
		t.Fatal(err)
	}
	if first.sent() != 2 || later.sent() != 0 {
		t.Fatalf("the client's first transport got %d requests, the later one %d; want 2 and 0", first.sent(), later.sent())
	}
	// Changing the client while calls with per-call options run is no race (-race).
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			hc.Timeout++
		}
	}()
	for range 20 {
		if _, err := c.Complete(ctx, "m", hello, lockchat.WithTemperature(1)); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

// zeroReader reads nothing, forever, without an error.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestABodyThatGivesNothing: a body whose reads return nothing and no error, read after
// read, is a failed connection, as any other body the reader cannot read.
func TestABodyThatGivesNothing(t *testing.T) {
	tr := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
			Body: io.NopCloser(zeroReader{}), Request: r}, nil
	})
	client := lockchat.New(lockchat.WithBaseURL("http://lockchat.test/v1"), lockchat.WithHTTPClient(&http.Client{Transport: tr}), lockchat.WithMaxRetries(0))
	_, err := client.Complete(context.Background(), "m", hello)
	if !errors.Is(err, lockchat.ErrConnection) || !strings.HasPrefix(err.Error(), "lockchat: ") {
		t.Fatalf("err = %v, want ErrConnection", err)
	}
}
