package lockchat

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// This file holds the request's wire types: the messages of a conversation, their parts,
// the tool calls an assistant made, and the tools a request offers. Each is flat in Go and
// has the OpenAI chat-completions shape on the wire; fields left at their zero value are
// not sent, so Message{Role: "user", Content: "hi"} is sent as {"role":"user","content":"hi"}.

// Message is one message of a conversation. The same type comes back from Chat and
// Completion.Message, ready to be appended to the conversation for the next request.
type Message struct {
	// Role is "system", "user", "assistant" or "tool".
	Role string
	// Content is the message's text. It is sent as "content" unless Parts is non-empty.
	Content string
	// Name, if set, is sent as "name" (a participant's name).
	Name string
	// Parts, when non-empty, is sent as the "content" array instead of Content: text and
	// images for models that accept them.
	Parts []Part
	// ToolCalls are the calls an assistant turn made.
	ToolCalls []ToolCall
	// ToolCallID is the call a "tool" message answers.
	ToolCallID string
	// Reasoning is an assistant turn's reasoning text. It is sent back under the field
	// name the server used for it ("reasoning_content" when it came from a server that
	// says so or from the caller; "reasoning" when the server streamed it under that
	// name), since some servers reject a tool-call turn sent back without it.
	Reasoning string
	// Refusal is an assistant turn's refusal, sent back as "refusal".
	Refusal string

	// reasoningField is the wire name Reasoning arrived under; "" means
	// "reasoning_content".
	reasoningField string
}

// Part is one element of a message's content array: a text or an image.
type Part struct {
	// Type is "text" or "image_url" (or, for a part decoded from JSON, whatever the
	// sender wrote; such a part is sent back as it came).
	Type string
	// Text is a text part's text.
	Text string
	// ImageURL is an image part's address: an https:// URL or a data: URL.
	ImageURL string

	raw json.RawMessage // a decoded part of another type, sent back verbatim
}

// TextPart returns a text part.
func TextPart(text string) Part { return Part{Type: "text", Text: text} }

// ImagePart returns an image part; url may be an https:// or a data: URL.
func ImagePart(url string) Part { return Part{Type: "image_url", ImageURL: url} }

// ToolCall is one call an assistant turn made: flat in Go, and on the wire the OpenAI
// shape {"id","type","function":{"name","arguments"}}.
type ToolCall struct {
	ID string
	// Type is "function", or "custom" for an OpenAI custom tool call, whose
	// {"name","input"} object is Extra["custom"] and which has no Name or Arguments; it
	// is sent as "function" when empty.
	Type string
	Name string
	// Arguments is the JSON text of the arguments exactly as the server sent it. It may
	// be invalid JSON, for example when the answer was cut by max_tokens.
	Arguments string
	// Extra holds the keys of the call object the library does not model (Gemini's
	// "extra_content" with its thought signature), as raw JSON. They are sent back
	// unchanged.
	Extra map[string]json.RawMessage
}

// Tool is a function the model may call, sent in "tools" by WithTools.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments: any value encoding/json can
	// marshal, such as a map or a json.RawMessage. Nil sends no "parameters".
	Parameters any
	// Strict asks the server to follow the schema exactly ("strict": true).
	Strict bool
}

// ToolChoice says which tool the model must call; see WithToolChoice. The zero value
// sends nothing and leaves the choice to the server.
type ToolChoice struct {
	mode string // "auto", "none", "required", or "" with a function name
	name string
}

// The choices of WithToolChoice that name no function.
var (
	// ToolChoiceAuto lets the model decide whether to call a tool.
	ToolChoiceAuto = ToolChoice{mode: "auto"}
	// ToolChoiceNone forbids tool calls.
	ToolChoiceNone = ToolChoice{mode: "none"}
	// ToolChoiceRequired makes the model call at least one tool.
	ToolChoiceRequired = ToolChoice{mode: "required"}
)

// ToolChoiceFunction makes the model call the named function.
func ToolChoiceFunction(name string) ToolChoice { return ToolChoice{name: name} }

