// Package lockchattest provides a loopback server that speaks the Lockchat (OpenAI
// chat-completions) streaming protocol, for testing code that uses package lockchat
// without a network.
//
//	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hello", "!"}})
//	defer srv.Close()
//	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
//
// A server given several replies answers one per request, in order, so that a test can
// drive a whole tool loop: a reply with a tool call, then one with the text.
package lockchattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/lockchat/lockchat"
)

// Reply scripts what the server answers to a request.
type Reply struct {
	// Reasoning fragments are streamed one per event after a role-only first chunk,
	// under ReasoningField ("reasoning_content" when empty; Ollama and OpenRouter use
	// "reasoning"), with "content": null beside them.
	Reasoning      []string
	ReasoningField string
	// Tokens are streamed one per event, after the reasoning and before the refusal,
	// the tool calls, a final chunk with FinishReason and then "data: [DONE]".
	Tokens []string
	// Refusal fragments are streamed one per event, as "refusal".
	Refusal []string
	// ToolCalls are streamed after the tokens, one call after the other (index 0, 1, …),
	// each whole in one chunk, or, with ArgumentFragment > 0, as an opening chunk (id,
	// type, name, "arguments":"") followed by chunks of at most ArgumentFragment runes of
	// the arguments, as OpenAI sends them. A call's Extra keys go in its first chunk.
	ToolCalls        []lockchat.ToolCall
	ArgumentFragment int
	// FinishReason is sent in the last chunk; "" means "tool_calls" for a reply with
	// tool calls and "stop" otherwise.
	FinishReason string
	// Usage, if set, is sent in a final chunk with no choices.
	Usage *lockchat.Usage
	// Delay is the pause before each token.
	Delay time.Duration

	// Status, if not 0 or 200, is answered instead of a stream, with Error as the body's
	// OpenAI error envelope.
	Status int
	Error  ErrorBody
	// Header is added to the response's headers, such as a Retry-After beside a 429.
	Header http.Header

	// ModelNotFound answers the first ModelNotFound requests that reach this reply with
	// "The model: `NAME` does not exist" — as a 404 with an error envelope, or, with
	// ModelNotFoundInStream, as an error event inside a 200 stream — and the next one
	// with the reply itself: such a reply stays the current one until it has answered.
	// SetReplies starts the count again.
	ModelNotFound         int
	ModelNotFoundInStream bool

	// CutAfter, if positive, drops the connection abruptly after that many events
	// following the role chunk (reasoning, tokens, refusal and tool-call events),
	// without ending the body; when the reply has that many events or fewer, after the
	// last of them, before the finish chunk.
	CutAfter int
	// KeepOpen keeps the connection open after the reply (after "data: [DONE]", or after
	// the last Raw piece) until the client leaves.
	KeepOpen bool

	// Raw, if set, replaces the generated stream: each string is written verbatim and
	// flushed, after Delay, with ContentType ("text/event-stream" if empty).
	Raw         []string
	ContentType string
}

// ErrorBody is the OpenAI error object.
type ErrorBody struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"`
	Code    any    `json:"code"`
}

// Request is a request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Payload is Body decoded as JSON (numbers as json.Number).
	Payload map[string]any
	// Model and Messages are the payload's fields of those names.
	Model    string
	Messages []lockchat.Message
}

// Server is a running fake. Its zero value is not usable; create one with NewServer.
type Server struct {
	// URL is the base URL to pass to lockchat.WithBaseURL, ending in "/v1".
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	models   []string // what GET /v1/models lists
	replies  []Reply
	next     int   // the reply for the next request
	notFound []int // the "does not exist" answers each reply gave
	requests []Request
	conns    int
	aborted  int
}

