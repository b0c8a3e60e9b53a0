package lockchat

import (
	"encoding/json"
	"regexp"
)

// This file holds the error recogniser: how an error object the server sent is read,
// and how "the model does not exist" is recognised in it.

// errorEnvelope is the shape of the OpenAI error object and of the flat variants other
// servers send ({"object":"error", "message":…} from vLLM, {"message":…} from others).
type errorEnvelope struct {
	Error   json.RawMessage `json:"error"`
	Object  json.RawMessage `json:"object"`
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Code    json.RawMessage `json:"code"`
	Param   json.RawMessage `json:"param"`
	Detail  json.RawMessage `json:"detail"`
}

// parseErrorBody reads an error from a JSON body. It reports false when the body holds no
// recognisable error.
func parseErrorBody(body []byte, e *APIError) bool {
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil {
		return false
	}
	if !isNull(env.Error) {
		fillError(env.Error, e)
		return true
	}
	if env.Message != nil || env.Detail != nil || jsonString(env.Object) == "error" {
		fillError(body, e)
		return true
	}
	return false
}

// fillError sets e's fields from the JSON value of an "error" field: an object with
// message, type, code and param; a plain string; or anything else, kept as its text.
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
		return
	}
	e.Message = textOf(raw)
}

var modelNotFoundMessage = regexp.MustCompile("The model:? `[^`]*` does not exist")

func (e *APIError) modelNotFound() bool {
	return e.Code == "model_not_found" || modelNotFoundMessage.MatchString(e.Message)
}
