package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestClientsReadTheWorkloads runs each client once over each workload, so that a plain
// go test catches a client (or a workload) that reads the wrong text.
func TestClientsReadTheWorkloads(t *testing.T) {
	all := append(Workloads(), Short("short", nil), Idle(0), Idle(100<<10))
	for _, w := range all {
		t.Run(w.Name, func(t *testing.T) {
			for _, c := range clients {
				hc := memoryClient(memTransport{body: w.Body})
				err := c.open(hc, "http://memory.invalid/v1", w)(context.Background(), newCheckers(w))
				if err != nil && !errors.Is(err, errCannot) {
					t.Errorf("%s: %v", c.name, err)
				}
			}
		})
	}
}

// TestClientsNoticeAWrongReading checks the checks: a reading that differs from the
// expectation by one byte, in the text, the reasoning, the arguments or the body, fails.
func TestClientsNoticeAWrongReading(t *testing.T) {
	for _, w := range Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			wrong := w
			wrong.Text, wrong.Reasoning, wrong.Args = strings.Replace(w.Text, " ", "_", 1),
				strings.Replace(w.Reasoning, " ", "_", 1), strings.Replace(w.Args, " ", "_", 1)
			wrong.Body = strings.Replace(w.Body, " ", "_", 1)
			for _, c := range clients {
				// The server sends the true body; the clients check against the wrong one.
				hc := memoryClient(memTransport{body: w.Body})
				err := c.open(hc, "http://memory.invalid/v1", w)(context.Background(), newCheckers(wrong))
				if err == nil {
					t.Errorf("%s: a wrong reading passed the check", c.name)
				}
			}
		})
	}
	w := Workloads()[0]
	short := w
	short.Text += "x"
	short.Body += "x"
	for _, c := range clients {
		hc := memoryClient(memTransport{body: w.Body})
		if err := c.open(hc, "http://memory.invalid/v1", w)(context.Background(), newCheckers(short)); err == nil {
			t.Errorf("%s: a reading shorter than expected passed the check", c.name)
		}
	}
}

// captureTransport answers like memTransport and keeps the last request's body.
type captureTransport struct {
	memTransport
	got []byte
}

func (t *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	t.got = b
	r.Body = http.NoBody
	return t.memTransport.RoundTrip(r)
}

// TestClientsSendTheConversation checks that every client sends the whole conversation,
// so that a short call costs each of them the same payload.
func TestClientsSendTheConversation(t *testing.T) {
	for _, w := range []Workload{Short("hi", nil), Short("10x1KB", Conversation(10, 1000))} {
		t.Run(w.Name, func(t *testing.T) {
			for _, c := range clients {
				tr := &captureTransport{memTransport: memTransport{body: w.Body}}
				hc := memoryClient(tr)
				if err := c.open(hc, "http://memory.invalid/v1", w)(context.Background(), newCheckers(w)); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				var req struct {
					Model    string `json:"model"`
					Messages []Turn `json:"messages"`
					Stream   bool   `json:"stream"`
				}
				if err := json.Unmarshal(tr.got, &req); err != nil {
					t.Fatalf("%s: the request is not JSON: %v", c.name, err)
				}
				if req.Model != model || !req.Stream || !reflect.DeepEqual(req.Messages, w.Request()) {
					t.Errorf("%s sent model %q, stream %v, %d messages; want %q, true, the %d of the workload",
						c.name, req.Model, req.Stream, len(req.Messages), model, len(w.Request()))
				}
			}
		})
	}
}

// TestIdleStreams measures a few idle streams of every client, plain and after a 1 MiB
// chunk: each stream must read the whole workload, and hold at least its goroutine and
// some heap while it is open.
func TestIdleStreams(t *testing.T) {
	for _, w := range []Workload{Idle(0), Idle(1 << 20)} {
		for _, c := range idleClients {
			t.Run(w.Name+"/"+c.name, func(t *testing.T) {
				r, err := idleStreams(context.Background(), c, 8, w)
				if err != nil {
					t.Fatal(err)
				}
				if r.goroutines < 1 || r.heap < 1024 {
					t.Errorf("%.1f goroutines and %.0f bytes of heap per open stream; want at least 1 and 1 KiB", r.goroutines, r.heap)
				}
			})
		}
	}
	t.Run("wrong reading", func(t *testing.T) {
		w := Idle(0)
		w.Text, w.Body = strings.Replace(w.Text, " ", "_", 1), strings.Replace(w.Body, " ", "_", 1)
		for _, c := range idleClients {
			if _, err := idleStreams(context.Background(), c, 2, w); err == nil {
				t.Errorf("%s: a wrong reading passed the check", c.name)
			}
		}
	})
}

// TestFirstTokens makes a few calls with every client in turn and checks that each got
// a first token in every call, at a time within the call.
func TestFirstTokens(t *testing.T) {
	srv, err := startServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	cs := firstTokenClients()
	start := time.Now()
	times, err := firstTokens(context.Background(), cs, srv.URL+"/stream/short", 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if len(times[c.name]) != 5 {
			t.Errorf("%s: %d times, want 5", c.name, len(times[c.name]))
		}
		for _, d := range times[c.name] {
			if d <= 0 || d > time.Since(start) {
				t.Errorf("%s: first token after %v", c.name, d)
			}
		}
	}
	if got := percentile([]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50); got != 5 {
		t.Errorf("median of 1…10 = %v, want 5", got)
	}
	if got := percentile([]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99); got != 10 {
		t.Errorf("99th percentile of 1…10 = %v, want 10", got)
	}
}

// TestLongStreamIsGenerate checks that the generated long answer is Generate's, and that
// its digests are those of Generate's text and body.
func TestLongStreamIsGenerate(t *testing.T) {
	const n = 3000
	want := Generate("x", n, true)
	var body strings.Builder
	LongStream{Tokens: n}.Each(func(ev string) error {
		body.WriteString(ev)
		return nil
	})
	if body.String() != want.Body {
		t.Fatal("LongStream's body is not Generate's")
	}
	var text, all Digest
	text.Add(want.Text)
	all.Add(want.Body)
	if w := Long(n); w.TextDigest != text || w.BodyDigest != all {
		t.Errorf("Long's digests %v, %v; want %v, %v", w.TextDigest, w.BodyDigest, text, all)
	}
	var one, two Digest
	one.Add("ab")
	two.Add("ba")
	if one == two {
		t.Error("the digest does not tell ab from ba")
	}
}

// TestLongAnswer reads a long answer of 20,000 tokens with every client in a child
// process, and checks that a child expecting another answer fails.
func TestLongAnswer(t *testing.T) {
	srv, err := startServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	for _, c := range clientsNamed("raw", "go-openai", "openai-go", "lockchat", "lockchat-chunks") {
		r, err := longAnswer(c.name, srv.URL+"/stream/long-20000", 20000)
		if err != nil {
			t.Fatal(err)
		}
		if r.start <= 0 || r.peak < r.start || r.alloc <= 0 {
			t.Errorf("%s: peak RSS %d KiB at the start, %d at the end; %d bytes allocated", c.name, r.start, r.peak, r.alloc)
		}
	}
	if _, err := longAnswer("lockchat", srv.URL+"/stream/long-20000", 20001); err == nil {
		t.Error("a child expecting 20,001 tokens read 20,000 without failing")
	}
	if _, err := longAnswer("raw", srv.URL+"/stream/long-20000", 20001); err == nil {
		t.Error("the raw child expecting 20,001 tokens read 20,000 without failing")
	}
}
