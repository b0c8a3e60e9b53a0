package lockchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Defaults used by New when no option overrides them.
const (
	// DefaultBaseURL is the Lockchat API's address. It is plain HTTP, as in the original
	// provider; use WithBaseURL with an https:// address to talk to a server over TLS.
	DefaultBaseURL = "http://supertest.lockchat.app/v1"
	// DefaultUserAgent is the User-Agent the original provider sends.
	DefaultUserAgent = "ChatX/39 CFNetwork/1408.0.4 Darwin/22.5.0"
	// DefaultTemperature is the sampling temperature sent when none is set.
	DefaultTemperature = 0.7
	// DefaultMaxRetries is how many times a failed request is retried after the first
	// attempt, while no output has been delivered.
	DefaultMaxRetries = 2
	// DefaultIdleTimeout is the longest the client waits without receiving a byte.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxLineSize is the longest event-stream line, and the largest event, the
	// decoder accepts.
	DefaultMaxLineSize = 8 << 20
	// DefaultMaxCompletionSize bounds what Chat assembles: the bytes of content,
	// reasoning, refusal and tool calls of every choice together.
	DefaultMaxCompletionSize = 16 << 20
	// DefaultRetryDelay and DefaultMaxRetryDelay bound the backoff between attempts.
	DefaultRetryDelay    = 500 * time.Millisecond
	DefaultMaxRetryDelay = 30 * time.Second
)

// An Option configures a Client (when passed to New) or one call (when passed to Stream,
// StreamChunks, Chat or Complete, where it overrides the client's setting for that call
// only).
type Option func(*config)

type config struct {
	baseURL string
	// client is the copy of the caller's *http.Client (http.DefaultClient if none) with
	// lockchat's redirect policy, made once, when WithHTTPClient was applied or when the
	// configuration was first prepared: a call never reads the caller's client again.
	client        *http.Client
	userAgent     string
	apiKey        string
	header        http.Header
	temperature   float64
	params        map[string]any
	maxRetries    int
	retryDelay    time.Duration
	maxRetryDelay time.Duration
	idleTimeout   time.Duration
	firstOutput   time.Duration // WithFirstOutputTimeout; 0: none
	maxLineSize   int
	logger        *slog.Logger

	tools         []Tool
	toolChoice    ToolChoice
	usage         bool
	noObfuscation bool
	noStream      bool
	// temperatureSet: WithTemperature was given, so a repair never drops it.
	temperatureSet bool
	// maxTokens is WithMaxTokens' limit, 0 for none, sent as max_tokens, or as
	// max_completion_tokens once a model asked for that name.
	maxTokens           int
	maxCompletionTokens bool
	insecureHTTP        bool     // credentials may go over plain http to any host
	without             []string // payload fields not sent (WithoutParam)
	traces              []func(context.Context, CallInfo) (context.Context, *Trace)
	endpoints           []Endpoint // WithEndpoints; nil for the one endpoint of baseURL
	maxCompletion       int

	prep *prepared // what every request shares, worked out once; nil if it failed
}

// prepared is what every request of a configuration shares, worked out once when the
// configuration is made rather than on each call: the endpoint, the HTTP client with
// lockchat's redirect policy, and the checked headers.
type prepared struct {
	endpoint string
	client   *http.Client
	header   http.Header // cloned for each request
	// poolWaits says whether a request may wait for a connection from the caller's
	// pool (http.Transport.MaxConnsPerHost, or a transport lockchat cannot see into),
	// which the idle timeout must not count.
	poolWaits bool
	// endpoints are the configurations of WithEndpoints' endpoints, each prepared, in
	// the list's order; nil without it, when the fields above serve every request.
	endpoints []*config
}

