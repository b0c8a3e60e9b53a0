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
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
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

// Client sends chat-completion requests. Its zero value is not usable; create one with
// New. A Client is safe for concurrent use.
type Client struct {
	cfg config
	// repairs maps a model at an endpoint (see repairKey) to the requestRepair its
	// rejections taught (see repair.go); repaired says whether it holds any.
	repairs  sync.Map
	repaired atomic.Bool
	// cooldowns maps an endpoint (see cooldownKey) to the time.Time until which later
	// calls ask it last (see WithEndpoints).
	cooldowns sync.Map
}

// New returns a client configured by opts; each call may override them.
func New(opts ...Option) *Client {
	c := &Client{cfg: defaultConfig()}
	for _, o := range opts {
		if o != nil {
			o(&c.cfg)
		}
	}
	if c.cfg.client == nil {
		c.cfg.client = withRedirectPolicy(nil) // copied once, as WithHTTPClient copies
	}
	c.cfg.prep, _ = c.cfg.prepare() // a failure is each call's error
	return c
}

// Stream sends the conversation to model and yields each non-empty content token of the
// first choice as soon as its event arrives. On failure it yields ("", err) once and
// ends. Breaking out of the loop closes the response. An answer whose first choice holds
// no text but tool calls or a refusal ends with the *NoTextError that Complete returns,
// so that it is never taken for an empty answer.
//
// Failures before any output (a model that "does not exist", a 429 or 5xx, a dropped
// connection) are retried as WithMaxRetries allows; a failure after output is an
// *InterruptedError and is never retried, so no token is lost or repeated. Output is
// whatever a chunk carries for any choice (text, reasoning, a refusal, a tool-call
// fragment), whether or not Stream shows it, so that a failure is retried or not the
// same way whichever call the caller used.
func (c *Client) Stream(ctx context.Context, model string, messages []Message, opts ...Option) iter.Seq2[string, error] {
	cfg := c.cfg.with(opts)
	return func(yield func(string, error) bool) {
		// Until the first text, what the first choice holds instead: its reasoning, and
		// its refusal and tool calls assembled, for the NoTextError of an answer that
		// never has text.
		var noText struct {
			text           bool
			reasoning      strings.Builder
			reasoningField string
			other          *Accumulator
		}
		err := c.run(ctx, cfg, model, messages, func(s *chunkStream) bool {
			choices := s.decoded()
			for i := range choices {
				ch := &choices[i]
				if ch.index != 0 {
					continue
				}
				if text := ch.content(); text != "" {
					noText.text = true
					if !yield(text, nil) {
						return false
					}
					continue
				}
				if noText.text {
					continue
				}
				if r := ch.reasoning(); r != "" {
					if noText.reasoning.Len() == 0 && ch.reasoningField == fieldReasoning {
						noText.reasoningField = fieldReasoning // as the Accumulator keeps it
					}
					noText.reasoning.WriteString(r)
				}
				if ch.refusal() != "" || ch.hasCalls() {
					if noText.other == nil {
						noText.other = &Accumulator{MaxSize: cfg.maxCompletion}
					}
					noText.other.Add(s.chunk())
				}
			}
			return true
		}, nil)
		switch {
		case err != nil:
			yield("", err)
		case !noText.text && noText.other != nil:
			if err := noText.other.Err(); err != nil {
				yield("", err)
				return
			}
			m := noText.other.Completion().Message()
			m.Reasoning, m.reasoningField = noText.reasoning.String(), noText.reasoningField
			yield("", newNoTextError(cfg, m))
		}
	}
}

// StreamChunks is Stream for callers who need more than text: it yields every chunk,
// with all its choices, roles, reasoning, refusals, tool-call fragments, finish reasons
// and usage. Chunks that carry nothing (an empty keep-alive event) are skipped, but not
// a chunk without choices whose JSON holds keys beyond the envelope (Azure's first chunk,
// "choices":[] with "prompt_filter_results"): read those in Chunk.Raw. Feed the
// chunks to an Accumulator to assemble the answer, or call Chat, which does that.
//
// A failure before any output is retried, so a chunk that carried none (the role alone)
// may come again from the new attempt; an Accumulator takes that in its stride.
func (c *Client) StreamChunks(ctx context.Context, model string, messages []Message, opts ...Option) iter.Seq2[Chunk, error] {
	cfg := c.cfg.with(opts)
	return func(yield func(Chunk, error) bool) {
		err := c.run(ctx, cfg, model, messages, func(s *chunkStream) bool {
			if s.keepAlive() {
				return true
			}
			return yield(s.chunk(), nil)
		}, nil)
		if err != nil {
			yield(Chunk{}, err)
		}
	}
}

// Chat sends the conversation to model and returns the whole assistant turn, assembled
// from the stream: content, reasoning, refusal, tool calls, finish reason and usage, for
// every choice. It is what an Accumulator fed from StreamChunks gives, from the attempt
// that answered alone (the chunks of an attempt that failed before output are left
// out). Append completion.Message() to the conversation to continue it.
//
// On a failure after output it returns what arrived together with the error (an
// *InterruptedError). An answer larger than WithMaxCompletionSize fails with a
// *CompletionTooLargeError, with what was assembled until then.
func (c *Client) Chat(ctx context.Context, model string, messages []Message, opts ...Option) (Completion, error) {
	return c.chat(ctx, c.cfg.with(opts), model, messages)
}

