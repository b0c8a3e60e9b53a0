// Package otellockchat records lockchat calls with OpenTelemetry, following the
// semantic conventions for generative AI: a client span per call and the
// gen_ai.client.* metrics.
//
//	client := lockchat.New(otellockchat.Option())
//
// The span of a call is named "chat MODEL" and is the parent of the HTTP request's span
// (an instrumented transport's). It carries gen_ai.operation.name, gen_ai.provider.name,
// gen_ai.request.model, gen_ai.response.model, gen_ai.response.id,
// gen_ai.response.finish_reasons, gen_ai.usage.input_tokens and
// gen_ai.usage.output_tokens, server.address and server.port (of the endpoint asked
// last), lockchat.endpoint (its index in lockchat.WithEndpoints' list), and, on failure,
// error.type ("all_endpoints_failed" for a *lockchat.FailoverError) and an error status. Message contents are left out unless
// WithMessageContent asks for them. The metrics are gen_ai.client.operation.duration,
// gen_ai.client.token.usage and gen_ai.client.operation.time_to_first_chunk.
//
// This package is a module of its own, so that lockchat itself needs nothing beyond the
// standard library.
package otellockchat

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/lockchat/lockchat"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/lockchat/lockchat/otellockchat"

// Setting configures Option.
type Setting func(*settings)

type settings struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	provider       string
	content        bool
}

// WithTracerProvider sets the tracer provider; the default is otel's global one.
func WithTracerProvider(tp trace.TracerProvider) Setting {
	return func(s *settings) { s.tracerProvider = tp }
}

// WithMeterProvider sets the meter provider; the default is otel's global one.
func WithMeterProvider(mp metric.MeterProvider) Setting {
	return func(s *settings) { s.meterProvider = mp }
}

// WithProviderName sets gen_ai.provider.name; the default is "openai", the API lockchat
// speaks.
func WithProviderName(name string) Setting { return func(s *settings) { s.provider = name } }

// WithMessageContent records the messages sent, as the span attribute
// gen_ai.input.messages (JSON). Messages may hold what users said: it is off by default.
func WithMessageContent() Setting { return func(s *settings) { s.content = true } }

// The duration buckets and token buckets the conventions ask for.
var (
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
)

// Option returns a lockchat option that records every call of the client (or of the
// call it is given to) as a span and in the metrics.
func Option(opts ...Setting) lockchat.Option {
	s := settings{provider: "openai"}
	for _, o := range opts {
		o(&s)
	}
	if s.tracerProvider == nil {
		s.tracerProvider = otel.GetTracerProvider()
	}
	if s.meterProvider == nil {
		s.meterProvider = otel.GetMeterProvider()
	}
	tracer := s.tracerProvider.Tracer(ScopeName)
	meter := s.meterProvider.Meter(ScopeName)
	// An instrument that fails to be made is a no-op: otel reports the error itself.
	duration, _ := meter.Float64Histogram("gen_ai.client.operation.duration",
		metric.WithDescription("GenAI operation duration."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	tokens, _ := meter.Int64Histogram("gen_ai.client.token.usage",
		metric.WithDescription("Number of input and output tokens used."), metric.WithUnit("{token}"),
		metric.WithExplicitBucketBoundaries(tokenBuckets...))
	firstChunk, _ := meter.Float64Histogram("gen_ai.client.operation.time_to_first_chunk",
		metric.WithDescription("Time to receive the first chunk of the response stream."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))

	return lockchat.WithTrace(func(ctx context.Context, call lockchat.CallInfo) (context.Context, *lockchat.Trace) {
		base := []attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.provider.name", s.provider),
			attribute.String("gen_ai.request.model", call.Model),
		}
		ctx, span := tracer.Start(ctx, "chat "+call.Model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(base...))
		if s.content {
			if b, err := json.Marshal(call.Messages); err == nil {
				span.SetAttributes(attribute.String("gen_ai.input.messages", string(b)))
			}
		}
		var server []attribute.KeyValue // of the endpoint asked last
		return ctx, &lockchat.Trace{
			Attempt: func(a lockchat.AttemptInfo) {
				server = serverAttributes(a.BaseURL)
				span.SetAttributes(server...)
				span.SetAttributes(attribute.Int("lockchat.endpoint", a.Endpoint))
			},
			Done: func(d lockchat.DoneInfo) {
				defer span.End()
				// attrs are the metrics' attributes: the request's, the server's, the
				// response model and the error type.
				attrs := append(append([]attribute.KeyValue(nil), base...), server...)
				if d.Model != "" {
					attrs = append(attrs, attribute.String("gen_ai.response.model", d.Model))
					span.SetAttributes(attribute.String("gen_ai.response.model", d.Model))
				}
				if d.ResponseID != "" {
					span.SetAttributes(attribute.String("gen_ai.response.id", d.ResponseID))
				}
				if d.FinishReason != "" {
					span.SetAttributes(attribute.StringSlice("gen_ai.response.finish_reasons", []string{d.FinishReason}))
				}
				if d.Usage != nil {
					span.SetAttributes(
						attribute.Int("gen_ai.usage.input_tokens", d.Usage.PromptTokens),
						attribute.Int("gen_ai.usage.output_tokens", d.Usage.CompletionTokens))
				}
				if d.Err != nil {
					kind := attribute.String("error.type", errorType(d.Err))
					span.SetAttributes(kind)
					span.SetStatus(codes.Error, d.Err.Error())
					attrs = append(attrs, kind)
				}
				set := metric.WithAttributes(attrs...)
				duration.Record(ctx, d.Duration.Seconds(), set)
				if d.TimeToFirstOutput > 0 {
					firstChunk.Record(ctx, d.TimeToFirstOutput.Seconds(), set)
				}
				if d.Usage != nil {
					tokens.Record(ctx, int64(d.Usage.PromptTokens), metric.WithAttributes(append(attrs, attribute.String("gen_ai.token.type", "input"))...))
					tokens.Record(ctx, int64(d.Usage.CompletionTokens), metric.WithAttributes(append(attrs, attribute.String("gen_ai.token.type", "output"))...))
				}
			},
		}
	})
}

// serverAttributes returns server.address and server.port of a base URL.
func serverAttributes(base string) []attribute.KeyValue {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	attrs := []attribute.KeyValue{attribute.String("server.address", host)}
	if n, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, attribute.Int("server.port", n))
	}
	return attrs
}

// errorType names an error's kind for error.type, with few distinct values: the HTTP
// status of an API error, else the lockchat kind.
func errorType(err error) string {
	var apiErr *lockchat.APIError
	var interrupted *lockchat.InterruptedError
	var failover *lockchat.FailoverError
	var netErr net.Error
	switch {
	case errors.As(err, &interrupted):
		return "interrupted"
	case errors.As(err, &failover):
		return "all_endpoints_failed" // before the attempts' own errors, which it wraps
	case errors.As(err, &apiErr):
		if apiErr.InStream {
			return "stream_error"
		}
		return strconv.Itoa(apiErr.StatusCode)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, lockchat.ErrIdleTimeout):
		return "idle_timeout"
	case errors.Is(err, lockchat.ErrInvalidRequest):
		return "invalid_request"
	case errors.Is(err, lockchat.ErrConnection), errors.As(err, &netErr):
		return "connection"
	case errors.Is(err, lockchat.ErrMalformedStream), errors.Is(err, lockchat.ErrLineTooLong):
		return "malformed_stream"
	}
	return "_OTHER"
}
