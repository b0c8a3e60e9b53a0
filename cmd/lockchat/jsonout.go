package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"

	"github.com/lockchat/lockchat"
)

// This file prints an answer for -json: one JSON object per line (NDJSON), each chunk as
// it arrives and then the assembled completion, and nothing else.

// jsonOutput prints one answer as NDJSON.
type jsonOutput struct {
	w      io.Writer
	chunks int
	buf    bytes.Buffer
	err    error
}

// chunk prints the chunk's JSON as the server sent it, on one line. A chunk lockchat made
// itself (one that completes a character split across two events) has no such text and
// is printed in the same shape from its fields.
func (o *jsonOutput) chunk(ch lockchat.Chunk) error {
	o.buf.Reset()
	if len(ch.Raw) == 0 || json.Compact(&o.buf, ch.Raw) != nil || o.buf.Len() == 0 || o.buf.Bytes()[0] != '{' {
		o.buf.Reset()
		o.encode(chunkJSON(ch))
	}
	o.chunks++
	return o.line()
}

// end prints the assembled completion, in the shape of a chat.completion response. After
// a failure it is printed only if some chunk was: it is what arrived, and its
// finish_reason of null, for every choice, says it is incomplete, even where the server
// had sent one before failing.
func (o *jsonOutput) end(c lockchat.Completion, err error) error {
	if err != nil && o.chunks == 0 {
		return nil
	}
	o.buf.Reset()
	o.encode(completionJSON(c, err != nil))
	return o.line()
}

// encode puts v in the buffer as JSON, without its trailing newline.
func (o *jsonOutput) encode(v any) {
	enc := json.NewEncoder(&o.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil && o.err == nil {
		o.err = err
	}
	o.buf.Truncate(len(bytes.TrimRight(o.buf.Bytes(), "\n")))
}

// line writes the buffer and a newline.
func (o *jsonOutput) line() error {
	if o.err == nil {
		o.buf.WriteByte('\n')
		_, o.err = o.w.Write(o.buf.Bytes())
	}
	if o.err != nil {
		return fmt.Errorf("lockchat: writing the answer: %w", o.err)
	}
	return nil
}

// chunkJSON is a chunk in the chat.completion.chunk shape.
func chunkJSON(ch lockchat.Chunk) map[string]any {
	choices := make([]any, 0, len(ch.Choices))
	for _, c := range ch.Choices {
		delta := map[string]any{}
		if c.Role != "" {
			delta["role"] = c.Role
		}
		if c.Content != "" {
			delta["content"] = c.Content
		}
		if c.Reasoning != "" {
			delta[cmp.Or(c.ReasoningField, "reasoning_content")] = c.Reasoning
		}
		if c.Refusal != "" {
			delta["refusal"] = c.Refusal
		}
		if len(c.ToolCalls) > 0 {
			calls := make([]any, 0, len(c.ToolCalls))
			for _, tc := range c.ToolCalls {
				call := map[string]any{"index": tc.Index, "function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}
				if tc.ID != "" {
					call["id"] = tc.ID
				}
				if tc.Type != "" {
					call["type"] = tc.Type
				}
				calls = append(calls, call)
			}
			delta["tool_calls"] = calls
		}
		choices = append(choices, map[string]any{"index": c.Index, "delta": delta, "finish_reason": nullIfEmpty(c.FinishReason)})
	}
	m := map[string]any{"id": ch.ID, "object": "chat.completion.chunk", "model": ch.Model, "choices": choices}
	if ch.Usage != nil {
		m["usage"] = ch.Usage
	}
	return m
}

// completionJSON is an assembled completion in the chat.completion shape; the
// finish_reason of every choice is null when failed is true.
func completionJSON(c lockchat.Completion, failed bool) map[string]any {
	choices := make([]any, 0, len(c.Choices))
	for _, ch := range c.Choices {
		var finish any
		if !failed {
			finish = nullIfEmpty(ch.FinishReason)
		}
		choices = append(choices, map[string]any{"index": ch.Index, "message": ch.Message, "finish_reason": finish})
	}
	m := map[string]any{"id": c.ID, "object": "chat.completion", "model": c.Model, "choices": choices}
	if c.Usage != nil {
		m["usage"] = c.Usage
	}
	return m
}

// nullIfEmpty returns s, or nil (JSON null) for "".
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
