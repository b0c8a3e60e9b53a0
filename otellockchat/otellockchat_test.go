package otellockchat_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
	"github.com/lockchat/lockchat/otellockchat"
)

var hello = []lockchat.Message{{Role: "user", Content: "secret words"}}

// setup returns a client of srv recorded by fresh providers, and what they recorded.
func setup(t *testing.T, srv *lockchattest.Server, opts ...otellockchat.Setting) (*lockchat.Client, *tracetest.SpanRecorder, *sdkmetric.ManualReader, *sdktrace.TracerProvider) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	opts = append(opts, otellockchat.WithTracerProvider(tp), otellockchat.WithMeterProvider(mp))
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxRetries(0), otellockchat.Option(opts...))
	return c, spans, reader, tp
}

func attrs(kvs []attribute.KeyValue) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func port(t *testing.T, base string) int {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

func TestSpanOfASuccessfulCall(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{
		Tokens: []string{"Hi"},
		Usage:  &lockchat.Usage{PromptTokens: 9, CompletionTokens: 2, TotalTokens: 11},
	})
	defer srv.Close()
	c, spans, _, _ := setup(t, srv)
	if _, err := c.Chat(context.Background(), "gpt-4o", hello, lockchat.WithUsage()); err != nil {
		t.Fatal(err)
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	s := ended[0]
	if s.Name() != "chat gpt-4o" || s.SpanKind() != trace.SpanKindClient || s.Status().Code != codes.Unset {
		t.Errorf("span %q kind %v status %v", s.Name(), s.SpanKind(), s.Status())
	}
	a := attrs(s.Attributes())
	for k, want := range map[string]any{
		"gen_ai.operation.name":      "chat",
		"gen_ai.provider.name":       "openai",
		"gen_ai.request.model":       "gpt-4o",
		"gen_ai.response.model":      "gpt-4o",
		"gen_ai.response.id":         "chatcmpl-lockchattest",
		"gen_ai.usage.input_tokens":  int64(9),
		"gen_ai.usage.output_tokens": int64(2),
		"server.address":             "127.0.0.1",
		"server.port":                int64(port(t, srv.URL)),
	} {
		if got := a[k].AsInterface(); got != want {
			t.Errorf("%s = %v (%T), want %v", k, got, got, want)
		}
	}
	if got := a["gen_ai.response.finish_reasons"].AsStringSlice(); len(got) != 1 || got[0] != "stop" {
		t.Errorf("finish reasons %v", got)
	}
	if _, ok := a["error.type"]; ok {
		t.Error("error.type on a success")
	}
	if _, ok := a["gen_ai.input.messages"]; ok {
		t.Error("message contents recorded without WithMessageContent")
	}
}

func TestSpanOfAFailedCall(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Status: 503, Error: lockchattest.ErrorBody{Message: "overloaded"}})
	defer srv.Close()
	c, spans, _, _ := setup(t, srv)
	if _, err := c.Complete(context.Background(), "m", hello); err == nil {
		t.Fatal("no error")
	}
	s := spans.Ended()[0]
	a := attrs(s.Attributes())
	if got := a["error.type"].AsString(); got != "503" {
		t.Errorf("error.type = %q, want 503", got)
	}
	if s.Status().Code != codes.Error || s.Status().Description == "" {
		t.Errorf("status %+v", s.Status())
	}
}

func TestMessageContentOnRequest(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hi"}})
	defer srv.Close()
	c, spans, _, _ := setup(t, srv, otellockchat.WithMessageContent())
	if _, err := c.Complete(context.Background(), "m", hello); err != nil {
		t.Fatal(err)
	}
	got := attrs(spans.Ended()[0].Attributes())["gen_ai.input.messages"].AsString()
	if got != `[{"role":"user","content":"secret words"}]` {
		t.Errorf("gen_ai.input.messages = %q", got)
	}
}

// spanningTransport starts a client span for each request, as an instrumented
// transport (otelhttp) does, and remembers its parent.
type spanningTransport struct {
	tracer  trace.Tracer
	parents []trace.SpanContext
}

func (s *spanningTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.parents = append(s.parents, trace.SpanContextFromContext(req.Context()))
	ctx, span := s.tracer.Start(req.Context(), "HTTP POST", trace.WithSpanKind(trace.SpanKindClient))
	defer span.End()
	return http.DefaultTransport.RoundTrip(req.WithContext(ctx))
}

