package lockchat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// This file holds a call's attempts: the endpoints it may be served by, the order it
// asks them in, what each kind of failure does, the rounds of retries over the list,
// and the request repairs. One attempt is exchange.go's; how long to wait between
// rounds is retry.go's.

// Endpoint is one server a call may be served by (see WithEndpoints).
type Endpoint struct {
	// BaseURL is the API's base address, as WithBaseURL takes it.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer APIKey" to this endpoint alone; "" sends
	// none.
	APIKey string
	// Model, when not "", replaces the call's model for this endpoint: the same model
	// has different names on OpenAI, OpenRouter and Ollama.
	Model string
	// Header is added to this endpoint's requests alone, as WithHeader adds it to every
	// request.
	Header http.Header
}

// WithEndpoints serves each call from these endpoints, in the order given, instead of
// the one WithBaseURL and WithAPIKey describe; the client's other options apply to every
// endpoint, WithHeader's headers too, but for those an endpoint sets itself (its Header,
// and Authorization when it has an APIKey). Give each endpoint its own credentials in
// its Endpoint, not with WithHeader, which sends them to all. Without WithEndpoints, or
// with no endpoint, a call goes to WithBaseURL as before.
//
// A failure before any output moves on to the next endpoint at once. A request that is
// itself wrong (ErrInvalidRequest, a redirect not followed, a 400, 413, 415 or 422) ends
// the call, since every endpoint would reject it; an endpoint whose credentials or
// address are wrong (401, 402, 403, a 404 that is not a model-not-found, a host that does
// not exist, a certificate that does not verify) is not asked again during the call; any
// other failure, and an answer with no output at all while another endpoint remains,
// moves on and leaves the endpoint for the next round. When every endpoint has failed,
// the list is tried again after the backoff of WithRetryDelay (the shortest Retry-After
// an endpoint sent, if any), for at most WithMaxRetries more rounds, and then the call
// fails with a *FailoverError. A failure after output is an *InterruptedError: no other
// endpoint is asked, so no answer is spliced from two.
//
// The Client remembers an endpoint that failed with a 429, a 5xx, a connection error or
// a timeout, for its Retry-After or else the backoff delay, and starts later calls at the
// first endpoint that is not cooling down. Each failover is logged through WithLogger.
// Completion.Endpoint and Chunk.Endpoint say which endpoint answered. Chat assembles the
// answering endpoint's chunks alone; StreamChunks may first yield the output-less chunks
// (a role, a finish reason) of an attempt that failed or answered nothing.
func WithEndpoints(endpoints ...Endpoint) Option {
	eps := make([]Endpoint, len(endpoints))
	for i, e := range endpoints {
		e.Header = e.Header.Clone()
		eps[i] = e
	}
	if len(eps) == 0 {
		eps = nil
	}
	return func(c *config) { c.endpoints = eps }
}

// FailoverError is the error of a call that every endpoint of WithEndpoints failed, in
// every round: Attempts holds each failed attempt, in order. errors.Is and errors.As
// see the error of every attempt.
type FailoverError struct {
	Attempts []Attempt
}

// Attempt is one failed attempt of a call served by several endpoints: the endpoint's
// index in WithEndpoints' list, its base URL with any password or credential masked,
// and the error it failed with.
type Attempt struct {
	Endpoint int
	BaseURL  string
	Err      error
}

// Error names each endpoint's last failure.
func (e *FailoverError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lockchat: every endpoint failed (%d attempts)", len(e.Attempts))
	// Each endpoint's last failure, in the order the endpoints were first asked.
	last := map[int]Attempt{}
	var order []int
	for _, a := range e.Attempts {
		if _, ok := last[a.Endpoint]; !ok {
			order = append(order, a.Endpoint)
		}
		last[a.Endpoint] = a
	}
	for _, i := range order {
		a := last[i]
		fmt.Fprintf(&b, "; endpoint %d (%s): %s", i, a.BaseURL, strings.TrimPrefix(a.Err.Error(), "lockchat: "))
	}
	return b.String()
}

// Unwrap returns the error of every attempt, for errors.Is and errors.As.
func (e *FailoverError) Unwrap() []error {
	errs := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		errs[i] = a.Err
	}
	return errs
}

// ErrEmptyAnswer is the failure of an endpoint whose answer ended normally without any
// output while another endpoint could be asked; it is found in a *FailoverError's
// attempts. The last endpoint's empty answer is the call's answer.
var ErrEmptyAnswer = errors.New("lockchat: the answer held no output")

