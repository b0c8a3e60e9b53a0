package lockchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"strings"
	"time"
)

// This file holds one HTTP exchange: the request, the response's status and type. The
// idle timeout that watches it is idle.go's.

// attempt sends the request once and decodes the answer.
func (c *Client) attempt(ctx context.Context, cfg *config, endpoint string, payload []byte, h handler, delivered *int) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var idle *idleTimer
	if cfg.idleTimeout > 0 {
		idle = newIdleTimer(cfg.idleTimeout, cancel)
		defer idle.stop()
		actx = httptrace.WithClientTrace(actx, idle.connectionTrace())
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
	if idle != nil {
		idle.headersDone()
	}
	if err != nil {
		if err := contextError(ctx, actx, cfg); err != nil {
			return err
		}
		return &transportError{err: err}
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if idle != nil {
		body = idle.reader(resp.Body)
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
	e := recogniseError(b)
	if e == nil {
		e = &APIError{ContentType: resp.Header.Get("Content-Type"), Body: excerpt(b)}
	}
	e.StatusCode, e.retryAfter = resp.StatusCode, parseRetryAfter(resp.Header, time.Now())
	return e
}

// reservedParams are set by every call and cannot be overridden with WithParam.
var reservedParams = []string{"model", "messages", "stream"}

// buildPayload encodes the request body: the model, the messages, the temperature,
// "stream": true and the extra parameters, with keys in sorted order.
func buildPayload(cfg *config, model string, messages []Message) ([]byte, error) {
	p := make(map[string]any, len(cfg.params)+4)
	p["temperature"] = cfg.temperature
	for k, v := range cfg.params {
		for _, r := range reservedParams {
			if k == r {
				return nil, fmt.Errorf("lockchat: WithParam(%q): the call sets that field", k)
			}
		}
		p[k] = v
	}
	if messages == nil {
		messages = []Message{}
	}
	p["model"], p["messages"], p["stream"] = model, messages, true
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("lockchat: encoding the request: %w", err)
	}
	return b, nil
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
