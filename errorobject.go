package lockchat

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
)

// This file holds the error recogniser: the one place that decides whether what a
// server sent is an error, for every path a response takes — a non-2xx body, a 2xx JSON
// body, an event in a stream — so that no shape is known to one path and not another.

// errorEnvelope is the shape of the OpenAI error object and of the flat variants other
// servers send ({"object":"error", "message":…} from vLLM, {"message":…} or
// {"detail":…} from others).
type errorEnvelope struct {
	Error   json.RawMessage `json:"error"`
	Object  json.RawMessage `json:"object"`
	Message json.RawMessage `json:"message"`
	Detail  json.RawMessage `json:"detail"`
	Type    json.RawMessage `json:"type"`
	Code    json.RawMessage `json:"code"`
	Param   json.RawMessage `json:"param"`
	Choices json.RawMessage `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
}

// recogniseError reads an error from data, a response body or the data of one event.
// It knows these shapes, and returns nil for anything else:
//
//   - an object with an "error" field that says something: an object (its message or
//     detail, type, code and param), a string, or any other value, kept as its text.
//     An "error" that says nothing — null, false, "", 0, {} or [] — is no error, as in
//     the official Python client;
//   - a flat error object: {"object":"error", …} (vLLM), or an object with neither
//     choices nor usage whose "message" or "detail" says something;
//   - text, or a JSON string, saying that the model does not exist.
//
// The caller sets StatusCode and InStream.
func recogniseError(data []byte) *APIError {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var env errorEnvelope
		if json.Unmarshal(data, &env) == nil {
			return errorInObject(&env, data)
		}
	}
	text := string(data)
	if s, err := unquoteJSON(data); err == nil {
		text = s
	}
	if loc := modelNotFoundMessage.FindStringIndex(text); loc != nil {
		if len(text) > excerptLimit {
			text = text[loc[0]:] // quote the sentence, wherever it lies
		}
		return &APIError{Message: excerpt([]byte(text))}
	}
	return nil
}

// errorInObject applies recogniseError's rules to a JSON object.
func errorInObject(env *errorEnvelope, raw []byte) *APIError {
	var e APIError
	switch {
	case !saysNothing(env.Error):
		fillError(env.Error, &e)
	case isErrorTag(env.Object),
		isNull(env.Choices) && isNull(env.Usage) && (!saysNothing(env.Message) || !saysNothing(env.Detail)):
		fillError(raw, &e)
	default:
		return nil
	}
	return &e
}

// chunkError is recogniseError for the data of an event the chunk decoder has just
// read, given the raw values of the chunk's "error", "object", "choices" and "usage".
// Most chunks carry choices or usage and no error: those values decide them without
// parsing the data again, by the same rules recogniseError applies.
func chunkError(data, errField, object, choices, usage []byte) *APIError {
	if saysNothing(errField) && !isErrorTag(object) && (!isNull(choices) || !isNull(usage)) {
		return nil
	}
	e := recogniseError(data)
	if e != nil {
		e.StatusCode, e.InStream = 200, true
	}
	return e
}

// fillError sets e's fields from the JSON value of an "error" field, or from a flat error
// object: an object with message (or detail), type, code and param; a plain string; or
// anything else, kept as its text.
func fillError(raw []byte, e *APIError) {
	var obj errorEnvelope
	if json.Unmarshal(raw, &obj) == nil && len(raw) > 0 && raw[0] == '{' {
		e.Message = jsonText(obj.Message)
		if e.Message == "" {
			e.Message = jsonText(obj.Detail)
		}
		e.Type = jsonText(obj.Type)
		e.Code = jsonText(obj.Code)
		e.Param = jsonText(obj.Param)
		if e.Message == "" && e.Type == "" && e.Code == "" {
			e.Message = excerpt(raw) // an object of other fields: quote it
		}
		return
	}
	e.Message = textOf(raw)
}

// saysNothing reports whether a raw JSON value is absent or empty: null, false, "", a
// zero number, {} or [].
func saysNothing(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return true
	}
	switch raw[0] {
	case 'n', 'f':
		return string(raw) == "null" || string(raw) == "false"
	case '"':
		return string(raw) == `""`
	case '{', '[':
		return len(raw) >= 2 && len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		f, err := strconv.ParseFloat(string(raw), 64)
		return err == nil && f == 0
	}
	return false
}

// isErrorTag reports whether raw is the JSON string "error", vLLM's "object" of an error.
func isErrorTag(raw []byte) bool { return string(raw) == `"error"` }

var modelNotFoundMessage = regexp.MustCompile("The model:? `[^`]*` does not exist")

func (e *APIError) modelNotFound() bool {
	return e.Code == "model_not_found" || modelNotFoundMessage.MatchString(e.Message)
}