// callEndpoint is one endpoint as a call sends to it.
type callEndpoint struct {
	index    int     // in WithEndpoints' list; 0 without it
	cfg      *config // the endpoint's configuration, with the repairs made to its requests
	model    string  // the model asked of it
	payload  []byte  // nil until it is first sent, or after a repair
	repaired requestRepair
	skip     bool // it failed in a way no retry can help: not asked again in this call
}

// failure is what a failure before any output does to a call.
type failure int

const (
	failEnd   failure = iota // the call ends with the error: the request itself is wrong
	failSkip                 // the endpoint cannot serve the call: the next one is asked
	failRetry                // the next endpoint is asked, and this one again next round
)

// failureOf tells what a failure before any output does to the call.
func failureOf(err error) failure {
	if retryable(err) || err == ErrEmptyAnswer {
		return failRetry
	}
	var apiErr *APIError
	var encErr *encodeError
	switch {
	case errors.Is(err, ErrInvalidRequest), errors.Is(err, ErrRedirect), errors.As(err, &encErr):
		return failEnd
	case errors.As(err, &apiErr):
		switch apiErr.StatusCode {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			return failEnd
		}
	}
	return failSkip
}

// coolsDown reports whether an endpoint that failed with err is left to rest by later
// calls: it was overloaded, failing or unreachable.
func coolsDown(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	return errors.Is(err, ErrConnection) || errors.Is(err, ErrIdleTimeout) ||
		errors.Is(err, ErrFirstOutputTimeout) || errors.Is(err, io.ErrUnexpectedEOF)
}

// targets returns the endpoints of a call in the order it asks them: WithEndpoints'
// list, those the Client knows to be cooling down moved to the end; or the one endpoint
// of cfg.
func (c *Client) targets(cfg *config, prep *prepared, model string) []callEndpoint {
	if prep.endpoints == nil {
		return []callEndpoint{{cfg: cfg, model: model}}
	}
	ts := make([]callEndpoint, 0, len(prep.endpoints))
	var cooling []callEndpoint
	now := time.Now()
	for i, ecfg := range prep.endpoints {
		t := callEndpoint{index: i, cfg: ecfg, model: model}
		if m := cfg.endpoints[i].Model; m != "" {
			t.model = m
		}
		if until, ok := c.cooldowns.Load(cooldownKey(ecfg)); ok && now.Before(until.(time.Time)) {
			cooling = append(cooling, t)
			continue
		}
		ts = append(ts, t)
	}
	return append(ts, cooling...)
}

// cooldownKey names an endpoint in Client.cooldowns: its address and credentials.
func cooldownKey(cfg *config) string { return cfg.baseURL + "\x00" + cfg.apiKey }

// runAttempts is run's loop over endpoints and rounds; tr receives its events.
func (c *Client) runAttempts(ctx context.Context, cfg *config, model string, messages []Message, h handler, hooks *callHooks, tr *tracer) error {
	if hooks == nil {
		hooks = &callHooks{}
	}
	return c.serve(ctx, cfg, model, tr, func(t *callEndpoint, attempts *int) (int, error) {
		return c.try(ctx, t, messages, h, hooks, tr, attempts)
	})
}

