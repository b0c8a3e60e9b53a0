// Package lockchat streams chat completions from Lockchat or any OpenAI-compatible server.
//
// It ports the Lockchat provider of a Python library of chat providers, keeping its
// request (the payload, the User-Agent, the retry on "model does not exist") and
// dropping its defects: every failure is an error the caller can inspect, nothing is
// retried once output was delivered, a stream cut short is never taken for a complete
// answer, and no goroutine or connection outlives a call.
//
//	client := lockchat.New()
//	for token, err := range client.Stream(ctx, "gpt-3.5-turbo", messages) {
//		if err != nil {
//			return err
//		}
//		fmt.Print(token)
//	}
package lockchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strings"
	"time"
)

// The facts of the original Lockchat provider.
const (
	// ProviderURL is the Lockchat service's address (plain HTTP).
	ProviderURL = "http://supertest.lockchat.app"
	// SupportsStream reports that the provider streams its answers.
	SupportsStream = true
	// SupportsGPT35Turbo reports that the provider serves ModelGPT35Turbo.
	SupportsGPT35Turbo = true
	// SupportsGPT4 reports that the provider serves ModelGPT4.
	SupportsGPT4 = true
)

// Models the Lockchat provider serves.
const (
	ModelGPT35Turbo = "gpt-3.5-turbo"
	ModelGPT4       = "gpt-4"
)

// Message is one message of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Client sends chat-completion requests. Its zero value is not usable; create one with
// New. A Client is safe for concurrent use.
type Client struct {
	cfg config
}

// New returns a client configured by opts; each call may override them.
func New(opts ...Option) *Client {
	c := &Client{cfg: defaultConfig()}
	for _, o := range opts {
		if o != nil {
			o(&c.cfg)
		}
	}
	return c
}

// Stream sends the conversation to model and yields each non-empty content token of the
// first choice as soon as its event arrives. On failure it yields ("", err) once and
// ends. Breaking out of the loop closes the response.
//
// Failures before the first token (a model that "does not exist", a 429 or 5xx, a
// dropped connection) are retried as WithMaxRetries allows; a failure after it is an
// *InterruptedError and is never retried, so no token is lost or repeated.
func (c *Client) Stream(ctx context.Context, model string, messages []Message, opts ...Option) iter.Seq2[string, error] {
	cfg := c.cfg.with(opts)
	return func(yield func(string, error) bool) {
		err := c.run(ctx, cfg, model, messages, func(d *chunkDecoder) (int, bool) {
			n := 0
			for i := range d.choices {
				if ch := &d.choices[i]; ch.index == 0 && ch.content != "" {
					n++
					if !yield(ch.content, nil) {
						return n, false
					}
				}
			}
			return n, true
		})
		if err != nil {
			yield("", err)
		}
	}
}

// StreamChunks is Stream for callers who need more than text: it yields every chunk,
// with all its choices, roles, finish reasons and usage. Chunks that carry nothing (an
// empty keep-alive event) are skipped.
func (c *Client) StreamChunks(ctx context.Context, model string, messages []Message, opts ...Option) iter.Seq2[Chunk, error] {
	cfg := c.cfg.with(opts)
	return func(yield func(Chunk, error) bool) {
		err := c.run(ctx, cfg, model, messages, func(d *chunkDecoder) (int, bool) {
			if len(d.choices) == 0 && d.usage == nil {
				return 0, true
			}
			ch := Chunk{
				ID:      jsonString(d.top[kID]),
				Model:   jsonString(d.top[kModel]),
				Choices: make([]Choice, len(d.choices)),
				Usage:   d.usage,
			}
			for i, dc := range d.choices {
				ch.Choices[i] = Choice{Index: dc.index, Role: dc.role, Content: dc.content, FinishReason: dc.finish}
			}
			return 1, yield(ch, nil)
		})
		if err != nil {
			yield(Chunk{}, err)
		}
	}
}

// Complete sends the conversation to model and returns the whole answer. On a failure
// after some text was received it returns that text together with the error.
func (c *Client) Complete(ctx context.Context, model string, messages []Message, opts ...Option) (string, error) {
	var b strings.Builder
	for token, err := range c.Stream(ctx, model, messages, opts...) {
		if err != nil {
			return b.String(), err
		}
		b.WriteString(token)
	}
	return b.String(), nil
}