// MarshalJSON encodes the message in the OpenAI shape: "role" and "content" always (so an
// assistant tool-call turn without text sends "content":""), the other fields only when set.
func (m Message) MarshalJSON() ([]byte, error) { return m.appendJSON(nil) }

func (m *Message) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"role":`...)
	b = appendString(b, m.Role)
	b = append(b, `,"content":`...)
	if len(m.Parts) > 0 {
		b = append(b, '[')
		for i := range m.Parts {
			if i > 0 {
				b = append(b, ',')
			}
			b = m.Parts[i].appendJSON(b)
		}
		b = append(b, ']')
	} else {
		b = appendString(b, m.Content)
	}
	if m.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, m.Name)
	}
	if len(m.ToolCalls) > 0 {
		b = append(b, `,"tool_calls":[`...)
		for i := range m.ToolCalls {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = m.ToolCalls[i].appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if m.ToolCallID != "" {
		b = append(b, `,"tool_call_id":`...)
		b = appendString(b, m.ToolCallID)
	}
	if m.Reasoning != "" {
		field := m.reasoningField
		if field == "" {
			field = fieldReasoningContent
		}
		b = append(b, ',')
		b = appendString(b, field)
		b = append(b, ':')
		b = appendString(b, m.Reasoning)
	}
	if m.Refusal != "" {
		b = append(b, `,"refusal":`...)
		b = appendString(b, m.Refusal)
	}
	return append(b, '}'), nil
}

// The two names servers give the reasoning text of a delta or a message.
const (
	fieldReasoningContent = "reasoning_content" // DeepSeek, llama.cpp, SGLang, xAI, older vLLM
	fieldReasoning        = "reasoning"         // Ollama, OpenRouter, Groq, newer vLLM
)

// MarshalJSON encodes the part in the OpenAI shape, as a message sends it:
// {"type":"text","text":…} or {"type":"image_url","image_url":{"url":…}}, and a part
// decoded from JSON of another type as it came; UnmarshalJSON reads it back.
func (p Part) MarshalJSON() ([]byte, error) { return p.appendJSON(nil), nil }

func (p *Part) appendJSON(b []byte) []byte {
	switch {
	case len(p.raw) > 0:
		return append(b, p.raw...)
	case p.Type == "image_url":
		b = append(b, `{"type":"image_url","image_url":{"url":`...)
		b = appendString(b, p.ImageURL)
		return append(b, "}}"...)
	}
	b = append(b, `{"type":`...)
	b = appendString(b, cmp.Or(p.Type, "text"))
	b = append(b, `,"text":`...)
	b = appendString(b, p.Text)
	return append(b, '}')
}

// MarshalJSON encodes the call as {"id","type","function":{"name","arguments"}} followed
// by its Extra keys in sorted order. An OpenAI custom tool call (Extra["custom"], with no
// Name and no Arguments) is sent without the "function" object it never had.
func (c ToolCall) MarshalJSON() ([]byte, error) { return c.appendJSON(nil) }

func (c *ToolCall) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, cmp.Or(c.Type, "function"))
	if _, custom := c.Extra["custom"]; !custom || c.Name != "" || c.Arguments != "" {
		b = append(b, `,"function":{"name":`...)
		b = appendString(b, c.Name)
		b = append(b, `,"arguments":`...)
		b = appendString(b, c.Arguments)
		b = append(b, '}')
	}
	for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
		if callLayout.has(k) {
			continue // the keys a tool call's layout reads are written from the fields
		}
		v := c.Extra[k]
		if !json.Valid(v) {
			return nil, fmt.Errorf("lockchat: tool call %q: Extra[%q] is not valid JSON", c.ID, k)
		}
		b = append(b, ',')
		b = appendString(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// MarshalJSON encodes the tool as {"type":"function","function":{…}}.
func (t Tool) MarshalJSON() ([]byte, error) {
	f := struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		Parameters  any    `json:"parameters,omitempty"`
		Strict      bool   `json:"strict,omitempty"`
	}{t.Name, t.Description, t.Parameters, t.Strict}
	return json.Marshal(struct {
		Type     string `json:"type"`
		Function any    `json:"function"`
	}{"function", f})
}

// MarshalJSON encodes the choice as "auto", "none", "required" or
// {"type":"function","function":{"name":…}}.
func (c ToolChoice) MarshalJSON() ([]byte, error) {
	if c.mode != "" {
		return appendString(nil, c.mode), nil
	}
	b := append([]byte(nil), `{"type":"function","function":{"name":`...)
	b = appendString(b, c.name)
	return append(b, "}}"...), nil
}

// wireMessage is a message as JSON has it, for UnmarshalJSON.
type wireMessage struct {
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	Name             string          `json:"name"`
	ToolCalls        []ToolCall      `json:"tool_calls"`
	ToolCallID       string          `json:"tool_call_id"`
	ReasoningContent *string         `json:"reasoning_content"`
	Reasoning        *string         `json:"reasoning"`
	Refusal          *string         `json:"refusal"`
}

// UnmarshalJSON decodes a message in the OpenAI shape; "content" may be a string, null
// or an array of parts, and reasoning may come as "reasoning_content" or "reasoning".
func (m *Message) UnmarshalJSON(data []byte) error {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = Message{Role: w.Role, Name: w.Name, ToolCalls: w.ToolCalls, ToolCallID: w.ToolCallID}
	switch {
	case isNull(w.Content):
	case w.Content[0] == '"':
		if err := json.Unmarshal(w.Content, &m.Content); err != nil {
			return err
		}
	case w.Content[0] == '[':
		if err := json.Unmarshal(w.Content, &m.Parts); err != nil {
			return err
		}
	default:
		return fmt.Errorf("lockchat: message content must be a string, null or an array, got %s", excerpt(w.Content))
	}
	if w.ReasoningContent != nil && *w.ReasoningContent != "" {
		m.Reasoning = *w.ReasoningContent
	} else if w.Reasoning != nil && *w.Reasoning != "" {
		m.Reasoning, m.reasoningField = *w.Reasoning, fieldReasoning
	}
	if w.Refusal != nil {
		m.Refusal = *w.Refusal
	}
	return nil
}

// UnmarshalJSON decodes a text or image_url part; a part of another type is kept as raw
// JSON and sent back as it came.
func (p *Part) UnmarshalJSON(data []byte) error {
	var w struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL *struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	switch {
	case w.Type == "text":
		*p = Part{Type: w.Type, Text: w.Text}
	case w.Type == "image_url" && w.ImageURL != nil:
		*p = Part{Type: w.Type, ImageURL: w.ImageURL.URL}
	default:
		*p = Part{Type: w.Type, raw: append(json.RawMessage(nil), data...)}
	}
	return nil
}

// UnmarshalJSON decodes a call in the OpenAI shape, keeping unmodelled keys in Extra.
func (c *ToolCall) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var f struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if fn := m["function"]; !isNull(fn) {
		if err := json.Unmarshal(fn, &f); err != nil {
			return err
		}
	}
	*c = ToolCall{Name: f.Name, Arguments: argumentsText(f.Arguments)}
	if err := unmarshalOptional(m["id"], &c.ID); err != nil {
		return err
	}
	if err := unmarshalOptional(m["type"], &c.Type); err != nil {
		return err
	}
	for k, v := range m {
		if callLayout.has(k) {
			continue // modelled, not extra
		}
		if c.Extra == nil {
			c.Extra = map[string]json.RawMessage{}
		}
		c.Extra[k] = v
	}
	return nil
}

func unmarshalOptional(raw json.RawMessage, dst *string) error {
	if isNull(raw) {
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// argumentsText returns the arguments' text: a JSON string's value, or the raw JSON of
// any other value (a server that sends an object), or "" for null.
func argumentsText(raw []byte) string {
	if isNull(raw) {
		return ""
	}
	if raw[0] == '"' {
		return textOf(raw)
	}
	return string(raw)
}
