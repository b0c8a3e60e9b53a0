package lockchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrModelNotFound matches (with errors.Is) an error the server sent to say that the
// requested model does not exist: an error with code "model_not_found", or a message of
// the form "The model `NAME` does not exist" (with or without a colon after "model").
var ErrModelNotFound = errors.New("lockchat: model not found")

// ErrIdleTimeout matches (with errors.Is) the error returned when the server sent no byte
// for longer than the idle timeout (see WithIdleTimeout).
var ErrIdleTimeout = errors.New("lockchat: idle timeout")

// ErrConnection matches (with errors.Is) a failure of the connection itself: a refused
// dial, a connection closed before the response, a reset in the middle of the body.
var ErrConnection = errors.New("lockchat: connection failed")

// ErrLineTooLong matches (with errors.Is) a *LineTooLongError.
var ErrLineTooLong = errors.New("lockchat: event-stream line too long")

// ErrMalformedStream matches (with errors.Is) the error returned when a 2xx body cannot be
// decoded: an event whose data is not a JSON chunk, or a chunk of the wrong shape.
var ErrMalformedStream = errors.New("lockchat: malformed stream")

// excerptLimit bounds every piece of a response body quoted in an error.
const excerptLimit = 256

// APIError is an error answered by the server: a non-2xx status, an error object inside a
// 2xx stream, or a 2xx body that is not a chat-completions stream at all.
type APIError struct {
	// StatusCode is the HTTP status of the response that carried the error.
	StatusCode int
	// Message, Type, Code and Param are the fields of the OpenAI error object, when the
	// server sent one. A numeric code is kept as its decimal text.
	Message string
	Type    string
	Code    string
	Param   string
	// InStream reports that the error arrived as an event inside a 2xx event stream.
	InStream bool
	// ContentType is the response's Content-Type when the body was not an error object.
	ContentType string
	// Body is a bounded excerpt of a body that was not an error object, such as an HTML
	// page from a proxy.
	Body string

	// retryAfter is the server's Retry-After hint, zero when it gave none.
	retryAfter time.Duration
}

// Error returns a one-line description naming the status and the server's message or a
// bounded excerpt of the body.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("lockchat: ")
	if e.InStream {
		b.WriteString("error event in stream")
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" " + t)
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	var attrs []string
	if e.Type != "" {
		attrs = append(attrs, "type "+strconv.Quote(e.Type))
	}
	if e.Code != "" {
		attrs = append(attrs, "code "+strconv.Quote(e.Code))
	}
	if e.Param != "" {
		attrs = append(attrs, "param "+strconv.Quote(e.Param))
	}
	if e.ContentType != "" || (e.Message == "" && !e.InStream) {
		ct := e.ContentType
		if ct == "" {
			ct = "none"
		}
		attrs = append(attrs, "content type "+strconv.Quote(ct))
	}
	if len(attrs) > 0 {
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	if e.Body != "" {
		b.WriteString(": body " + strconv.Quote(e.Body))
	}
	return b.String()
}

// Is reports whether the error is the server saying that the model does not exist, so
// that errors.Is(err, ErrModelNotFound) works through any wrapping.
func (e *APIError) Is(target error) bool {
	return target == ErrModelNotFound && e.modelNotFound()
}

var modelNotFoundMessage = regexp.MustCompile("The model:? `[^`]*` does not exist")

func (e *APIError) modelNotFound() bool {
	return e.Code == "model_not_found" || modelNotFoundMessage.MatchString(e.Message)
}

// retryable reports whether sending the same request again may succeed.
func (e *APIError) retryable() bool {
	if e.modelNotFound() {
		return true
	}
	switch e.StatusCode {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	if !e.InStream {
		return false
	}
	switch e.Type {
	case "server_error", "rate_limit_error", "rate_limit_exceeded", "overloaded_error":
		return true
	}
	switch e.Code {
	case "server_error", "rate_limit_exceeded", "408", "429", "500", "502", "503", "504":
		return true
	}
	return false
}

// redact keeps the API key out of err: out of the fields of an *APIError whose server
// quoted it back, and out of the text of any other error.
func redact(err error, key string) error {
	if err == nil || key == "" {
		return err
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		for _, f := range []*string{&apiErr.Message, &apiErr.Body, &apiErr.Param, &apiErr.Code, &apiErr.Type} {
			*f = strings.ReplaceAll(*f, key, "[redacted]")
		}
	}
	if strings.Contains(err.Error(), key) {
		return &redactedError{err: err, key: key}
	}
	return err
}

// redactedError is an error whose text quoted the API key.
type redactedError struct {
	err error
	key string
}

func (e *redactedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.key, "[redacted]") }
func (e *redactedError) Unwrap() error { return e.err }

// LineTooLongError is returned when one event-stream line, or the data of one event, is
// longer than the limit set with WithMaxLineSize. Nothing is truncated: the call fails.
type LineTooLongError struct {
	// Limit is the largest line, in bytes, the decoder accepts.
	Limit int
}

// Error names the limit and the option that raises it.
func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("lockchat: event-stream line or event longer than %d bytes (raise it with WithMaxLineSize)", e.Limit)
}

// Is makes errors.Is(err, ErrLineTooLong) true.
func (e *LineTooLongError) Is(target error) bool { return target == ErrLineTooLong }

// InterruptedError is returned when a stream fails after some of its output was already
// delivered to the caller. The delivered output stays delivered and the request is never
// retried (a retry would repeat it). Err is the cause; errors.Is and errors.As see it.
type InterruptedError struct {
	// Delivered counts the chunks that carried output before the failure: text,
	// reasoning, a refusal or a tool-call fragment, for any choice. The unit is the same
	// for every call, so that a failure is retried (Delivered would be 0) or not whichever
	// call was used; a chunk with only a role, a finish reason or usage is not output.
	Delivered int
	// Err is the failure itself.
	Err error
}

// Error says how much was delivered and what went wrong.
func (e *InterruptedError) Error() string {
	return fmt.Sprintf("lockchat: stream interrupted after %d delivered: %v", e.Delivered, e.Err)
}

// Unwrap returns the cause.
func (e *InterruptedError) Unwrap() error { return e.Err }

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

// textOf returns raw's value if it is a JSON string, else a bounded excerpt of raw.
func textOf(raw []byte) string {
	if s, err := unquoteJSON(raw); err == nil {
		return s
	}
	return excerpt(raw)
}

// jsonText returns a JSON string's value, a number's or boolean's text, a bounded
// excerpt of an object or array, and "" for null or absent values.
func jsonText(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	switch raw[0] {
	case '"':
		s, _ := unquoteJSON(raw)
		return s
	case '{', '[':
		return excerpt(raw)
	}
	return string(raw)
}

// jsonString returns a JSON string's value, or "" for anything else.
func jsonString(raw []byte) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	s, _ := unquoteJSON(raw)
	return s
}

func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// excerpt returns at most excerptLimit bytes of b as valid UTF-8 with white space folded,
// marking a cut with "…".
func excerpt(b []byte) string {
	cut := false
	if len(b) > excerptLimit {
		b, cut = b[:excerptLimit], true
		// Drop a rune the cut split in two rather than quote half of it.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if cut {
		s += "…"
	}
	return s
}