// handler receives each decoded chunk. It returns how many items it delivered to the
// caller, and false when the caller wants no more.
type handler func(d *chunkDecoder) (delivered int, more bool)

// errStop ends an attempt because the caller stopped iterating.
var errStop = errors.New("lockchat: caller stopped")

// run sends the request, retrying failures that happen before anything was delivered,
// and feeds every chunk to h.
func (c *Client) run(ctx context.Context, cfg *config, model string, messages []Message, h handler) error {
	payload, err := buildPayload(cfg, model, messages)
	if err != nil {
		return err
	}
	endpoint := strings.TrimRight(cfg.baseURL, "/") + "/chat/completions"
	delivered := 0
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := redact(c.attempt(ctx, cfg, endpoint, payload, h, &delivered), cfg.apiKey)
		switch {
		case err == nil || err == errStop:
			return nil
		case ctx.Err() != nil:
			err = ctx.Err()
			if delivered > 0 {
				return &InterruptedError{Delivered: delivered, Err: err}
			}
			return err
		case delivered > 0:
			return &InterruptedError{Delivered: delivered, Err: err}
		case attempt >= cfg.maxRetries || !retryable(err):
			if attempt > 0 {
				return fmt.Errorf("lockchat: giving up after %d attempts: %w", attempt+1, err)
			}
			return err
		}
		delay := retryDelay(cfg, attempt, err)
		logRetry(ctx, cfg.logger, attempt+1, err, delay)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// attempt sends the request once and decodes the answer.
func (c *Client) attempt(ctx context.Context, cfg *config, endpoint string, payload []byte, h handler, delivered *int) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var idle *time.Timer
	if cfg.idleTimeout > 0 {
		idle = time.AfterFunc(cfg.idleTimeout, func() { cancel(errIdleCause) })
		defer idle.Stop()
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
		body = &idleReader{r: resp.Body, t: idle, d: cfg.idleTimeout}
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

// consumeStream decodes an event-stream body and feeds its chunks to h.
func consumeStream(ctx, actx context.Context, cfg *config, body io.Reader, h handler, delivered *int, cancel context.CancelCauseFunc) error {
	s := streamPool.Get().(*chunkStream)
	defer streamPool.Put(s)
	s.reset(body, cfg.maxLineSize)
	defer s.reset(nil, cfg.maxLineSize)
	for {
		err := s.next()
		if err == io.EOF {
			if s.done && s.events.err == nil {
				drain(body, cancel)
			}
			return nil
		}
		if err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				return err
			}
			return readError(ctx, actx, cfg, err)
		}
		n, more := h(&s.dec)
		*delivered += n
		if !more {
			return errStop
		}
		if s.dec.apiErr != nil {
			return s.dec.apiErr
		}
	}
}

// drain reads what little may follow [DONE] (the end of a chunked body), so that the
// connection can be reused, but never waits long for a server that keeps it open.
func drain(body io.Reader, cancel context.CancelCauseFunc) {
	t := time.AfterFunc(drainTimeout, func() { cancel(errDrainCause) })
	defer t.Stop()
	var buf [512]byte
	for range drainLimit / len(buf) {
		if _, err := body.Read(buf[:]); err != nil {
			return
		}
	}
}

const (
	drainTimeout = 50 * time.Millisecond
	drainLimit   = 4 << 10
)

var errDrainCause = errors.New("drained")

// consumeJSON handles a 2xx application/json body: an error object, or a whole
// completion from a server that ignored "stream": true.
func consumeJSON(ctx, actx context.Context, cfg *config, resp *http.Response, body io.Reader, h handler, delivered *int) error {
	b, err := io.ReadAll(io.LimitReader(body, int64(cfg.maxLineSize)+1))
	if err != nil {
		return readError(ctx, actx, cfg, err)
	}
	if len(b) > cfg.maxLineSize {
		return &LineTooLongError{Limit: cfg.maxLineSize}
	}
	apiErr := &APIError{StatusCode: resp.StatusCode}
	if parseErrorBody(b, apiErr) {
		return apiErr
	}
	var s chunkStream
	if err := s.dec.decode(b); err != nil {
		return fmt.Errorf("%w (body %q)", err, excerpt(b))
	}
	s.track()
	for {
		n, more := h(&s.dec)
		*delivered += n
		if !more {
			return errStop
		}
		if s.end() == io.EOF {
			return nil
		}
	}
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

// idleReader restarts the idle timer whenever bytes arrive.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
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
