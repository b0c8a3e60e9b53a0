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
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
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
