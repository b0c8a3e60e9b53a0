package lockchat

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
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
	// Delivered counts what the caller received before the failure: tokens for Stream and
	// Complete, chunks for StreamChunks.
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

// transportError is a failure of the connection itself: a refused dial, a reset, a body
// cut by the network. Such a failure before any output is delivered is retried.
type transportError struct{ err error }

func (e *transportError) Error() string        { return "lockchat: connection failed: " + e.err.Error() }
func (e *transportError) Unwrap() error        { return e.err }
func (e *transportError) Is(target error) bool { return target == ErrConnection }

// dataError is a 2xx body or event that cannot be decoded: the decoder's account of
// what is wrong, and a bounded excerpt of the data.
type dataError struct {
	what    string // the decoder's error text, "lockchat: malformed stream: …"
	where   string // "event data" or "body"
	excerpt string
}

func (e *dataError) Error() string {
	return e.what + " (" + e.where + " " + strconv.Quote(e.excerpt) + ")"
}

func (e *dataError) Is(target error) bool { return target == ErrMalformedStream }
