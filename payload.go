package lockchat

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// This file writes the request body. It is written by hand, keys in sorted order, so that
// a call costs one buffer rather than a map and a reflection pass per message.

// reservedParams are set by every call and cannot be overridden with WithParam.
var reservedParams = []string{"model", "messages", "stream"}

// buildPayload encodes the request body: the model, the messages, "stream": true, the
// temperature, the tools, the usage request and the extra parameters, keys sorted. A
// parameter set with WithParam overrides the field an option set under the same key.
func buildPayload(cfg *config, model string, messages []Message) ([]byte, error) {
	for k := range cfg.params {
		if slices.Contains(reservedParams, k) {
			return nil, fmt.Errorf("lockchat: WithParam(%q): the call sets that field", k)
		}
	}
	// Each field is a key and a function that appends its value.
	type field struct {
		key   string
		value func([]byte) ([]byte, error)
	}
	fields := make([]field, 0, 8+len(cfg.params))
	fields = append(fields,
		field{"model", func(b []byte) ([]byte, error) { return appendString(b, model), nil }},
		field{"messages", func(b []byte) ([]byte, error) { return appendMessages(b, messages) }},
		field{"stream", func(b []byte) ([]byte, error) { return append(b, "true"...), nil }},
	)
	optional := []struct {
		key string
		set bool
		v   any
	}{
		{"temperature", true, cfg.temperature},
		{"tools", len(cfg.tools) > 0, cfg.tools},
		{"tool_choice", cfg.toolChoice != ToolChoice{}, cfg.toolChoice},
		{"stream_options", cfg.usage, map[string]bool{"include_usage": true}},
	}
	for _, o := range optional {
		if _, overridden := cfg.params[o.key]; o.set && !overridden {
			fields = append(fields, field{o.key, marshalValue(o.key, o.v)})
		}
	}
	for k, v := range cfg.params {
		fields = append(fields, field{k, marshalValue(k, v)})
	}
	slices.SortFunc(fields, func(a, b field) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	b := make([]byte, 0, payloadSizeHint(messages))
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		var err error
		if b, err = f.value(b); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func marshalValue(key string, v any) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		j, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("lockchat: encoding the request's %q: %w", key, err)
		}
		return append(b, j...), nil
	}
}

func appendMessages(b []byte, messages []Message) ([]byte, error) {
	b = append(b, '[')
	for i := range messages {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = messages[i].appendJSON(b); err != nil {
			return nil, fmt.Errorf("lockchat: encoding message %d: %w", i, err)
		}
	}
	return append(b, ']'), nil
}

// payloadSizeHint guesses the body's size, so that it is written into one allocation.
func payloadSizeHint(messages []Message) int {
	n := 128
	for i := range messages {
		n += 32 + len(messages[i].Content) + len(messages[i].Reasoning)
		for _, c := range messages[i].ToolCalls {
			n += 64 + len(c.Arguments)
		}
	}
	return n + n/16 // room for escapes
}

// appendString appends s as a JSON string literal. It escapes what JSON requires (the
// quote, the backslash, control characters), writes invalid UTF-8 as U+FFFD, and escapes
// U+2028 and U+2029 as encoding/json does; unlike encoding/json it leaves <, > and &
// as they are.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