// prepare works out what every request of c shares, or says why no request can be made.
func (c *config) prepare() (*prepared, error) {
	if c.endpoints != nil {
		return c.prepareEndpoints()
	}
	if err := checkBaseURL(c.baseURL); err != nil {
		return nil, err
	}
	h, err := requestHeader(c)
	if err != nil {
		return nil, err
	}
	if err := checkCleartext(c, h); err != nil {
		return nil, err
	}
	cl := c.client
	if cl == nil { // a configuration New did not make
		cl = withRedirectPolicy(nil)
	}
	p := &prepared{endpoint: endpoint(c.baseURL, chatPath), client: cl, header: h}
	switch t := p.client.Transport.(type) {
	case nil:
		p.poolWaits = http.DefaultTransport.(*http.Transport).MaxConnsPerHost > 0
	case *http.Transport:
		p.poolWaits = t.MaxConnsPerHost > 0
	default:
		p.poolWaits = true
	}
	return p, nil
}

// prepareEndpoints prepares the configuration of each of WithEndpoints' endpoints: c's,
// with the endpoint's base URL and key instead of c's, and its headers replacing c's of
// the same name.
func (c *config) prepareEndpoints() (*prepared, error) {
	p := &prepared{endpoints: make([]*config, len(c.endpoints))}
	for i, e := range c.endpoints {
		n := *c
		n.endpoints, n.baseURL, n.apiKey = nil, e.BaseURL, e.APIKey
		// The endpoint's own credentials win: its key over a client-wide Authorization
		// header, its headers over the client's of the same name.
		if e.APIKey != "" || len(e.Header) > 0 {
			n.header = c.header.Clone()
			if n.header == nil {
				n.header = http.Header{}
			}
			if e.APIKey != "" {
				n.header.Del("Authorization")
			}
			for k, vs := range e.Header {
				n.header.Del(k)
				for _, v := range vs {
					n.header.Add(k, v)
				}
			}
		}
		var err error
		if n.prep, err = n.prepare(); err != nil {
			var reqErr *requestError
			if errors.As(err, &reqErr) {
				reqErr.text = fmt.Sprintf("endpoint %d: %s", i, reqErr.text)
			}
			return nil, err
		}
		p.endpoints[i] = &n
	}
	return p, nil
}

// prepared returns what New or with prepared, or, for a configuration they did not make
// (the zero Client) or could not prepare, prepares it now, so that the error is the
// call's own. The zero Client's error says to use New.
func (c *config) prepared() (*prepared, error) {
	if c.prep != nil {
		return c.prep, nil
	}
	if c.maxLineSize == 0 { // only in a configuration New did not make: New's is at least 64
		return nil, &requestError{text: "the zero Client has no base URL: make a Client with New"}
	}
	return c.prepare()
}

func defaultConfig() config {
	return config{
		baseURL:       DefaultBaseURL,
		userAgent:     DefaultUserAgent,
		temperature:   DefaultTemperature,
		maxRetries:    DefaultMaxRetries,
		retryDelay:    DefaultRetryDelay,
		maxRetryDelay: DefaultMaxRetryDelay,
		idleTimeout:   DefaultIdleTimeout,
		maxLineSize:   DefaultMaxLineSize,
		maxCompletion: DefaultMaxCompletionSize,
	}
}

// with returns the configuration with opts applied on top, leaving c unchanged.
func (c *config) with(opts []Option) *config {
	if len(opts) == 0 {
		return c
	}
	n := *c
	for _, o := range opts {
		if o != nil {
			o(&n)
		}
	}
	n.prep, _ = n.prepare()
	return &n
}

// WithBaseURL sets the API's base address; requests go to base + "/chat/completions",
// with or without a trailing slash on base. It must be an absolute http:// or https://
// URL with a host, else every call fails with ErrInvalidRequest. The default is
// DefaultBaseURL.
func WithBaseURL(base string) Option { return func(c *config) { c.baseURL = base } }

