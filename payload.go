package lockchat

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file writes the request body. It is written by hand, keys in sorted order, so that
// a call costs one buffer rather than a map and a reflection pass per message.

// reservedParams are set by every call and cannot be overridden with WithParam.
var reservedParams = []string{"model", "messages", "stream"}

// buildPayload encodes the request body: the model, the messages, "stream": true, the
// temperature, the tools, the stream options and the extra parameters, keys sorted. A
// parameter set with WithParam overrides the field an option set under the same key
// (except "stream_options", which is merged); one named by WithoutParam is left out.
func buildPayload(cfg *config, model string, messages []Message) ([]byte, error) {
	var keyArray [12]string // room for the usual keys without an allocation
	keys := append(keyArray[:0], "messages", "model", "stream", "temperature")
	if len(cfg.tools) > 0 {
		keys = append(keys, "tools")
	}
	if cfg.toolChoice != (ToolChoice{}) {
		keys = append(keys, "tool_choice")
	}
	if cfg.maxTokens > 0 {
		keys = append(keys, maxTokensKey(cfg))
	}
	if streamOptions(cfg) {
		keys = append(keys, "stream_options")
	}
	for k := range cfg.params {
		if slices.Contains(reservedParams, k) {
			return nil, &requestError{text: fmt.Sprintf("WithParam(%q): the call sets that field", k)}
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range cfg.without {
		if slices.Contains(reservedParams, k) {
			return nil, &requestError{text: fmt.Sprintf("WithoutParam(%q): every request needs that field", k)}
		}
		keys = slices.DeleteFunc(keys, func(key string) bool { return key == k })
	}
	slices.Sort(keys)
	b := make([]byte, 0, payloadSizeHint(messages))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if k == "stream_options" && streamOptions(cfg) {
			b, err = appendStreamOptions(b, cfg)
		} else if v, ok := cfg.params[k]; ok {
			b, err = appendValue(b, k, v)
		} else {
			b, err = appendField(b, cfg, k, model, messages)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendField appends the value of a field the call or an option sets.
func appendField(b []byte, cfg *config, key, model string, messages []Message) ([]byte, error) {
	switch key {
	case "messages":
		return appendMessages(b, messages)
	case "model":
		return appendString(b, model), nil
	case "stream":
		if cfg.noStream {
			return append(b, "false"...), nil
		}
		return append(b, "true"...), nil
	case "temperature":
		return appendFloat(b, key, cfg.temperature)
	case "max_tokens", "max_completion_tokens":
		return strconv.AppendInt(b, int64(cfg.maxTokens), 10), nil
	case "tools":
		return appendValue(b, key, cfg.tools)
	case "tool_choice":
		return appendValue(b, key, cfg.toolChoice)
	}
	panic("lockchat: no value for payload field " + key)
}

// maxTokensKey is the name WithMaxTokens' limit is sent under.
func maxTokensKey(cfg *config) string {
	if cfg.maxCompletionTokens {
		return "max_completion_tokens"
	}
	return "max_tokens"
}

// streamOptions reports whether an option asks for "stream_options": WithUsage or
// WithoutObfuscation, while streaming (OpenAI rejects it without).
func streamOptions(cfg *config) bool { return (cfg.usage || cfg.noObfuscation) && !cfg.noStream }

// appendStreamOptions appends "stream_options" for WithUsage and WithoutObfuscation,
// merged into the object a WithParam("stream_options", …) gave: the options add their
// keys to it rather than replace it, and it does not replace them.
func appendStreamOptions(b []byte, cfg *config) ([]byte, error) {
	v, given := cfg.params["stream_options"]
	if !given {
		switch {
		case cfg.usage && cfg.noObfuscation:
			return append(b, `{"include_obfuscation":false,"include_usage":true}`...), nil
		case cfg.usage:
			return append(b, `{"include_usage":true}`...), nil
		}
		return append(b, `{"include_obfuscation":false}`...), nil
	}
	var fields map[string]json.RawMessage
	j, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(j, &fields)
	}
	if err != nil || fields == nil {
		return nil, &requestError{text: `WithParam("stream_options", …) must be a JSON object to combine with WithUsage or WithoutObfuscation`}
	}
	if cfg.usage {
		fields["include_usage"] = json.RawMessage("true")
	}
	if cfg.noObfuscation {
		fields["include_obfuscation"] = json.RawMessage("false")
	}
	return appendValue(b, "stream_options", fields) // keys sorted, as encoding/json writes maps
}

// appendFloat appends f as encoding/json writes a float64.
func appendFloat(b []byte, key string, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("lockchat: encoding the request's %q: unsupported value %v", key, f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendValue appends v encoded by encoding/json.
func appendValue(b []byte, key string, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("lockchat: encoding the request's %q: %w", key, err)
	}
	return append(b, j...), nil
}

func appendMessages(b []byte, messages []Message) ([]byte, error) {
	b = append(b, '[')
	for i := range messages {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = messages[i].appendJSON(b); err != nil {
			return nil, &encodeError{what: fmt.Sprintf("message %d", i), err: err}
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
