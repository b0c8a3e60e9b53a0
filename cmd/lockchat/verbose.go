package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lockchat/lockchat"
)

// This file tells what happens beside the answer: each retry as it happens, and for
// -verbose the timing and usage of each answer.

// timing is when an answer was asked for, began and ended.
type timing struct {
	start, first, end time.Time // first is zero when no output arrived
}

// printStats writes what -verbose shows after an answer, like ollama run --verbose: the
// server's request id and the number of attempts when there were several (from the
// call's trace, d), the timing, the usage and the repairs. err is the answer's failure,
// nil if it completed: an answer stopped early got no usage because it was stopped, and
// the usage row says so.
func printStats(w io.Writer, t timing, c lockchat.Completion, d lockchat.DoneInfo, err error) {
	var b strings.Builder
	row := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "%-20s "+format+"\n", append([]any{name}, args...)...)
	}
	if d.RequestID != "" {
		row("request id", "%s", stripAll(d.RequestID))
	}
	if d.Attempts > 1 {
		row("attempts", "%d", d.Attempts)
	}
	if !t.first.IsZero() {
		row("time to first token", "%s", seconds(t.first.Sub(t.start)))
	}
	row("total time", "%s", seconds(t.end.Sub(t.start)))
	if u := c.Usage; u != nil {
		row("prompt tokens", "%d%s", u.PromptTokens, detail(u.CachedTokens, "cached"))
		row("completion tokens", "%d%s", u.CompletionTokens, detail(u.ReasoningTokens, "reasoning"))
		// The speed of generation: the tokens over the time from the first to the last.
		span := t.end.Sub(t.first)
		if t.first.IsZero() || u.CompletionTokens < 2 || span <= 0 {
			row("speed", "unknown (too little output to time)")
		} else {
			row("speed", "%.1f tokens/s", float64(u.CompletionTokens-1)/span.Seconds())
		}
	} else {
		switch {
		case err == nil:
			row("usage", "the server sent none")
		case errors.Is(err, context.Canceled):
			row("usage", "none: the answer was interrupted")
		case errors.Is(err, context.DeadlineExceeded):
			row("usage", "none: the answer was stopped by -timeout")
		default:
			row("usage", "none: the answer failed")
		}
	}
	for _, r := range c.Repairs {
		row("repaired", "%s (%d×)", r.Kind, r.Count)
	}
	io.WriteString(w, b.String())
}

// seconds shows a duration in seconds, to the millisecond.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// detail returns " (n what)", or "" when n is 0.
func detail(n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d %s)", n, what)
}

// retryAnnouncer is the library's logger: it writes each retry to standard error as it
// happens ("lockchat: retrying in 1.2s: HTTP 503 …"), so that a failing or stalled server
// is never waited on in silence.
type retryAnnouncer struct {
	mu *sync.Mutex
	w  io.Writer
}

// newRetryAnnouncer returns a logger that announces retries on w.
func newRetryAnnouncer(w io.Writer) *slog.Logger {
	return slog.New(&retryAnnouncer{mu: new(sync.Mutex), w: w})
}

// Enabled reports true: the library logs only what should be seen.
func (h *retryAnnouncer) Enabled(context.Context, slog.Level) bool { return true }

// Handle writes one record: a retry with its delay, the attempt that failed and why, or
// any other record as its message and attributes.
func (h *retryAnnouncer) Handle(_ context.Context, r slog.Record) error {
	var attempt int64
	var delay time.Duration
	var reason, fromURL, toURL string
	var other []string
	r.Attrs(func(a slog.Attr) bool {
		switch v := a.Value.Resolve(); {
		case a.Key == "attempt" && v.Kind() == slog.KindInt64:
			attempt = v.Int64()
		case a.Key == "delay" && v.Kind() == slog.KindDuration:
			delay = v.Duration()
		case a.Key == "reason":
			reason = strings.TrimPrefix(v.String(), "lockchat: ")
		case a.Key == "from_url":
			fromURL = v.String()
		case a.Key == "to_url":
			toURL = v.String()
		default:
			other = append(other, a.Key+"="+v.String())
		}
		return true
	})
	var line string
	if toURL != "" { // a failover: the library masks the URLs' credentials
		line = fmt.Sprintf("lockchat: %s failed, trying %s: %s", fromURL, toURL, reason)
	} else if attempt > 0 {
		line = fmt.Sprintf("lockchat: attempt %d failed, retrying in %s: %s", attempt, roundDelay(delay), reason)
	} else {
		line = strings.Join(append([]string{strings.TrimPrefix(r.Message, "lockchat: ")}, other...), " ")
		line = "lockchat: " + line
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintln(h.w, stripAll(line))
	return err
}

// WithAttrs and WithGroup return the same handler: the library passes everything in
// the record.
func (h *retryAnnouncer) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *retryAnnouncer) WithGroup(string) slog.Handler      { return h }

// roundDelay shows a delay the way people read one: 250ms, 1.2s.
func roundDelay(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
