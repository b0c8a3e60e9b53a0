package lockchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// TestEmptyBaseURLSaysSo checks that WithBaseURL("") is told as an empty base URL, not
// as a Client that was not made with New, and that the zero Client is still told so.
func TestEmptyBaseURLSaysSo(t *testing.T) {
	_, err := lockchat.New(lockchat.WithBaseURL("")).Complete(context.Background(), "m", hello)
	if !errors.Is(err, lockchat.ErrInvalidRequest) || !strings.Contains(err.Error(), "base URL") ||
		!strings.Contains(err.Error(), "empty") || strings.Contains(err.Error(), "New") {
		t.Fatalf("err = %v; want an empty base URL, without a word about New", err)
	}
	_, err = new(lockchat.Client).Complete(context.Background(), "m", hello)
	if !errors.Is(err, lockchat.ErrInvalidRequest) || !strings.Contains(err.Error(), "New") {
		t.Fatalf("zero Client: err = %v", err)
	}
}

// TestInterruptedErrorNamesItsUnit checks that the text says what Delivered counts.
func TestInterruptedErrorNamesItsUnit(t *testing.T) {
	cause := errors.New("lockchat: connection failed: reset")
	for n, want := range map[int]string{
		1:  "lockchat: stream interrupted after 1 chunk of output: connection failed: reset",
		33: "lockchat: stream interrupted after 33 chunks of output: connection failed: reset",
	} {
		if got := (&lockchat.InterruptedError{Delivered: n, Err: cause}).Error(); got != want {
			t.Errorf("Delivered %d: %q, want %q", n, got, want)
		}
	}
}

// TestContextErrorBeforeOutput checks that a call whose context ends before any output
// fails with the context's error, inspectable, with the prefix once.
func TestContextErrorBeforeOutput(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"never"}, Delay: time.Hour})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 0)
	defer cancelDeadline()
	waiting, cancelWaiting := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelWaiting()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled before the call", ctx, context.Canceled},
		{"deadline before the call", deadline, context.DeadlineExceeded},
		{"deadline while the server says nothing", waiting, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Complete(tc.ctx, "m", hello)
			if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "lockchat: ") || strings.Count(err.Error(), "lockchat:") != 1 {
				t.Fatalf("err = %v; want %v with the prefix once", err, tc.want)
			}
			var ie *lockchat.InterruptedError
			if errors.As(err, &ie) {
				t.Fatalf("err = %v is an InterruptedError", err)
			}
		})
	}
}

// TestMessageEncodingErrorPrefixOnce checks that a message that cannot be encoded fails
// with the prefix once.
func TestMessageEncodingErrorPrefixOnce(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"never"}})
	defer srv.Close()
	msgs := []lockchat.Message{{Role: "assistant", ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "f", Arguments: "{}",
		Extra: map[string]json.RawMessage{"bad": json.RawMessage("{")}}}}}
	_, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Complete(context.Background(), "m", msgs)
	if err == nil || !strings.HasPrefix(err.Error(), "lockchat: encoding message 0: ") || strings.Count(err.Error(), "lockchat:") != 1 {
		t.Fatalf("err = %v; want the encoding error with the prefix once", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
