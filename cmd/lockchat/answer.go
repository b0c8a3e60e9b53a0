package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/lockchat/lockchat"
)

// This file asks for one answer and shows it as it streams; the one-shot command and the
// chat both go through it.

// session is a configured client and where its answers go.
type session struct {
	set    *settings
	sys    *system
	client *lockchat.Client
	model  string
	dim    bool // standard output is a terminal that shows dim text
}

// output shows an answer: as text (render.go) or as JSON lines (jsonout.go).
type output interface {
	chunk(lockchat.Chunk) error
	end(lockchat.Completion, error) error
}

// answer sends the conversation and shows the answer as it streams. It returns the
// answer as assembled (partial after a failure), whether any output arrived, and the
// error. The -timeout limit applies to it.
func (s *session) answer(ctx context.Context, messages []lockchat.Message) (c lockchat.Completion, delivered bool, err error) {
	if s.set.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.set.timeout)
		defer cancel()
	}
	width := 0
	if s.sys.stdoutTerminal && s.sys.termSize != nil {
		width, _ = s.sys.termSize()
	}
	var out output = newTextOutput(s.sys.stdout, s.sys.stderr, s.sys.stdoutTerminal, width, s.dim, s.set.hideReasoning)
	if s.set.json {
		out = &jsonOutput{w: s.sys.stdout}
	}
	var acc lockchat.Accumulator
	var done lockchat.DoneInfo // the call's end, as its trace saw it (-verbose)
	var opts []lockchat.Option
	if s.set.verbose {
		opts = append(opts, lockchat.WithTrace(func(ctx context.Context, _ lockchat.CallInfo) (context.Context, *lockchat.Trace) {
			return ctx, &lockchat.Trace{Done: func(d lockchat.DoneInfo) { done = d }}
		}))
	}
	t := timing{start: s.sys.now()}
	for chunk, streamErr := range s.client.StreamChunks(ctx, s.model, messages, opts...) {
		if streamErr != nil {
			err = streamErr
			break
		}
		if t.first.IsZero() && carriesOutput(chunk) {
			t.first = s.sys.now()
			delivered = true
		}
		acc.Add(chunk)
		if err = out.chunk(chunk); err != nil {
			break
		}
		if err = acc.Err(); err != nil {
			break
		}
	}
	t.end = s.sys.now()
	c = acc.Completion()
	if endErr := out.end(c, err); err == nil {
		err = endErr
	}
	if c.Endpoint > 0 && delivered { // after the answer's last words are out
		note(s.sys.stderr, s.dim, fmt.Sprintf("(answered by -fallback %d, %s)", c.Endpoint, displayURL(s.set.fallbacks[c.Endpoint-1].baseURL)))
	}
	if s.set.verbose {
		printStats(s.sys.stderr, t, c, done, err)
	}
	return c, delivered, err
}

// carriesOutput reports whether a chunk holds something to show: text, reasoning, a
// refusal or a tool call (not only a role, a finish reason or usage).
func carriesOutput(ch lockchat.Chunk) bool {
	for _, c := range ch.Choices {
		if c.Content != "" || c.Reasoning != "" || c.Refusal != "" || len(c.ToolCalls) > 0 {
			return true
		}
	}
	return false
}

// errInterrupt is the cause of an answer stopped by Ctrl-C.
var errInterrupt = errors.New("lockchat: interrupted")

// untilInterrupt returns a context that Ctrl-C cancels, with errInterrupt as its cause,
// and a function that stops watching for Ctrl-C; it must be called. Its goroutine ends
// when that function returns.
func untilInterrupt(ctx context.Context, interrupts <-chan os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-interrupts:
			cancel(errInterrupt)
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		wg.Wait()
		cancel(nil)
	}
}

// errorText is what the command prints for a failed answer: the error, server text
// stripped of control sequences, with "lockchat:" once. An answer cut short by the
// -timeout limit says so in those words. When the default server's name does not
// resolve, it says how to choose another server or try the demo.
func (s *session) errorText(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("lockchat: no complete answer within -timeout %s", s.set.timeout)
	case errors.Is(err, context.Canceled):
		return "lockchat: interrupted"
	}
	text := stripAll(err.Error())
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound && s.set.baseURL == lockchat.DefaultBaseURL {
		text += "; the default server's name does not resolve: give a server with -base-url (or LOCKCHAT_BASE_URL), or try -demo"
	}
	return text
}

// printError writes the error text of err to standard error.
func (s *session) printError(err error) {
	io.WriteString(s.sys.stderr, s.errorText(err)+"\n")
}
