package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// TestVerbose checks what -verbose prints, with a clock that moves one second each time
// it is read: asked at 0s, first output at 1s, done at 2s.
func TestVerbose(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Reasoning: []string{"r"}, Tokens: []string{"a", "b"},
		Usage: &lockchat.Usage{PromptTokens: 10, CompletionTokens: 21, TotalTokens: 31, CachedTokens: 4, ReasoningTokens: 5}})
	defer srv.Close()
	c := newCLI(strings.NewReader(""), nil)
	var tick time.Time
	c.sys.now = func() time.Time { tick = tick.Add(time.Second); return tick }
	code := c.run(context.Background(), "-verbose", "-base-url", srv.URL, "hi")
	want := "reasoning: r\n" +
		"request id           req-1\n" +
		"time to first token  1.000s\n" +
		"total time           2.000s\n" +
		"prompt tokens        10 (4 cached)\n" +
		"completion tokens    21 (5 reasoning)\n" +
		"speed                20.0 tokens/s\n"
	if code != 0 || c.stdout.String() != "ab\n" || c.stderr.String() != want {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, c.stdout.String(), c.stderr.String(), want)
	}
	// -verbose asks the server for the usage.
	if got, _ := json.Marshal(srv.Requests()[0].Payload["stream_options"]); string(got) != `{"include_usage":true}` {
		t.Fatalf("stream_options %s", got)
	}
}

func TestVerboseWithoutUsage(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a"}})
	defer srv.Close()
	code, _, errOut := runCLI([]string{"-verbose", "-base-url", srv.URL, "hi"}, "", nil)
	if code != 0 || !strings.Contains(errOut, "usage                the server sent none\n") || strings.Contains(errOut, "speed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestRetriesAreAnnounced checks that each retry is told on standard error as it
// happens, with or without -verbose.
func TestRetriesAreAnnounced(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Status: 503, Error: lockchattest.ErrorBody{Message: "overloaded\x1b[2J"}},
		lockchattest.Reply{Tokens: []string{"ok"}},
	)
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-base-url", srv.URL, "hi"}, "", nil)
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.HasPrefix(errOut, "lockchat: attempt 1 failed, retrying in ") || !strings.HasSuffix(errOut, ": HTTP 503 Service Unavailable from POST "+srv.URL+"/chat/completions: overloaded (request id \"req-1\")\n") ||
		strings.Count(errOut, "\n") != 1 {
		t.Fatalf("stderr %q", errOut)
	}
}

func TestRoundDelay(t *testing.T) {
	cases := map[time.Duration]string{
		1234 * time.Millisecond:   "1.2s",
		250400 * time.Microsecond: "250ms",
		30 * time.Second:          "30s",
	}
	for d, want := range cases {
		if got := roundDelay(d); got != want {
			t.Errorf("roundDelay(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestVerboseAfterAnInterrupt checks that -verbose does not blame the server for the
// usage an interrupted answer never got.
func TestVerboseAfterAnInterrupt(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{`data: {"choices":[{"delta":{"content":"first"}}]}` + "\n\n"}, KeepOpen: true})
	defer srv.Close()
	c := newCLI(strings.NewReader(""), nil)
	codes := make(chan int, 1)
	go func() { codes <- c.run(context.Background(), "-verbose", "-base-url", srv.URL, "hi") }()
	waitFor(t, c.stdout, "first")
	c.interrupts <- os.Interrupt
	code := finish(t, codes)
	errOut := c.stderr.String()
	if code != 130 || !strings.Contains(errOut, "usage                none: the answer was interrupted\n") || strings.Contains(errOut, "the server sent none") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestVerboseAfterAFailure(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}, CutAfter: 2})
	defer srv.Close()
	code, _, errOut := runCLI([]string{"-verbose", "-retries", "0", "-base-url", srv.URL, "hi"}, "", nil)
	if code != 1 || !strings.Contains(errOut, "usage                none: the answer failed\n") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestVerboseShowsAttempts checks that -verbose names the request id of the response
// that answered and counts the attempts a retry took.
func TestVerboseShowsAttempts(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Status: 503, Error: lockchattest.ErrorBody{Message: "busy"}},
		lockchattest.Reply{Tokens: []string{"ok"}},
	)
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-verbose", "-base-url", srv.URL, "hi"}, "", nil)
	if code != 0 || out != "ok\n" || !strings.Contains(errOut, "request id           req-2\nattempts             2\n") ||
		!strings.Contains(errOut, "attempt 1 failed, retrying in") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
