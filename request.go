package lockchat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// This file holds one HTTP exchange: the request, the response's status and type, and
// the idle timeout that watches both.

// attempt sends the request once and decodes the answer.
func (c *Client) attempt(ctx context.Context, cfg *config, endpoint string, payload []byte, h handler, delivered *int) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var idle *watchdog
	if cfg.idleTimeout > 0 {
		idle = newWatchdog(cfg.idleTimeout, cancel)
		defer idle.stop()
		h = idle.watch(h)
	}
	req, err := newRequest(actx, cfg, endpoint, payload)
	if err != nil {
		return err
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if err := contextError(ctx, actx, cfg); err != nil {
			return err
		}
		return &transportError{err: err}
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if idle != nil {
		body = &idleReader{r: resp.Body, w: idle}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(ctx, actx, cfg, resp, body)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case ct == "" || ct == "text/event-stream":
		return consumeStream(ctx, actx, cfg, body, h, delivered, cancel)
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		return consumeJSON(ctx, actx, cfg, resp, body, h, delivered)
	}
	b, err := io.ReadAll(io.LimitReader(body, excerptLimit+1))
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return &APIError{StatusCode: resp.StatusCode, Message: "unexpected content type",
		ContentType: resp.Header.Get("Content-Type"), Body: excerpt(b)}
}

// errIdleCause cancels an attempt whose server fell silent for too long.
var errIdleCause = errors.New("idle")

// readError explains a failed read or request: the caller's context, the idle timeout,
// or the connection.
func readError(ctx, actx context.Context, cfg *config, err error) error {
	if err := contextError(ctx, actx, cfg); err != nil {
		return err
	}
	var tooLong *LineTooLongError
	if errors.As(err, &tooLong) || errors.Is(err, ErrMalformedStream) || errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return &transportError{err: err}
}

// contextError returns the caller's context error, or the idle timeout error if the
// attempt was cancelled for silence, or nil.
func contextError(ctx, actx context.Context, cfg *config) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if context.Cause(actx) == errIdleCause {
		return fmt.Errorf("%w: no data from the server for %v", ErrIdleTimeout, cfg.idleTimeout)
	}
	return nil
}

// statusError reads a bounded part of a non-2xx body and turns it into an *APIError.
func statusError(ctx, actx context.Context, cfg *config, resp *http.Response, body io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(body, 64<<10))
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	e := &APIError{StatusCode: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header, time.Now())}
	if !parseErrorBody(b, e) {
		e.ContentType = resp.Header.Get("Content-Type")
		e.Body = excerpt(b)
	}
	return e
}

// watchdog cancels an attempt once the server has been silent for its duration: no
// byte before the headers or between reads of the body. Time the caller spends in its
// loop body is not the server's silence: while a chunk is with the caller, and for a
// full period after, the watchdog waits.
type watchdog struct {
	d        time.Duration
	start    time.Time
	t        *time.Timer
	cancel   context.CancelCauseFunc
	lastRead atomic.Int64 // time of the last byte received, since start
	busy     atomic.Bool  // a chunk is with the caller
	handed   atomic.Int64 // chunks handed to the caller so far
	seen     atomic.Int64 // handed, as the timer last saw it
	stopped  atomic.Bool
}

func newWatchdog(d time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{d: d, start: time.Now(), cancel: cancel}
	w.t = time.AfterFunc(d, w.fire)
	return w
}

// fire runs when the timer expires: it cancels the attempt, or sets the timer again if
// the server or the caller was active meanwhile.
func (w *watchdog) fire() {
	if w.stopped.Load() {
		return // the attempt is over: set no timer again
	}
	if w.busy.Load() || w.seen.Swap(w.handed.Load()) != w.handed.Load() {
		w.t.Reset(w.d)
		return
	}
	if silent := time.Since(w.start) - time.Duration(w.lastRead.Load()); silent < w.d {
		w.t.Reset(w.d - silent)
		return
	}
	w.cancel(errIdleCause)
}

func (w *watchdog) stop() {
	w.stopped.Store(true)
	w.t.Stop()
}

// watch wraps h so that the time the caller spends with a chunk does not count.
func (w *watchdog) watch(h handler) handler {
	return func(s *chunkStream) bool {
		w.busy.Store(true)
		more := h(s)
		w.handed.Add(1)
		w.busy.Store(false)
		return more
	}
}

// idleReader tells the watchdog whenever bytes arrive.
type idleReader struct {
	r io.Reader
	w *watchdog
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.lastRead.Store(int64(time.Since(r.w.start)))
	}
	return n, err
}

func newRequest(ctx context.Context, cfg *config, endpoint string, payload []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("lockchat: bad base URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", cfg.userAgent)
	if cfg.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.apiKey)
	}
	for k, vs := range cfg.header {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	return req, nil
}
