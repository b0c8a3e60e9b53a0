package lockchat

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// This file holds the stream's wire types: a chunk, its choices, the tool-call fragments
// they carry, and the usage. The decoder that fills them is in decode.go.

// Chunk is one decoded event of a chat-completions stream, for callers who need more
// than the text: the role, reasoning, refusals, tool calls, finish reasons, usage, and
// several choices. A Chunk may be kept after the loop body, except Raw.
type Chunk struct {
	// ID and Model are the chunk's "id" and "model" fields. A chunk that carries only a
	// UTF-16 half held back at the end of the stream repeats the last chunk's.
	ID    string
	Model string
	// Choices holds the chunk's choices; it may be empty (a usage-only final chunk, or
	// Azure's prompt_filter_results chunk).
	Choices []Choice
	// Usage is the token usage, sent by some servers in the last chunk (see WithUsage).
	Usage *Usage
	// Raw is the event's data as it arrived, for the fields lockchat does not model
	// (logprobs, "obfuscation", "x_groq", "provider", "prompt_filter_results", …). It
	// aliases the decoder's buffer: it is valid only until the loop body returns; copy it
	// (bytes.Clone) to keep it. It is nil for a chunk lockchat made itself.
	Raw json.RawMessage
	// Endpoint is the index, in WithEndpoints' list, of the endpoint that sent the chunk;
	// 0 without WithEndpoints.
	Endpoint int
}

// Choice is one choice's part of a chunk.
type Choice struct {
	// Index tells the choices apart when more than one is requested ("n" > 1).
	Index int
	// Role is set in the first chunk of a choice, usually "assistant"; some servers
	// repeat it in every chunk.
	Role string
	// Content is the text of the delta, or "" when the chunk carries none.
	Content string
	// Reasoning is the delta's reasoning text, from whichever field the server uses
	// ("reasoning_content" or "reasoning"); a server that sends the same text under both
	// names gives it once.
	Reasoning string
	// ReasoningField is the name of the field Reasoning came from, "" when there was none.
	ReasoningField string
	// Refusal is the delta's refusal text.
	Refusal string
	// ToolCalls are the tool-call fragments of the delta, in the order they arrived.
	ToolCalls []ToolCallDelta
	// FinishReason is set in the choice's last chunk: "stop", "length", "tool_calls"...
	// Some servers say "stop" after tool calls; the calls count whatever it says.
	FinishReason string
}

// ToolCallDelta is one fragment of a tool call as it arrived. A call usually comes as an
// opening fragment with its ID, Type and Name, then fragments of Arguments to append.
type ToolCallDelta struct {
	// Index is the call's position in the assembled message, after the repair rules:
	// calls are numbered in the order they first appear, a server's index is a key (a
	// gap in it leaves no hole), and a fragment without an index, or with -1, continues
	// the current call unless it opens a new one (see Repair).
	Index int
	// ID, Type and Name are set in the fragment that opens the call, "" otherwise (some
	// servers repeat or blank them; an Accumulator keeps the first non-empty value).
	ID   string
	Type string
	Name string
	// Arguments is this fragment of the arguments' JSON text, to be appended.
	Arguments string
	// Extra holds the fragment's keys that lockchat does not model, as raw JSON (Gemini's
	// "extra_content"); nil when there are none.
	Extra map[string]json.RawMessage
	// Repair, when not "", says how Index was worked out for a server that broke the
	// protocol's rules: one of the Repair* constants.
	Repair string
}

// Usage is the token usage a server reports.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedTokens is prompt_tokens_details.cached_tokens: prompt tokens served from the
	// server's cache.
	CachedTokens int
	// ReasoningTokens is completion_tokens_details.reasoning_tokens: completion tokens
	// spent on reasoning.
	ReasoningTokens int
}

// MarshalJSON encodes the usage in the OpenAI shape, with the details objects only when
// their counts are set.
func (u Usage) MarshalJSON() ([]byte, error) {
	b := []byte(`{"prompt_tokens":`)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	if u.CachedTokens != 0 {
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
		b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
		b = append(b, '}')
	}
	if u.ReasoningTokens != 0 {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes usage leniently, as the stream does: a count that is not a
// whole number that fits an int (12.5, 1e400, "12", null) reads as 0 instead of failing,
// and a value that is not an object leaves u zero.
func (u *Usage) UnmarshalJSON(data []byte) error {
	if p := parseUsage(data); p != nil {
		*u = *p
	} else {
		*u = Usage{}
	}
	return nil
}

// parseUsage reads a usage object leniently (see Usage.UnmarshalJSON); it returns nil for
// a value that is not an object. Usage never fails a stream: the text is what matters.
func parseUsage(raw []byte) *Usage {
	var m struct {
		Prompt     json.RawMessage `json:"prompt_tokens"`
		Completion json.RawMessage `json:"completion_tokens"`
		Total      json.RawMessage `json:"total_tokens"`
		PromptDet  struct {
			Cached json.RawMessage `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
		CompletionDet struct {
			Reasoning json.RawMessage `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	if json.Unmarshal(raw, &m) != nil {
		// A details field of another shape: read the counts alone.
		var flat struct {
			Prompt     json.RawMessage `json:"prompt_tokens"`
			Completion json.RawMessage `json:"completion_tokens"`
			Total      json.RawMessage `json:"total_tokens"`
		}
		if json.Unmarshal(raw, &flat) != nil {
			return &Usage{}
		}
		return &Usage{PromptTokens: count(flat.Prompt), CompletionTokens: count(flat.Completion), TotalTokens: count(flat.Total)}
	}
	return &Usage{
		PromptTokens:     count(m.Prompt),
		CompletionTokens: count(m.Completion),
		TotalTokens:      count(m.Total),
		CachedTokens:     count(m.PromptDet.Cached),
		ReasoningTokens:  count(m.CompletionDet.Reasoning),
	}
}

// count reads a token count: a JSON number with a whole value that fits an int, else 0.
func count(raw []byte) int {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0
	}
	if n, err := strconv.Atoi(string(raw)); err == nil {
		return n
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
		return 0
	}
	return int(f)
}

// envelopeKeys are the keys every chunk may carry without saying anything to a caller of
// StreamChunks ("error" is the call's error, or says nothing): a chunk without choices
// or usage that holds others (Azure's prompt_filter_results) is yielded for its Raw.
var envelopeKeys = []string{"id", "object", "created", "model", "system_fingerprint", "service_tier", "choices", "usage", "obfuscation", "error"}

// beyondEnvelope reports whether raw, a chunk's JSON, holds a key that is not one of
// envelopeKeys with a value that is not null.
func beyondEnvelope(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k, v := range m {
		if !slices.Contains(envelopeKeys, k) && !isNull(v) {
			return true
		}
	}
	return false
}
