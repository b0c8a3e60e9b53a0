package lockchat

import (
	"encoding/json"
	"errors"
	"fmt"
)

// This file holds what a structured answer needs beyond the schema (schema.go): the
// request's response_format and the decoding of the answer.

// ErrTruncatedJSON matches (with errors.Is) the error of Completion.Decode for an answer
// the server cut at its token limit (finish reason "length"): its JSON is incomplete.
var ErrTruncatedJSON = errors.New("lockchat: the answer was cut at the token limit (finish reason \"length\")")

// DecodeError is Completion.Decode's error for content that is not the JSON asked for.
type DecodeError struct {
	// Excerpt is a bounded excerpt of the content.
	Excerpt string
	// Truncated is set when the server cut the answer at its token limit (finish reason
	// "length"); errors.Is(err, ErrTruncatedJSON) reports it.
	Truncated bool
	// Err is encoding/json's error.
	Err error
}

// Error says why the content did not decode and quotes the excerpt.
func (e *DecodeError) Error() string {
	what := "is not the JSON asked for"
	if e.Truncated {
		what = `was cut at the token limit (finish reason "length")`
	}
	return fmt.Sprintf("lockchat: the answer %s: %s; content: %q", what, causeText(e.Err), e.Excerpt)
}

// Unwrap returns encoding/json's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTruncatedJSON) report a truncated answer.
func (e *DecodeError) Is(target error) bool { return target == ErrTruncatedJSON && e.Truncated }

// Decode decodes the content of the completion's first choice (as Message picks it) as
// JSON into v, as json.Unmarshal does: the answer to WithJSONSchema or WithJSONObject.
// Because Chat and an Accumulator join the streamed fragments first, a streamed answer
// decodes as a whole one does.
//
// An answer that refused is a *NoTextError matching ErrRefusal, and one that holds only
// tool calls a *NoTextError matching ErrToolCalls. Content the server cut at its token
// limit and does not decode is a *DecodeError matching ErrTruncatedJSON; other content
// that is not valid JSON for v is a *DecodeError too.
func (c Completion) Decode(v any) error {
	m := c.Message()
	if m.Content == "" && (m.Refusal != "" || len(m.ToolCalls) > 0) {
		return &NoTextError{Message: m}
	}
	err := json.Unmarshal([]byte(m.Content), v)
	if err == nil {
		return nil
	}
	if _, ok := err.(*json.InvalidUnmarshalError); ok {
		return fmt.Errorf("lockchat: Decode needs a non-nil pointer: %w", err)
	}
	return &DecodeError{Excerpt: excerpt([]byte(m.Content)), Truncated: c.first().FinishReason == "length", Err: err}
}
