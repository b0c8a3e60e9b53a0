package lockchat

import (
	"context"
	"net/http"
	"time"
)

// Trace receives the events of one call (see WithTrace). Every field is optional. The
// events of a call come in order, on the call's goroutine (the iterator's), never
// concurrently: Attempt, Response when headers arrived, FirstOutput once per call,
// Retry when a failure before output is tried again (then the next Attempt), and Done
// exactly once, however the call ends.
type Trace struct {
	Attempt     func(AttemptInfo)
	Response    func(ResponseInfo)
	FirstOutput func(FirstOutputInfo)
	Retry       func(RetryInfo)
	Done        func(DoneInfo)
}

// CallInfo describes a call as it starts.
type CallInfo struct {
	// Model is the model the call asks for.
	Model string
	// Messages is the conversation sent, the caller's own slice: read it, do not change
	// it, and keep in mind that it may hold what users said.
	Messages []Message
}

// AttemptInfo describes one HTTP request of a call, as it is sent.
type AttemptInfo struct {
	// Attempt counts the call's requests from 1.
	Attempt int
	// Endpoint is the index of the endpoint asked (0 with one endpoint).
	Endpoint int
	// BaseURL is the endpoint's base URL, with its password and credential query values
	// masked.
	BaseURL string
	// Model is the model the request asks for.
	Model string
}

// ResponseInfo describes the response headers of one attempt.
type ResponseInfo struct {
	Attempt, Endpoint int
	StatusCode        int
	// Header is a copy of the response's header, the trace's to keep.
	Header http.Header
	// RequestID is the server's request id (see APIError.RequestID), "" if it sent none.
	RequestID string
	// Elapsed counts from the start of the call.
	Elapsed time.Duration
}

// FirstOutputInfo describes the first chunk of a call that carried output: content,
// reasoning, a refusal or a tool-call fragment.
type FirstOutputInfo struct {
	Attempt, Endpoint int
	// Elapsed counts from the start of the call: the time to first output.
	Elapsed time.Duration
}

// RetryInfo describes a failure before output that the call tries again.
type RetryInfo struct {
	Attempt, Endpoint int
	// Err is the attempt's error, credentials taken out.
	Err error
	// Delay is the wait before the next attempt.
	Delay time.Duration
}

// DoneInfo describes a call that ended.
type DoneInfo struct {
	// Err is the error the call's exchange with the server ended with: nil for a whole
	// answer, and also when the caller stopped reading early (Stopped says so).
	Err error
	// Stopped reports that the caller stopped reading before the answer ended.
	Stopped bool
	// Model and ResponseID are the answer's model and id (the first non-empty ones);
	// RequestID is the last response's request id.
	Model, ResponseID, RequestID string
	// FinishReason is the first choice's last finish reason, "" if none came.
	FinishReason string
	// Usage is the last usage the server sent, nil if none.
	Usage *Usage
	// Attempts counts the requests sent; Endpoint is the index of the endpoint that
	// answered last.
	Attempts, Endpoint int
	// StatusCode is the last response's status, 0 if none arrived.
	StatusCode int
	// OutputChunks counts the chunks that carried output.
	OutputChunks int
	// TimeToFirstOutput is 0 when no output came; Duration is the whole call's, both
	// from the start of the call.
	TimeToFirstOutput, Duration time.Duration
}

// WithTrace has start called at the beginning of every call. The context start returns
// is the call's from then on (so that a span started there is the parent of the HTTP
// request's), and the *Trace it returns, if not nil, receives the call's events. Several
// WithTrace options all apply, in the order given. A client without one pays nothing.
func WithTrace(start func(ctx context.Context, call CallInfo) (context.Context, *Trace)) Option {
	return func(c *config) {
		if start != nil {
			c.traces = append(c.traces[:len(c.traces):len(c.traces)], start)
		}
	}
}

// tracer sends one call's events to its traces. A nil *tracer, the call of a client
// without WithTrace, does nothing.
type tracer struct {
	traces []*Trace
	start  time.Time
	done   DoneInfo
	// endpoint and attempt are those of the attempt under way.
	attempt, endpoint int
	first             bool // the first output was reported
}

