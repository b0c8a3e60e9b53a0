package lockchat

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file holds the errors a call returns: the sentinels, the exported error types,
// and the unexported types behind some sentinels.

// ErrModelNotFound matches (with errors.Is) an error the server sent to say that the
// requested model does not exist: an error with code "model_not_found", or a message of
// the form "The model `NAME` does not exist" (with or without a colon after "model").
var ErrModelNotFound = errors.New("lockchat: model not found")

// ErrIdleTimeout matches (with errors.Is) the error returned when the server sent no byte
// for longer than the idle timeout (see WithIdleTimeout).
var ErrIdleTimeout = errors.New("lockchat: idle timeout")

// ErrFirstOutputTimeout matches (with errors.Is) the error of an attempt that delivered
// no output within the first-output timeout (see WithFirstOutputTimeout).
var ErrFirstOutputTimeout = errors.New("lockchat: first-output timeout")

// ErrConnection matches (with errors.Is) a failure of the connection itself: a refused
// dial, a connection closed before the response, a reset in the middle of the body.
var ErrConnection = errors.New("lockchat: connection failed")

// ErrLineTooLong matches (with errors.Is) a *LineTooLongError.
var ErrLineTooLong = errors.New("lockchat: event-stream line too long")

// ErrMalformedStream matches (with errors.Is) the error returned when a 2xx body cannot be
// decoded: an event whose data is not a JSON chunk, a chunk of the wrong shape, or a
// compressed body that does not decompress.
var ErrMalformedStream = errors.New("lockchat: malformed stream")

// ErrInvalidRequest matches (with errors.Is) the error for a request that cannot be sent
// as configured: a base URL that is not an absolute http or https URL with a host (the
// zero Client has none), or a header value a request cannot carry. Nothing is sent and
// nothing is retried.
var ErrInvalidRequest = errors.New("lockchat: invalid request")

// ErrRedirect matches (with errors.Is) the error for a redirect the client did not
// follow: a 301, 302 or 303 that would turn the POST into a GET without its body, a
// redirect the caller's own http.Client.CheckRedirect refused, or too many redirects.
var ErrRedirect = errors.New("lockchat: redirect not followed")

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
	// Method and URL name the request the response answered (after any redirect), with
	// a password in the URL masked.
	Method string
	URL    string
	// RequestID is the server's id for the request, from the response's headers
	// (x-request-id, else request-id, apim-request-id, x-amzn-requestid,
	// fly-request-id, x-vercel-id or cf-ray): the first thing a provider's support asks
	// for. "" if it sent none.
	RequestID string

	// retryAfter is the server's Retry-After hint, zero when it gave none.
	retryAfter time.Duration
	// hint is advice for a likely cause, such as a base URL that lacks "/v1".
	hint string
}

// Error returns a one-line description naming the status, the request and the server's
// message or a bounded excerpt of the body.
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
	if e.URL != "" {
		b.WriteString(" from " + e.Method + " " + e.URL)
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
	if e.RequestID != "" {
		attrs = append(attrs, "request id "+strconv.Quote(e.RequestID))
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
	if e.hint != "" {
		b.WriteString("; " + e.hint)
	}
	return b.String()
}

// Is reports whether the error is the server saying that the model does not exist, so
// that errors.Is(err, ErrModelNotFound) works through any wrapping.
func (e *APIError) Is(target error) bool {
	return target == ErrModelNotFound && e.modelNotFound()
}

// scrub takes credentials out of the fields the server filled.
func (e *APIError) scrub(s secrets) {
	for _, f := range []*string{&e.Message, &e.Type, &e.Code, &e.Param, &e.ContentType, &e.Body, &e.URL, &e.RequestID} {
		*f = s.scrub(*f)
	}
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
	// Delivered counts the chunks that carried output before the failure: text,
	// reasoning, a refusal or a tool-call fragment, for any choice. The unit is the same
	// for every call, so that a failure is retried (Delivered would be 0) or not whichever
	// call was used; a chunk with only a role, a finish reason or usage is not output.
	Delivered int
	// Err is the failure itself.
	Err error
}

// Error says how many chunks of output were delivered and what went wrong.
func (e *InterruptedError) Error() string {
	unit := "chunks"
	if e.Delivered == 1 {
		unit = "chunk"
	}
	return fmt.Sprintf("lockchat: stream interrupted after %d %s of output: %s", e.Delivered, unit, causeText(e.Err))
}

// Unwrap returns the cause.
func (e *InterruptedError) Unwrap() error { return e.Err }

// gaveUpError is the last failure of a call whose retries ran out.
type gaveUpError struct {
	attempts int
	err      error
}

func (e *gaveUpError) Error() string {
	return fmt.Sprintf("lockchat: giving up after %d attempts: %s", e.attempts, causeText(e.err))
}

func (e *gaveUpError) Unwrap() error { return e.err }

// contextEnded is the context's error ending a call before any output was delivered:
// errors.Is sees context.Canceled or context.DeadlineExceeded through it.
type contextEnded struct{ err error }

func (e *contextEnded) Error() string { return "lockchat: " + e.err.Error() }
func (e *contextEnded) Unwrap() error { return e.err }

// encodeError is a part of the request that cannot be encoded, such as a message.
type encodeError struct {
	what string // "message 2"
	err  error
}

func (e *encodeError) Error() string { return "lockchat: encoding " + e.what + ": " + causeText(e.err) }
func (e *encodeError) Unwrap() error { return e.err }

// causeText is the text of an error that another error wraps, without its "lockchat: "
// prefix: an error's text carries the prefix once, however many layers it has.
func causeText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.TrimPrefix(err.Error(), "lockchat: ")
}

// transportError is a failure of the connection itself: a refused dial, a reset, a body
// cut by the network. Such a failure before any output is delivered is retried.
type transportError struct {
	err  error
	text string // err's text, credentials taken out
}

func newTransportError(err error) *transportError {
	return &transportError{err: err, text: err.Error()}
}

func (e *transportError) Error() string        { return "lockchat: connection failed: " + e.text }
func (e *transportError) Unwrap() error        { return e.err }
func (e *transportError) Is(target error) bool { return target == ErrConnection }
func (e *transportError) scrub(s secrets)      { e.text = s.scrub(e.text) }

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

func (e *dataError) scrub(s secrets) {
	e.what, e.excerpt = s.scrub(e.what), s.scrub(e.excerpt)
}

// requestError is a request that cannot be sent as configured (see ErrInvalidRequest).
type requestError struct {
	text string // what is wrong, naming the setting
}

func (e *requestError) Error() string        { return "lockchat: " + e.text }
func (e *requestError) Is(target error) bool { return target == ErrInvalidRequest }
func (e *requestError) scrub(s secrets)      { e.text = s.scrub(e.text) }

// redirectError is a redirect the client did not follow (see ErrRedirect).
type redirectError struct {
	method   string
	from, to string // the URLs, passwords masked
	status   int    // the redirect's status
	reason   string
	err      error // the caller's CheckRedirect error, if it was that
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("lockchat: %s %s was redirected (HTTP %d %s) to %s: %s",
		e.method, e.from, e.status, http.StatusText(e.status), e.to, e.reason)
}

func (e *redirectError) Is(target error) bool { return target == ErrRedirect }
func (e *redirectError) Unwrap() error        { return e.err }

func (e *redirectError) scrub(s secrets) {
	e.from, e.to, e.reason = s.scrub(e.from), s.scrub(e.to), s.scrub(e.reason)
}
