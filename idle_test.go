package lockchat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

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
			io.WriteString(w, sseChunks("a"))
			w.(http.Flusher).Flush()
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				io.Copy(io.Discard, r.Body) // lets the server notice the client leave
				tc.handler(w, r)
			}))
			defer ts.Close()
			hc, tr := ownClient()
			defer tr.CloseIdleConnections()
			c := lockchat.New(lockchat.WithBaseURL(ts.URL), fast, lockchat.WithHTTPClient(hc),
				lockchat.WithIdleTimeout(250*time.Millisecond), lockchat.WithMaxRetries(1))
			got, err := c.Complete(context.Background(), "m", hello)
			if got != tc.tokens || !errors.Is(err, lockchat.ErrIdleTimeout) {
				t.Errorf("Complete = %q, %v; want ErrIdleTimeout", got, err)
			}
			wantCalls := int32(2) // retried: nothing was delivered
			if tc.tokens != "" {
				wantCalls = 1
			}
			if calls.Load() != wantCalls {
				t.Errorf("%d requests, want %d", calls.Load(), wantCalls)
			}
		})
	}
}

func TestTrickleIsNotIdle(t *testing.T) {
	body := sseChunks("slow") + sse(" but alive")
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

// TestPoolWaitIsNotIdle: with one connection per host, a second call waits for the
// first call's connection longer than the idle timeout, while the first caller dwells
// in its loop body. Neither wait is the server's silence.
func TestPoolWaitIsNotIdle(t *testing.T) {
	const idle = 100 * time.Millisecond
	release := make(chan struct{})
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, sseChunks("a"))
		w.(http.Flusher).Flush()
		if calls.Add(1) == 1 {
			<-release // the first reply holds its connection until the first caller moves on
		}
		io.WriteString(w, sse("b"))
	}))
	defer ts.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = 1
	defer tr.CloseIdleConnections()
	c := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithHTTPClient(&http.Client{Transport: tr}),
		lockchat.WithIdleTimeout(idle), lockchat.WithMaxRetries(0))
	second := make(chan error, 1)
	var first strings.Builder
	for tok, err := range c.Stream(context.Background(), "m", hello) {
		if err != nil {
			t.Fatal(err)
		}
		if first.Len() == 0 {
			go func() {
				got, err := c.Complete(context.Background(), "m", hello)
				if err == nil && got != "ab" {
					err = fmt.Errorf("second call got %q", got)
				}
				second <- err
			}()
			time.Sleep(4 * idle) // the second call waits for the connection all this time
			close(release)
		}
		first.WriteString(tok)
	}
	if first.String() != "ab" {
		t.Fatalf("first call got %q", first.String())
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

// TestIdleTimeoutCoversAHangingLookup checks that the idle timeout bounds a DNS lookup
// that never answers, also through a transport with a connection limit or wrapped by a
// RoundTripper (where the timer cannot be armed up front). The lookup goes to a resolver
// whose server never answers; nothing leaves this machine.
func TestIdleTimeoutCoversAHangingLookup(t *testing.T) {
	stop := make(chan struct{}) // ends the hung lookups with the test, for the leak check
	t.Cleanup(func() { close(stop) })
	hang := func(ctx context.Context, network, address string) (net.Conn, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-stop:
			return nil, errors.New("test over")
		}
	}
	// Each case has a transport of its own: a hung dial goes on holding its slot.
	transport := func() *http.Transport {
		dialer := &net.Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: hang}}
		return &http.Transport{DialContext: dialer.DialContext, MaxConnsPerHost: 1}
	}
	inner := transport()
	wrapped := roundTripperFunc(func(r *http.Request) (*http.Response, error) { return inner.RoundTrip(r) })
	for name, rt := range map[string]http.RoundTripper{"MaxConnsPerHost": transport(), "wrapped": wrapped} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := lockchat.New(lockchat.WithBaseURL("http://lockchat.invalid/v1"), lockchat.WithHTTPClient(&http.Client{Transport: rt}),
				lockchat.WithIdleTimeout(200*time.Millisecond), lockchat.WithMaxRetries(0))
			start := time.Now()
			_, err := c.Complete(ctx, "m", nil)
			if !errors.Is(err, lockchat.ErrIdleTimeout) {
				t.Fatalf("err = %v after %v, want lockchat.ErrIdleTimeout", err, time.Since(start))
			}
		})
	}
}

// TestFirstOutputTimeout checks that an attempt whose server sends headers, a role-only
// chunk and keep-alive comments, but no output, is abandoned with ErrFirstOutputTimeout
// and retried, while the idle timeout, fed by the comments, never fires; and that a long
// answer whose first output came in time is never cut by it.
func TestFirstOutputTimeout(t *testing.T) {
	pings := []string{`data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n"}
	for range 40 {
		pings = append(pings, ": keep-alive\n\n")
	}
	stalling := lockchattest.Reply{Raw: pings, Delay: 25 * time.Millisecond, KeepOpen: true}
	opts := []lockchat.Option{lockchat.WithFirstOutputTimeout(300 * time.Millisecond), lockchat.WithIdleTimeout(200 * time.Millisecond), fast}

	srv := lockchattest.NewServer(stalling)
	defer srv.Close()
	_, err := lockchat.New(append(opts, lockchat.WithBaseURL(srv.URL), lockchat.WithMaxRetries(1))...).Complete(context.Background(), "m", nil)
	if !errors.Is(err, lockchat.ErrFirstOutputTimeout) || errors.Is(err, lockchat.ErrIdleTimeout) || len(srv.Requests()) != 2 {
		t.Fatalf("err = %v after %d requests; want ErrFirstOutputTimeout after a retry", err, len(srv.Requests()))
	}
	if !strings.Contains(err.Error(), "no output from the server within 300ms") || strings.Count(err.Error(), "lockchat:") != 1 {
		t.Errorf("error text %q", err)
	}

	// A stalled attempt, then one that answers: the call succeeds on the second.
	retried := lockchattest.NewServer(stalling, lockchattest.Reply{Tokens: []string{"ok"}})
	defer retried.Close()
	if text, err := lockchat.New(append(opts, lockchat.WithBaseURL(retried.URL))...).Complete(context.Background(), "m", nil); err != nil || text != "ok" {
		t.Fatalf("Complete = %q, %v", text, err)
	}

	// Output in time, then a long answer: not cut.
	slow := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c", "d", "e", "f", "g", "h"}, Delay: 60 * time.Millisecond})
	defer slow.Close()
	if text, err := lockchat.New(append(opts, lockchat.WithBaseURL(slow.URL))...).Complete(context.Background(), "m", nil); err != nil || text != "abcdefgh" {
		t.Fatalf("Complete = %q, %v; want the whole slow answer", text, err)
	}
}