// serve makes the attempts of a call, over the endpoints and the rounds of retries, until
// one succeeds or the call fails. do makes one attempt at endpoint t, counting it (and any
// made again at once) in attempts, and returns the chunks with output it delivered.
func (c *Client) serve(ctx context.Context, cfg *config, model string, tr *tracer, do func(t *callEndpoint, attempts *int) (delivered int, err error)) error {
	prep, err := cfg.prepared()
	if err != nil {
		return err
	}
	targets := c.targets(cfg, prep, model)
	failover := prep.endpoints != nil
	var failed []Attempt // with failover
	attempts := 0
	for round := 0; ; round++ {
		var waitErr error // the round's failure that sets the wait before the next (see waitFor)
		for i := range targets {
			t := &targets[i]
			if t.skip {
				continue
			}
			if err := ctx.Err(); err != nil {
				return &contextEnded{err}
			}
			delivered, err := do(t, &attempts)
			if err == nil && delivered == 0 && failover && next(targets, i) >= 0 {
				err = ErrEmptyAnswer
			}
			switch {
			case err == nil:
				if failover {
					c.cooldowns.Delete(cooldownKey(t.cfg))
				}
				return nil
			case err == errStop:
				tr.onStop()
				return nil
			case ctx.Err() != nil:
				if delivered > 0 {
					return &InterruptedError{Delivered: delivered, Err: ctx.Err()}
				}
				return &contextEnded{ctx.Err()}
			case delivered > 0:
				return &InterruptedError{Delivered: delivered, Err: err}
			}
			kind := failureOf(err)
			if kind == failEnd {
				if !failover && attempts > 1 {
					return &gaveUpError{attempts: attempts, err: err}
				}
				return err
			}
			if kind == failSkip {
				t.skip = true
			}
			waitErr = waitFor(waitErr, err)
			if failover {
				failed = append(failed, Attempt{Endpoint: t.index, BaseURL: maskURL(t.cfg.baseURL), Err: err})
				if coolsDown(err) {
					c.cooldowns.Store(cooldownKey(t.cfg), time.Now().Add(retryDelay(cfg, round, err)))
				}
				if j := next(targets, i); j >= 0 {
					tr.onRetry(err, 0)
					logFailover(ctx, cfg.logger, t, &targets[j], err)
				}
			}
		}
		if round >= cfg.maxRetries || next(targets, -1) < 0 {
			switch {
			case failover:
				return &FailoverError{Attempts: failed}
			case attempts > 1:
				return &gaveUpError{attempts: attempts, err: waitErr}
			}
			return waitErr
		}
		delay := retryDelay(cfg, round, waitErr)
		tr.onRetry(waitErr, delay)
		logRetry(ctx, cfg.logger, attempts, waitErr, delay)
		if err := sleep(ctx, delay); err != nil {
			return &contextEnded{err}
		}
	}
}

// next returns the index of the first endpoint after i that is not skipped, or -1.
func next(targets []callEndpoint, i int) int {
	for j := i + 1; j < len(targets); j++ {
		if !targets[j].skip {
			return j
		}
	}
	return -1
}

// waitFor returns which of two failures of a round sets the wait before the next round,
// kept or the later err: the one whose server asked for the shorter Retry-After, else the
// later one.
func waitFor(kept, err error) error {
	k, e := retryAfterOf(kept), retryAfterOf(err)
	if kept == nil || k == 0 || e > 0 && e < k {
		return err
	}
	return kept
}

// retryAfterOf returns the Retry-After an error's server sent, 0 for none.
func retryAfterOf(err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.retryAfter
	}
	return 0
}

// try sends the call to t once, and again at once after each repair its answer asks for
// (a model that rejects one of lockchat's own parameters: the request is changed; it is
// no retry). attempts counts the attempts of the call.
func (c *Client) try(ctx context.Context, t *callEndpoint, messages []Message, h handler, hooks *callHooks, tr *tracer, attempts *int) (delivered int, err error) {
	if t.payload == nil && t.repaired == 0 {
		t.repaired = c.remembered(t.cfg, t.model)
		t.cfg = t.repaired.apply(t.cfg)
	}
	for {
		if t.payload == nil {
			if t.payload, err = buildPayload(t.cfg, t.model, messages); err != nil {
				return 0, err
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		*attempts++
		tr.onAttempt(*attempts, t.index, t.cfg.baseURL, t.model)
		if hooks.begin != nil {
			hooks.begin(*attempts, t.index)
		}
		delivered, err = c.attempt(ctx, t.cfg, t.index, t.payload, h, tr) // quotes no credential
		if err == nil || delivered > 0 {
			return delivered, err
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			return delivered, err
		}
		r := repairFor(t.cfg, apiErr) &^ t.repaired
		if r == 0 {
			return delivered, err
		}
		t.repaired |= r
		t.cfg, t.payload = r.apply(t.cfg), nil
		c.remember(t.cfg, t.model, r)
		for _, rp := range r.repairs() {
			logRepair(ctx, t.cfg.logger, t.model, rp, apiErr)
			if hooks.repair != nil {
				hooks.repair(rp)
			}
		}
	}
}

func logFailover(ctx context.Context, l *slog.Logger, from, to *callEndpoint, reason error) {
	if l == nil {
		return
	}
	l.LogAttrs(ctx, slog.LevelWarn, "lockchat: failing over to the next endpoint",
		slog.Int("from", from.index),
		slog.String("from_url", maskURL(from.cfg.baseURL)),
		slog.Int("to", to.index),
		slog.String("to_url", maskURL(to.cfg.baseURL)),
		slog.String("reason", reason.Error()))
}