func (c *Client) chat(ctx context.Context, cfg *config, model string, messages []Message) (Completion, error) {
	acc := Accumulator{MaxSize: cfg.maxCompletion}
	var repairs []Repair // of the request, which outlive the attempts
	answering := 0       // the endpoint of the last attempt, even if it sent no chunk
	err := c.run(ctx, cfg, model, messages, func(s *chunkStream) bool {
		if s.bare() {
			return true
		}
		acc.Add(s.chunk())
		return acc.Err() == nil
	}, &callHooks{
		begin: func(attempt, endpoint int) {
			if attempt > 1 {
				acc = Accumulator{MaxSize: cfg.maxCompletion} // the failed attempt's role and id go
			}
			answering = endpoint
		},
		repair: func(r Repair) { repairs = append(repairs, r) },
	})
	comp := acc.Completion()
	comp.Endpoint = answering
	if repairs != nil {
		comp.Repairs = append(repairs, comp.Repairs...)
	}
	if err := acc.Err(); err != nil {
		return comp, err
	}
	return comp, err
}

// Complete sends the conversation to model and returns the first choice's text: it is
// Chat and a check of the text. On a failure after some text was received it returns
// that text together with the error. An answer with no text but tool calls or a refusal
// fails with a *NoTextError (use Chat for such answers).
func (c *Client) Complete(ctx context.Context, model string, messages []Message, opts ...Option) (string, error) {
	cfg := c.cfg.with(opts)
	comp, err := c.chat(ctx, cfg, model, messages)
	var m Message
	for _, ch := range comp.Choices {
		if ch.Index == 0 {
			m = ch.Message
		}
	}
	if err != nil {
		return m.Content, err
	}
	if m.Content == "" && (m.Refusal != "" || len(m.ToolCalls) > 0) {
		return "", newNoTextError(cfg, m)
	}
	return m.Content, nil
}

// newNoTextError returns the *NoTextError of an answer whose first choice is m.
func newNoTextError(cfg *config, m Message) *NoTextError {
	e := &NoTextError{Message: m}
	e.text = e.describe()
	callSecrets(cfg).scrubError(e) // the text quotes the server's names and refusal
	return e
}

// ErrToolCalls and ErrRefusal match (with errors.Is) the *NoTextError of an answer that
// made tool calls, or refused, instead of answering with text.
var (
	ErrToolCalls = errors.New("lockchat: the answer is tool calls")
	ErrRefusal   = errors.New("lockchat: the model refused")
)

// NoTextError is returned by Complete when the answer holds no text but tool calls or a
// refusal: "" with no error would look like an empty answer. Message is the assistant
// turn as assembled; errors.Is tells ErrToolCalls from ErrRefusal.
type NoTextError struct {
	Message Message

	text string // what Error says, credentials taken out
}

// Error says what the answer held instead of text.
func (e *NoTextError) Error() string {
	if e.text != "" {
		return e.text
	}
	return e.describe()
}

func (e *NoTextError) scrub(s secrets) { e.text = s.scrub(e.text) }

func (e *NoTextError) describe() string {
	if n := len(e.Message.ToolCalls); n > 0 {
		names := make([]string, n)
		for i, tc := range e.Message.ToolCalls {
			names[i] = tc.Name
			if custom, ok := tc.Extra["custom"]; ok && tc.Name == "" {
				var c struct{ Name string }
				_ = json.Unmarshal(custom, &c) // an OpenAI custom tool call names itself there
				names[i] = c.Name
			}
		}
		return fmt.Sprintf("lockchat: the answer holds no text but %d tool call(s) (%s); use Chat to get them", n, strings.Join(names, ", "))
	}
	return fmt.Sprintf("lockchat: the answer holds no text but a refusal: %q", e.Message.Refusal)
}

// Is makes errors.Is(err, ErrToolCalls) and errors.Is(err, ErrRefusal) work.
func (e *NoTextError) Is(target error) bool {
	return target == ErrToolCalls && len(e.Message.ToolCalls) > 0 || target == ErrRefusal && e.Message.Refusal != ""
}

// handler receives each decoded chunk. It returns false when the caller wants no more.
type handler func(s *chunkStream) (more bool)

// errStop ends an attempt because the caller stopped iterating.
var errStop = errors.New("lockchat: caller stopped")

// run sends the request, retrying failures that happen before any output was delivered,
// and feeds every chunk to h. It counts the chunks that carry output (see hasOutput): the
// unit of InterruptedError.Delivered, the same for every call.
// hooks, if not nil, hears of the attempts and request repairs.
func (c *Client) run(ctx context.Context, cfg *config, model string, messages []Message, h handler, hooks *callHooks) error {
	ctx, tr := startTrace(ctx, cfg, CallInfo{Model: model, Messages: messages})
	err := c.runAttempts(ctx, cfg, model, messages, h, hooks, tr)
	tr.onDone(err)
	return err
}

// callHooks are what a call hears of its attempts beside the chunks; a nil field is
// not called.
type callHooks struct {
	begin  func(attempt, endpoint int) // before each attempt, numbered from 1, to endpoint
	repair func(Repair)                // a repair made to the request (see repair.go)
}