// WithHTTPClient sets the HTTP client used for requests. The default is
// http.DefaultClient. Its Timeout field, if set, limits the whole stream, so a long
// answer is cut off; prefer a context deadline and WithIdleTimeout. The client is never
// changed: requests go through a shallow copy, made when the option is applied (by New,
// or by the call it is given to), whose redirect policy drops credentials on the way to
// another host or down to plain http, fails a redirect that would turn the POST into a
// GET (ErrRedirect), and then applies the client's own CheckRedirect.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.client = withRedirectPolicy(hc) }
}

// WithInsecureHTTP lets a call send its credentials (the API key, a credential header, a
// password or credential in the base URL) over plain http:// to a host that is not this
// machine, where anyone on the way can read them. Without it such a call fails with
// ErrInvalidRequest before anything is sent; loopback hosts (localhost, 127.0.0.0/8,
// ::1) never need it, and nor does a call that sends no credential.
func WithInsecureHTTP() Option { return func(c *config) { c.insecureHTTP = true } }

// WithUserAgent sets the User-Agent header. The default is DefaultUserAgent.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithAPIKey sends "Authorization: Bearer key". No key is sent by default. The key never
// appears in an error or a log record.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithHeader adds a request header; several values for one key are all sent. A header
// whose name says it carries a credential (Api-Key, X-Api-Key, anything with "auth",
// "key", "token", "secret" and the like) is treated as the API key is: its value is kept
// out of errors and logs and dropped on a redirect to another host.
func WithHeader(key, value string) Option {
	return func(c *config) {
		c.header = c.header.Clone()
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Add(key, value)
	}
}

// WithTemperature sets the sampling temperature; 0 is sent as 0. The default is
// DefaultTemperature.
func WithTemperature(t float64) Option {
	return func(c *config) { c.temperature, c.temperatureSet = t, true }
}

// WithParam adds a field to the request's JSON payload, such as "max_tokens" or "top_p"
// (the original provider's **kwargs). It overrides a field another option sets
// ("temperature", "tools", "tool_choice", "stream_options"); "model", "messages" and
// "stream" are set by the call, and a request naming them fails.
func WithParam(key string, value any) Option {
	return func(c *config) {
		c.params = maps.Clone(c.params)
		if c.params == nil {
			c.params = map[string]any{}
		}
		c.params[key] = value
	}
}

// WithoutParam leaves the payload field key out of the request, whether lockchat sets it
// (as it sets "temperature", which some models accept only at its default) or WithParam
// did. "model", "messages" and "stream" cannot be left out: a call with such an option
// fails with ErrInvalidRequest.
func WithoutParam(key string) Option {
	return func(c *config) { c.without = append(slices.Clip(c.without), key) }
}

// WithoutObfuscation asks OpenAI to leave out the "obfuscation" padding it adds to
// streamed chunks, sending "stream_options": {"include_obfuscation": false}; it combines
// with WithUsage.
func WithoutObfuscation() Option { return func(c *config) { c.noObfuscation = true } }

// WithoutStreaming asks for the whole answer in one JSON document ("stream": false)
// instead of an event stream, for servers or models that may not stream. Every call works
// the same: the answer arrives as one chunk, with its content, reasoning, refusal, tool
// calls, finish reason and usage (which a server sends without WithUsage then). The
// idle timeout then bounds the wait for the whole answer.
func WithoutStreaming() Option { return func(c *config) { c.noStream = true } }

// WithMaxTokens sets the answer's token limit, sent as "max_tokens" (and as
// "max_completion_tokens" to a model that rejected the first name; see Client). 0 sends
// none.
func WithMaxTokens(n int) Option { return func(c *config) { c.maxTokens = max(n, 0) } }

// WithJSONSchema asks for an answer that is JSON following schema (see SchemaFor), sent as
// a "response_format" of type "json_schema" under name; strict asks the server to hold
// the answer to the schema exactly (OpenAI's strict mode). Completion.Decode reads the
// answer.
func WithJSONSchema(name string, schema json.RawMessage, strict bool) Option {
	return WithParam("response_format", map[string]any{
		"type": "json_schema",
		"json_schema": map[string]any{
			"name":   name,
			"schema": schema,
			"strict": strict,
		},
	})
}

