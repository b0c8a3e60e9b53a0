package lockchat

import "time"

// This file lends a few unexported functions to the external tests (package
// lockchat_test).

// RetryDelay is retryDelay with the backoff set to first and max.
func RetryDelay(first, max time.Duration, attempt int, err error) time.Duration {
	return retryDelay(&config{retryDelay: first, maxRetryDelay: max}, attempt, err)
}

// ParseRetryAfter is parseRetryAfter.
var ParseRetryAfter = parseRetryAfter

// WithRetryAfterHint gives e the Retry-After hint a server's header would.
func WithRetryAfterHint(e *APIError, d time.Duration) *APIError {
	e.retryAfter = d
	return e
}