// startTrace calls every WithTrace start function of cfg and returns the call's context
// and its tracer, nil when no trace wants the call's events.
func startTrace(ctx context.Context, cfg *config, call CallInfo) (context.Context, *tracer) {
	if len(cfg.traces) == 0 {
		return ctx, nil
	}
	t := &tracer{start: time.Now()}
	for _, start := range cfg.traces {
		c, tr := start(ctx, call)
		if c != nil {
			ctx = c
		}
		if tr != nil {
			t.traces = append(t.traces, tr)
		}
	}
	if len(t.traces) == 0 {
		return ctx, nil
	}
	return ctx, t
}

func (t *tracer) onAttempt(attempt, endpoint int, baseURL, model string) {
	if t == nil {
		return
	}
	t.attempt, t.endpoint = attempt, endpoint
	t.done.Attempts, t.done.Endpoint = attempt, endpoint
	info := AttemptInfo{Attempt: attempt, Endpoint: endpoint, BaseURL: maskURL(baseURL), Model: model}
	for _, tr := range t.traces {
		if tr.Attempt != nil {
			tr.Attempt(info)
		}
	}
}

func (t *tracer) onResponse(resp *http.Response) {
	if t == nil {
		return
	}
	id := requestID(resp.Header)
	t.done.RequestID, t.done.StatusCode = id, resp.StatusCode
	for _, tr := range t.traces {
		if tr.Response != nil {
			tr.Response(ResponseInfo{
				Attempt: t.attempt, Endpoint: t.endpoint, StatusCode: resp.StatusCode,
				Header: resp.Header.Clone(), RequestID: id, Elapsed: time.Since(t.start),
			})
		}
	}
}

// onChunk notes what a decoded chunk says for Done, and reports the first output;
// output says whether the chunk carries some (see chunkStream.hasOutput).
func (t *tracer) onChunk(s *chunkStream, output bool) {
	if t == nil {
		return
	}
	id, model := s.idModel()
	if t.done.ResponseID == "" {
		t.done.ResponseID = id
	}
	if t.done.Model == "" {
		t.done.Model = model
	}
	if u := s.usage(); u != nil {
		t.done.Usage = u
	}
	choices := s.decoded()
	for i := range choices {
		if c := &choices[i]; c.index == 0 && c.finish != "" {
			t.done.FinishReason = c.finish
		}
	}
	if !output {
		return
	}
	t.done.OutputChunks++
	if t.first {
		return
	}
	t.first = true
	elapsed := time.Since(t.start)
	t.done.TimeToFirstOutput = elapsed
	for _, tr := range t.traces {
		if tr.FirstOutput != nil {
			tr.FirstOutput(FirstOutputInfo{Attempt: t.attempt, Endpoint: t.endpoint, Elapsed: elapsed})
		}
	}
}

func (t *tracer) onRetry(err error, delay time.Duration) {
	if t == nil {
		return
	}
	for _, tr := range t.traces {
		if tr.Retry != nil {
			tr.Retry(RetryInfo{Attempt: t.attempt, Endpoint: t.endpoint, Err: err, Delay: delay})
		}
	}
}

// onStop notes that the caller stopped reading.
func (t *tracer) onStop() {
	if t != nil {
		t.done.Stopped = true
	}
}

// onDone reports the end of the call; err is what the exchange ended with.
func (t *tracer) onDone(err error) {
	if t == nil {
		return
	}
	t.done.Err = err
	t.done.Duration = time.Since(t.start)
	for _, tr := range t.traces {
		if tr.Done != nil {
			tr.Done(t.done)
		}
	}
}

// requestIDHeaders are the response headers servers put their request id in, in the
// order they are looked for: OpenAI, Azure and most servers use x-request-id;
// Anthropic-style gateways request-id; Azure OpenAI apim-request-id; Cloudflare cf-ray;
// Fly.io fly-request-id; Vercel x-vercel-id; AWS x-amzn-requestid.
var requestIDHeaders = []string{
	"X-Request-Id", "Request-Id", "Apim-Request-Id", "X-Amzn-Requestid", "Fly-Request-Id", "X-Vercel-Id", "Cf-Ray",
}

// requestID returns the server's request id from h, "" if it sent none.
func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}