// WithJSONObject asks for an answer that is a JSON object of any shape, sent as a
// "response_format" of type "json_object". OpenAI also wants the word "JSON" in the
// messages.
func WithJSONObject() Option {
	return WithParam("response_format", map[string]any{"type": "json_object"})
}

// WithMaxRetries sets how many times a request is retried after the first attempt; 0
// disables retries. Only failures that happen before any output was delivered are
// retried. With WithEndpoints it counts rounds over the whole list after the first. The
// default is DefaultMaxRetries.
func WithMaxRetries(n int) Option { return func(c *config) { c.maxRetries = max(n, 0) } }

// WithRetryDelay sets the backoff between attempts: the first delay and the cap. Each
// retry doubles the delay, with jitter, up to max; a server's Retry-After is honoured but
// also capped by max. The defaults are DefaultRetryDelay and DefaultMaxRetryDelay.
func WithRetryDelay(first, max time.Duration) Option {
	return func(c *config) { c.retryDelay, c.maxRetryDelay = first, max }
}

// WithIdleTimeout sets the longest silence allowed from the server: its timer runs only
// while the client waits on the network, for the response headers once the request is
// resolving, dialing or has a connection, and during each read of the body. Time spent
// waiting for a connection from the client's own pool, and time the caller spends in its
// loop body, do not count. When it passes the call fails with an error matching
// ErrIdleTimeout (retried if nothing was delivered yet). 0 disables it. The default is
// DefaultIdleTimeout. The overall deadline is the caller's context.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithFirstOutputTimeout abandons an attempt that has delivered no output — content,
// reasoning, a refusal or a tool-call fragment; a role-only chunk or a keep-alive
// comment is none — within d of being sent, with an error matching
// ErrFirstOutputTimeout, which is retried like any failure before output. Unlike the
// idle timeout it bounds a server that keeps the connection busy without answering. 0,
// the default, disables it.
func WithFirstOutputTimeout(d time.Duration) Option {
	return func(c *config) { c.firstOutput = max(d, 0) }
}

// WithMaxLineSize sets the longest event-stream line, and the largest event, the decoder
// accepts; longer input fails with a *LineTooLongError. Memory use per stream is bounded
// by about this size. The default is DefaultMaxLineSize.
func WithMaxLineSize(n int) Option { return func(c *config) { c.maxLineSize = max(n, 64) } }

// WithLogger sets the logger that records each retry (attempt, reason and delay) at level
// Warn. Nothing is logged by default.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithTools offers the model these functions to call, sent as
// "tools":[{"type":"function","function":{…}}]. The calls the model makes arrive in
// Choice.ToolCalls while streaming and in Message.ToolCalls once assembled by Chat.
func WithTools(tools ...Tool) Option {
	return func(c *config) { c.tools = slices.Clone(tools) }
}

// WithToolChoice says which tool the model must call: ToolChoiceAuto, ToolChoiceNone,
// ToolChoiceRequired or ToolChoiceFunction(name). Nothing is sent by default, which
// servers take as "auto" when tools are offered.
func WithToolChoice(choice ToolChoice) Option {
	return func(c *config) { c.toolChoice = choice }
}

// WithUsage asks the server for the token usage of the answer
// ("stream_options":{"include_usage":true}); it arrives in Chunk.Usage and
// Completion.Usage, usually in a last chunk with no choices.
func WithUsage() Option { return func(c *config) { c.usage = true } }

// WithMaxCompletionSize bounds what Chat and Complete assemble: the bytes of content,
// reasoning, refusal and tool calls of every choice together, each choice and each call
// counting at least its smallest size on the wire (see Accumulator.MaxSize). Past it
// they fail with a *CompletionTooLargeError rather than grow without limit. As for
// Accumulator.MaxSize, 0 means DefaultMaxCompletionSize and a negative value no limit.
func WithMaxCompletionSize(n int) Option { return func(c *config) { c.maxCompletion = n } }
