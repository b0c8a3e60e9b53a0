package lockchat

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file holds the retry policy: what is retried, how long to wait, and the record of
// each retry. The loop that applies it, over endpoints and rounds, is failover.go's.

// retryable reports whether the same request may succeed if sent again. It is asked only
// while nothing has been delivered to the caller. A request that could not be sent as
// configured (ErrInvalidRequest), a redirect not followed (ErrRedirect), a host name
// that does not exist and a certificate that does not verify fail the same way again:
// they are not retried.
func retryable(err error) bool {
	var apiErr *APIError
	var netErr *transportError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.retryable()
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound, errors.As(err, &certErr):
		return false
	case errors.As(err, &netErr), errors.Is(err, ErrIdleTimeout), errors.Is(err, ErrFirstOutputTimeout), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}

// retryDelay returns how long to wait before attempt number attempt+1 (attempt counts
// from 0): the server's Retry-After if it sent one, else an exponential backoff with
// jitter; either way no more than the configured maximum.
func retryDelay(cfg *config, attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.retryAfter > 0 {
		return min(apiErr.retryAfter, cfg.maxRetryDelay)
	}
	d := cfg.retryDelay
	for range attempt {
		if d >= cfg.maxRetryDelay/2 {
			d = cfg.maxRetryDelay
			break
		}
		d *= 2
	}
	d = min(d, cfg.maxRetryDelay)
	if d <= 0 {
		return 0
	}
	// Equal jitter: half fixed, half random, so that clients that failed together do
	// not retry together.
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads the server's hint: retry-after-ms (milliseconds, as OpenAI
// sends), else Retry-After in seconds or as an HTTP date. It returns 0 for none.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > 1e6 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func logRetry(ctx context.Context, l *slog.Logger, attempt int, reason error, delay time.Duration) {
	if l == nil {
		return
	}
	l.LogAttrs(ctx, slog.LevelWarn, "lockchat: retrying request",
		slog.Int("attempt", attempt),
		slog.String("reason", reason.Error()),
		slog.Duration("delay", delay))
}

// retryable reports whether sending the same request again may succeed: the model "does
// not exist" (the original provider's flaky answer), a status that says "later", or,
// when the status says nothing (an error in a 2xx body or stream), an error type or code
// that does.
func (e *APIError) retryable() bool {
	if e.modelNotFound() {
		return true
	}
	switch {
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusConflict,
		e.StatusCode == http.StatusTooManyRequests, e.StatusCode >= 500 && e.StatusCode <= 599:
		return true // 5xx: 529 (overloaded) and a gateway's 520–524 included
	}
	if e.StatusCode < 200 || e.StatusCode > 299 {
		return false
	}
	switch e.Type {
	case "server_error", "rate_limit_error", "rate_limit_exceeded", "overloaded_error":
		return true
	}
	switch e.Code {
	case "server_error", "rate_limit_exceeded", "408", "429", "500", "502", "503", "504":
		return true
	}
	return false
}
