package lockchat

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRetryDelayBackoff(t *testing.T) {
	cfg := &config{retryDelay: 100 * time.Millisecond, maxRetryDelay: time.Second}
	for attempt, base := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		base *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := retryDelay(cfg, attempt, errors.New("x"))
			if d < base/2 || d > base {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, base/2, base)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Fatalf("attempt %d: only %d distinct delays: no jitter", attempt, len(seen))
		}
	}
	if d := retryDelay(cfg, 10000, errors.New("x")); d > time.Second {
		t.Fatalf("a huge attempt number overflowed the cap: %v", d)
	}
	apiErr := &APIError{StatusCode: 429, retryAfter: time.Hour}
	if d := retryDelay(cfg, 0, apiErr); d != time.Second {
		t.Fatalf("Retry-After not capped: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"7"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{}, 0},
	} {
		if got := parseRetryAfter(tc.h, now); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}
}