func TestSpanIsTheParentOfTheHTTPRequest(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hi"}})
	defer srv.Close()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	transport := &spanningTransport{tracer: tp.Tracer("http")}
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithHTTPClient(&http.Client{Transport: transport}),
		otellockchat.Option(otellockchat.WithTracerProvider(tp)))
	if _, err := c.Complete(context.Background(), "m", hello); err != nil {
		t.Fatal(err)
	}
	var call, httpSpan sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "chat m":
			call = s
		case "HTTP POST":
			httpSpan = s
		}
	}
	if call == nil || httpSpan == nil {
		t.Fatalf("spans %v", spans.Ended())
	}
	if httpSpan.Parent().SpanID() != call.SpanContext().SpanID() || httpSpan.SpanContext().TraceID() != call.SpanContext().TraceID() {
		t.Errorf("the HTTP span's parent is %v, want the call's span %v", httpSpan.Parent().SpanID(), call.SpanContext().SpanID())
	}
}

func TestMetrics(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{
		Tokens: []string{"a", "b"},
		Usage:  &lockchat.Usage{PromptTokens: 7, CompletionTokens: 3, TotalTokens: 10},
	})
	defer srv.Close()
	c, _, reader, _ := setup(t, srv)
	for range 2 {
		if _, err := c.Chat(context.Background(), "m", hello, lockchat.WithUsage()); err != nil {
			t.Fatal(err)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			found[m.Name] = true
			switch m.Name {
			case "gen_ai.client.operation.duration", "gen_ai.client.operation.time_to_first_chunk":
				h := m.Data.(metricdata.Histogram[float64])
				if len(h.DataPoints) != 1 || h.DataPoints[0].Count != 2 || h.DataPoints[0].Sum <= 0 || m.Unit != "s" {
					t.Errorf("%s: %+v", m.Name, h.DataPoints)
				}
				model, _ := h.DataPoints[0].Attributes.Value("gen_ai.request.model")
				if model.AsString() != "m" {
					t.Errorf("%s: attributes %v", m.Name, h.DataPoints[0].Attributes)
				}
			case "gen_ai.client.token.usage":
				h := m.Data.(metricdata.Histogram[int64])
				sums := map[string]int64{}
				for _, dp := range h.DataPoints {
					typ, _ := dp.Attributes.Value("gen_ai.token.type")
					sums[typ.AsString()] += dp.Sum
				}
				if sums["input"] != 14 || sums["output"] != 6 {
					t.Errorf("token usage sums %v, want input 14, output 6", sums)
				}
			}
		}
	}
	for _, name := range []string{"gen_ai.client.operation.duration", "gen_ai.client.token.usage", "gen_ai.client.operation.time_to_first_chunk"} {
		if !found[name] {
			t.Errorf("no %s", name)
		}
	}
}

// TestSpanOfAFailover: the span names the endpoint that answered, and a call that every
// endpoint failed has its own error type.
func TestSpanOfAFailover(t *testing.T) {
	busy := lockchattest.NewServer(lockchattest.Reply{Status: 503})
	defer busy.Close()
	good := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer good.Close()
	c, spans, _, _ := setup(t, good)
	if _, err := c.Complete(context.Background(), "m", hello,
		lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: busy.URL}, lockchat.Endpoint{BaseURL: good.URL})); err != nil {
		t.Fatal(err)
	}
	a := attrs(spans.Ended()[0].Attributes())
	if a["server.port"].AsInt64() != int64(port(t, good.URL)) || a["lockchat.endpoint"].AsInt64() != 1 {
		t.Errorf("span attributes %v, want the second endpoint's", a)
	}
	if _, err := c.Complete(context.Background(), "m", hello,
		lockchat.WithEndpoints(lockchat.Endpoint{BaseURL: busy.URL}, lockchat.Endpoint{BaseURL: busy.URL + "/"})); err == nil {
		t.Fatal("no error")
	}
	if got := attrs(spans.Ended()[1].Attributes())["error.type"].AsString(); got != "all_endpoints_failed" {
		t.Errorf("error.type = %q", got)
	}
}
