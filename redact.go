package lockchat

import (
	"errors"
	"strings"
)

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