// NewServer starts a server on loopback that answers the first request as the first
// reply says, the second as the second, and so on; the last reply answers every request
// after it. A request with "stream": false (lockchat.WithoutStreaming) gets its reply as
// one JSON completion instead of a stream. The caller must Close it.
func NewServer(replies ...Reply) *Server {
	if len(replies) == 0 {
		replies = []Reply{{}}
	}
	s := &Server{replies: replies, notFound: make([]int, len(replies)),
		models: []string{lockchat.ModelGPT35Turbo, lockchat.ModelGPT4}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.srv.Start()
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close shuts the server down, closing any connection still open.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Client returns an HTTP client for the server (http.DefaultClient works as well).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// SetReply changes the script for the requests that follow.
func (s *Server) SetReply(r Reply) { s.SetReplies(r) }

// SetReplies changes the script for the requests that follow: the next request gets the
// first reply, and so on, the last one answering every request after it.
func (s *Server) SetReplies(replies ...Reply) {
	if len(replies) == 0 {
		replies = []Reply{{}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = replies
	s.next = 0
	s.notFound = make([]int, len(replies))
}

// SetModels changes what GET /v1/models lists (lockchat's Client.Models); by default the
// Lockchat models, gpt-3.5-turbo and gpt-4. Such a request is recorded but takes no reply.
func (s *Server) SetModels(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = ids
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Connections returns how many TCP connections clients have opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Aborted returns how many requests the client abandoned (closed the connection or
// cancelled) before their reply was complete.
func (s *Server) Aborted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aborted
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	_ = dec.Decode(&req.Payload)
	// Each field on its own, so that one that fails to decode loses nothing else.
	var model struct {
		Model string `json:"model"`
	}
	var messages struct {
		Messages []lockchat.Message `json:"messages"`
	}
	_ = json.Unmarshal(body, &model)
	_ = json.Unmarshal(body, &messages)
	req.Model, req.Messages = model.Model, messages.Messages

	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models") {
		models := s.models
		s.mu.Unlock()
		list := make([]map[string]any, len(models))
		for i, id := range models {
			list[i] = map[string]any{"id": id, "object": "model", "created": 1700000000, "owned_by": "lockchattest"}
		}
		w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", n))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mustJSON(map[string]any{"object": "list", "data": list}))
		return
	}
	i := min(s.next, len(s.replies)-1)
	reply := s.replies[i]
	notFound := s.notFound[i] < reply.ModelNotFound
	if notFound {
		s.notFound[i]++ // the reply stays the current one
	} else {
		s.next++
	}
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", n))
	for k, vs := range reply.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}

	if notFound {
		notFound := ErrorBody{
			Message: fmt.Sprintf("The model: `%s` does not exist", req.Model),
			Type:    "invalid_request_error",
			Code:    "model_not_found",
		}
		if !reply.ModelNotFoundInStream {
			writeError(w, http.StatusNotFound, notFound)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\n", mustJSON(map[string]any{"error": notFound}))
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		writeError(w, reply.Status, reply.Error)
		return
	}
	if stream, ok := req.Payload["stream"].(bool); ok && !stream && reply.Raw == nil {
		s.complete(w, r, req.Model, reply)
		return
	}
	if !s.stream(w, r, req.Model, reply) {
		s.mu.Lock()
		s.aborted++
		s.mu.Unlock()
	}
}

// stream writes the scripted stream. It returns false if the client went away first.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, model string, reply Reply) bool {
	flusher, _ := w.(http.Flusher)
	ct := reply.ContentType
	if ct == "" {
		ct = "text/event-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	send := func(s string) bool {
		if reply.Delay > 0 {
			t := time.NewTimer(reply.Delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		if _, err := io.WriteString(w, s); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return r.Context().Err() == nil
	}
	if reply.Raw != nil {
		for _, piece := range reply.Raw {
			if !send(piece) {
				return false
			}
		}
		if reply.KeepOpen {
			<-r.Context().Done()
		}
		return true
	}
	// event is one chunk event: the fields every chunk carries, plus choices and usage.
	event := func(choices []any, usage *lockchat.Usage) string {
		ch := map[string]any{
			"id": "chatcmpl-lockchattest", "object": "chat.completion.chunk",
			"created": 1700000000, "model": model, "choices": choices,
		}
		if usage != nil {
			ch["usage"] = usage
		}
		return "data: " + mustJSON(ch) + "\n\n"
	}
	chunk := func(delta map[string]any, finish any) string {
		return event([]any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}, nil)
	}
	fmt.Fprint(w, chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	var deltas []map[string]any // what follows the role chunk, one delta per event
	field := reply.ReasoningField
	if field == "" {
		field = "reasoning_content"
	}
	for _, r := range reply.Reasoning {
		deltas = append(deltas, map[string]any{field: r, "content": nil})
	}
	for _, tok := range reply.Tokens {
		deltas = append(deltas, map[string]any{"content": tok})
	}
	for _, r := range reply.Refusal {
		deltas = append(deltas, map[string]any{"refusal": r})
	}
	for i, tc := range reply.ToolCalls {
		deltas = append(deltas, toolCallDeltas(i, tc, reply.ArgumentFragment)...)
	}
	for i, d := range deltas {
		if reply.CutAfter > 0 && i == reply.CutAfter {
			cut(w)
			return true
		}
		if !send(chunk(d, nil)) {
			return false
		}
	}
	if reply.CutAfter > 0 && reply.CutAfter >= len(deltas) {
		cut(w) // after the last event: the finish never comes
		return true
	}
	finish := reply.finishReason()
	end := chunk(map[string]any{}, finish)
	if reply.Usage != nil {
		end += event([]any{}, reply.Usage)
	}
	end += "data: [DONE]\n\n"
	if _, err := io.WriteString(w, end); err != nil {
		return false
	}
	if flusher != nil {
		flusher.Flush()
	}
	if reply.KeepOpen {
		<-r.Context().Done()
	}
	return true
}

// toolCallDeltas returns the deltas that stream one tool call: whole, or an opening
// delta and fragments of at most fragment runes of the arguments.
func toolCallDeltas(index int, tc lockchat.ToolCall, fragment int) []map[string]any {
	typ := tc.Type
	if typ == "" {
		typ = "function"
	}
	open := map[string]any{"index": index, "id": tc.ID, "type": typ,
		"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}
	for k, v := range tc.Extra {
		open[k] = v
	}
	if fragment <= 0 {
		return []map[string]any{{"tool_calls": []any{open}}}
	}
	open["function"] = map[string]any{"name": tc.Name, "arguments": ""}
	deltas := []map[string]any{{"tool_calls": []any{open}}}
	args := []rune(tc.Arguments)
	for len(args) > 0 {
		n := min(fragment, len(args))
		deltas = append(deltas, map[string]any{"tool_calls": []any{map[string]any{
			"index": index, "function": map[string]any{"arguments": string(args[:n])}}}})
		args = args[n:]
	}
	return deltas
}

// cut drops the connection without ending the chunked body.
func cut(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeError(w http.ResponseWriter, status int, e ErrorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, mustJSON(map[string]any{"error": e}))
}

func mustJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// complete answers a request that asked for no stream ("stream": false) with the reply
// as one JSON completion, after one Delay: the joined reasoning, tokens and refusal, the
// tool calls whole, the finish reason and the usage. CutAfter and KeepOpen do not apply.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, model string, reply Reply) {
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			s.mu.Lock()
			s.aborted++
			s.mu.Unlock()
			return
		case <-t.C:
		}
	}
	msg := map[string]any{"role": "assistant", "content": nil}
	if len(reply.Tokens) > 0 {
		msg["content"] = strings.Join(reply.Tokens, "")
	}
	if len(reply.Reasoning) > 0 {
		field := reply.ReasoningField
		if field == "" {
			field = "reasoning_content"
		}
		msg[field] = strings.Join(reply.Reasoning, "")
	}
	if len(reply.Refusal) > 0 {
		msg["refusal"] = strings.Join(reply.Refusal, "")
	}
	if len(reply.ToolCalls) > 0 {
		msg["tool_calls"] = reply.ToolCalls // in the OpenAI shape, as lockchat.ToolCall encodes
	}
	finish := reply.finishReason()
	answer := map[string]any{
		"id": "chatcmpl-lockchattest", "object": "chat.completion",
		"created": 1700000000, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
	}
	if reply.Usage != nil {
		answer["usage"] = reply.Usage
	}
	ct := reply.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	io.WriteString(w, mustJSON(answer))
}

// finishReason is the reply's FinishReason, or its default: "tool_calls" for a reply with
// tool calls, else "stop".
func (r *Reply) finishReason() string {
	switch {
	case r.FinishReason != "":
		return r.FinishReason
	case len(r.ToolCalls) > 0:
		return "tool_calls"
	}
	return "stop"
}
